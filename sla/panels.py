"""What the SLA engine adds to other apps' pages: the SLA bars on ticket pages and the
"Breaching soon" desk queue (registered through ``itsm.extensions``)."""

from datetime import timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.extensions import desk_due, desk_queue, ticket_panel

from . import services
from .dashboard import DEFAULT_RISK_HOURS
from .models import Metric, Timer
from .permissions import can_read_timers
from .tickets import kind_for_model


@ticket_panel
def sla_panel(ticket, user):
    """Staff see each timer of the ticket: time left, overrun or paused."""
    kind = kind_for_model(type(ticket))
    if kind is None or not can_read_timers(user):
        return None
    timers = list(
        Timer.objects.filter(**{kind.timer_field: ticket})
        .select_related("policy")
        .order_by("metric")
    )
    now = timezone.now()
    rows = []
    for timer in sorted(timers, key=lambda t: t.metric != Metric.RESPONSE):
        row = services.reading(timer, now)
        row["label"] = timer.get_metric_display()
        row["policy_name"] = timer.policy.name
        row["bar"] = min(100, max(0, int(row["percent"])))
        row["overrun"] = -row["remaining_seconds"] if row["remaining_seconds"] < 0 else 0
        rows.append(row)
    context = {"sla_timers": rows, "sla_now": now}
    # The desk includes panels ``with panel=<context>``, the portal renders them with the
    # context itself: ``panel.sla_timers`` reads the same either way.
    return "sla/_ticket_sla.html", {**context, "panel": context}


# "Breaching soon" looks as far ahead as the dashboard's "at risk in the next N hours".
BREACHING_SOON = timedelta(hours=DEFAULT_RISK_HOURS)


@desk_queue(
    "breaching_soon", _("Breaching soon"), model="incidents.Incident", ordering=("sla_due_at",)
)
def breaching_soon(queryset, *, within: timedelta = BREACHING_SOON):
    """Incidents with a running timer not yet breached and due within the dashboard's "at
    risk" horizon, soonest first; the breached have their own queue."""
    return _due(queryset, "incident", lambda timers, now: timers.at_risk(now, within))


@desk_queue("breached", _("Breached"), model="incidents.Incident", ordering=("sla_due_at",))
def breached(queryset):
    """Incidents with a breached timer that is not achieved yet, longest overrun first."""
    return _due(queryset, "incident", lambda timers, now: timers.overdue(now))


@desk_queue(
    "requests_breaching_soon",
    _("Breaching soon"),
    model="catalog.Request",
    ordering=("sla_due_at",),
)
def requests_breaching_soon(queryset, *, within: timedelta = BREACHING_SOON):
    """The same for requests."""
    return _due(queryset, "request", lambda timers, now: timers.at_risk(now, within))


@desk_queue("requests_breached", _("Breached"), model="catalog.Request", ordering=("sla_due_at",))
def requests_breached(queryset):
    return _due(queryset, "request", lambda timers, now: timers.overdue(now))


def _due(queryset, timer_field: str, select):
    """``queryset`` narrowed to tickets with a timer that ``select`` keeps, annotated with the
    earliest ``due_at`` of those timers (``sla_due_at``)."""
    now = timezone.now()
    # The timers' due-date index finds the few tickets; the subquery orders them.
    selected = select(Timer.objects.filter(**{f"{timer_field}__isnull": False}), now)
    timers = select(Timer.objects.filter(**{timer_field: OuterRef("pk")}), now)
    due = timers.order_by("due_at").values("due_at")[:1]
    return (
        queryset.filter(pk__in=selected.values(timer_field))
        .annotate(sla_due_at=Subquery(due))
        .order_by("sla_due_at")
    )


def _next_deadline(timer_field: str):
    """The earliest deadline of a ticket's running timers (a paused clock has none)."""
    return Subquery(
        Timer.objects.filter(**{timer_field: OuterRef("pk")}, clock=Timer.Clock.RUNNING)
        .order_by("due_at")
        .values("due_at")[:1]
    )


@desk_due("incidents.Incident", soon=BREACHING_SOON)
def incident_deadlines(queryset):
    return queryset.annotate(sla_due_at=_next_deadline("incident"))


@desk_due("catalog.Request", soon=BREACHING_SOON)
def request_deadlines(queryset):
    return queryset.annotate(sla_due_at=_next_deadline("request"))
