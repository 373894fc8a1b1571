"""``incidents/`` (SPEC §3, §11)."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import routers, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Team, User
from changes.models import Change
from cmdb.models import CI
from itsm.api import ChoiceLabelField, TicketSerializerMixin, TicketVerbs, TicketViewSet
from problems.models import Problem

from . import permissions, services
from .filtersets import IncidentFilter
from .models import Incident
from .workflow import Priority, State


class VisibleProblemField(serializers.SlugRelatedField):
    """A problem by its number, among those the caller may see (a number they may not see
    reads as one that does not exist)."""

    def get_queryset(self):
        request = self.context.get("request")
        return Problem.objects.visible_to(getattr(request, "user", None))


class ChangeLinkField(serializers.SlugRelatedField):
    """A change by its number (``CHG0000012``), as ticket links are read; its integer id is
    accepted on input too, as foreign keys are written elsewhere."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="number", queryset=Change.objects.all(), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            try:
                return self.get_queryset().get(pk=data)
            except Change.DoesNotExist:
                self.fail("does_not_exist", slug_name="id", value=data)
        return super().to_internal_value(data)


class IncidentSerializer(TicketSerializerMixin, serializers.ModelSerializer):
    """An incident; who may send which field, and read which, is ``incidents.permissions``'
    (the verbs check the first, the viewset applies the second)."""

    read_only_messages = {
        "priority": "Computed from impact and urgency.",
        "state": "Change the state with POST …/transition/.",
    }

    requester = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False
    )
    requester_display = serializers.SerializerMethodField()
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    assignee_display = serializers.SerializerMethodField()
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    assignment_group_display = serializers.SerializerMethodField()
    service = serializers.PrimaryKeyRelatedField(
        queryset=CI.objects.services(), required=False, allow_null=True
    )
    service_display = serializers.SerializerMethodField()
    ci = serializers.PrimaryKeyRelatedField(
        queryset=CI.objects.all(), required=False, allow_null=True
    )
    ci_display = serializers.SerializerMethodField()
    parent = serializers.SlugRelatedField(
        slug_field="number", queryset=Incident.objects.all(), required=False, allow_null=True
    )
    problem = VisibleProblemField(
        slug_field="number", queryset=Problem.objects.all(), required=False, allow_null=True
    )
    caused_by_change = ChangeLinkField(required=False, allow_null=True)
    awaited_change = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    state_display = ChoiceLabelField(State.choices, source="state")
    priority_display = ChoiceLabelField(Priority.choices, source="priority")
    watchers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    version = serializers.IntegerField(required=False)
    attachments = serializers.ListField(
        child=serializers.FileField(), write_only=True, required=False
    )

    class Meta:
        model = Incident
        fields = [
            "id",
            "number",
            "title",
            "description",
            "state",
            "state_display",
            "impact",
            "urgency",
            "priority",
            "priority_display",
            "requester",
            "requester_display",
            "assignee",
            "assignee_display",
            "assignment_group",
            "assignment_group_display",
            "service",
            "service_display",
            "ci",
            "ci_display",
            "major",
            "parent",
            "problem",
            "caused_by_change",
            "awaited_change",
            "hold_reason",
            "resolution_code",
            "resolution_notes",
            "watchers",
            "csat_score",
            "csat_comment",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "version",
            "attachments",
        ]
        read_only_fields = [
            "number",
            "state",
            "priority",
            "hold_reason",
            "resolution_code",
            "resolution_notes",
            "csat_score",
            "csat_comment",
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

    def get_service_display(self, obj) -> str | None:
        return str(obj.service) if obj.service_id else None

    def get_ci_display(self, obj) -> str | None:
        return str(obj.ci) if obj.ci_id else None


class RatingSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class IncidentViewSet(TicketViewSet):
    # Three joins, the rest prefetched: a seven-table join costs PostgreSQL ~25 ms to plan.
    queryset = (
        Incident.objects.select_related("requester", "assignee", "assignment_group")
        .prefetch_related(
            "watchers",
            "service",
            "ci",
            "parent",
            "caused_by_change",
            "awaited_change",
            Prefetch("problem", queryset=Problem.objects.only("id", "number")),
        )
        .defer(*Incident.SEARCH_COLUMNS)
    )
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    ordering_fields = [
        "created_at",
        "updated_at",
        "priority",
        "number",
        "state",
        "impact",
        "urgency",
    ]
    ordering = ["-created_at"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    verbs = TicketVerbs(
        create=services.open_incident,
        update=services.update_incident,
        change_state=services.change_state,
        comment=services.comment,
        attach=services.attach,
        set_attachment_internal=services.set_attachment_internal,
    )
    readable_fields = staticmethod(permissions.readable_fields)
    readable_history = staticmethod(permissions.readable_history)

    @extend_schema(request=RatingSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def rating(self, request, number=None):
        incident = self.get_object()
        body = RatingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.rate(
            incident,
            actor=request.user,
            score=body.validated_data["score"],
            comment_text=body.validated_data.get("comment", ""),
        )
        incident.refresh_from_db()
        return Response(self.get_serializer(incident).data, status=status.HTTP_200_OK)

    @extend_schema(request=None, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def watch(self, request, number=None):
        incident = self.get_object()
        services.watch(incident, actor=request.user)
        return Response(self.get_serializer(incident).data)


router = routers.SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incidents")
