"""``problems/``, ``problems/{number}/incidents/``, ``incidents/{number}/promote/`` and
``known-errors/`` (SPEC §5, §11).

The whole ``problems/`` area is for the roles that use problem management (403 for anyone
else); the knowledge search is open to every signed-in user, who reads the published known
errors only unless they are staff of problem management.
"""

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, routers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team, User
from cmdb.models import CI
from incidents.api import IncidentSerializer, IncidentViewSet
from incidents.models import Incident
from itsm.api import ChoiceLabelField, TicketSerializerMixin, TicketVerbs, TicketViewSet
from itsm.permissions import HasRole

from . import permissions, search, services
from .filtersets import ProblemFilter
from .models import Problem
from .workflow import Priority, State


def linked_counts(queryset):
    """``incident_count`` and ``open_incident_count`` per problem, as two correlated counts
    answered by the (problem, state) index: no GROUP BY over the list."""

    def count(rows):
        counted = rows.values("problem").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    linked = Incident.objects.filter(problem=OuterRef("pk"))
    return queryset.annotate(
        incident_count=count(linked),
        open_incident_count=count(linked.filter(state__in=Incident.workflow.open_states)),
    )


class ProblemSerializer(TicketSerializerMixin, serializers.ModelSerializer):
    read_only_messages = {
        "state": "Change the state with POST …/transition/.",
        "published": "Set known_error and publish_workaround.",
    }

    requester = serializers.PrimaryKeyRelatedField(read_only=True)
    requester_display = serializers.SerializerMethodField()
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    assignee_display = serializers.SerializerMethodField()
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    assignment_group_display = serializers.SerializerMethodField()
    services = serializers.PrimaryKeyRelatedField(
        many=True, queryset=CI.objects.services(), required=False
    )
    cis = serializers.PrimaryKeyRelatedField(many=True, queryset=CI.objects.all(), required=False)
    state_display = ChoiceLabelField(State.choices, source="state")
    priority_display = ChoiceLabelField(Priority.choices, source="priority")
    published = serializers.BooleanField(source="is_published", read_only=True)
    incident_count = serializers.IntegerField(read_only=True)
    open_incident_count = serializers.IntegerField(read_only=True)
    watchers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    version = serializers.IntegerField(required=False)

    class Meta:
        model = Problem
        fields = [
            "id",
            "number",
            "title",
            "description",
            "state",
            "state_display",
            "priority",
            "priority_display",
            "requester",
            "requester_display",
            "assignee",
            "assignee_display",
            "assignment_group",
            "assignment_group_display",
            "root_cause",
            "workaround",
            "known_error",
            "publish_workaround",
            "published",
            "services",
            "cis",
            "incident_count",
            "open_incident_count",
            "watchers",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "version",
        ]
        read_only_fields = [
            "number",
            "state",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
        ]

    def get_requester_display(self, obj) -> str:
        return str(obj.requester)

    def get_assignee_display(self, obj) -> str | None:
        return str(obj.assignee) if obj.assignee_id else None

    def get_assignment_group_display(self, obj) -> str | None:
        return str(obj.assignment_group) if obj.assignment_group_id else None

    def to_representation(self, instance):
        if not hasattr(instance, "incident_count"):  # a problem just written, not annotated
            instance = linked_counts(Problem.objects.filter(pk=instance.pk)).get()
        return super().to_representation(instance)


class LinkSerializer(serializers.Serializer):
    incident = serializers.CharField(help_text="The incident's number, e.g. INC0000042.")


class ProblemViewSet(TicketViewSet):
    permission_classes = [IsAuthenticated, HasRole.of(*permissions.READ_ROLES)]
    queryset = (
        Problem.objects.select_related("requester", "assignee", "assignment_group")
        .prefetch_related("watchers", "services", "cis")
        .defer(*Problem.SEARCH_COLUMNS)
    )
    serializer_class = ProblemSerializer
    filterset_class = ProblemFilter
    ordering_fields = ["created_at", "updated_at", "priority", "number", "state"]
    ordering = ["-created_at"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    verbs = TicketVerbs(
        create=services.open_problem,
        update=services.update_problem,
        change_state=services.change_state,
        comment=services.comment,
        attach=services.attach,
        set_attachment_internal=services.set_attachment_internal,
    )

    def get_queryset(self):
        return linked_counts(super().get_queryset())

    def get_serializer(self, *args, **kwargs):
        # A move may resolve the linked incidents: count them again after it.
        if self.action == "transition" and args and isinstance(args[0], Problem):
            for name in ("incident_count", "open_incident_count"):
                args[0].__dict__.pop(name, None)
        return super().get_serializer(*args, **kwargs)

    def _incident(self, number):
        return Incident.objects.filter(number=number).first()

    @extend_schema(
        request=LinkSerializer,
        responses={200: IncidentSerializer(many=True), 201: IncidentSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def incidents(self, request, number=None):
        """GET the linked incidents; POST ``{"incident": number}`` links one."""
        problem = self.get_object()
        if request.method == "POST":
            body = LinkSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            incident = self._incident(body.validated_data["incident"])
            if incident is None:
                raise serializers.ValidationError({"incident": ["There is no such incident."]})
            changes = services.link(problem, incident, actor=request.user)
            incident = IncidentViewSet.queryset.get(pk=incident.pk)
            return Response(
                IncidentSerializer(incident, context=self.get_serializer_context()).data,
                status=status.HTTP_201_CREATED if changes else status.HTTP_200_OK,
            )
        rows = IncidentViewSet.queryset.filter(problem=problem).order_by("-created_at")
        page = self.paginate_queryset(rows)
        data = IncidentSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"incidents/(?P<incident>[A-Z]+[0-9]+)",
        url_name="incident-unlink",
    )
    def unlink(self, request, number=None, incident=None):
        """Unlink one incident from the problem (404 when it is not linked to it)."""
        problem = self.get_object()
        linked = get_object_or_404(Incident, number=incident, problem=problem)
        services.unlink(problem, linked, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PromoteView(APIView):
    """``POST incidents/{number}/promote/``: a new problem from the incident (201)."""

    @extend_schema(request=None, responses={201: ProblemSerializer})
    def post(self, request, number):
        incident = get_object_or_404(Incident.objects.visible_to(request.user), number=number)
        problem = services.promote(incident, actor=request.user)
        return Response(
            ProblemSerializer(problem, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


# --- Known errors --------------------------------------------------------------------------------


class KnownErrorSerializer(serializers.ModelSerializer):
    services = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    services_display = serializers.SerializerMethodField()

    class Meta:
        model = Problem
        fields = ["number", "title", "workaround", "services", "services_display", "updated_at"]
        read_only_fields = fields

    def get_services_display(self, obj) -> list[str]:
        return [service.name for service in obj.services.all()]


class StaffKnownErrorSerializer(KnownErrorSerializer):
    published = serializers.BooleanField(source="is_published", read_only=True)

    class Meta(KnownErrorSerializer.Meta):
        fields = [
            *KnownErrorSerializer.Meta.fields,
            "known_error",
            "publish_workaround",
            "published",
        ]
        read_only_fields = fields


class KnownErrorViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The knowledge search: known errors and their workarounds, best match first with
    ``?search=`` (newest first without). End users read the published ones only."""

    serializer_class = KnownErrorSerializer
    queryset = Problem.objects.none()
    filter_backends: list = []

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):
            return KnownErrorSerializer
        if permissions.sees_every_known_error(self.request.user):
            return StaffKnownErrorSerializer
        return KnownErrorSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Problem.objects.none()
        rows = Problem.objects.defer(*Problem.SEARCH_COLUMNS).prefetch_related("services")
        if permissions.sees_every_known_error(self.request.user):
            rows = rows.known_errors()
        else:
            rows = rows.published()
        service = self.request.query_params.get("service", "")
        if service.isdigit():
            rows = rows.filter(services=int(service))
        text = self.request.query_params.get("search", "").strip()
        if text:
            return search.ranked(rows, text, column="search_known_error", fuzzy=True)
        return rows.order_by("-updated_at", "-pk")

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Words to find, best match first."),
            OpenApiParameter("service", int, description="Only this service's known errors."),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


router = routers.SimpleRouter()
router.register("problems", ProblemViewSet, basename="problems")
router.register("known-errors", KnownErrorViewSet, basename="known-errors")
urlpatterns = [
    *router.urls,
    path("incidents/<str:number>/promote/", PromoteView.as_view(), name="problems-promote"),
]
