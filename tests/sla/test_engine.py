"""Timer maths on snapshots: elapsed time, due and crossing instants, levels, next checks.

No database. Instants are written out; an oracle walking minute by minute checks random
pause/resume sequences.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla import engine
from sla.calendar import WorkingCalendar, is_working
from sla.engine import BREACH, Clock, to_epoch

PARIS = ZoneInfo("Europe/Paris")
MINUTE, HOUR = 60, 3600
OFFICE = WorkingCalendar.from_spec(
    "Europe/Paris", [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]
)
SPLIT = WorkingCalendar.from_spec(
    "Europe/Paris",
    [
        {"weekday": d, "start": s, "end": e}
        for d in range(5)
        for s, e in (("09:00", "12:00"), ("13:00", "18:00"))
    ],
)
ALWAYS = WorkingCalendar.always("UTC")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def clock(cal, target, *periods, warn_at=(50, 75, 90)) -> Clock:
    return Clock(
        cal,
        target,
        tuple((to_epoch(a), None if b is None else to_epoch(b)) for a, b in periods),
        warn_at,
    )


# --- Elapsed time and due instants -------------------------------------------------------------


def test_running_clock_is_due_target_business_seconds_after_start():
    c = clock(OFFICE, HOUR, (paris(2026, 1, 16, 17, 30), None))  # Friday
    assert engine.due(c) == paris(2026, 1, 19, 9, 30)  # Monday
    assert engine.elapsed(c, paris(2026, 1, 17, 12, 0)) == 30 * MINUTE


def test_paused_friday_1700_with_30_min_left_resumed_monday_1000_is_due_1030():
    start = paris(2026, 1, 16, 9, 0)
    c = clock(OFFICE, 8 * HOUR + 30 * MINUTE, (start, paris(2026, 1, 16, 17, 0)))
    assert engine.elapsed(c, paris(2026, 1, 19, 10, 0)) == 8 * HOUR
    assert engine.due(c) is None  # paused short of the target
    resumed = c.run(paris(2026, 1, 19, 10, 0))
    assert engine.due(resumed) == paris(2026, 1, 19, 10, 30)


def test_pause_and_resume_inside_non_working_time_change_nothing():
    start = paris(2026, 1, 16, 17, 0)
    plain = clock(OFFICE, 2 * HOUR, (start, None))
    interrupted = clock(
        OFFICE,
        2 * HOUR,
        (start, paris(2026, 1, 16, 19, 0)),
        (paris(2026, 1, 18, 8, 30), None),  # paused Friday 19:00, resumed Sunday... Monday 08:30
    )
    assert engine.due(plain) == engine.due(interrupted) == paris(2026, 1, 19, 10, 0)


def test_target_ending_at_close_of_range_is_due_at_the_close():
    c = clock(OFFICE, HOUR, (paris(2026, 1, 16, 17, 0), None))
    assert engine.due(c) == paris(2026, 1, 16, 18, 0)


def test_split_shift_skips_lunch():
    c = clock(SPLIT, HOUR, (paris(2026, 1, 14, 11, 30), None))
    assert engine.due(c) == paris(2026, 1, 14, 13, 30)


def test_crossing_inside_a_closed_period_is_the_true_instant():
    # 24x7, 4 h target; ran 09:00-15:00 then paused: the target was crossed at 13:00.
    c = clock(ALWAYS, 4 * HOUR, (utc(2026, 3, 2, 9), utc(2026, 3, 2, 15)))
    assert engine.due(c) == utc(2026, 3, 2, 13)
    assert engine.breached_at(c, utc(2026, 3, 3)) == utc(2026, 3, 2, 13)


def test_dst_spring_forward_counts_real_time():
    always_paris = WorkingCalendar.always("Europe/Paris")
    c = clock(always_paris, 4 * HOUR, (paris(2026, 3, 28, 23, 30), None))
    assert engine.due(c) == utc(2026, 3, 29, 2, 30)  # 04:30 CEST


# --- Met and breached ---------------------------------------------------------------------------


def test_stopped_exactly_at_due_is_met_one_second_later_breached():
    start = utc(2026, 3, 2, 9)
    due = utc(2026, 3, 2, 13)
    at_due = clock(ALWAYS, 4 * HOUR, (start, due))
    late = clock(ALWAYS, 4 * HOUR, (start, due + timedelta(seconds=1)))
    assert engine.breached_at(at_due, due + timedelta(hours=1)) is None
    assert engine.breached_at(late, due + timedelta(hours=1)) == due


def test_running_clock_breaches_one_second_after_due():
    c = clock(ALWAYS, 4 * HOUR, (utc(2026, 3, 2, 9), None))
    assert engine.breached_at(c, utc(2026, 3, 2, 13)) is None
    assert engine.breached_at(c, utc(2026, 3, 2, 13, 0, 1)) == utc(2026, 3, 2, 13)


def test_stopped_after_the_range_closed_is_breached_at_the_close():
    # due Friday 18:00 (close), stopped 19:00: no more business time was used, but the
    # deadline passed.
    c = clock(OFFICE, HOUR, (paris(2026, 1, 16, 17, 0), paris(2026, 1, 16, 19, 0)))
    assert engine.breached_at(c, paris(2026, 1, 16, 19, 0)) == paris(2026, 1, 16, 18, 0)


def test_halted_exactly_at_the_target_is_due_again_when_it_resumes():
    halted = clock(ALWAYS, HOUR, (utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)))
    resumed = halted.run(utc(2026, 3, 2, 15))
    assert engine.due(resumed) == utc(2026, 3, 2, 15)  # nothing left: due at once
    assert engine.breached_at(resumed, utc(2026, 3, 2, 15)) is None
    assert engine.breached_at(resumed, utc(2026, 3, 2, 15, 0, 1)) == utc(2026, 3, 2, 15)


def test_paused_exactly_at_due_is_not_breached():
    c = clock(ALWAYS, HOUR, (utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)))
    assert engine.breached_at(c, utc(2026, 3, 5)) is None
    assert engine.reached(c, utc(2026, 3, 5))[0] == 90


# --- Levels and next checks -----------------------------------------------------------------------


def test_thresholds_are_business_time_percentages():
    c = clock(OFFICE, 4 * HOUR, (paris(2026, 1, 16, 16, 0), None))  # Friday 16:00
    instants = dict(engine.thresholds(c))
    assert instants[50] == paris(2026, 1, 16, 18, 0)
    assert instants[75] == paris(2026, 1, 19, 10, 0)
    assert instants[90] == paris(2026, 1, 19, 10, 36)
    assert instants[BREACH] == paris(2026, 1, 19, 11, 0, 1)


def test_catch_up_reports_only_the_highest_level():
    c = clock(ALWAYS, HOUR, (utc(2026, 3, 2, 9), None))
    assert engine.reached(c, utc(2026, 3, 2, 9, 40)) == (50, utc(2026, 3, 2, 9, 30))
    assert engine.reached(c, utc(2026, 3, 2, 12)) == (BREACH, utc(2026, 3, 2, 10))


def test_next_check_is_the_next_threshold_or_now_when_one_is_pending():
    c = clock(ALWAYS, HOUR, (utc(2026, 3, 2, 9), None))
    assert engine.next_check(c, utc(2026, 3, 2, 9, 10), 0) == utc(2026, 3, 2, 9, 30)
    assert engine.next_check(c, utc(2026, 3, 2, 9, 40), 50) == utc(2026, 3, 2, 9, 45)
    assert engine.next_check(c, utc(2026, 3, 2, 9, 50), 75) == utc(2026, 3, 2, 9, 54)
    assert engine.next_check(c, utc(2026, 3, 2, 9, 50), 0) == utc(2026, 3, 2, 9, 50)
    assert engine.next_check(c, utc(2026, 3, 2, 9, 56), 90) == utc(2026, 3, 2, 10, 0, 1)
    assert engine.next_check(c, utc(2026, 3, 2, 11), BREACH) is None


def test_paused_clock_needs_no_check():
    c = clock(ALWAYS, HOUR, (utc(2026, 3, 2, 9), utc(2026, 3, 2, 9, 10)))
    assert engine.next_check(c, utc(2026, 3, 2, 12), 0) is None


def test_clock_refuses_overlapping_or_open_middle_periods():
    with pytest.raises(ValueError):
        clock(ALWAYS, HOUR, (utc(2026, 3, 2, 9), None), (utc(2026, 3, 2, 10), None))
    with pytest.raises(ValueError):
        clock(ALWAYS, HOUR, (utc(2026, 3, 2, 9), utc(2026, 3, 2, 11)), (utc(2026, 3, 2, 10), None))


def test_run_and_halt_twice_in_one_second_never_go_negative():
    at = utc(2026, 3, 2, 9, 0, 0)
    c = clock(ALWAYS, HOUR, (at, None)).halt(at).run(at).halt(at.replace(microsecond=500))
    assert engine.elapsed(c, utc(2026, 3, 3)) == 0


# --- Oracle: random pause/resume sequences vs a minute-by-minute walk ---------------------------


def oracle(cal, target, periods, now):
    """Walk minutes: (elapsed by now, due instant or None)."""
    spent, due = 0, None
    start = periods[0][0]
    horizon = max(now, start) + timedelta(days=21)
    minute = start
    index = 0
    spent_by_now = None
    while minute < horizon:
        if minute >= now and spent_by_now is None:
            spent_by_now = spent
        while (
            index < len(periods) and periods[index][1] is not None and minute >= periods[index][1]
        ):
            index += 1
        if index == len(periods):
            break
        begin, end = periods[index]
        running = minute >= begin and (end is None or minute < end)
        if running and is_working(cal, minute):
            spent += MINUTE
            if due is None and spent >= target:
                due = minute + timedelta(minutes=1)
        minute += timedelta(minutes=1)
    if spent_by_now is None:
        spent_by_now = spent
    for index, (_begin, end) in enumerate(periods[:-1]):
        if due is not None and due == end:  # halted exactly at the target: due on resuming
            due = periods[index + 1][0]
    return spent_by_now, due


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 3, 20), max_value=datetime(2026, 4, 5), timezones=st.just(UTC)
    ).map(lambda d: d.replace(second=0, microsecond=0)),
    steps=st.lists(st.integers(min_value=1, max_value=36 * 60), min_size=0, max_size=6),
    target_minutes=st.integers(min_value=1, max_value=20 * 60),
    cal=st.sampled_from([OFFICE, SPLIT, ALWAYS, WorkingCalendar.always("Europe/Paris")]),
    now_minutes=st.integers(min_value=0, max_value=5 * 24 * 60),
)
def test_elapsed_and_due_match_a_minute_walk(start, steps, target_minutes, cal, now_minutes):
    periods, at, running = [], start, True
    for minutes in steps:
        nxt = at + timedelta(minutes=minutes)
        if running:
            periods.append((at, nxt))
        at, running = nxt, not running
    if running:
        periods.append((at, None))
    elif not periods:
        periods.append((start, start))
    target = target_minutes * MINUTE
    c = clock(cal, target, *periods)
    now = start + timedelta(minutes=now_minutes)
    spent, due = oracle(cal, target, periods, now)
    assert engine.elapsed(c, now) == spent
    expected_due = due if (running or (due is not None and due <= periods[-1][1])) else None
    assert engine.due(c) == expected_due


def test_a_clocks_thresholds_are_worked_out_once(monkeypatch):
    """A scan asks a clock for its breach, its level and its next check: the crossing
    instants behind them are computed once per clock, not once per question."""
    calls = []
    real = engine.crossing
    monkeypatch.setattr(engine, "crossing", lambda *args: calls.append(args) or real(*args))
    c = clock(ALWAYS, HOUR, (utc(2026, 3, 2, 9), None))
    now = utc(2026, 3, 2, 9, 40)
    engine.thresholds(c)
    assert engine.reached(c, now) == (50, utc(2026, 3, 2, 9, 30))
    assert engine.next_check(c, now, 50) == utc(2026, 3, 2, 9, 45)
    assert len(calls) == len(c.warn_at) + 1  # each level once (warnings and the breach)
