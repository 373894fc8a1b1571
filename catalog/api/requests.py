"""``requests/``, ``requests/{number}/approvals/``, ``tasks/`` (SPEC §8, §11).

Requests and tasks are tickets: ``transition/``, ``comments/``, ``attachments/`` and
``history/`` come from ``itsm.api.TicketViewSet`` and call the verbs of ``catalog.services``.
``answers`` is an object ``{field name: value}``; answers the form refuses come back as
``400 {"answers": {field name: [messages]}}``. Approvals take the body of change approvals,
``POST {"decision": "approve"|"reject", "comment"}``. Tasks are the desk's (403 for end users);
each has its ``request`` (number) and ``assignment_group``, and ``?request=`` filters them.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import Team, User
from itsm.api import ChoiceLabelField, TicketSerializerMixin, TicketVerbs, TicketViewSet
from itsm.permissions import HasRole
from itsm.workflow import parse_version

from .. import permissions, services
from ..filtersets import RequestFilter, TaskFilter
from ..formdef import AnswersInvalid
from ..models import Approval, CatalogItem, Request, Task
from ..workflow import ApprovalState, Decision, RequestState, TaskState


class TaskSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    assignment_group = serializers.IntegerField(source="assignment_group_id", allow_null=True)


class RequestSerializer(TicketSerializerMixin, serializers.ModelSerializer):
    """A request; who may send which field is ``catalog.permissions``' (the verbs check it),
    what an end user reads is its ``REQUESTER_READABLE``."""

    read_only_messages = {
        "state": "Change the state with POST …/transition/ or …/approvals/.",
        "title": "The title is the item's name.",
    }

    item = serializers.PrimaryKeyRelatedField(queryset=CatalogItem.objects.all())
    item_display = serializers.SerializerMethodField()
    answers = serializers.JSONField(required=False)
    state = serializers.CharField(read_only=True)
    state_display = ChoiceLabelField(RequestState.choices, source="state")
    approval = serializers.CharField(read_only=True)
    requester = serializers.IntegerField(source="requester_id", read_only=True)
    requester_display = serializers.SerializerMethodField()
    requested_for = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False
    )
    requested_for_display = serializers.SerializerMethodField()
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    assignee_display = serializers.SerializerMethodField()
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    assignment_group_display = serializers.SerializerMethodField()
    service = serializers.IntegerField(source="service_id", read_only=True)
    watchers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    tasks = TaskSummarySerializer(many=True, read_only=True)
    version = serializers.IntegerField(required=False)

    class Meta:
        model = Request
        fields = [
            "id",
            "number",
            "title",
            "description",
            "state",
            "state_display",
            "item",
            "item_display",
            "answers",
            "approval",
            "requester",
            "requester_display",
            "requested_for",
            "requested_for_display",
            "assignee",
            "assignee_display",
            "assignment_group",
            "assignment_group_display",
            "service",
            "watchers",
            "tasks",
            "created_at",
            "updated_at",
            "approved_at",
            "fulfilled_at",
            "closed_at",
            "version",
        ]
        read_only_fields = [
            "number",
            "title",
            "created_at",
            "updated_at",
            "approved_at",
            "fulfilled_at",
            "closed_at",
        ]

    def get_item_display(self, obj) -> str:
        return obj.item.display_name

    def get_requester_display(self, obj) -> str:
        return str(obj.requester)

    def get_requested_for_display(self, obj) -> str:
        return str(obj.requested_for)

    def get_assignee_display(self, obj) -> str | None:
        return str(obj.assignee) if obj.assignee_id else None

    def get_assignment_group_display(self, obj) -> str | None:
        return str(obj.assignment_group) if obj.assignment_group_id else None


class RequestApprovalSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True)
    state_display = ChoiceLabelField(ApprovalState.choices, source="state")
    approver = serializers.IntegerField(source="approver_id", read_only=True, allow_null=True)
    team = serializers.IntegerField(source="team_id", read_only=True, allow_null=True)
    approvers_display = serializers.CharField(source="approvers_label", read_only=True)
    decided_by = serializers.IntegerField(source="decided_by_id", read_only=True, allow_null=True)
    decided_by_display = serializers.SerializerMethodField()

    class Meta:
        model = Approval
        fields = [
            "id",
            "state",
            "state_display",
            "approver",
            "team",
            "approvers_display",
            "decided_by",
            "decided_by_display",
            "decided_at",
            "comment",
            "created_at",
        ]
        read_only_fields = fields

    def get_decided_by_display(self, obj) -> str | None:
        return str(obj.decided_by) if obj.decided_by_id else None


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5_000)
    version = serializers.IntegerField(required=False)


class RequestViewSet(TicketViewSet):
    # Three joins, the rest prefetched (as the incident list).
    queryset = (
        Request.objects.select_related("requester", "requested_for", "item")
        .prefetch_related(
            "watchers",
            "assignee",
            "assignment_group",
            Prefetch(
                "tasks",
                queryset=Task.objects.order_by("position", "id").only(
                    "number", "title", "state", "assignment_group", "request"
                ),
            ),
        )
        .defer(*Request.SEARCH_COLUMNS, "form")
    )
    serializer_class = RequestSerializer
    filterset_class = RequestFilter
    ordering_fields = ["created_at", "updated_at", "number", "state"]
    ordering = ["-created_at"]
    verbs = TicketVerbs(
        create=services.order,
        update=services.update_request,
        change_state=services.change_state,
        comment=services.comment,
        attach=services.attach,
        set_attachment_internal=services.set_attachment_internal,
    )
    readable_fields = staticmethod(permissions.readable_fields)
    readable_history = staticmethod(permissions.readable_history)

    def perform_create(self, serializer):
        values = dict(serializer.validated_data)
        values.pop("version", None)
        try:
            serializer.instance = services.order(actor=self.request.user, **values)
        except AnswersInvalid as exc:
            raise serializers.ValidationError({"answers": exc.fields}) from exc

    @extend_schema(request=DecisionSerializer, responses=RequestApprovalSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def approvals(self, request, number=None):
        """GET: the request's approvals. POST: the caller's decision, ``{"decision":
        "approve"|"reject", "comment"}`` (a rejection says why)."""
        ticket = self.get_object()
        if request.method == "POST":
            body = DecisionSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            answer = services.decide(
                ticket,
                actor=request.user,
                decision=body.validated_data["decision"],
                comment=body.validated_data.get("comment", ""),
                version=parse_version(body.validated_data.get("version")),
            )
            return Response(RequestApprovalSerializer(answer).data)
        approvals = ticket.approvals.select_related("approver", "team", "decided_by")
        return Response(RequestApprovalSerializer(approvals, many=True).data)

    @extend_schema(request=None, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def watch(self, request, number=None):
        ticket = self.get_object()
        services.watch(ticket, actor=request.user)
        return Response(self.get_serializer(ticket).data)


# --- Tasks ---------------------------------------------------------------------------------------


class TaskSerializer(TicketSerializerMixin, serializers.ModelSerializer):
    read_only_messages = {"state": "Change the state with POST …/transition/."}

    request = serializers.SlugRelatedField(
        slug_field="number", queryset=Request.objects.all(), required=True
    )
    request_title = serializers.SerializerMethodField()
    state = serializers.CharField(read_only=True)
    state_display = ChoiceLabelField(TaskState.choices, source="state")
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    assignee_display = serializers.SerializerMethodField()
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    assignment_group_display = serializers.SerializerMethodField()
    requester = serializers.IntegerField(source="requester_id", read_only=True)
    watchers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    version = serializers.IntegerField(required=False)

    class Meta:
        model = Task
        fields = [
            "id",
            "number",
            "title",
            "description",
            "state",
            "state_display",
            "request",
            "request_title",
            "position",
            "assignee",
            "assignee_display",
            "assignment_group",
            "assignment_group_display",
            "requester",
            "watchers",
            "created_at",
            "updated_at",
            "done_at",
            "version",
        ]
        read_only_fields = ["number", "position", "created_at", "updated_at", "done_at"]

    def get_request_title(self, obj) -> str:
        return obj.request.title

    def get_assignee_display(self, obj) -> str | None:
        return str(obj.assignee) if obj.assignee_id else None

    def get_assignment_group_display(self, obj) -> str | None:
        return str(obj.assignment_group) if obj.assignment_group_id else None


class TaskViewSet(TicketViewSet):
    queryset = (
        Task.objects.select_related("request", "assignee", "assignment_group")
        .prefetch_related("watchers")
        .defer(*Task.SEARCH_COLUMNS, "request__form", "request__answers")
    )
    permission_classes = [IsAuthenticated, HasRole.of(*Task.STAFF_ROLES)]
    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    ordering_fields = ["created_at", "updated_at", "number", "state", "position"]
    ordering = ["-created_at"]
    verbs = TicketVerbs(
        create=services.add_task,
        update=services.update_task,
        change_state=services.change_task_state,
        comment=services.comment_task,
        attach=services.attach_task,
        set_attachment_internal=services.set_attachment_internal,
    )
