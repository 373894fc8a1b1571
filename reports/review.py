"""The monthly service review of one business service (SPEC §10): availability, incidents by
priority, SLA compliance, changes and their outcomes, open problems and the CIs behind its
incidents.

Availability is ``100 × (1 − outage / service time)``. Outage is the union of
``[created_at, resolved_at]`` of the service's major incidents (a canceled one was no outage; an
open one lasts until now), cut to the period, overlaps counted once. Service time is the period
(up to now, when it ends in the future), or, when the service has its own hours — the calendar
of the first active incident SLA policy written for this service — the working time of that
calendar; outages then count only inside those hours.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from cmdb.impact import dependencies_of
from incidents.models import Incident
from incidents.workflow import Priority
from incidents.workflow import State as IncidentState
from problems.models import Problem
from sla import dashboard
from sla.calendar import WorkingCalendar, business_time_between
from sla.dashboard import Filters
from sla.models import AppliesTo, Policy

from . import figures, rollup

TOP_CIS = 5

Interval = tuple[datetime, datetime]


def merge(intervals: list[Interval]) -> list[Interval]:
    """Overlapping (or touching) intervals merged into one, in order."""
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def service_calendar(service):
    """The service's own hours: the calendar of its first active incident policy, if any."""
    policy = (
        Policy.objects.filter(service=service, applies_to=AppliesTo.INCIDENT, active=True)
        .select_related("calendar")
        .order_by("order", "id")
        .first()
    )
    return policy.calendar if policy else None


def outages(service, since: datetime, until: datetime, now: datetime) -> list[Interval]:
    """The service's major-incident outages, cut to ``[since, until)`` and merged."""
    rows = (
        Incident.objects.filter(service=service, major=True, created_at__lt=until)
        .exclude(state=IncidentState.CANCELED)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=since))
        .values_list("created_at", "resolved_at")
        .order_by()
    )
    cut = [(max(start, since), min(end or now, until)) for start, end in rows]
    return merge(cut)


def availability(
    service, filters: Filters, now: datetime | None = None, calendar: WorkingCalendar | None = None
) -> dict:
    """``{"availability" (%, 3 decimals; None without service time), "outage_seconds",
    "service_seconds", "outages": [(start, end)]}``."""
    now = now or timezone.now()
    since, until = filters.since, min(filters.until, now)
    if until <= since:
        return {"availability": None, "outage_seconds": 0, "service_seconds": 0, "outages": []}
    down = outages(service, since, until, now)

    def seconds(start, end) -> int:
        if calendar is None:
            return int((end - start).total_seconds())
        return business_time_between(calendar, start, end)

    outage = sum(seconds(start, end) for start, end in down)
    service_time = seconds(since, until)
    value = round(100 * (1 - outage / service_time), 3) if service_time else None
    return {
        "availability": value,
        "outage_seconds": outage,
        "service_seconds": service_time,
        "outages": down,
    }


def _scoped(service, filters: Filters) -> Filters:
    """The filters with the service set (team and priority kept)."""
    return Filters(
        start=filters.start,
        end=filters.end,
        metric=filters.metric,
        priority=filters.priority,
        team=filters.team,
        service=service.pk,
    )


def incidents_by_priority(service, filters: Filters) -> dict[str, int]:
    """Incidents of the service opened in the period, per priority: ``{"1": n, … "5": n}``
    (from the daily roll-up where it covers the period, ``reports.rollup``)."""
    found = rollup.measures(_scoped(service, filters), ("priority",))
    opened = {key[0]: value.opened for key, value in found.items()}
    return {str(p): opened.get(p, 0) for p in Priority.values}


def top_cis(service, filters: Filters, limit: int = TOP_CIS) -> list[dict]:
    """The CIs most often behind the service's incidents opened in the period."""
    scoped = _scoped(service, filters)
    rows = (
        figures.incidents(scoped)
        .filter(figures.in_period("created_at", scoped), ci__isnull=False)
        .values("ci", "ci__name")
        .annotate(incidents=Count("id"))
        .order_by("-incidents", "ci__name")[:limit]
    )
    return [{"id": r["ci"], "name": r["ci__name"], "incidents": r["incidents"]} for r in rows]


def open_problems(service):
    """Open problems that name the service, or that one of its incidents is linked to."""
    named = Problem.services.through.objects.filter(problem=OuterRef("pk"), ci=service)
    linked = Incident.objects.filter(problem=OuterRef("pk"), service=service)
    return (
        Problem.objects.open()
        .filter(Q(Exists(named)) | Q(Exists(linked)))
        .select_related("assignee", "assignment_group")
        .order_by("priority", "created_at", "id")
    )


def service_cis(service) -> list[int]:
    """The service and every CI it depends on: a change to any of them is a change to it."""
    return [service.pk, *(ci.id for ci in dependencies_of(service).cis)]


def review(service, filters: Filters, now: datetime | None = None) -> dict:
    """Every figure of the review page (and of ``reports/services/{id}/review/``)."""
    now = now or timezone.now()
    scoped = _scoped(service, filters)
    outcomes = figures.change_outcomes(
        Filters(start=filters.start, end=filters.end, team=filters.team),
        ci_ids=service_cis(service),
    )
    problems = list(open_problems(service))
    calendar = service_calendar(service)
    working = calendar.working_calendar() if calendar else None
    return {
        "service": service,
        "from": filters.start,
        "to": filters.end,
        "calendar": calendar,
        **availability(service, filters, now, working),
        "incidents_by_priority": incidents_by_priority(service, filters),
        "sla": dashboard.totals(scoped),
        "changes": outcomes,
        "open_problems": problems,
        "top_cis": top_cis(service, filters),
    }
