"""Business-time maths for SLA calendars: pure functions, no database, no Django.

A calendar is expanded per *local date* in its IANA time zone into UTC intervals; business time
is the real elapsed time inside those intervals, so DST nights count what the clock really ran.

Boundary rules for a local wall time on a given date:
- inside a spring-forward gap: the first valid instant after the gap;
- ambiguous (fall-back): the first occurrence for a start, the second for an end;
- ``24:00``: the next local midnight, the same instant as that date's ``00:00`` start.

Intervals are half-open ``[start, end)``: a target that ends exactly at the close of a range is
due at that instant. Business seconds are integers: ``business_time_between`` truncates both
instants to the whole second, which keeps it exactly additive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "HORIZON_DAYS",
    "CalendarError",
    "NoWorkingTime",
    "WorkingCalendar",
    "add_business_time",
    "business_time_between",
    "is_working",
    "next_working_instant",
]

DAY_MINUTES = 24 * 60
HORIZON_DAYS = 3660
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_ONE_DAY = timedelta(days=1)
_HHMM = re.compile(r"(\d{2}):(\d{2})")

Interval = tuple[datetime, datetime]


class CalendarError(ValueError):
    """The calendar definition is invalid; the message names the offending field."""


class NoWorkingTime(CalendarError):
    """The calendar has no working time, at all or within the search horizon."""


@dataclass(frozen=True)
class WorkingCalendar:
    """Weekly working ranges in an IANA time zone, minus holidays (local dates).

    ``hours`` holds ``(weekday, start_minute, end_minute)`` with Monday = 0 and ``end_minute``
    up to 1440 (24:00). Ranges are stored sorted, so equal calendars compare and hash equal.
    """

    timezone: str
    hours: tuple[tuple[int, int, int], ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        _load_zone(self.timezone)
        for index, item in enumerate(self.hours):
            _check_range(index, item)
        hours = tuple(sorted(tuple(item) for item in self.hours))
        if not hours:
            raise NoWorkingTime("hours: the calendar has no working time")
        for (day, start, end), (next_day, next_start, next_end) in pairwise(hours):
            if day == next_day and next_start < end:
                raise CalendarError(
                    f"hours: {_hhmm(start)}-{_hhmm(end)} and "
                    f"{_hhmm(next_start)}-{_hhmm(next_end)} overlap on {WEEKDAYS[day]}"
                )
        holidays = frozenset(self.holidays)
        for day in holidays:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise CalendarError(f"holidays: {day!r} is not a date")
        object.__setattr__(self, "hours", hours)
        object.__setattr__(self, "holidays", holidays)

    @classmethod
    def from_spec(
        cls,
        timezone: str,
        hours: Iterable[Mapping[str, object]],
        holidays: Iterable[date | str | Mapping[str, object]] = (),
    ) -> WorkingCalendar:
        """Build a calendar from API-shaped data.

        ``hours`` items look like ``{"weekday": 0, "start": "09:00", "end": "18:00"}``;
        holidays are dates, ``"YYYY-MM-DD"`` strings or ``{"date": ..., "name": ...}`` objects.
        """
        ranges = []
        for index, item in enumerate(hours):
            field = f"hours[{index}]"
            if not isinstance(item, Mapping):
                raise CalendarError(f"{field}: expected an object with weekday, start and end")
            for key in ("weekday", "start", "end"):
                if key not in item:
                    raise CalendarError(f"{field}.{key}: this field is required")
            start = _parse_hhmm(item["start"], f"{field}.start", allow_end_of_day=False)
            end = _parse_hhmm(item["end"], f"{field}.end", allow_end_of_day=True)
            ranges.append((item["weekday"], start, end))
        days = frozenset(
            _parse_holiday(value, f"holidays[{i}]") for i, value in enumerate(holidays)
        )
        return cls(timezone, tuple(ranges), days)

    @classmethod
    def always(cls, timezone: str = "UTC") -> WorkingCalendar:
        """A 24x7 calendar."""
        return cls(timezone, tuple((day, 0, DAY_MINUTES) for day in range(7)))

    @cached_property
    def zone(self) -> ZoneInfo:
        return _load_zone(self.timezone)

    @cached_property
    def weekly(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Per weekday, the working ranges in minutes with adjacent ranges merged."""
        week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for day, start, end in self.hours:
            ranges = week[day]
            if ranges and ranges[-1][1] == start:
                ranges[-1] = (ranges[-1][0], end)
            else:
                ranges.append((start, end))
        return tuple(tuple(ranges) for ranges in week)


def add_business_time(cal: WorkingCalendar, start: datetime, seconds: int) -> datetime:
    """The UTC instant when ``seconds`` of business time have elapsed from ``start``.

    Zero is due at once (``start`` itself). A target that uses up a range exactly is due at the
    range's close, not at the next opening.
    """
    at = _as_utc(start, "start")
    if seconds < 0:
        raise ValueError(f"seconds must not be negative, got {seconds}")
    if seconds == 0:
        return at
    left = timedelta(seconds=seconds)
    found = False
    for range_start, range_end in _intervals(cal, _local_date(cal, at) - _ONE_DAY):
        if range_end <= at:
            continue
        found = True
        range_start = max(range_start, at)
        if left <= range_end - range_start:
            return range_start + left
        left -= range_end - range_start
    if not found:
        raise NoWorkingTime(f"no working time within {HORIZON_DAYS} days after {at.isoformat()}")
    raise NoWorkingTime(
        f"a target of {seconds} business seconds is not reached within {HORIZON_DAYS} days "
        f"after {at.isoformat()}"
    )


def business_time_between(cal: WorkingCalendar, a: datetime, b: datetime) -> int:
    """Whole business seconds in ``[a, b)``; 0 when ``b <= a``."""
    start = _as_utc(a, "a").replace(microsecond=0)
    end = _as_utc(b, "b").replace(microsecond=0)
    if end <= start:
        return 0
    total = timedelta()
    first, last = _local_date(cal, start) - _ONE_DAY, _local_date(cal, end) + _ONE_DAY
    for range_start, range_end in _intervals(cal, first, last):
        if range_end <= start:
            continue
        if range_start >= end:
            break
        total += min(range_end, end) - max(range_start, start)
    return total // timedelta(seconds=1)


def is_working(cal: WorkingCalendar, at: datetime) -> bool:
    """Whether ``at`` falls inside working time (a range's close is outside it)."""
    instant = _as_utc(at, "at")
    day = _local_date(cal, instant)
    return any(
        start <= instant < end for start, end in _intervals(cal, day - _ONE_DAY, day + _ONE_DAY)
    )


def next_working_instant(cal: WorkingCalendar, at: datetime) -> datetime:
    """``at`` itself (in UTC) if it is working time, else the next opening."""
    instant = _as_utc(at, "at")
    for start, end in _intervals(cal, _local_date(cal, instant) - _ONE_DAY):
        if end > instant:
            return max(start, instant)
    raise NoWorkingTime(f"no working time within {HORIZON_DAYS} days after {instant.isoformat()}")


def _intervals(cal: WorkingCalendar, first: date, last: date | None = None) -> Iterator[Interval]:
    """UTC working intervals of local dates ``first``..``last`` (default: the horizon), in order."""
    if last is None:
        last = first + timedelta(days=HORIZON_DAYS)
    day = first
    while day <= last:
        yield from _day_intervals(cal, day)
        day += _ONE_DAY


@lru_cache(maxsize=16384)
def _day_intervals(cal: WorkingCalendar, day: date) -> tuple[Interval, ...]:
    ranges = cal.weekly[day.weekday()]
    if not ranges or day in cal.holidays:
        return ()
    zone = cal.zone
    floor = _wall_to_utc(zone, day, 0, end=False)
    ceiling = _wall_to_utc(zone, day, DAY_MINUTES, end=False)
    merged: list[list[datetime]] = []
    for start_minute, end_minute in ranges:
        start = max(_wall_to_utc(zone, day, start_minute, end=False), floor)
        end = min(_wall_to_utc(zone, day, end_minute, end=True), ceiling)
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def _wall_to_utc(zone: ZoneInfo, day: date, minute: int, *, end: bool) -> datetime:
    """The UTC instant of local wall time ``minute`` on ``day``, by the module's boundary rules."""
    if minute == DAY_MINUTES:
        day, minute, end = day + _ONE_DAY, 0, False
    wall = datetime.combine(day, time(minute // 60, minute % 60))
    instant = wall.replace(tzinfo=zone, fold=int(end)).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return _gap_end(zone, wall)
    return instant


def _gap_end(zone: ZoneInfo, wall: datetime) -> datetime:
    """The transition instant that closes the gap holding the nonexistent local time ``wall``."""
    candidates = [int(wall.replace(tzinfo=zone, fold=f).timestamp()) for f in (0, 1)]
    low, high = min(candidates), max(candidates)
    before = datetime.fromtimestamp(low, zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _local_date(cal: WorkingCalendar, instant: datetime) -> date:
    return instant.astimezone(cal.zone).date()


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as exc:
        raise CalendarError(f"timezone: {name!r} is not a known IANA time zone") from exc


def _check_range(index: int, item: object) -> None:
    field = f"hours[{index}]"
    if not isinstance(item, tuple | list) or len(item) != 3:
        raise CalendarError(f"{field}: expected (weekday, start_minute, end_minute), got {item!r}")
    weekday, start, end = item
    if not _is_int(weekday) or not 0 <= weekday <= 6:
        raise CalendarError(f"{field}.weekday: {weekday!r} is not 0 (Monday) to 6 (Sunday)")
    if not _is_int(start) or not 0 <= start < DAY_MINUTES:
        raise CalendarError(f"{field}.start: {start!r} is not a minute of the day (0 to 1439)")
    if not _is_int(end) or not 0 < end <= DAY_MINUTES:
        raise CalendarError(f"{field}.end: {end!r} is not a minute of the day (1 to 1440)")
    if start >= end:
        raise CalendarError(f"{field}: start {_hhmm(start)} must be before end {_hhmm(end)}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_hhmm(value: object, field: str, *, allow_end_of_day: bool) -> int:
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match:
        hour, minute = int(match[1]), int(match[2])
        if minute < 60 and (hour < 24 or (allow_end_of_day and (hour, minute) == (24, 0))):
            return hour * 60 + minute
    latest = "24:00" if allow_end_of_day else "23:59"
    raise CalendarError(f"{field}: {value!r} is not an HH:MM time from 00:00 to {latest}")


def _parse_holiday(value: object, field: str) -> date:
    if isinstance(value, Mapping):
        field, value = f"{field}.date", value.get("date")
    if isinstance(value, datetime):
        raise CalendarError(f"{field}: {value!r} is a datetime; give the local date")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarError(f"{field}: {value!r} is not a YYYY-MM-DD date")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
