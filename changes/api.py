"""``changes/`` (+ ``approvals/``, ``conflicts/``), ``change-templates/`` and ``blackouts/``
(SPEC §6, §11).

The whole area is 403 for anyone who may not read changes (end users); the verbs of
``changes.services`` decide every write (who may, which fields, which states).
"""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import permissions as drf_permissions
from rest_framework import routers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Team, User
from cmdb.models import CI
from itsm.api import (
    ChoiceLabelField,
    StrictInputMixin,
    TicketSerializerMixin,
    TicketVerbs,
    TicketViewSet,
)
from itsm.permissions import has_role

from . import permissions, risk, services
from .filtersets import BlackoutFilter, ChangeFilter
from .models import Approval, Blackout, Change, ChangeConflict, ChangeTemplate
from .workflow import Decision, Risk, State, Type


class ChangeAreaPermission(drf_permissions.BasePermission):
    """Readers of changes may read; ``write_roles`` of the view may write (the verbs check
    again). Anyone else: 403 for the whole area (401 when not signed in)."""

    def has_permission(self, request, view) -> bool:
        if not permissions.can_read(request.user):
            return False
        if request.method in drf_permissions.SAFE_METHODS:
            return True
        roles = getattr(view, "write_roles", None)
        return roles is None or has_role(request.user, *roles)


def _display(obj, name) -> str | None:
    return str(getattr(obj, name)) if getattr(obj, f"{name}_id") else None


class ChangeSerializer(TicketSerializerMixin, serializers.ModelSerializer):
    read_only_messages = {
        "risk": "Computed from risk_answers and the business services the CIs impact.",
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
    cab = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    cab_display = serializers.SerializerMethodField()
    template = serializers.PrimaryKeyRelatedField(
        queryset=ChangeTemplate.objects.all(), required=False, allow_null=True
    )
    cis = serializers.PrimaryKeyRelatedField(many=True, queryset=CI.objects.all(), required=False)
    risk_answers = serializers.JSONField(required=False)
    state_display = ChoiceLabelField(State.choices, source="state")
    type_display = ChoiceLabelField(Type.choices, source="type")
    risk_display = ChoiceLabelField(Risk.choices, source="risk")
    risk_explanation = serializers.SerializerMethodField()
    rejection = serializers.SerializerMethodField()
    watchers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    version = serializers.IntegerField(required=False)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Change
        fields = [
            "id",
            "number",
            "title",
            "description",
            "type",
            "type_display",
            "state",
            "state_display",
            "template",
            "cab",
            "cab_display",
            "approval_policy",
            "approval_round",
            "cis",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "risk_answers",
            "risk",
            "risk_display",
            "risk_score",
            "risk_explanation",
            "rejection",
            "outcome",
            "review_notes",
            "requester",
            "requester_display",
            "assignee",
            "assignee_display",
            "assignment_group",
            "assignment_group_display",
            "watchers",
            "created_at",
            "updated_at",
            "closed_at",
            "version",
            "url",
        ]
        read_only_fields = [
            "number",
            "state",
            "approval_round",
            "actual_start",
            "actual_end",
            "risk",
            "risk_score",
            "created_at",
            "updated_at",
            "closed_at",
        ]

    def get_requester_display(self, obj) -> str:
        return str(obj.requester)

    def get_assignee_display(self, obj) -> str | None:
        return _display(obj, "assignee")

    def get_assignment_group_display(self, obj) -> str | None:
        return _display(obj, "assignment_group")

    def get_cab_display(self, obj) -> str | None:
        return _display(obj, "cab")

    def get_risk_explanation(self, obj) -> list[dict]:
        """``[{"text", "points"}]``: what made the risk, in the caller's language."""
        return risk.explain(obj.risk_reasons)

    def get_rejection(self, obj) -> dict | None:
        """The rejection that last sent the change back to ``new``, with its comment."""
        rejected = getattr(obj, "rejections", None)
        if rejected is None:
            rejected = list(obj.approvals.filter(decision=Decision.REJECTED).order_by("-round"))
        if not rejected or obj.state != State.NEW:
            return None
        last = rejected[0]
        return {
            "round": last.round,
            "by": last.decided_by_id,
            "by_display": str(last.decided_by) if last.decided_by_id else None,
            "comment": last.comment,
            "at": serializers.DateTimeField().to_representation(last.decided_at),
        }


class ApprovalSerializer(serializers.ModelSerializer):
    approver_display = serializers.SerializerMethodField()
    decided_by_display = serializers.SerializerMethodField()
    decision_display = ChoiceLabelField(Decision.choices, source="decision")
    ecab = serializers.BooleanField(source="is_ecab", read_only=True)
    change_state = serializers.CharField(source="change.state", read_only=True)

    class Meta:
        model = Approval
        fields = [
            "id",
            "round",
            "approver",
            "approver_display",
            "ecab",
            "decision",
            "decision_display",
            "comment",
            "decided_by",
            "decided_by_display",
            "decided_at",
            "created_at",
            "change_state",
        ]
        read_only_fields = fields

    def get_approver_display(self, obj) -> str | None:
        return str(obj.approver) if obj.approver_id else None

    def get_decided_by_display(self, obj) -> str | None:
        return str(obj.decided_by) if obj.decided_by_id else None


class VoteSerializer(StrictInputMixin, serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=10_000, trim_whitespace=True
    )


class ConflictSerializer(serializers.ModelSerializer):
    change = serializers.CharField(source="other.number", default=None, read_only=True)
    title = serializers.SerializerMethodField()
    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()
    state = serializers.CharField(source="other.state", default=None, read_only=True)
    name = serializers.CharField(source="blackout.name", default=None, read_only=True)

    class Meta:
        model = ChangeConflict
        fields = [
            "id",
            "kind",
            "change",
            "blackout",
            "name",
            "title",
            "state",
            "start",
            "end",
            "dependent",
            "via",
            "accepted",
            "detected_at",
        ]
        read_only_fields = fields

    def get_title(self, obj) -> str:
        return obj.other.title if obj.other_id else obj.blackout.name

    def get_start(self, obj) -> str:
        moment = obj.other.planned_start if obj.other_id else obj.blackout.start
        return serializers.DateTimeField().to_representation(moment)

    def get_end(self, obj) -> str:
        moment = obj.other.planned_end if obj.other_id else obj.blackout.end
        return serializers.DateTimeField().to_representation(moment)


class ChangeViewSet(TicketViewSet):
    queryset = Change.objects.select_related(
        "requester", "assignee", "assignment_group", "cab"
    ).prefetch_related(
        "cis",
        "watchers",
        Prefetch(
            "approvals",
            queryset=Approval.objects.filter(decision=Decision.REJECTED)
            .select_related("decided_by")
            .order_by("-round", "-id"),
            to_attr="rejections",
        ),
    )
    serializer_class = ChangeSerializer
    filterset_class = ChangeFilter
    permission_classes = [ChangeAreaPermission]
    ordering_fields = ["created_at", "updated_at", "number", "state", "planned_start", "risk"]
    ordering = ["-created_at"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    verbs = TicketVerbs(
        create=services.raise_change,
        update=services.update_change,
        change_state=services.change_state,
        comment=services.comment,
        attach=services.attach,
        set_attachment_internal=services.set_attachment_internal,
    )

    @extend_schema(methods=["GET"], request=None, responses=ApprovalSerializer(many=True))
    @extend_schema(methods=["POST"], request=VoteSerializer, responses=ApprovalSerializer)
    @action(detail=True, methods=["get", "post"])
    def approvals(self, request, number=None):
        """GET: every approval of every round, newest round first. POST: the caller's vote
        ``{"decision": "approve"|"reject", "comment"}`` on the approval waiting for them."""
        change = self.get_object()
        if request.method == "POST":
            body = VoteSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            approval = services.vote(
                change,
                actor=request.user,
                decision=body.validated_data["decision"],
                comment=body.validated_data.get("comment", ""),
            )
            return Response(ApprovalSerializer(approval).data)
        rows = change.approvals.select_related("approver", "decided_by").order_by("-round", "id")
        return Response(ApprovalSerializer(rows, many=True).data)

    @extend_schema(responses=ConflictSerializer(many=True))
    @action(detail=True, methods=["get"])
    def conflicts(self, request, number=None):
        """Other active changes in an overlapping window on the same or a dependent CI, and
        the blackout windows the change falls in (``accepted``: scheduled anyway, emergency)."""
        change = self.get_object()
        rows = change.conflicts.select_related("other", "blackout").order_by("kind", "id")
        return Response(ConflictSerializer(rows, many=True).data)


# --- Standard-change templates and blackout windows (change managers write)


class TemplateSerializer(StrictInputMixin, serializers.ModelSerializer):
    cis = serializers.PrimaryKeyRelatedField(many=True, queryset=CI.objects.all(), required=False)
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = ChangeTemplate
        fields = [
            "id",
            "name",
            "description",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "duration_minutes",
            "cis",
            "assignment_group",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # the name's uniqueness is checked by the verb, with the other errors

    def create(self, validated_data):
        return services.save_template(None, validated_data, actor=self.context["request"].user)

    def update(self, instance, validated_data):
        return services.save_template(instance, validated_data, actor=self.context["request"].user)


class BlackoutSerializer(StrictInputMixin, serializers.ModelSerializer):
    cis = serializers.PrimaryKeyRelatedField(many=True, queryset=CI.objects.all(), required=False)
    created_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Blackout
        fields = [
            "id",
            "name",
            "description",
            "start",
            "end",
            "cis",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # the window is checked by the verb (400 on ``end``)

    def create(self, validated_data):
        return services.save_blackout(None, validated_data, actor=self.context["request"].user)

    def update(self, instance, validated_data):
        return services.save_blackout(instance, validated_data, actor=self.context["request"].user)


class TemplateViewSet(viewsets.ModelViewSet):
    queryset = ChangeTemplate.objects.select_related("assignment_group").prefetch_related("cis")
    serializer_class = TemplateSerializer
    permission_classes = [ChangeAreaPermission]
    write_roles = permissions.MANAGE_ROLES
    filterset_fields = ["active"]
    ordering = ["name", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_destroy(self, instance):
        services.delete_template(instance, actor=self.request.user)


class BlackoutViewSet(viewsets.ModelViewSet):
    queryset = Blackout.objects.prefetch_related("cis")
    serializer_class = BlackoutSerializer
    permission_classes = [ChangeAreaPermission]
    write_roles = permissions.MANAGE_ROLES
    filterset_class = BlackoutFilter
    ordering = ["start", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_destroy(self, instance):
        services.delete_blackout(instance, actor=self.request.user)


router = routers.SimpleRouter()
router.register("changes", ChangeViewSet, basename="changes")
router.register("change-templates", TemplateViewSet, basename="change-templates")
router.register("blackouts", BlackoutViewSet, basename="blackouts")
