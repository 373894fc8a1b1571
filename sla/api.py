"""SLA API (SPEC §11): a ticket's timers, calendars and policies.

- ``incidents/{number}/sla/``: whoever may see the incident reads its timers (404 otherwise).
- ``sla/calendars/``, ``sla/policies/``: staff read them; managers own them; end users 403.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, routers, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team
from cmdb.models import CI
from itsm.pagination import CursorPagination
from itsm.workflow import parse_version

from . import config, services
from .models import AppliesTo, Calendar, Metric, Policy, Timer
from .permissions import can_configure, can_read_config, can_read_timers
from .tickets import KINDS, TicketKind

# --- Timers -----------------------------------------------------------------------------------


class TimerSerializer(serializers.Serializer):
    """A timer read at request time; ``remaining_seconds`` is negative when overrun."""

    metric = serializers.ChoiceField(choices=Metric.choices)
    policy = serializers.IntegerField(source="policy_id")
    policy_display = serializers.CharField()
    state = serializers.ChoiceField(choices=Timer.State.choices)
    paused = serializers.BooleanField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    elapsed_seconds = serializers.IntegerField()
    remaining_seconds = serializers.IntegerField()
    target_seconds = serializers.IntegerField()
    breached_at = serializers.DateTimeField(allow_null=True)
    met_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, timer):
        row = services.reading(timer, self.context.get("now"))
        row.update(policy_id=timer.policy_id, policy_display=timer.policy.name)
        return super().to_representation(row)


class TicketTimersView(APIView):
    """``{type}/{number}/sla/``: the ticket's response and resolution timers."""

    kind: TicketKind

    @extend_schema(responses=TimerSerializer(many=True))
    def get(self, request, number):
        if not can_read_timers(request.user):  # before the lookup: reveals nothing
            raise PermissionDenied
        ticket = get_object_or_404(self.kind.model.objects.visible_to(request.user), number=number)
        timers = (
            Timer.objects.filter(**{self.kind.timer_field: ticket})
            .select_related("policy")
            .order_by("id")
        )
        ordered = sorted(timers, key=lambda t: t.metric != Metric.RESPONSE)
        context = {"now": timezone.now()}
        return Response(TimerSerializer(ordered, many=True, context=context).data)


# --- Configuration ----------------------------------------------------------------------------


class ConfigPermission(permissions.BasePermission):
    """Staff read SLA configuration; managers (and admins) change it; end users: 403."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return can_read_config(request.user)
        return can_configure(request.user)


class HoursSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    start = serializers.CharField(max_length=5)
    end = serializers.CharField(max_length=5)


class HolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")


class CalendarSerializer(serializers.ModelSerializer):
    hours = HoursSerializer(many=True)
    holidays = HolidaySerializer(many=True, required=False)

    class Meta:
        model = Calendar
        fields = [
            "id",
            "name",
            "timezone",
            "hours",
            "holidays",
            "is_default",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_default", "version", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}

    def _save(self, instance, data):
        current = instance.spec() if instance else {}
        holidays = data.get("holidays")
        if holidays is None and instance is not None:
            holidays = [{"date": h.date, "name": h.name} for h in instance.holidays.all()]
        return config.save_calendar(
            instance,
            name=data.get("name", instance.name if instance else ""),
            timezone=data.get("timezone", current.get("timezone", "UTC")),
            hours=[dict(h) for h in data.get("hours", current.get("hours", []))],
            holidays=holidays or [],
            actor=self.context["request"].user,
            version=_version(self.context["request"]),
        )

    def create(self, validated_data):
        return self._save(None, validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


class PolicySerializer(serializers.ModelSerializer):
    priorities = serializers.ListField(child=serializers.IntegerField(), required=False)
    pause_on = serializers.ListField(child=serializers.CharField(), required=False)
    warn_at = serializers.ListField(child=serializers.IntegerField(), required=False)
    warning_notify = serializers.ListField(child=serializers.CharField(), required=False)
    breach_notify = serializers.ListField(child=serializers.CharField(), required=False)
    service = serializers.PrimaryKeyRelatedField(
        queryset=CI.objects.services(), allow_null=True, required=False
    )
    calendar = serializers.PrimaryKeyRelatedField(queryset=Calendar.objects.all())
    warning_reassign_to = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )
    breach_reassign_to = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )
    calendar_display = serializers.CharField(source="calendar.name", read_only=True)

    class Meta:
        model = Policy
        fields = [
            "id",
            "name",
            "applies_to",
            "priorities",
            "service",
            "calendar",
            "calendar_display",
            "order",
            "response_seconds",
            "resolution_seconds",
            "pause_on",
            "warn_at",
            "warning_notify",
            "warning_raise_priority",
            "warning_reassign_to",
            "breach_notify",
            "breach_raise_priority",
            "breach_reassign_to",
            "active",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at"]
        extra_kwargs = {
            "name": {"validators": []},
            "response_seconds": {"min_value": 1},
            "resolution_seconds": {"min_value": 1},
        }

    def create(self, validated_data):
        return config.save_policy(
            None, validated_data, actor=self.context["request"].user, version=None
        )

    def update(self, instance, validated_data):
        return config.save_policy(
            instance,
            validated_data,
            actor=self.context["request"].user,
            version=_version(self.context["request"]),
        )


def _version(request) -> int | None:
    return parse_version(request.data.get("version") if hasattr(request.data, "get") else None)


class NamePagination(CursorPagination):
    ordering = ("name", "id")


class OrderPagination(CursorPagination):
    ordering = ("order", "id")


class CalendarViewSet(viewsets.ModelViewSet):
    queryset = Calendar.objects.prefetch_related("holidays")
    serializer_class = CalendarSerializer
    permission_classes = [permissions.IsAuthenticated, ConfigPermission]
    pagination_class = NamePagination
    filterset_fields = ["timezone", "is_default"]
    ordering_fields = ["name", "created_at"]
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]

    def perform_destroy(self, instance):
        config.delete_calendar(instance, actor=self.request.user)


class PolicyViewSet(viewsets.ModelViewSet):
    queryset = Policy.objects.select_related("calendar")
    serializer_class = PolicySerializer
    permission_classes = [permissions.IsAuthenticated, ConfigPermission]
    pagination_class = OrderPagination
    filterset_fields = ["applies_to", "calendar", "service", "active"]
    ordering_fields = ["order", "name", "created_at"]
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]

    def perform_destroy(self, instance):
        config.delete_policy(instance, actor=self.request.user)


router = routers.SimpleRouter()
router.register("sla/calendars", CalendarViewSet, basename="sla-calendar")
router.register("sla/policies", PolicyViewSet, basename="sla-policy")


def _ticket_routes():
    from django.urls import path

    routes = []
    for kind in KINDS:
        if kind.key == AppliesTo.INCIDENT or _installed(kind):
            view = type(f"{kind.key.title()}TimersView", (TicketTimersView,), {"kind": kind})
            prefix = kind.model.type_name()
            routes.append(path(f"{prefix}/<str:number>/sla/", view.as_view(), name=f"{prefix}-sla"))
    return routes


def _installed(kind: TicketKind) -> bool:
    try:
        kind.model  # noqa: B018
    except LookupError:
        return False
    return True


urlpatterns = [*_ticket_routes(), *router.urls]
