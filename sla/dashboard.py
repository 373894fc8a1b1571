"""The figures of the manager dashboard ``/sla/`` (SPEC §10), aggregated in SQL.

Compliance counts every timer that *became* met or breached in the period — met at ``met_at``,
breached at ``breached_at`` (a late timer counts once, when it breached) — and is
``met / (met + breached)``. Dates are ISO, both inclusive, in the server's time zone; the
default period is the last 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from . import services
from .models import AppliesTo, Metric, Timer

DEFAULT_DAYS = 30
DEFAULT_RISK_HOURS = 4
LIST_LIMIT = 25
GROUPS = ("priority", "team", "service")


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    metric: str | None = None
    priority: int | None = None
    team: int | None = None
    service: int | None = None
    risk_hours: int = DEFAULT_RISK_HOURS
    kind: str | None = None  # "incident" or "request"; None: both

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        """Exclusive: midnight after ``end``."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))


def parse_filters(params, today: date | None = None) -> tuple[Filters, dict[str, str]]:
    """Filters from query parameters, with a message per field that was refused (and ignored)."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}

    def as_date(name, default):
        value = params.get(name)
        if not value:
            return default
        try:
            return date.fromisoformat(value)
        except ValueError:
            errors[name] = _("Enter a date as YYYY-MM-DD.")
            return default

    def as_int(name, low, high):
        value = params.get(name)
        if value in (None, ""):
            return None
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            errors[name] = _("Enter a whole number from %(low)s to %(high)s.") % {
                "low": low,
                "high": high,
            }
            return None
        return number

    end = as_date("to", today)
    start = as_date("from", end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        errors["from"] = _("The start date must not be after the end date.")
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    metric = params.get("metric") or None
    if metric is not None and metric not in Metric.values:
        errors["metric"] = _("Choose response or resolution.")
        metric = None
    kind = params.get("kind") or None
    if kind is not None and kind not in AppliesTo.values:
        errors["kind"] = _("Choose incidents or requests.")
        kind = None
    return (
        Filters(
            start=start,
            end=end,
            metric=metric,
            priority=as_int("priority", 1, 5),
            team=as_int("team", 1, 2**63 - 1),
            service=as_int("service", 1, 2**63 - 1),
            risk_hours=as_int("hours", 1, 168) or DEFAULT_RISK_HOURS,
            kind=kind,
        ),
        errors,
    )


# Each kind's timer foreign key (``Timer.incident``, ``Timer.request``): a team or a service is
# the measured ticket's, whatever its type.
TICKET_FIELDS = ("incident", "request")


def _either(suffix: str, value) -> Q:
    condition = Q(pk__in=[])
    for name in TICKET_FIELDS:
        condition |= Q(**{f"{name}__{suffix}": value})
    return condition


def _coalesce(suffix: str):
    return Coalesce(*(f"{name}__{suffix}" for name in TICKET_FIELDS))


def _scoped(filters: Filters):
    timers = Timer.objects.all()
    if filters.kind:
        timers = timers.filter(**{f"{filters.kind}__isnull": False})
    if filters.metric:
        timers = timers.filter(metric=filters.metric)
    if filters.priority:
        timers = timers.filter(priority=filters.priority)
    if filters.team:
        timers = timers.filter(_either("assignment_group_id", filters.team))
    if filters.service:
        timers = timers.filter(_either("service_id", filters.service))
    return timers


def _became(since: datetime, until: datetime) -> Q:
    return Q(state=Timer.State.MET, met_at__gte=since, met_at__lt=until) | Q(
        breached_at__gte=since, breached_at__lt=until
    )


COUNTS = {
    "met": Count("id", filter=Q(state=Timer.State.MET)),
    "breached": Count("id", filter=Q(breached_at__isnull=False)),
}
GROUP_FIELDS = {
    "priority": ("priority", None),
    "team": ("assignment_group", "assignment_group__name"),
    "service": ("service", "service__name"),
}


def _rate(met: int, breached: int) -> float | None:
    total = met + breached
    return round(100.0 * met / total, 1) if total else None


def compliance(filters: Filters, group_by: str) -> list[dict]:
    """``[{"key", "label", "met", "breached", "compliance"}]`` (compliance in %)."""
    key_field, label_field = GROUP_FIELDS[group_by]
    if label_field is None:
        columns = {"key": F(key_field)}
    else:
        columns = {"key": _coalesce(key_field), "label": _coalesce(label_field)}
    rows = (
        _scoped(filters)
        .filter(_became(filters.since, filters.until))
        .values(**columns)
        .annotate(**COUNTS)
        .order_by("key")
    )
    result = []
    for row in rows:
        key = row["key"]
        if group_by == "priority":
            label = f"P{key}" if key else _("No priority")
        else:
            label = row.get("label") or (_("No team") if group_by == "team" else _("No service"))
        result.append(
            {
                "key": key,
                "label": label,
                "met": row["met"],
                "breached": row["breached"],
                "compliance": _rate(row["met"], row["breached"]),
            }
        )
    return result


def totals(filters: Filters) -> dict:
    counts = _scoped(filters).filter(_became(filters.since, filters.until)).aggregate(**COUNTS)
    return {**counts, "compliance": _rate(counts["met"], counts["breached"])}


def trend_unit(filters: Filters) -> str:
    """The trend's step: a day over a month or less, a week up to half a year, else a month."""
    days = (filters.end - filters.start).days + 1
    if days <= 31:
        return "day"
    return "week" if days <= 26 * 7 else "month"


def _bucket_starts(start: date, end: date, unit: str) -> list[date]:
    if unit == "day":
        return [start + timedelta(days=n) for n in range((end - start).days + 1)]
    if unit == "week":
        monday = start - timedelta(days=start.weekday())
        return [monday + timedelta(weeks=n) for n in range((end - monday).days // 7 + 1)]
    months, first = [], start.replace(day=1)
    while first <= end:
        months.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    return months


def _bucket_label(first: date, unit: str) -> str:
    if unit == "week":
        return f"{first.isocalendar().year}-W{first.isocalendar().week:02d}"
    return formats.date_format(first, "YEAR_MONTH_FORMAT" if unit == "month" else "DATE_FORMAT")


def trend(filters: Filters) -> list[dict]:
    """Compliance over the chosen period, by day, week or month (``trend_unit``); the first and
    last buckets count only what falls inside the period."""
    unit = trend_unit(filters)
    truncate = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}[unit]
    rows = (
        _scoped(filters)
        .filter(_became(filters.since, filters.until))
        .annotate(
            bucket=truncate(
                Coalesce("breached_at", "met_at"), tzinfo=timezone.get_current_timezone()
            )
        )
        .values("bucket")
        .annotate(**COUNTS)
        .order_by("bucket")
    )
    by_bucket = {timezone.localtime(r["bucket"]).date(): r for r in rows}
    result = []
    for first in _bucket_starts(filters.start, filters.end, unit):
        row = by_bucket.get(first, {"met": 0, "breached": 0})
        result.append(
            {
                "start": first,
                "unit": unit,
                "label": _bucket_label(first, unit),
                "met": row["met"],
                "breached": row["breached"],
                "compliance": _rate(row["met"], row["breached"]),
            }
        )
    return result


def _listed(timers, now):
    rows = []
    for timer in timers:
        reading = services.reading(timer, now)
        rows.append({"timer": timer, "ticket": timer.ticket, **reading})
    return rows


def _live(filters: Filters):
    return _scoped(filters).select_related(
        "policy",
        *(
            f"{name}__{person}"
            for name in TICKET_FIELDS
            for person in ("assignee", "assignment_group")
        ),
    )


def breached_now(filters: Filters, now: datetime | None = None, limit: int = LIST_LIMIT):
    """Timers breached and not yet met (running or paused), longest overdue first; includes
    running timers past due that no scanner has recorded yet. ``(rows, total)``."""
    now = now or timezone.now()
    timers = _live(filters).overdue(now)
    total = timers.count()
    return _listed(timers.order_by("due_at", "id")[:limit], now), total


def at_risk(filters: Filters, now: datetime | None = None, limit: int = LIST_LIMIT):
    """Running timers due within ``risk_hours``, soonest first. ``(rows, total)``."""
    now = now or timezone.now()
    timers = _live(filters).at_risk(now, timedelta(hours=filters.risk_hours))
    total = timers.count()
    return _listed(timers.order_by("due_at", "id")[:limit], now), total
