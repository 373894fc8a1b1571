"""Timer maths on a snapshot: pure functions, no database, no Django.

A timer's clock is the tuple of wall-clock periods during which it ran, as whole UTC epoch
seconds, the last one open (``end is None``) while it runs. Everything else follows from those
periods, the calendar and the target:

- elapsed business time: the business seconds inside the periods (up to ``now`` for the open one);
- the crossing instant of ``s`` business seconds: the first instant the elapsed time reaches
  ``s`` — the due instant for the target, the warning instant for ``pct %`` of it;
- breach: the clock ran past the due instant. Stopping *at* the due instant is met; one second
  later is breached, and ``breached_at`` is the due instant itself (never the time someone
  noticed).

Escalation levels are the warning percentages and ``BREACH`` (100). ``reached`` says which is
the highest level crossed by ``now``; a scanner that catches up after downtime escalates only
that one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from .calendar import WorkingCalendar, add_business_time, business_time_between

BREACH = 100
ONE_SECOND = timedelta(seconds=1)

Period = tuple[int, int | None]


def to_epoch(instant: datetime) -> int:
    """Whole UTC seconds (floored): timers live on a one-second grid."""
    if instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()}")
    return int(instant.timestamp() // 1)


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def floor_second(instant: datetime) -> datetime:
    return from_epoch(to_epoch(instant))


@dataclass(frozen=True)
class Clock:
    calendar: WorkingCalendar
    target: int
    periods: tuple[Period, ...] = ()
    warn_at: tuple[int, ...] = (50, 75, 90)

    def __post_init__(self):
        periods = tuple((int(a), None if b is None else int(b)) for a, b in self.periods)
        for index, (start, end) in enumerate(periods):
            if end is not None and end < start:
                raise ValueError(f"period {index} ends before it starts")
            if end is None and index != len(periods) - 1:
                raise ValueError("only the last period may be open")
            if index and start < periods[index - 1][1]:
                raise ValueError(f"period {index} starts before the previous one ends")
        object.__setattr__(self, "periods", periods)
        levels = tuple(sorted({int(p) for p in self.warn_at if 0 < int(p) < BREACH}))
        object.__setattr__(self, "warn_at", levels)
        if self.target < 0:
            raise ValueError("target must not be negative")

    @property
    def running(self) -> bool:
        return bool(self.periods) and self.periods[-1][1] is None

    def run(self, at: datetime) -> Clock:
        """The clock with a period opened at ``at`` (no-op when already running)."""
        if self.running:
            return self
        start = to_epoch(at)
        if self.periods and start < self.periods[-1][1]:
            start = self.periods[-1][1]
        return self._with((*self.periods, (start, None)))

    def halt(self, at: datetime) -> Clock:
        """The clock with its open period closed at ``at`` (no-op when not running)."""
        if not self.running:
            return self
        start = self.periods[-1][0]
        return self._with((*self.periods[:-1], (start, max(start, to_epoch(at)))))

    def _with(self, periods) -> Clock:
        return Clock(self.calendar, self.target, periods, self.warn_at)

    @cached_property
    def crossings(self) -> tuple[tuple[int, datetime | None], ...]:
        """``thresholds(clock)``, worked out once per clock (it is immutable)."""
        result = []
        for level in (*self.warn_at, BREACH):
            at = crossing(self, level_seconds(self, level))
            if at is not None and level == BREACH:
                at += ONE_SECOND
            result.append((level, at))
        return tuple(result)


def elapsed(clock: Clock, now: datetime) -> int:
    """Business seconds the clock has run by ``now``."""
    limit = to_epoch(now)
    total = 0
    for start, end in clock.periods:
        stop = limit if end is None else min(end, limit)
        if stop > start:
            total += business_time_between(clock.calendar, from_epoch(start), from_epoch(stop))
    return total


def crossing(clock: Clock, seconds: int) -> datetime | None:
    """When the elapsed business time reaches ``seconds`` while the clock runs; None if a
    stopped or paused clock has not reached it (a running clock always will).

    If the clock stopped exactly as it reached ``seconds``, it had not run past it: the
    instant is when the clock runs again (with nothing left, due at once)."""
    done = 0
    last = len(clock.periods) - 1
    for index, (start, end) in enumerate(clock.periods):
        if end is None:
            return add_business_time(clock.calendar, from_epoch(start), seconds - done)
        span = business_time_between(clock.calendar, from_epoch(start), from_epoch(end))
        if done + span >= seconds:
            at = add_business_time(clock.calendar, from_epoch(start), seconds - done)
            if at < from_epoch(end) or index == last:
                return at
            done = seconds
            continue
        done += span
    return None


def due(clock: Clock) -> datetime | None:
    """The due instant: when the target is (or was) reached; None while paused short of it."""
    return crossing(clock, clock.target)


def clock_end(clock: Clock, now: datetime) -> datetime | None:
    """The last instant the clock ran: ``now`` while running, else the last period's end."""
    if not clock.periods:
        return None
    if clock.running:
        return floor_second(now)
    return from_epoch(clock.periods[-1][1])


def breached_at(clock: Clock, now: datetime) -> datetime | None:
    """The due instant if the clock ran past it by ``now``, else None."""
    end = clock_end(clock, now)
    if end is None:
        return None
    deadline = due(clock)
    if deadline is not None and deadline < end:
        return deadline
    return None


def level_seconds(clock: Clock, level: int) -> int:
    return clock.target * level // BREACH


def thresholds(clock: Clock) -> list[tuple[int, datetime | None]]:
    """Each escalation level with the instant it is crossed (a breach one second after due)."""
    return list(clock.crossings)


def reached(clock: Clock, now: datetime) -> tuple[int, datetime | None]:
    """The highest level crossed by ``now`` and its crossing instant (``(0, None)``: none).

    For a breach the instant is ``breached_at`` (the due instant)."""
    end = clock_end(clock, now)
    if end is None:
        return 0, None
    best: tuple[int, datetime | None] = (0, None)
    for level, at in thresholds(clock):
        if at is not None and at <= end:
            best = (level, at - ONE_SECOND if level == BREACH else at)
    return best


def next_check(clock: Clock, now: datetime, handled: int) -> datetime | None:
    """When a scanner should next look at this timer: now if a level above ``handled`` is
    already crossed, else the next level's crossing instant; None when nothing can happen
    (paused, stopped, or every level handled)."""
    level, _at = reached(clock, now)
    if level > handled:
        return floor_second(now)
    if not clock.running:
        return None
    for candidate, at in thresholds(clock):
        if candidate > handled and at is not None:
            return at
    return None


@dataclass(frozen=True)
class Reading:
    """A timer as read at ``now``, for pages and the API."""

    elapsed: int
    remaining: int
    percent: float
    due_at: datetime | None
    breached_at: datetime | None


def read(clock: Clock, now: datetime) -> Reading:
    spent = elapsed(clock, now)
    deadline = due(clock) if clock.running else None
    percent = 100.0 * spent / clock.target if clock.target else 100.0
    return Reading(
        elapsed=spent,
        remaining=clock.target - spent,
        percent=percent,
        due_at=deadline,
        breached_at=breached_at(clock, now),
    )
