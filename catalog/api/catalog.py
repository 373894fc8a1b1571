"""``catalog/categories/`` and ``catalog/items/`` (SPEC §8, §11).

Everyone signed in reads what they may order (active categories and items; the people who
edit the catalog read them all); managers and admins create, change and delete through the
verbs of ``catalog.services``. An item's ``form`` is a list of field objects
(``catalog.formdef``); ``display_name`` is its name in the caller's language.
"""

from rest_framework import mixins, permissions, serializers, viewsets

from accounts.models import Team
from cmdb.models import CI
from itsm.api import StrictInputMixin
from itsm.pagination import CursorPagination
from itsm.workflow import parse_version

from .. import services
from ..filtersets import ItemFilter
from ..models import CatalogItem, Category
from ..permissions import can_edit_catalog


class EditPermission(permissions.BasePermission):
    """Reading is for everyone signed in; writing for the catalog's editors (403)."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return can_edit_catalog(request.user)


class OrderPagination(CursorPagination):
    ordering = ("order", "name", "id")


class CategorySerializer(StrictInputMixin, serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    translations = serializers.JSONField(required=False)

    class Meta:
        model = Category
        fields = [
            "id",
            "name",
            "slug",
            "summary",
            "description",
            "icon",
            "order",
            "active",
            "translations",
            "display_name",
        ]
        extra_kwargs = {"name": {"validators": []}, "slug": {"validators": [], "required": False}}

    def create(self, validated_data):
        return services.save_category(None, validated_data, actor=self.context["request"].user)

    def update(self, instance, validated_data):
        return services.save_category(instance, validated_data, actor=self.context["request"].user)


class ItemSerializer(StrictInputMixin, serializers.ModelSerializer):
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all())
    category_display = serializers.SerializerMethodField()
    form = serializers.JSONField(required=False)
    tasks = serializers.JSONField(required=False)
    translations = serializers.JSONField(required=False)
    approval_team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    fulfillment_team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    service = serializers.PrimaryKeyRelatedField(
        queryset=CI.objects.services(), required=False, allow_null=True
    )
    sla_policy = serializers.PrimaryKeyRelatedField(
        queryset=CatalogItem._meta.get_field("sla_policy").remote_field.model.objects.filter(
            applies_to="request"
        ),
        required=False,
        allow_null=True,
    )
    display_name = serializers.CharField(read_only=True)
    version = serializers.IntegerField(required=False)

    class Meta:
        model = CatalogItem
        fields = [
            "id",
            "category",
            "category_display",
            "name",
            "slug",
            "summary",
            "description",
            "icon",
            "order",
            "form",
            "approval",
            "approval_team",
            "fulfillment_team",
            "tasks",
            "service",
            "sla_policy",
            "active",
            "translations",
            "display_name",
            "version",
        ]
        validators = []
        extra_kwargs = {"slug": {"validators": [], "required": False}}

    def get_category_display(self, obj) -> str:
        return obj.category.display_name

    def _values(self, validated_data) -> dict:
        values = dict(validated_data)
        values.pop("version", None)
        return values

    def create(self, validated_data):
        return services.save_item(
            None, self._values(validated_data), actor=self.context["request"].user
        )

    def update(self, instance, validated_data):
        return services.save_item(
            instance,
            self._values(validated_data),
            actor=self.context["request"].user,
            version=parse_version(validated_data.get("version")),
        )


class CatalogViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [permissions.IsAuthenticated, EditPermission]
    pagination_class = OrderPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


class CategoryViewSet(CatalogViewSet):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    filterset_fields = ["active"]
    ordering_fields = ["order", "name"]

    def get_queryset(self):
        categories = super().get_queryset()
        return categories if can_edit_catalog(self.request.user) else categories.active()

    def perform_destroy(self, instance):
        services.delete_category(instance, actor=self.request.user)


class ItemViewSet(CatalogViewSet):
    queryset = CatalogItem.objects.select_related("category")
    serializer_class = ItemSerializer
    filterset_class = ItemFilter
    ordering_fields = ["order", "name"]

    def get_queryset(self):
        return super().get_queryset().orderable_by(self.request.user)

    def perform_destroy(self, instance):
        services.delete_item(instance, actor=self.request.user)
