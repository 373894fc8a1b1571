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
``percentile_cont``; the embedded SQLite default sorts in Python (a small desk). The incident
figures read the daily roll-up for the days it covers (``reports.rollup``).
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
from django.utils import timezone

from catalog.models import Request
from changes.models import Change
from changes.workflow import SUCCESSFUL_OUTCOMES, Outcome
from changes.workflow import State as ChangeState
from incidents.models import Incident
from problems.models import PUBLISHED, Problem
from sla.dashboard import Filters

from . import rollup

BACKLOG_BUCKETS = ("0-1d", "1-7d", "7-30d", "30d+")
# Bucket → (minimum age, maximum age) in days; ``None``: no bound.
_BUCKET_AGES = {"0-1d": (None, 1), "1-7d": (1, 7), "7-30d": (7, 30), "30d+": (30, None)}
SCORES = rollup.SCORES


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

# The incidents the filters select, and what breaks first contact: defined beside the roll-up
# (``reports.rollup``), which reads them too.
incidents = rollup.incidents
MOVED_OR_REOPENED = rollup.MOVED_OR_REOPENED


# --- Incidents -----------------------------------------------------------------------------------
#
# The additive figures (opened, resolved, MTTR, first contact, CSAT, the weekly trend) come from
# ``reports.rollup.measures``: the daily roll-up for the days it covers, live for the others.


def median_ttr(filters: Filters, covered: set[date] | None = None) -> int | None:
    """Median clock seconds from creation to resolution over the incidents resolved in the
    period: not additive; on PostgreSQL found from the roll-up's time buckets then the one
    bucket's incidents (``rollup.median_ttr``), on SQLite sorted in Python."""
    resolved = incidents(filters).filter(in_period("resolved_at", filters))
    if connection.vendor == "postgresql":
        if covered is None:
            covered = rollup.covered_days(filters.start, filters.end)
        return rollup.median_ttr(filters, resolved, covered)
    return _durations(resolved, "created_at", "resolved_at")["median_seconds"]


def incident_figures(filters: Filters) -> dict:
    """Opened, the resolution figures and CSAT of the period from one read of the measures:
    ``{"opened", "resolved", "mttr_seconds", "median_ttr_seconds", "first_contact", "fcr_rate",
    "csat"}``."""
    covered = rollup.covered_days(filters.start, filters.end)
    found = rollup.summary(rollup.total(filters, covered=covered))
    found["median_ttr_seconds"] = median_ttr(filters, covered) if found["resolved"] else None
    return found


def opened_count(filters: Filters) -> int:
    return rollup.total(filters).opened


def resolution(filters: Filters) -> dict:
    """Incidents resolved in the period: ``{"resolved", "mttr_seconds", "median_ttr_seconds",
    "fcr_rate", "first_contact"}`` (``fcr_rate`` from 0 to 1, ``None`` when none resolved)."""
    found = incident_figures(filters)
    return {name: found[name] for name in RESOLUTION}


RESOLUTION = ("resolved", "mttr_seconds", "median_ttr_seconds", "first_contact", "fcr_rate")


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
    return rollup.summary(rollup.total(filters))["csat"]


def weeks_of(filters: Filters) -> list[date]:
    """The Mondays of the weeks the period touches."""
    first = filters.start - timedelta(days=filters.start.weekday())
    return [first + timedelta(weeks=n) for n in range((filters.end - first).days // 7 + 1)]


def volume_trend(filters: Filters) -> list[dict]:
    """Opened and resolved incidents per week of the period (weeks start on Monday; the first
    and last weeks count only the days inside the period): ``[{"week", "label", "opened",
    "resolved"}]``."""
    weekly: dict[date, list[int]] = {}
    for (day,), found in rollup.measures(filters, ("day",)).items():
        monday = rollup.as_date(day) - timedelta(days=rollup.as_date(day).weekday())
        counts = weekly.setdefault(monday, [0, 0])
        counts[0] += found.opened
        counts[1] += found.resolved
    result = []
    for monday in weeks_of(filters):
        iso = monday.isocalendar()
        opened, resolved = weekly.get(monday, (0, 0))
        result.append(
            {
                "week": monday,
                "label": f"{iso.year}-W{iso.week:02d}",
                "opened": opened,
                "resolved": resolved,
            }
        )
    return result


def incident_summary(filters: Filters, now: datetime | None = None) -> dict:
    """``reports/incidents/`` (SPEC §11)."""
    figures = incident_figures(filters)
    return {
        "from": filters.start,
        "to": filters.end,
        "opened": figures["opened"],
        "resolved": figures["resolved"],
        "mttr_seconds": figures["mttr_seconds"],
        "median_ttr_seconds": figures["median_ttr_seconds"],
        "fcr_rate": figures["fcr_rate"],
        "backlog": backlog(filters, now),
        "csat": figures["csat"],
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
