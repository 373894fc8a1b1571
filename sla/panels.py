"""What the SLA engine adds to other apps' pages: the SLA bars on ticket pages and the
"Breaching soon" desk queue (registered through ``itsm.extensions``)."""

from datetime import timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.extensions import desk_queue, ticket_panel

from . import services
from .models import Metric, Timer
from .permissions import can_read_timers
from .tickets import kind_for_model

BREACHING_SOON = timedelta(hours=2)


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


@desk_queue(
    "breaching_soon", _("Breaching soon"), model="incidents.Incident", ordering=("sla_due_at",)
)
def breaching_soon(queryset, *, within: timedelta = BREACHING_SOON):
    """Incidents whose running response or resolution timer is due within two hours, or has
    breached and still runs, soonest first."""
    return _due_soon(queryset, "incident", within)


@desk_queue(
    "requests_breaching_soon",
    _("Breaching soon"),
    model="catalog.Request",
    ordering=("sla_due_at",),
)
def requests_breaching_soon(queryset, *, within: timedelta = BREACHING_SOON):
    """The same for requests."""
    return _due_soon(queryset, "request", within)


def _due_soon(queryset, timer_field: str, within: timedelta):
    horizon = timezone.now() + within
    due = (
        Timer.objects.filter(
            **{timer_field: OuterRef("pk")}, clock=Timer.Clock.RUNNING, due_at__lte=horizon
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )
    return (
        queryset.annotate(sla_due_at=Subquery(due))
        .filter(sla_due_at__isnull=False)
        .order_by("sla_due_at")
    )
