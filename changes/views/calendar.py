"""The change calendar (week and month: changes coloured by risk, blackout windows) and the
change success rate by month."""

from calendar import monthrange
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Prefetch
from django.db.models.functions import TruncMonth
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from cmdb.models import CI
from itsm.permissions import role_required

from ..models import Blackout, Change
from ..permissions import REPORT_ROLES
from ..workflow import SUCCESSFUL_OUTCOMES, Outcome, State
from .common import READ_ROLES, area

# What the calendar shows: changes with an agreed or proposed window.
CALENDAR_STATES = (
    State.AUTHORIZE,
    State.SCHEDULED,
    State.IMPLEMENT,
    State.REVIEW,
    State.CLOSED,
)
CALENDAR_COLUMNS = (
    "pk",
    "number",
    "title",
    "type",
    "state",
    "risk",
    "planned_start",
    "planned_end",
)
MONTH_CELL = 4  # changes shown in a month's day, the rest behind "+n more"


def _day(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate()


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def calendar_range(view: str, day: date) -> tuple[date, date]:
    """The first and the last-plus-one day of the grid: whole weeks, Monday first."""
    if view == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=7)
    start = day.replace(day=1)
    first = start - timedelta(days=start.weekday())
    last = start.replace(day=monthrange(start.year, start.month)[1])
    return first, last + timedelta(days=7 - last.weekday())


def window_rows(start: datetime, end: datetime):
    """Changes of the calendar whose window overlaps ``[start, end)``: one query, answered
    through the window index whatever the number of changes."""
    return (
        Change.objects.filter(
            state__in=CALENDAR_STATES, planned_start__lt=end, planned_end__gt=start
        )
        .order_by("planned_start", "id")
        .only(*CALENDAR_COLUMNS)
    )


@require_safe
@role_required(*READ_ROLES)
def change_calendar(request):
    view = "week" if request.GET.get("view") == "week" else "month"
    day = _day(request)
    first, stop = calendar_range(view, day)
    start, end = _aware(first), _aware(stop)
    changes = list(window_rows(start, end))
    blackouts = list(
        Blackout.objects.filter(start__lt=end, end__gt=start)
        .order_by("start", "id")
        .prefetch_related(Prefetch("cis", queryset=CI.objects.only("pk", "name")))
    )
    today = timezone.localdate()
    days = []
    index = {}
    current = first
    while current < stop:
        cell = {
            "date": current,
            "today": current == today,
            "outside": view == "month" and current.month != day.month,
            "changes": [],
            "blackouts": [],
        }
        index[current] = cell
        days.append(cell)
        current += timedelta(days=1)
    for change in changes:
        for cell_day in _days_of(change.planned_start, change.planned_end, first, stop):
            index[cell_day]["changes"].append(change)
    for blackout in blackouts:
        for cell_day in _days_of(blackout.start, blackout.end, first, stop):
            index[cell_day]["blackouts"].append(blackout)
    for cell in days:
        if view == "month":
            cell["more"] = max(0, len(cell["changes"]) - MONTH_CELL)
            cell["shown"] = cell["changes"][:MONTH_CELL]
        else:
            cell["shown"], cell["more"] = cell["changes"], 0
    step = timedelta(days=7) if view == "week" else None
    if view == "week":
        previous, following = first - step, first + step
        title = _("Week of %(day)s") % {"day": formats.date_format(first, "DATE_FORMAT")}
    else:
        previous = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        title = formats.date_format(day, "YEAR_MONTH_FORMAT")
    return render(
        request,
        "changes/change_calendar.html",
        {
            **area(request, "calendar"),
            "view": view,
            "day": day,
            "title": title,
            "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
            "days": days,
            "blackouts": blackouts,
            "count": len(changes),
            "previous": previous,
            "following": following,
            "today": today,
            "weekdays": [formats.date_format(first + timedelta(days=i), "D") for i in range(7)],
        },
    )


def _days_of(start: datetime, end: datetime, first: date, stop: date):
    """The days of ``[first, stop)`` a window ``[start, end)`` touches (local time)."""
    begin = max(timezone.localtime(start).date(), first)
    last_moment = timezone.localtime(end) - timedelta(microseconds=1)
    finish = min(last_moment.date(), stop - timedelta(days=1))
    current = begin
    while current <= finish:
        yield current
        current += timedelta(days=1)


# --- Change success rate


def success_by_month(months: int = 12, *, now=None) -> list[dict]:
    """Closed changes per month of closing and their outcomes, the last ``months`` months,
    counted in SQL (one query)."""
    today = timezone.localdate(now) if now else timezone.localdate()
    first = today.replace(day=1)
    for _step in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    counts = (
        Change.objects.filter(state=State.CLOSED, closed_at__gte=_aware(first))
        .annotate(month=TruncMonth("closed_at"))
        .values("month", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_month: dict[date, dict[str, int]] = {}
    for row in counts:
        month = row["month"]
        month = timezone.localtime(month).date() if isinstance(month, datetime) else month
        by_month.setdefault(month.replace(day=1), {})[row["outcome"]] = row["n"]
    rows = []
    month = first
    for _step in range(months):
        outcomes = by_month.get(month, {})
        total = sum(outcomes.values())
        good = sum(n for outcome, n in outcomes.items() if outcome in SUCCESSFUL_OUTCOMES)
        rows.append(
            {
                "month": month,
                "label": formats.date_format(month, "YEAR_MONTH_FORMAT"),
                "total": total,
                "outcomes": {value: outcomes.get(value, 0) for value in Outcome.values},
                "rate": (good / total) if total else None,
            }
        )
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return rows


@require_safe
@role_required(*REPORT_ROLES)
def success_rate(request):
    rows = success_by_month()
    total = sum(r["total"] for r in rows)
    good = sum(r["outcomes"][o] for r in rows for o in SUCCESSFUL_OUTCOMES)
    chart = {
        "labels": [r["label"] for r in rows],
        "rate": [round(r["rate"] * 100, 1) if r["rate"] is not None else None for r in rows],
        "outcomes": [
            {"key": value, "label": str(label), "data": [r["outcomes"][value] for r in rows]}
            for value, label in Outcome.choices
        ],
        "rate_label": _("Success rate (%)"),
    }
    return render(
        request,
        "changes/success_rate.html",
        {
            **area(request, "success"),
            "rows": rows,
            "total": total,
            "rate": (good / total) if total else None,
            "outcomes": Outcome.choices,
            "chart": chart,
        },
    )
