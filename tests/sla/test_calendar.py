"""Business-time maths: worked examples, DST nights, validation, properties and an oracle."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import (
    CalendarError,
    NoWorkingTime,
    WorkingCalendar,
    add_business_time,
    business_time_between,
    is_working,
    next_working_instant,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600
WEEKDAYS = range(5)
EVERY_DAY = range(7)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=PARIS, fold=fold)


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def calendar(tz: str, ranges: list[tuple[str, str]], days=WEEKDAYS, holidays=()):
    hours = [{"weekday": d, "start": s, "end": e} for d in days for s, e in ranges]
    return WorkingCalendar.from_spec(tz, hours, holidays)


OFFICE = calendar("Europe/Paris", [("09:00", "18:00")])
SPLIT = calendar("Europe/Paris", [("08:00", "12:00"), ("13:00", "17:00")])
NIGHTS = calendar("Europe/Paris", [("00:00", "06:00")], days=EVERY_DAY)
ALWAYS_PARIS = WorkingCalendar.always("Europe/Paris")
NY_OFFICE = calendar("America/New_York", [("09:00", "17:00")])


# --- Office hours, Mon-Fri 09:00-18:00 Europe/Paris -------------------------------------------


def test_one_hour_opened_friday_1730_is_due_monday_0930():
    assert add_business_time(OFFICE, paris(2026, 1, 16, 17, 30), HOUR) == utc(2026, 1, 19, 8, 30)


def test_ticket_opened_on_saturday_starts_counting_monday_0900():
    saturday = paris(2026, 1, 17, 10, 0)
    assert next_working_instant(OFFICE, saturday) == utc(2026, 1, 19, 8, 0)
    assert add_business_time(OFFICE, saturday, HOUR) == utc(2026, 1, 19, 9, 0)
    assert business_time_between(OFFICE, saturday, paris(2026, 1, 19, 9, 44)) == 44 * 60


def test_holiday_monday_pushes_the_due_time_to_tuesday():
    whit_monday = calendar("Europe/Paris", [("09:00", "18:00")], holidays=["2026-05-25"])
    due = add_business_time(whit_monday, paris(2026, 5, 22, 17, 55), HOUR)
    assert due == utc(2026, 5, 26, 7, 55)  # Tue 09:55 CEST


def test_four_hours_opened_at_1600_are_due_next_day_1100():
    assert add_business_time(OFFICE, paris(2026, 1, 13, 16, 0), 4 * HOUR) == utc(2026, 1, 14, 10)


def test_target_ending_exactly_at_close_is_due_at_1800_not_next_morning():
    assert add_business_time(OFFICE, paris(2026, 1, 13, 14, 0), 4 * HOUR) == utc(2026, 1, 13, 17)
    assert add_business_time(OFFICE, paris(2026, 1, 13, 9, 0), 9 * HOUR) == utc(2026, 1, 13, 17)


def test_opened_exactly_at_close_counts_from_next_opening():
    assert add_business_time(OFFICE, paris(2026, 1, 13, 18, 0), 60) == utc(2026, 1, 14, 8, 1)


def test_zero_target_is_due_at_once_even_outside_working_time():
    saturday = paris(2026, 1, 17, 10, 0)
    assert add_business_time(OFFICE, saturday, 0) == utc(2026, 1, 17, 9, 0)
    assert add_business_time(OFFICE, saturday, 0).tzinfo is UTC


def test_split_shift_skips_the_lunch_break():
    assert add_business_time(SPLIT, paris(2026, 1, 12, 11, 30), HOUR) == utc(2026, 1, 12, 12, 30)
    assert business_time_between(SPLIT, paris(2026, 1, 12, 11, 30), paris(2026, 1, 12, 13, 30)) == (
        HOUR
    )


def test_adjacent_ranges_behave_as_continuous_time():
    touching = calendar("Europe/Paris", [("09:00", "12:00"), ("12:00", "18:00")])
    start = paris(2026, 1, 12, 11, 30)
    assert add_business_time(touching, start, HOUR) == utc(2026, 1, 12, 11, 30)
    assert add_business_time(touching, paris(2026, 1, 12, 9), 3 * HOUR) == utc(2026, 1, 12, 11)
    assert is_working(touching, paris(2026, 1, 12, 12, 0))


def test_forty_business_hours_cross_two_weekends_and_labour_day():
    labour_day = calendar("Europe/Paris", [("09:00", "18:00")], holidays=[date(2026, 5, 1)])
    # Fri 24 Apr 15:00 CEST: 3 h, Mon-Thu 27-30 Apr: 36 h, Fri 1 May off, Mon 4 May: 1 h.
    due = add_business_time(labour_day, paris(2026, 4, 24, 15, 0), 40 * HOUR)
    assert due == utc(2026, 5, 4, 8, 0)  # Mon 4 May 2026 10:00 CEST


def test_year_boundary_holidays_on_31_december_and_1_january():
    new_year = calendar("Europe/Paris", [("09:00", "18:00")], holidays=["2026-12-31", "2027-01-01"])
    start = paris(2026, 12, 30, 17, 0)
    due = add_business_time(new_year, start, 2 * HOUR)
    assert due == utc(2027, 1, 4, 9, 0)  # Mon 4 Jan 2027 10:00 CET
    assert business_time_between(new_year, start, due) == 2 * HOUR


def test_a_calendar_with_one_weekday_reaches_a_target_far_in_time():
    sundays = calendar("Europe/Paris", [("10:00", "11:00")], days=[6])
    due = add_business_time(sundays, paris(2026, 1, 4, 10, 0), 100 * HOUR)
    assert due == utc(2027, 11, 28, 10, 0)  # the 100th Sunday, 11:00 CET


def test_several_months_of_business_time_round_trip():
    start = paris(2026, 1, 5, 9, 0)
    due = add_business_time(OFFICE, start, 1000 * HOUR)
    assert business_time_between(OFFICE, start, due) == 1000 * HOUR
    assert due == utc(2026, 6, 9, 8, 0)  # 111 days of 9 h to Mon 8 Jun, then Tue 9 Jun 10:00 CEST


# --- business_time_between ----------------------------------------------------------------------


def test_between_skips_the_weekend():
    assert business_time_between(OFFICE, paris(2026, 1, 16, 17), paris(2026, 1, 19, 10)) == 2 * HOUR


def test_between_skips_holidays():
    whit_monday = calendar("Europe/Paris", [("09:00", "18:00")], holidays=["2026-05-25"])
    between = business_time_between(whit_monday, paris(2026, 5, 22, 17), paris(2026, 5, 26, 10))
    assert between == 2 * HOUR


def test_between_is_zero_when_arguments_are_reversed_or_equal():
    assert business_time_between(OFFICE, paris(2026, 1, 19, 10), paris(2026, 1, 16, 17)) == 0
    assert business_time_between(OFFICE, paris(2026, 1, 19, 10), paris(2026, 1, 19, 10)) == 0


def test_between_accepts_instants_in_any_time_zone():
    # 03:00 EST = 09:00 CET; 12:00 UTC = 13:00 CET.
    assert business_time_between(OFFICE, new_york(2026, 1, 12, 3), utc(2026, 1, 12, 12)) == 4 * HOUR


def test_between_counts_whole_seconds():
    a = paris(2026, 1, 12, 10, 0, 0, 900_000)
    b = paris(2026, 1, 12, 10, 0, 2, 100_000)
    assert business_time_between(OFFICE, a, b) == 2


# --- is_working / next_working_instant ----------------------------------------------------------


def test_is_working_inside_hours_and_not_at_close():
    assert is_working(OFFICE, paris(2026, 1, 12, 9, 0))
    assert is_working(OFFICE, paris(2026, 1, 12, 17, 59, 59))
    assert not is_working(OFFICE, paris(2026, 1, 12, 8, 59, 59))
    assert not is_working(OFFICE, paris(2026, 1, 12, 18, 0))
    assert not is_working(OFFICE, paris(2026, 1, 17, 12, 0))
    assert is_working(OFFICE, new_york(2026, 1, 12, 3, 30))  # 09:30 CET


def test_is_working_is_false_on_a_holiday():
    holiday = calendar("Europe/Paris", [("09:00", "18:00")], holidays=["2026-01-12"])
    assert not is_working(holiday, paris(2026, 1, 12, 12, 0))


def test_next_working_instant_from_close_is_next_opening():
    assert next_working_instant(OFFICE, paris(2026, 1, 16, 18, 0)) == utc(2026, 1, 19, 8, 0)


def test_next_working_instant_of_a_working_instant_is_itself_in_utc():
    instant = next_working_instant(OFFICE, new_york(2026, 1, 12, 5, 15))
    assert instant == utc(2026, 1, 12, 10, 15)
    assert instant.tzinfo is UTC


# --- DST: 24x7 and night calendars in Europe/Paris ----------------------------------------------


def test_always_two_hours_across_spring_forward_are_real_hours():
    # Sun 29 Mar 2026 01:30 CET + 2 h = 04:30 CEST; naive wall-clock maths says 03:30.
    assert add_business_time(ALWAYS_PARIS, paris(2026, 3, 29, 1, 30), 2 * HOUR) == utc(
        2026, 3, 29, 2, 30
    )


def test_always_four_hours_from_saturday_2330_cet_end_at_0230_utc():
    assert add_business_time(ALWAYS_PARIS, paris(2026, 3, 28, 23, 30), 4 * HOUR) == utc(
        2026, 3, 29, 2, 30
    )


def test_always_two_hours_across_fall_back_end_at_0230_cet():
    # Sun 25 Oct 2026 01:30 CEST (23:30 UTC) + 2 h = 02:30 CET (second 02:30); naive says 03:30.
    due = add_business_time(ALWAYS_PARIS, paris(2026, 10, 25, 1, 30), 2 * HOUR)
    assert due == utc(2026, 10, 25, 1, 30)
    assert due.astimezone(PARIS).fold == 1


def test_repeated_hour_instants_are_told_apart_by_fold():
    first = paris(2026, 10, 25, 2, 30, fold=0)
    second = paris(2026, 10, 25, 2, 30, fold=1)
    assert add_business_time(ALWAYS_PARIS, first, HOUR) == utc(2026, 10, 25, 1, 30)
    assert add_business_time(ALWAYS_PARIS, second, HOUR) == utc(2026, 10, 25, 2, 30)
    assert business_time_between(ALWAYS_PARIS, first, second) == HOUR


def test_always_dst_days_last_23_and_25_hours():
    spring = business_time_between(ALWAYS_PARIS, paris(2026, 3, 29), paris(2026, 3, 30))
    autumn = business_time_between(ALWAYS_PARIS, paris(2026, 10, 25), paris(2026, 10, 26))
    assert (spring, autumn) == (23 * HOUR, 25 * HOUR)


def test_night_calendar_holds_five_real_hours_on_spring_forward_night():
    assert business_time_between(NIGHTS, paris(2026, 3, 29), paris(2026, 3, 30)) == 5 * HOUR
    # 5 h on Sunday, then 1 h from Mon 30 Mar 00:00 CEST.
    assert add_business_time(NIGHTS, paris(2026, 3, 29), 6 * HOUR) == utc(2026, 3, 29, 23, 0)


def test_night_calendar_holds_seven_real_hours_on_fall_back_night():
    assert business_time_between(NIGHTS, paris(2026, 10, 25), paris(2026, 10, 26)) == 7 * HOUR
    assert add_business_time(NIGHTS, paris(2026, 10, 25), 6 * HOUR) == utc(2026, 10, 25, 4, 0)


def test_start_inside_spring_gap_begins_at_the_first_instant_after_the_gap():
    from_0230 = WorkingCalendar("Europe/Paris", ((6, 150, 360),))  # Sun 02:30-06:00
    assert next_working_instant(from_0230, paris(2026, 3, 29)) == utc(2026, 3, 29, 1, 0)
    assert business_time_between(from_0230, paris(2026, 3, 29), paris(2026, 3, 30)) == 3 * HOUR


def test_end_inside_spring_gap_stops_at_the_first_instant_after_the_gap():
    until_0230 = WorkingCalendar("Europe/Paris", ((6, 0, 150),))  # Sun 00:00-02:30
    assert business_time_between(until_0230, paris(2026, 3, 29), paris(2026, 3, 30)) == 2 * HOUR
    assert not is_working(until_0230, utc(2026, 3, 29, 1, 0))


def test_ambiguous_start_uses_first_occurrence_and_ambiguous_end_the_second():
    from_0230 = WorkingCalendar("Europe/Paris", ((6, 150, 360),))
    until_0230 = WorkingCalendar("Europe/Paris", ((6, 0, 150),))
    day = (paris(2026, 10, 25), paris(2026, 10, 26))
    assert next_working_instant(from_0230, day[0]) == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    assert business_time_between(from_0230, *day) == 4 * HOUR + 30 * 60
    assert business_time_between(until_0230, *day) == 3 * HOUR + 30 * 60  # until 02:30 CET


def test_ranges_that_overlap_in_real_time_on_fall_back_night_count_once():
    # 00:00-02:30 ends at the second 02:30 (01:30 UTC), 02:40-06:00 starts at the first 02:40.
    broken = WorkingCalendar("Europe/Paris", ((6, 0, 150), (6, 160, 360)))
    assert business_time_between(broken, paris(2026, 10, 25), paris(2026, 10, 26)) == 7 * HOUR


def test_midnight_inside_a_dst_change_belongs_to_the_day_it_starts():
    # Havana springs forward at 00:00 on 8 Mar 2026 and falls back at 01:00 on 1 Nov 2026.
    havana = WorkingCalendar.always("America/Havana")
    assert business_time_between(havana, utc(2026, 3, 7, 5), utc(2026, 3, 9, 4)) == 47 * HOUR
    assert business_time_between(havana, utc(2026, 10, 31, 4), utc(2026, 11, 2, 5)) == 49 * HOUR
    late = WorkingCalendar("America/Havana", ((5, 1200, 1440), (6, 0, 120)))
    assert business_time_between(late, utc(2026, 10, 31, 12), utc(2026, 11, 2)) == 7 * HOUR


# --- America/New_York ---------------------------------------------------------------------------


def test_new_york_calendar_uses_its_own_offset_for_a_utc_ticket():
    # Mon 9 Mar 2026: New York is on EDT (UTC-4) while Paris is still on CET (UTC+1).
    assert add_business_time(NY_OFFICE, utc(2026, 3, 9, 12, 0), 2 * HOUR) == utc(2026, 3, 9, 15)


def test_new_york_friday_to_monday_across_us_spring_forward():
    # Fri 6 Mar 16:30 EST: 30 min, then Mon 9 Mar 09:00 EDT + 30 min.
    assert add_business_time(NY_OFFICE, utc(2026, 3, 6, 21, 30), HOUR) == utc(2026, 3, 9, 13, 30)


def test_new_york_friday_to_monday_inside_the_offset_window():
    assert add_business_time(NY_OFFICE, utc(2026, 3, 13, 20, 30), HOUR) == utc(2026, 3, 16, 13, 30)


# --- 24:00 ends ---------------------------------------------------------------------------------


def test_range_ending_at_2400_runs_into_next_day_range_without_a_seam():
    late = WorkingCalendar.from_spec(
        "Europe/Paris",
        [
            {"weekday": 0, "start": "18:00", "end": "24:00"},
            {"weekday": 1, "start": "00:00", "end": "02:00"},
        ],
        [],
    )
    assert add_business_time(late, paris(2026, 1, 12, 23, 30), HOUR) == utc(2026, 1, 12, 23, 30)
    assert add_business_time(late, paris(2026, 1, 12, 23, 0), HOUR) == utc(2026, 1, 12, 23, 0)
    assert is_working(late, paris(2026, 1, 13, 0, 0))


def test_range_ending_at_2400_is_due_at_midnight_and_stops_there():
    evening = calendar("Europe/Paris", [("20:00", "24:00")], days=[0])
    assert add_business_time(evening, paris(2026, 1, 12, 23, 0), HOUR) == utc(2026, 1, 12, 23, 0)
    assert not is_working(evening, paris(2026, 1, 13, 0, 0))
    assert add_business_time(evening, paris(2026, 1, 12, 23), 2 * HOUR) == utc(2026, 1, 19, 20)


def test_always_is_a_full_week_of_2400_ranges():
    assert WorkingCalendar.always().hours == tuple((d, 0, 1440) for d in EVERY_DAY)
    assert add_business_time(WorkingCalendar.always(), utc(2026, 1, 1), 50 * HOUR) == utc(
        2026, 1, 3, 2
    )


# --- bad input and horizon ----------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(OFFICE, datetime(2026, 1, 12, 9), HOUR)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(OFFICE, utc(2026, 1, 12), datetime(2026, 1, 13))
    with pytest.raises(ValueError, match="timezone-aware"):
        is_working(OFFICE, datetime(2026, 1, 12, 9))
    with pytest.raises(ValueError, match="timezone-aware"):
        next_working_instant(OFFICE, datetime(2026, 1, 12, 9))


def test_negative_target_is_refused():
    with pytest.raises(ValueError, match="negative"):
        add_business_time(OFFICE, utc(2026, 1, 12), -1)


def test_holidays_covering_the_whole_horizon_raise_no_working_time():
    start = date(2026, 1, 1)
    every_day = [start + timedelta(days=n) for n in range(11 * 366)]
    closed = calendar("Europe/Paris", [("09:00", "18:00")], holidays=every_day)
    with pytest.raises(NoWorkingTime, match="no working time"):
        add_business_time(closed, utc(2026, 1, 1), 1)
    with pytest.raises(NoWorkingTime):
        next_working_instant(closed, utc(2026, 1, 1))
    assert business_time_between(closed, utc(2026, 1, 1), utc(2027, 1, 1)) == 0


def test_target_beyond_the_horizon_raises_no_working_time():
    sundays = calendar("Europe/Paris", [("10:00", "11:00")], days=[6])
    with pytest.raises(NoWorkingTime, match="not reached"):
        add_business_time(sundays, utc(2026, 1, 1), 600 * HOUR)


@pytest.mark.parametrize(
    ("timezone", "hours", "holidays", "message"),
    [
        ("Mars/Olympus", [{"weekday": 0, "start": "09:00", "end": "18:00"}], [], "^timezone:"),
        ("", [{"weekday": 0, "start": "09:00", "end": "18:00"}], [], "^timezone:"),
        ("UTC", [{"weekday": 0, "start": "25:00", "end": "26:00"}], [], r"hours\[0\]\.start"),
        ("UTC", [{"weekday": 0, "start": "9:00", "end": "18:00"}], [], r"hours\[0\]\.start"),
        ("UTC", [{"weekday": 0, "start": "24:00", "end": "24:00"}], [], r"hours\[0\]\.start"),
        ("UTC", [{"weekday": 0, "start": "09:00", "end": "24:30"}], [], r"hours\[0\]\.end"),
        ("UTC", [{"weekday": 0, "start": "09:60", "end": "18:00"}], [], r"hours\[0\]\.start"),
        ("UTC", [{"weekday": 0, "start": "18:00", "end": "09:00"}], [], r"hours\[0\]: start"),
        ("UTC", [{"weekday": 0, "start": "09:00", "end": "09:00"}], [], r"hours\[0\]: start"),
        ("UTC", [{"weekday": 7, "start": "09:00", "end": "18:00"}], [], r"hours\[0\]\.weekday"),
        ("UTC", [{"weekday": "0", "start": "09:00", "end": "18:00"}], [], r"weekday"),
        ("UTC", [{"start": "09:00", "end": "18:00"}], [], r"hours\[0\]\.weekday: .*required"),
        ("UTC", [], [], "no working time"),
        ("UTC", [{"weekday": 0, "start": "09:00", "end": "18:00"}], ["2026-13-01"], "holidays"),
    ],
)
def test_from_spec_refuses_invalid_calendars_naming_the_field(timezone, hours, holidays, message):
    with pytest.raises(CalendarError, match=message):
        WorkingCalendar.from_spec(timezone, hours, holidays)


def test_overlapping_ranges_on_one_weekday_are_refused():
    hours = [
        {"weekday": 2, "start": "09:00", "end": "12:00"},
        {"weekday": 2, "start": "11:00", "end": "14:00"},
    ]
    with pytest.raises(CalendarError, match="09:00-12:00 and 11:00-14:00 overlap on Wednesday"):
        WorkingCalendar.from_spec("UTC", hours, [])


def test_empty_calendar_is_refused_as_no_working_time_by_the_constructor_too():
    with pytest.raises(NoWorkingTime):
        WorkingCalendar("UTC", ())


def test_from_spec_accepts_holiday_dates_strings_and_api_objects():
    cal = calendar(
        "UTC",
        [("09:00", "18:00")],
        holidays=[date(2026, 1, 1), "2026-05-01", {"date": "2026-12-25", "name": "Christmas"}],
    )
    assert cal.holidays == {date(2026, 1, 1), date(2026, 5, 1), date(2026, 12, 25)}


def test_equal_calendars_are_equal_and_hashable_whatever_the_order_of_ranges():
    a = WorkingCalendar("UTC", ((1, 540, 1080), (0, 540, 1080)))
    b = WorkingCalendar("UTC", ((0, 540, 1080), (1, 540, 1080)))
    assert a == b
    assert {a: "x"}[b] == "x"


# --- properties ---------------------------------------------------------------------------------

CALENDARS = [
    calendar("Europe/Paris", [("09:00", "18:00")], holidays=["2026-05-01", "2026-12-25"]),
    SPLIT,
    ALWAYS_PARIS,
    NY_OFFICE,
    NIGHTS,
]
ZONES = [ZoneInfo("UTC"), PARIS, NEW_YORK, ZoneInfo("Australia/Sydney")]
TRANSITIONS = [
    utc(2026, 3, 8, 7),  # US spring forward
    utc(2026, 3, 29, 1),  # EU spring forward
    utc(2026, 10, 25, 1),  # EU fall back
    utc(2026, 11, 1, 6),  # US fall back
]

calendars = st.sampled_from(CALENDARS)
near_transitions = st.builds(
    lambda base, offset, zone: (base + timedelta(seconds=offset)).astimezone(zone),
    st.sampled_from(TRANSITIONS),
    st.integers(-3 * 86400, 3 * 86400),
    st.sampled_from(ZONES),
)
instants = st.one_of(
    st.datetimes(
        min_value=datetime(2025, 1, 1),
        max_value=datetime(2027, 12, 31),
        timezones=st.sampled_from(ZONES),
    ),
    near_transitions,
)
targets = st.one_of(st.integers(0, 10 * HOUR), st.integers(0, 60 * 86400))
fast = settings(max_examples=200, deadline=None)


@fast
@given(calendars, instants, targets)
def test_between_start_and_due_is_exactly_the_target(cal, start, seconds):
    assert business_time_between(cal, start, add_business_time(cal, start, seconds)) == seconds


@fast
@given(calendars, instants, targets, targets)
def test_add_is_monotonic_in_the_target(cal, start, s1, s2):
    low, high = sorted((s1, s2))
    assert add_business_time(cal, start, low) <= add_business_time(cal, start, high)


@fast
@given(calendars, instants, instants, instants)
def test_between_is_additive(cal, x, y, z):
    a, b, c = sorted((x, y, z), key=lambda instant: instant.astimezone(UTC))
    total = business_time_between(cal, a, c)
    assert business_time_between(cal, a, b) + business_time_between(cal, b, c) == total


@fast
@given(calendars, instants, st.integers(1, 60 * 86400))
def test_due_instant_is_in_working_time_or_exactly_at_a_range_end(cal, start, seconds):
    due = add_business_time(cal, start, seconds)
    assert due.tzinfo is UTC
    assert is_working(cal, due - timedelta(microseconds=1))


@fast
@given(calendars, instants)
def test_next_working_instant_is_working_and_costs_no_business_time(cal, at):
    instant = next_working_instant(cal, at)
    assert instant >= at
    assert is_working(cal, instant)
    assert business_time_between(cal, at, instant) == 0


# --- brute-force oracle: walk UTC minute by minute ----------------------------------------------


def oracle_is_working_minute(cal: WorkingCalendar, minute: datetime) -> bool:
    local = minute.astimezone(ZoneInfo(cal.timezone))
    if local.date() in cal.holidays:
        return False
    wall = local.hour * 60 + local.minute
    return any(d == local.weekday() and s <= wall < e for d, s, e in cal.hours)


def oracle_add(cal: WorkingCalendar, start: datetime, minutes: int) -> datetime:
    at = start.astimezone(UTC)
    while minutes:
        if oracle_is_working_minute(cal, at):
            minutes -= 1
        at += timedelta(minutes=1)
    return at


def oracle_between(cal: WorkingCalendar, a: datetime, b: datetime) -> int:
    at, end, count = a.astimezone(UTC), b.astimezone(UTC), 0
    while at < end:
        count += oracle_is_working_minute(cal, at)
        at += timedelta(minutes=1)
    return count * 60


whole_minutes_near_transitions = st.builds(
    lambda base, minutes: base + timedelta(minutes=minutes),
    st.sampled_from(TRANSITIONS),
    st.integers(-4 * 1440, 2 * 1440),
)


@settings(max_examples=40, deadline=None)
@given(calendars, whole_minutes_near_transitions, st.integers(0, 20 * 60))
def test_add_agrees_with_a_minute_by_minute_oracle(cal, start, minutes):
    assert add_business_time(cal, start, minutes * 60) == oracle_add(cal, start, minutes)


@settings(max_examples=40, deadline=None)
@given(calendars, whole_minutes_near_transitions, st.integers(0, 3 * 1440))
def test_between_agrees_with_a_minute_by_minute_oracle(cal, start, minutes):
    end = start + timedelta(minutes=minutes)
    assert business_time_between(cal, start, end) == oracle_between(cal, start, end)
