"""The report figures of SPEC §10, each one SQL aggregation (or a few), each a function of the
period and the filters (``sla.dashboard.Filters``: ``start``/``end`` both inclusive in the
server's time zone, ``team``, ``service``, ``priority``).

Definitions:

- ``opened``: incidents created in the period; ``resolved``: incidents resolved in the period
  (``resolved_at`` in it; a reopen clears ``resolved_at``, a new resolution sets it again).
- MTTR: mean clock seconds from ``created_at`` to ``resolved_at`` over the incidents resolved in
  the period (``mttr_seconds``), and their median (``median_ttr_seconds``).
- First-contact resolution: the share of the incidents resolved in the period whose audit trail
  shows no move from one team to another (the first routing, from no team, is not one) and no
  reopen (``resolved → in_progress``).
- Backlog: incidents open now (``new, in_progress, on_hold``) by age since creation; the period
  does not apply.
- CSAT: ratings given (``rated_at``) in the period.
- Change success rate: changes closed in the period after their review; successful outcomes
  (``successful``, ``successful_with_issues``) over all of them. Changes have no priority: that
  filter does not apply to them; ``service`` selects changes with the service among their
  affected CIs.
- Requests have no priority either; their fulfilment time runs from ``created_at`` to
  ``fulfilled_at`` for requests fulfilled in the period.

Every function runs a fixed number of queries whatever the data; PostgreSQL computes medians with
``percentile_cont``; the embedded SQLite default sorts in Python (a small desk).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone

from catalog.models import Request
from changes.models import Change
from changes.workflow import SUCCESSFUL_OUTCOMES, Outcome
from changes.workflow import State as ChangeState
from incidents.models import Incident, IncidentEvent
from incidents.workflow import State
from problems.models import PUBLISHED, Problem
from sla.dashboard import Filters

BACKLOG_BUCKETS = ("0-1d", "1-7d", "7-30d", "30d+")
# Bucket → (minimum age, maximum age) in days; ``None``: no bound.
_BUCKET_AGES = {"0-1d": (None, 1), "1-7d": (1, 7), "7-30d": (7, 30), "30d+": (30, None)}
SCORES = ("1", "2", "3", "4", "5")


# --- SQL helpers ---------------------------------------------------------------------------------


class Seconds(Func):
    """An interval as a number of seconds (PostgreSQL)."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


class Median(Aggregate):
    """``percentile_cont(0.5)`` over the expression (PostgreSQL)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _duration(start: str, end: str):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _durations(rows, start: str, end: str) -> dict:
    """``{"count", "mean_seconds", "median_seconds"}`` of ``end - start`` over ``rows``: one
    query on PostgreSQL, a sorted list in Python elsewhere (the embedded SQLite demo)."""
    if connection.vendor == "postgresql":
        found = rows.aggregate(
            count=Count("*"),
            mean=Avg(Seconds(_duration(start, end))),
            median=Median(Seconds(_duration(start, end))),
        )
        mean, median = found["mean"], found["median"]
        return {
            "count": found["count"],
            "mean_seconds": None if mean is None else round(mean),
            "median_seconds": None if median is None else round(median),
        }
    seconds = sorted(
        (b - a).total_seconds() for a, b in rows.values_list(start, end).order_by() if a and b
    )
    return {
        "count": len(seconds),
        "mean_seconds": round(sum(seconds) / len(seconds)) if seconds else None,
        "median_seconds": round(_median(seconds)) if seconds else None,
    }


def _median(values: list[float]) -> float:
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


def _since(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def in_period(field: str, filters: Filters) -> Q:
    return Q(**{f"{field}__gte": filters.since, f"{field}__lt": filters.until})


# --- Scoping -------------------------------------------------------------------------------------


def incidents(filters: Filters):
    """The incidents the filters select (the period is applied by each figure)."""
    rows = Incident.objects.all()
    if filters.team:
        rows = rows.filter(assignment_group_id=filters.team)
    if filters.service:
        rows = rows.filter(service_id=filters.service)
    if filters.priority:
        rows = rows.filter(priority=filters.priority)
    return rows.order_by()


# In an incident's trail: a move from one team to another (the first routing, from no team, is
# not one), or a reopen.
MOVED_OR_REOPENED = Q(field="assignment_group", old__isnull=False) | Q(
    field="state", old=State.RESOLVED, new=State.IN_PROGRESS
)


def moved_or_reopened_count(rows) -> int:
    """How many of the incidents ``rows`` select were moved between teams or reopened: read
    from the trail's side (its partial index on those rows), one probe per incident."""
    return (
        IncidentEvent.objects.filter(ticket__in=rows.values("pk"))
        .filter(MOVED_OR_REOPENED)
        .values("ticket")
        .distinct()
        .count()
    )


# --- Incidents -----------------------------------------------------------------------------------


def opened_count(filters: Filters) -> int:
    return incidents(filters).filter(in_period("created_at", filters)).count()


def resolution(filters: Filters) -> dict:
    """Incidents resolved in the period: ``{"resolved", "mttr_seconds", "median_ttr_seconds",
    "fcr_rate", "first_contact"}`` (``fcr_rate`` from 0 to 1, ``None`` when none resolved)."""
    resolved = incidents(filters).filter(in_period("resolved_at", filters))
    times = _durations(resolved, "created_at", "resolved_at")
    first = times["count"] - moved_or_reopened_count(resolved) if times["count"] else 0
    return {
        "resolved": times["count"],
        "mttr_seconds": times["mean_seconds"],
        "median_ttr_seconds": times["median_seconds"],
        "first_contact": first,
        "fcr_rate": round(first / times["count"], 4) if times["count"] else None,
    }


def backlog(filters: Filters, now: datetime | None = None) -> dict[str, int]:
    """Open incidents now by age since creation: ``{"0-1d": n, "1-7d": n, "7-30d": n,
    "30d+": n}`` (the period does not apply)."""
    now = now or timezone.now()
    counts = {}
    for bucket, (low, high) in _BUCKET_AGES.items():
        condition = Q()
        if low is not None:
            condition &= Q(created_at__lte=now - timedelta(days=low))
        if high is not None:
            condition &= Q(created_at__gt=now - timedelta(days=high))
        counts[bucket] = Count("id", filter=condition)
    return incidents(filters).filter(state__in=Incident.workflow.open_states).aggregate(**counts)


def csat(filters: Filters) -> dict:
    """Ratings given in the period: ``{"average", "count", "distribution": {"1"…"5": n}}``."""
    counts = {f"s{score}": Count("id", filter=Q(csat_score=int(score))) for score in SCORES}
    found = (
        incidents(filters)
        .filter(in_period("rated_at", filters), csat_score__isnull=False)
        .aggregate(count=Count("id"), average=Avg("csat_score"), **counts)
    )
    average = found["average"]
    return {
        "average": None if average is None else round(float(average), 2),
        "count": found["count"],
        "distribution": {score: found[f"s{score}"] for score in SCORES},
    }


def weeks_of(filters: Filters) -> list[date]:
    """The Mondays of the weeks the period touches."""
    first = filters.start - timedelta(days=filters.start.weekday())
    return [first + timedelta(weeks=n) for n in range((filters.end - first).days // 7 + 1)]


def volume_trend(filters: Filters) -> list[dict]:
    """Opened and resolved incidents per week of the period (weeks start on Monday; the first
    and last weeks count only the days inside the period): ``[{"week", "label", "opened",
    "resolved"}]``."""
    zone = timezone.get_current_timezone()
    scoped = incidents(filters)
    counted = {}
    for name, field in (("opened", "created_at"), ("resolved", "resolved_at")):
        rows = (
            scoped.filter(in_period(field, filters))
            .annotate(week=TruncWeek(field, tzinfo=zone))
            .values("week")
            .annotate(n=Count("*"))
            .order_by()
        )
        counted[name] = {_as_date(r["week"]): r["n"] for r in rows}
    result = []
    for monday in weeks_of(filters):
        iso = monday.isocalendar()
        result.append(
            {
                "week": monday,
                "label": f"{iso.year}-W{iso.week:02d}",
                "opened": counted["opened"].get(monday, 0),
                "resolved": counted["resolved"].get(monday, 0),
            }
        )
    return result


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def incident_summary(filters: Filters, now: datetime | None = None) -> dict:
    """``reports/incidents/`` (SPEC §11)."""
    figures = resolution(filters)
    return {
        "from": filters.start,
        "to": filters.end,
        "opened": opened_count(filters),
        "resolved": figures["resolved"],
        "mttr_seconds": figures["mttr_seconds"],
        "median_ttr_seconds": figures["median_ttr_seconds"],
        "fcr_rate": figures["fcr_rate"],
        "backlog": backlog(filters, now),
        "csat": csat(filters),
    }


# --- Changes, problems, requests -----------------------------------------------------------------


def changes(filters: Filters, *, ci_ids=None):
    rows = Change.objects.all()
    if filters.team:
        rows = rows.filter(assignment_group_id=filters.team)
    if ci_ids is not None:
        rows = rows.filter(
            Exists(Change.cis.through.objects.filter(change=OuterRef("pk"), ci_id__in=ci_ids))
        )
    elif filters.service:
        rows = rows.filter(
            Exists(Change.cis.through.objects.filter(change=OuterRef("pk"), ci=filters.service))
        )
    return rows.order_by()


def change_outcomes(filters: Filters, *, ci_ids=None) -> dict:
    """Changes closed in the period: ``{"total", "successful", "successful_with_issues",
    "failed", "backed_out", "success_rate"}`` (rate from 0 to 1; ``successful`` counts the
    clean successes only, ``success_rate`` both kinds of success)."""
    found = (
        changes(filters, ci_ids=ci_ids)
        .filter(in_period("closed_at", filters), state=ChangeState.CLOSED)
        .aggregate(
            total=Count("id"),
            **{outcome: Count("id", filter=Q(outcome=outcome)) for outcome in Outcome.values},
        )
    )
    good = sum(found[outcome] for outcome in SUCCESSFUL_OUTCOMES)
    return {**found, "success_rate": round(good / found["total"], 4) if found["total"] else None}


def problems(filters: Filters):
    rows = Problem.objects.all()
    if filters.team:
        rows = rows.filter(assignment_group_id=filters.team)
    if filters.priority:
        rows = rows.filter(priority=filters.priority)
    if filters.service:
        rows = rows.filter(
            Exists(
                Problem.services.through.objects.filter(problem=OuterRef("pk"), ci=filters.service)
            )
        )
    return rows.order_by()


def problem_counts(filters: Filters) -> dict:
    """``{"opened", "resolved"}`` in the period; ``{"open", "known_errors",
    "published_known_errors"}`` now (published: flagged, published and with a workaround)."""
    open_states = Problem.workflow.open_states
    found = problems(filters).aggregate(
        opened=Count("id", filter=in_period("created_at", filters)),
        resolved=Count("id", filter=in_period("resolved_at", filters)),
        open=Count("id", filter=Q(state__in=open_states)),
        known_errors=Count("id", filter=Q(known_error=True) & ~Q(state="canceled")),
        published_known_errors=Count("id", filter=PUBLISHED & ~Q(state="canceled")),
    )
    return found


def requests(filters: Filters):
    rows = Request.objects.all()
    if filters.team:
        rows = rows.filter(assignment_group_id=filters.team)
    if filters.service:
        rows = rows.filter(service_id=filters.service)
    return rows.order_by()


def fulfilment(filters: Filters) -> dict:
    """Requests fulfilled in the period: ``{"fulfilled", "mean_seconds", "median_seconds"}``,
    from ordering (``created_at``) to fulfilment."""
    times = _durations(
        requests(filters).filter(in_period("fulfilled_at", filters)), "created_at", "fulfilled_at"
    )
    return {
        "fulfilled": times["count"],
        "mean_seconds": times["mean_seconds"],
        "median_seconds": times["median_seconds"],
    }
