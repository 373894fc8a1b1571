"""``incidents/`` (SPEC §3, §11)."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import routers, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Team, User
from cmdb.models import CI
from itsm import services as kernel
from itsm.api import ChoiceLabelField, TicketViewSet
from itsm.permissions import is_staff_member

from . import permissions, services
from .filtersets import IncidentFilter
from .models import Incident
from .workflow import Priority, State

# Fields nobody writes directly: computed, or changed only through transition/.
COMPUTED = {
    "priority": "Computed from impact and urgency.",
    "state": "Change the state with POST …/transition/.",
}


class IncidentSerializer(serializers.ModelSerializer):
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
    state_display = ChoiceLabelField(State.choices, source="state")
    priority_display = ChoiceLabelField(Priority.choices, source="priority")
    watchers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    version = serializers.IntegerField(required=False)

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

    def validate(self, attrs):
        """Refuse, naming the field, what the caller may not set (nothing is silently dropped)."""
        user = self.context["request"].user
        sent = set(self.initial_data) if hasattr(self.initial_data, "keys") else set()
        errors = {name: [message] for name, message in COMPUTED.items() if name in sent}
        if not permissions.can_work(user):
            allowed = permissions.REQUESTER_FIELDS | {"version", "attachments"}
            for name in sorted(sent - allowed):
                if name in self.fields:
                    errors[name] = ["You may not set this field."]
        if errors:
            raise serializers.ValidationError(errors)
        attrs.pop("version", None)
        return attrs


class RatingSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class IncidentViewSet(TicketViewSet):
    # Three joins, the rest prefetched: a seven-table join costs PostgreSQL ~25 ms to plan.
    queryset = (
        Incident.objects.select_related("requester", "assignee", "assignment_group")
        .prefetch_related("watchers", "service", "ci", "parent")
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
    transition_fields = ("hold_reason", "resolution_code", "resolution_notes")
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def can_transition(self, user, ticket, to) -> bool:
        return permissions.can_transition(user, ticket, to)

    def perform_create(self, serializer):
        user = self.request.user
        data = dict(serializer.validated_data)
        if not permissions.can_work(user):
            data["requester"] = user
        uploads = self.request.FILES.getlist("attachments")
        with transaction.atomic():
            incident = services.open_incident(actor=user, **data)
            for upload in uploads:
                kernel.add_attachment(incident, actor=user, upload=upload)
        serializer.instance = incident

    def perform_update(self, serializer):
        if not permissions.can_edit(self.request.user, serializer.instance):
            raise PermissionDenied("You may not change this incident.")
        super().perform_update(serializer)

    def update_fields(self, ticket, values, *, version):
        services.update_incident(ticket, values, actor=self.request.user, version=version)

    def change_state(self, ticket, to, *, version, **fields):
        return services.change_state(ticket, to, actor=self.request.user, version=version, **fields)

    def add_comment(self, ticket, **data):
        return services.comment(ticket, actor=self.request.user, **data)

    @extend_schema(request=RatingSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def rating(self, request, number=None):
        incident = self.get_object()
        body = RatingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not permissions.is_requester(request.user, incident):
            raise PermissionDenied("Only the requester rates the resolution.")
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
        if not is_staff_member(request.user):
            raise PermissionDenied
        kernel.watch(incident, request.user, actor=request.user)
        return Response(self.get_serializer(incident).data)


router = routers.SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incidents")
