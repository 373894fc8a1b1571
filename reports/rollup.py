"""The incident figures' additive measures, read from the daily roll-up where it is good and
computed live elsewhere, by the same definitions.

A report's period splits into days *covered* by the roll-up (rolled, not marked dirty since,
before today) and the rest (today, days not rolled yet, days whose incidents changed since they
were rolled). ``measures`` adds up ``IncidentDay`` rows over the covered days and computes the
rest live from the incidents with ``live`` — the very function that writes the roll-up
(``reports.services.roll_up``) — so a figure is the same whichever way each day was read.

The measures (``Measures``) are counts and an exact integer sum of times to resolve: the
figures (MTTR, first-contact rate, CSAT average) are computed from them at the end, by
``summary``, whichever path they came by. The median time to resolve is not additive: the
roll-up keeps per day how many incidents were resolved in each time-to-resolve bucket, which
says where the middle incident lies; it is then read, exactly, from that bucket's incidents
(``median_ttr`` below).

Days are days of the server's time zone (``TIME_ZONE``): after changing it, rebuild the
roll-up (``manage.py rebuild_report_days --all``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction

from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from django.utils import timezone

from incidents.models import Incident, IncidentEvent
from incidents.workflow import State
from sla.dashboard import Filters

from .models import DirtyDay, IncidentDay, IncidentDayTime, RolledDay

SCORES = ("1", "2", "3", "4", "5")
# What a roll-up row is keyed on, and the incident column each key reads.
KEYS = {
    "team": "assignment_group_id",
    "service": "service_id",
    "priority": "priority",
}
ROLLUP_KEYS = {"day": "day", "team": "team_id", "service": "service_id", "priority": "priority"}
ALL_KEYS = ("day", "team", "service", "priority")
MICROSECONDS = 1_000_000

Run = tuple[date, date]  # first and last day, both inclusive


@dataclass
class Measures:
    opened: int = 0
    resolved: int = 0
    resolve_microseconds: int = 0
    first_contact: int = 0
    csat: list[int] = field(default_factory=lambda: [0] * len(SCORES))

    def add(self, other: Measures) -> Measures:
        self.opened += other.opened
        self.resolved += other.resolved
        self.resolve_microseconds += other.resolve_microseconds
        self.first_contact += other.first_contact
        self.csat = [a + b for a, b in zip(self.csat, other.csat, strict=True)]
        return self

    @property
    def empty(self) -> bool:
        return not (self.opened or self.resolved or any(self.csat))


def summary(found: Measures) -> dict:
    """The figures from the measures: ``{"opened", "resolved", "mttr_seconds", "first_contact",
    "fcr_rate", "csat": {"average", "count", "distribution"}}``."""
    resolved = found.resolved
    ratings = sum(found.csat)
    total_score = sum(int(score) * n for score, n in zip(SCORES, found.csat, strict=True))
    return {
        "opened": found.opened,
        "resolved": resolved,
        # exact: round(sum / count) in whole seconds, half to even like round()
        "mttr_seconds": (
            round(Fraction(found.resolve_microseconds, resolved * MICROSECONDS))
            if resolved
            else None
        ),
        "first_contact": found.first_contact,
        "fcr_rate": round(found.first_contact / resolved, 4) if resolved else None,
        "csat": {
            "average": round(total_score / ratings, 2) if ratings else None,
            "count": ratings,
            "distribution": dict(zip(SCORES, found.csat, strict=True)),
        },
    }


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


def since(day: date) -> datetime:
    """Midnight starting ``day`` in the server's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def local_day(instant: datetime) -> date:
    return timezone.localtime(instant).date()


def as_date(value) -> date:
    """A day as a backend hands it back (a date, a datetime, or ISO text)."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def in_runs(column: str, runs: Iterable[Run]) -> Q:
    """``column`` (an instant) on one of the days of ``runs``."""
    condition = Q(pk__in=[])
    for first, last in runs:
        condition |= Q(**{f"{column}__gte": since(first), f"{column}__lt": since(last + ONE_DAY)})
    return condition


ONE_DAY = timedelta(days=1)


def runs_of(days: Iterable[date]) -> list[Run]:
    """Consecutive days as ``(first, last)`` runs, in order."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + ONE_DAY:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- Live ----------------------------------------------------------------------------------------


def _key(row: dict, keys: tuple[str, ...]) -> tuple:
    return tuple(row[f"k_{name}"] for name in keys)


def _grouped(rows, columns: dict, aggregates: dict) -> list[dict]:
    """``rows`` aggregated per value of ``columns``; with no column, one aggregate over them
    all (``values()`` with no column would group by every field)."""
    if not columns:
        return [rows.aggregate(**aggregates)]
    return list(rows.values(**columns).annotate(**aggregates).order_by())


def live(rows, runs: list[Run], keys: tuple[str, ...] = ()) -> dict[tuple, Measures]:
    """The measures of the incidents ``rows`` over the days of ``runs``, grouped by ``keys``
    (among ``day``, ``team``, ``service``, ``priority``): three aggregations (opened, resolved,
    rated), none when there is no day to read. What the roll-up stores is this function's
    answer grouped by every key."""
    found: dict[tuple, Measures] = defaultdict(Measures)
    if not runs:
        return found
    zone = timezone.get_current_timezone()

    def columns(instant: str) -> dict:
        chosen = {}
        for name in keys:
            if name == "day":
                chosen["k_day"] = TruncDate(instant, tzinfo=zone)
            else:
                chosen[f"k_{name}"] = F(KEYS[name])
        return chosen

    opened = _grouped(
        rows.filter(in_runs("created_at", runs)), columns("created_at"), {"n": Count("id")}
    )
    for row in opened:
        found[_key(row, keys)].opened += row["n"] or 0

    moved = Exists(IncidentEvent.objects.filter(ticket=OuterRef("pk")).filter(MOVED_OR_REOPENED))
    took = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    resolved = _grouped(
        rows.filter(in_runs("resolved_at", runs)),
        columns("resolved_at"),
        {"n": Count("id"), "took": Sum(took), "first": Count("id", filter=~moved)},
    )
    for row in resolved:
        measures = found[_key(row, keys)]
        measures.resolved += row["n"] or 0
        measures.resolve_microseconds += _microseconds(row["took"])
        measures.first_contact += row["first"] or 0

    scores = {f"s{score}": Count("id", filter=Q(csat_score=int(score))) for score in SCORES}
    rated = _grouped(
        rows.filter(in_runs("rated_at", runs), csat_score__isnull=False),
        columns("rated_at"),
        scores,
    )
    for row in rated:
        measures = found[_key(row, keys)]
        measures.csat = [
            a + row[f"s{score}"] for a, score in zip(measures.csat, SCORES, strict=True)
        ]
    return found


def _microseconds(took) -> int:
    if took is None:
        return 0
    if isinstance(took, timedelta):
        return took // timedelta(microseconds=1)
    return int(took)  # a backend that hands the sum back in microseconds


# --- The roll-up ---------------------------------------------------------------------------------


def covered_days(first: date, last: date, today: date | None = None) -> set[date]:
    """The days from ``first`` to ``last`` read from the roll-up: rolled, not dirty since, and
    before today (one query; none when the period is today alone)."""
    today = today or timezone.localdate()
    last = min(last, today - ONE_DAY)
    if last < first:
        return set()
    dirty = DirtyDay.objects.filter(day__gte=first, day__lte=last).values("day")
    return set(
        RolledDay.objects.filter(day__gte=first, day__lte=last)
        .exclude(day__in=dirty)
        .values_list("day", flat=True)
    )


def rolled(filters: Filters, runs: list[Run], keys: tuple[str, ...] = ()) -> dict:
    """The roll-up's measures over the days of ``runs`` for the filters, grouped by ``keys``:
    one aggregation, none when there is no day to read."""
    found: dict[tuple, Measures] = defaultdict(Measures)
    if not runs:
        return found
    rows = IncidentDay.objects.all()
    condition = Q(pk__in=[])
    for first, last in runs:
        condition |= Q(day__gte=first, day__lte=last)
    rows = rows.filter(condition)
    if filters.team:
        rows = rows.filter(team_id=filters.team)
    if filters.service:
        rows = rows.filter(service_id=filters.service)
    if filters.priority:
        rows = rows.filter(priority=filters.priority)
    sums = {
        name: Sum(name)
        for name in (
            "opened",
            "resolved",
            "resolve_microseconds",
            "first_contact",
            *(f"csat_{s}" for s in SCORES),
        )
    }
    columns = {f"k_{name}": F(ROLLUP_KEYS[name]) for name in keys}
    for row in _grouped(rows, columns, sums):
        found[_key(row, keys)].add(
            Measures(
                opened=row["opened"] or 0,
                resolved=row["resolved"] or 0,
                resolve_microseconds=int(row["resolve_microseconds"] or 0),
                first_contact=row["first_contact"] or 0,
                csat=[row[f"csat_{s}"] or 0 for s in SCORES],
            )
        )
    return found


def measures(
    filters: Filters,
    keys: tuple[str, ...] = (),
    *,
    today: date | None = None,
    covered: set[date] | None = None,
) -> dict[tuple, Measures]:
    """The measures of the filters' period, grouped by ``keys``: the roll-up for covered days,
    live for the others. At most five queries whatever the period (four when ``covered``, the
    answer of ``covered_days``, is given)."""
    if covered is None:
        covered = covered_days(filters.start, filters.end, today)
    everyday = days_between(filters.start, filters.end)
    found: dict[tuple, Measures] = defaultdict(Measures)
    for part in (
        rolled(filters, runs_of(covered), keys),
        live(incidents(filters), runs_of(d for d in everyday if d not in covered), keys),
    ):
        for key, value in part.items():
            found[key].add(value)
    return found


def total(
    filters: Filters, *, today: date | None = None, covered: set[date] | None = None
) -> Measures:
    return measures(filters, today=today, covered=covered).get((), Measures())


# --- The median time to resolve ------------------------------------------------------------------
#
# Not additive: on PostgreSQL the roll-up keeps, per day, how many incidents were resolved in
# each time-to-resolve bucket (``IncidentDayTime``). The buckets of the period (roll-up for the
# covered days, live for the others, by ``live_times``) say which bucket holds the middle
# incident(s) and how many come before; that bucket's incidents resolved in the period are then
# read in order from the time-to-resolve index, a few hundredths of the period's. With a team,
# service or priority filter (fewer incidents), on SQLite, or when the buckets disagree with
# the incidents (edited in SQL since), the median is computed directly from the incidents.


def _thresholds() -> list[int]:
    """Bucket bounds in seconds: 0, 1, then 5 % wider each, up to twenty years."""
    bounds = [0, 1]
    while bounds[-1] < 20 * 365 * 86400:
        bounds.append(max(bounds[-1] + 1, -(-bounds[-1] * 105 // 100)))
    return bounds


THRESHOLDS = _thresholds()


def time_to_resolve():
    return ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())


def _bucket():
    """``width_bucket`` of the incident's time to resolve: 0 below 0 s, ``i`` from
    ``THRESHOLDS[i - 1]`` (included) to ``THRESHOLDS[i]``, ``len(THRESHOLDS)`` beyond."""
    return RawSQL(
        'width_bucket("incidents_incident"."resolved_at" - "incidents_incident"."created_at", '
        "%s::interval[])",
        ([timedelta(seconds=t) for t in THRESHOLDS],),
    )


def live_times(rows, runs: list[Run], by_day: bool = False) -> dict[tuple, int]:
    """Incidents of ``rows`` resolved on the days of ``runs`` per bucket (and per day):
    ``{(bucket,) or (day, bucket): n}``. What ``IncidentDayTime`` stores is this grouped by
    day. PostgreSQL only."""
    if not runs:
        return {}
    columns = {"k_bucket": _bucket()}
    if by_day:
        columns["k_day"] = TruncDate("resolved_at", tzinfo=timezone.get_current_timezone())
    found = (
        rows.filter(in_runs("resolved_at", runs))
        .values(**columns)
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        ((row["k_day"], row["k_bucket"]) if by_day else (row["k_bucket"],)): row["n"]
        for row in found
    }


def bucket_counts(filters: Filters, covered: set[date]) -> dict[int, int]:
    """Resolved incidents of the period per bucket, the ``covered`` days from the roll-up: two
    queries at most."""
    everyday = days_between(filters.start, filters.end)
    counts: dict[int, int] = defaultdict(int)
    runs = runs_of(covered)
    if runs:
        condition = Q(pk__in=[])
        for first, last in runs:
            condition |= Q(day__gte=first, day__lte=last)
        rows = (
            IncidentDayTime.objects.filter(condition)
            .values("bucket")
            .annotate(n=Sum("resolved"))
            .order_by()
        )
        for row in rows:
            counts[row["bucket"]] += row["n"]
    uncovered = runs_of(d for d in everyday if d not in covered)
    for (bucket,), n in live_times(incidents(filters), uncovered).items():
        counts[bucket] += n
    return counts


def _bounds(bucket: int) -> tuple[timedelta | None, timedelta | None]:
    low = timedelta(seconds=THRESHOLDS[bucket - 1]) if bucket >= 1 else None
    high = timedelta(seconds=THRESHOLDS[bucket]) if bucket < len(THRESHOLDS) else None
    return low, high


class _Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _middle(resolved, counts: dict[int, int]) -> list[timedelta] | None:
    """The middle time(s) to resolve from the buckets: one for an odd count, two for an even
    one; ``None`` when the incidents do not hold what the buckets say."""
    total = sum(counts.values())
    ranks = [(total + 1) // 2] if total % 2 else [total // 2, total // 2 + 1]
    found = []
    before = 0
    wanted = iter(ranks)
    rank = next(wanted)
    for bucket in sorted(counts):
        n = counts[bucket]
        while rank is not None and rank <= before + n:
            low, high = _bounds(bucket)
            rows = resolved.annotate(took=time_to_resolve())
            if low is not None:
                rows = rows.filter(took__gte=low)
            if high is not None:
                rows = rows.filter(took__lt=high)
            offset = rank - before - 1
            last = ranks[-1] - before - 1 if ranks[-1] <= before + n else offset
            values = list(rows.order_by("took").values_list("took", flat=True)[offset : last + 1])
            if len(values) != last - offset + 1:
                return None
            found.extend(values)
            rank = next(wanted, None)
            if len(found) == len(ranks):
                return found
        before += n
    return None


def median_ttr(filters: Filters, resolved, covered: set[date]) -> int | None:
    """Median seconds from creation to resolution over ``resolved`` (the incidents of the
    filters resolved in the period; PostgreSQL): exact, half-seconds rounded to even like
    ``round()``. From the buckets when the roll-up covers days of the period and no filter
    narrows it (two to four queries), else one aggregation."""
    middle = None
    if covered and not (filters.team or filters.service or filters.priority):
        counts = bucket_counts(filters, covered)
        if not counts:
            return None
        middle = _middle(resolved, counts)
    if middle is None:
        middle = [resolved.aggregate(m=_Median(time_to_resolve()))["m"]]
        if middle[0] is None:
            return None
        return round(Fraction(_microseconds(middle[0]), MICROSECONDS))
    return round(Fraction(sum(_microseconds(v) for v in middle), len(middle) * MICROSECONDS))
