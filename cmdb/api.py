"""``cmdb/classes/``, ``cmdb/cis/`` (+ ``impact/``, ``dependencies/``, ``history/``, ``retire/``)
and ``cmdb/relationships/`` (SPEC §7, §11).

The whole area is 403 for anyone who may not use the CMDB (end users); readers list and read;
agents write CIs and relationships; admins manage classes.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, routers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.api import HistorySerializer
from itsm.permissions import has_role
from itsm.workflow import parse_version

from . import services
from .filtersets import CIFilterSet, RelationshipFilterSet
from .impact import dependencies_of, impact_of
from .models import CI, CIClass, Relationship
from .permissions import ADMIN_ROLES, READ_ROLES, WRITE_ROLES
from .schema import schema_errors


class CMDBPermission(permissions.BasePermission):
    """Readers may read; ``write_roles`` may write. Anyone else: 403 for the whole area."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not has_role(user, *READ_ROLES):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return has_role(user, *view.write_roles)


# --- Classes


class CIClassSerializer(serializers.ModelSerializer):
    class Meta:
        model = CIClass
        fields = ["id", "name", "label", "description", "attribute_schema"]

    def validate_attribute_schema(self, value):
        errors = schema_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def create(self, validated_data):
        return services.save_class(None, validated_data, actor=self.context["request"].user)

    def update(self, instance, validated_data):
        return services.save_class(instance, validated_data, actor=self.context["request"].user)


class CIClassViewSet(viewsets.ModelViewSet):
    queryset = CIClass.objects.all()
    serializer_class = CIClassSerializer
    permission_classes = [CMDBPermission]
    write_roles = ADMIN_ROLES
    ordering = ["label", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_destroy(self, instance):
        services.delete_class(instance, actor=self.request.user)


# --- CIs


class ClassField(serializers.PrimaryKeyRelatedField):
    """A class by id; on input its name (``"server"``) is accepted too."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not data.isdigit():
            try:
                return self.get_queryset().get(name=data)
            except CIClass.DoesNotExist:
                self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class CISerializer(serializers.ModelSerializer):
    ci_class = ClassField(queryset=CIClass.objects.all())
    ci_class_name = serializers.CharField(source="ci_class.name", read_only=True)
    ci_class_display = serializers.CharField(source="ci_class.label", read_only=True)
    owner_display = serializers.SerializerMethodField()
    support_group_display = serializers.SerializerMethodField()
    attributes = serializers.JSONField(required=False)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = CI
        fields = [
            "id",
            "name",
            "ci_class",
            "ci_class_name",
            "ci_class_display",
            "status",
            "environment",
            "criticality",
            "owner",
            "owner_display",
            "support_group",
            "support_group_display",
            "supplier",
            "description",
            "attributes",
            "url",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["created_at", "updated_at", "version"]
        # (class, name) uniqueness is checked by the service, with the other errors
        validators = []

    def get_owner_display(self, obj) -> str | None:
        return str(obj.owner) if obj.owner_id else None

    def get_support_group_display(self, obj) -> str | None:
        return str(obj.support_group) if obj.support_group_id else None


class ReachedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    ci_class = serializers.CharField(source="class_name")
    ci_class_display = serializers.CharField(source="class_label")
    status = serializers.CharField()
    environment = serializers.CharField()
    criticality = serializers.IntegerField()
    depth = serializers.IntegerField()


WalkSerializer = inline_serializer(
    "ImpactAnswer",
    {
        "ci": serializers.IntegerField(),
        "cis": serializers.ListField(child=serializers.IntegerField()),
        "services": serializers.ListField(child=serializers.IntegerField()),
        "cis_display": ReachedSerializer(many=True),
        "services_display": ReachedSerializer(many=True),
    },
)
DEPTH_PARAMETER = OpenApiParameter(
    "max_depth", OpenApiTypes.INT, description="Stop the walk after this many steps."
)


def walk_response(result) -> Response:
    """``cis`` and ``services`` are id lists (SPEC §11: foreign keys read as ids), nearest
    first; ``*_display`` carry each CI's name, class and distance (``depth``)."""
    return Response(
        {
            "ci": result.ci_id,
            "cis": result.ids,
            "services": [row.id for row in result.services],
            "cis_display": ReachedSerializer(result.cis, many=True).data,
            "services_display": ReachedSerializer(result.services, many=True).data,
        }
    )


class CIViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """CIs. ``PATCH`` with a stale ``version`` answers 409; CIs are retired, never deleted."""

    queryset = CI.objects.select_related("ci_class", "owner", "support_group")
    serializer_class = CISerializer
    permission_classes = [CMDBPermission]
    write_roles = WRITE_ROLES
    filterset_class = CIFilterSet
    ordering = ["name", "id"]
    ordering_fields = ["name", "criticality", "created_at", "updated_at", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.create_ci(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.update_ci(
            serializer.instance,
            serializer.validated_data,
            actor=self.request.user,
            version=self._version(),
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def _version(self) -> int | None:
        return parse_version(self.request.data.get("version"))

    @extend_schema(parameters=[DEPTH_PARAMETER], responses=WalkSerializer)
    @action(detail=True, methods=["get"])
    def impact(self, request, pk=None):
        """Every CI that transitively depends on this one, and the business services among
        them (all relationship types propagate impact; cycles are handled)."""
        ci = self.get_object()
        return walk_response(impact_of(ci, max_depth=self._max_depth()))

    @extend_schema(parameters=[DEPTH_PARAMETER], responses=WalkSerializer)
    @action(detail=True, methods=["get"])
    def dependencies(self, request, pk=None):
        """The reverse walk: every CI this one transitively depends on."""
        ci = self.get_object()
        return walk_response(dependencies_of(ci, max_depth=self._max_depth()))

    def _max_depth(self) -> int | None:
        value = self.request.query_params.get("max_depth")
        if value in (None, ""):
            return None
        if not value.isdigit() or int(value) < 1:
            raise serializers.ValidationError({"max_depth": ["A whole number, 1 or more."]})
        return int(value)

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        ci = self.get_object()
        return Response(HistorySerializer(ci.events.select_related("actor"), many=True).data)

    @extend_schema(
        request=inline_serializer(
            "RetireCI", {"version": serializers.IntegerField(required=False)}
        ),
        responses=CISerializer,
    )
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        ci = self.get_object()
        services.retire_ci(ci, actor=request.user, version=self._version())
        return Response(self.get_serializer(self.get_queryset().get(pk=ci.pk)).data)


# --- Relationships


class RelationshipSerializer(serializers.ModelSerializer):
    source = serializers.PrimaryKeyRelatedField(queryset=CI.objects.all())
    target = serializers.PrimaryKeyRelatedField(queryset=CI.objects.all())
    source_display = serializers.CharField(source="source.name", read_only=True)
    target_display = serializers.CharField(source="target.name", read_only=True)

    class Meta:
        model = Relationship
        fields = [
            "id",
            "source",
            "source_display",
            "type",
            "target",
            "target_display",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        validators = []  # self-reference and duplicates are the service's checks


class RelationshipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """``source`` depends on ``target``. Created and deleted, never edited."""

    queryset = Relationship.objects.select_related("source", "target")
    serializer_class = RelationshipSerializer
    permission_classes = [CMDBPermission]
    write_roles = WRITE_ROLES
    filterset_class = RelationshipFilterSet
    ordering_fields = ["created_at", "id"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.relate(
            data["source"], data["target"], data["type"], actor=self.request.user
        )

    def perform_destroy(self, instance):
        services.unrelate(instance, actor=self.request.user)


router = routers.SimpleRouter()
router.register("cmdb/classes", CIClassViewSet, basename="cmdb-class")
router.register("cmdb/cis", CIViewSet, basename="cmdb-ci")
router.register("cmdb/relationships", RelationshipViewSet, basename="cmdb-relationship")
