"""The daily roll-up (``reports.rollup``): figures read from it are the figures computed live,
days changed after they were rolled are read live until rolled again, today is always live;
the beat task and ``rebuild_report_days``; query counts bounded whatever the period.

The data set is the hand-computed desk of ``conftest.py`` (February–March 2026, "now" is
15 March 12:00 UTC).
"""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

from incidents import services as incidents
from incidents.models import Incident
from itsm.testing import make_incident
from reports import figures, review, rollup, services, tasks
from reports.models import DirtyDay, IncidentDay, IncidentDayTime, RolledDay
from sla.dashboard import Filters

from .conftest import NOW, at, resolve

pytestmark = pytest.mark.django_db

HOUR, DAY = 3600, 86400
MARCH = Filters(start=date(2026, 3, 2), end=date(2026, 3, 15))
SPRING = Filters(start=date(2026, 1, 1), end=date(2026, 3, 15))


def every_figure(desk, service=None) -> dict:
    """Every figure the roll-up serves, over several periods and filters."""
    found = {}
    for name, filters in {
        "march": MARCH,
        "spring": SPRING,
        "one day": Filters(start=date(2026, 3, 3), end=date(2026, 3, 3)),
        "sd": Filters(start=SPRING.start, end=SPRING.end, team=desk.sd.pk),
        "net": Filters(start=SPRING.start, end=SPRING.end, team=desk.net.pk),
        "p5": Filters(start=SPRING.start, end=SPRING.end, priority=5),
        "p3 sd": Filters(start=MARCH.start, end=MARCH.end, priority=3, team=desk.sd.pk),
    }.items():
        found[name] = {
            "summary": figures.incident_summary(filters, NOW),
            "trend": figures.volume_trend(filters),
        }
    if service is not None:
        found["review"] = review.incidents_by_priority(service, SPRING)
    return found


def live_only(desk, service=None) -> dict:
    """The same figures with nothing rolled (the roll-up emptied inside a rolled-back block)."""
    from django.db import transaction

    class Undo(Exception):
        pass

    result = {}
    try:
        with transaction.atomic():
            RolledDay.objects.all().delete()
            result = every_figure(desk, service)
            raise Undo
    except Undo:
        pass
    return result


@pytest.fixture
def rolled(desk):
    """The desk with every day up to yesterday (14 March) rolled."""
    with time_machine.travel(NOW, tick=False):
        days = services.roll_up_pending()
    return days


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


# --- What the roll-up holds ----------------------------------------------------------------------


def test_every_day_from_the_first_incident_to_yesterday_is_rolled(desk, rolled):
    # H, the first incident, was opened on 1 February; today (15 March) is never rolled
    assert rolled == (date(2026, 3, 14) - date(2026, 2, 1)).days + 1 == 42
    days = set(RolledDay.objects.values_list("day", flat=True))
    assert min(days) == date(2026, 2, 1) and max(days) == date(2026, 3, 14)
    assert len(days) == 42  # days without an incident too: they are covered, as zeros
    assert not DirtyDay.objects.exists()


def test_a_row_holds_the_exact_measures_of_its_day_team_service_and_priority(desk, rolled):
    # 3 March: B opened and resolved (4 h, moved SD → NET: not at first contact), now NET, P3
    row = IncidentDay.objects.get(day=date(2026, 3, 3))
    assert (row.team_id, row.service_id, row.priority) == (desk.net.pk, None, 3)
    assert (row.opened, row.resolved, row.first_contact) == (1, 1, 0)
    assert row.resolve_microseconds == 4 * HOUR * 1_000_000
    # 2 March: A opened, resolved in 1 h at first contact, rated 5
    row = IncidentDay.objects.get(day=date(2026, 3, 2))
    assert (row.opened, row.resolved, row.first_contact, row.csat_5) == (1, 1, 1, 1)
    # 10 March, SD: E resolved after 18 days (opened 20 February), F opened
    sd = IncidentDay.objects.filter(day=date(2026, 3, 10), team_id=desk.sd.pk)
    assert sum(r.opened for r in sd) == 1 and sum(r.resolved for r in sd) == 1
    assert sum(r.resolve_microseconds for r in sd) == 18 * DAY * 1_000_000
    # every measure adds up to the incidents' own
    assert sum(IncidentDay.objects.values_list("opened", flat=True)) == (
        Incident.objects.filter(created_at__lt=at(3, 15, 0)).count()
    )


def test_figures_from_the_roll_up_are_the_live_figures(desk, service, rolled):
    assert every_figure(desk, service) == live_only(desk, service)
    # and they are the hand-computed ones (test_figures.py)
    summary = figures.incident_summary(MARCH, NOW)
    assert (summary["opened"], summary["resolved"]) == (8, 5)
    assert summary["mttr_seconds"] == 332280 and summary["median_ttr_seconds"] == 4 * HOUR
    assert summary["fcr_rate"] == 0.6
    assert summary["csat"] == {
        "average": 3.0,
        "count": 3,
        "distribution": {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1},
    }


def test_covered_days_are_read_from_the_roll_up_not_from_the_incidents(desk, rolled):
    # An edit in SQL (no signal, so no day marked): the roll-up still says what was rolled...
    a = desk.incidents["A"]
    Incident.objects.filter(pk=a.pk).update(assignment_group=desk.net)
    net = Filters(start=date(2026, 3, 2), end=date(2026, 3, 2), team=desk.net.pk)
    assert figures.opened_count(net) == 0
    # ...until the roll-up is rebuilt, as docs/operations.md says to after such an edit
    call_command("rebuild_report_days", "--all", stdout=io.StringIO(), verbosity=0)
    assert figures.opened_count(net) == 1


def test_today_is_always_live(desk, rolled):
    before = figures.opened_count(MARCH)
    make_incident(actor=desk.alice, assignment_group=desk.sd)  # opened now, 15 March
    assert figures.opened_count(MARCH) == before + 1
    assert not RolledDay.objects.filter(day=date(2026, 3, 15)).exists()
    assert not DirtyDay.objects.exists()  # today needs no mark: it is never rolled


# --- Days changed after they were rolled ---------------------------------------------------------


def test_a_change_marks_the_days_the_incident_counts_on_dirty(desk, rolled):
    b = desk.incidents["B"]  # opened and resolved 3 March, rated 4 March
    incidents.assign(b, actor=desk.alice, group=desk.sd)
    assert set(DirtyDay.objects.values_list("day", flat=True)) == {
        date(2026, 3, 3),
        date(2026, 3, 4),
    }
    assert rollup.covered_days(date(2026, 3, 1), date(2026, 3, 15)) == {
        date(2026, 3, day) for day in (1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)
    }


def test_a_day_edited_after_its_roll_up_is_read_live(desk, service, rolled):
    b, d = desk.incidents["B"], desk.incidents["D"]
    incidents.assign(b, actor=desk.alice, group=desk.sd)  # back to SD: 3 and 4 March
    incidents.update_incident(d, {"impact": 2, "urgency": 2}, actor=desk.alice)  # P5 → P3
    incidents.rate(d, actor=desk.rita, score=2)  # rated today, resolved 9 March
    sd = Filters(start=MARCH.start, end=MARCH.end, team=desk.sd.pk)
    assert figures.opened_count(sd) == 6  # A B C F I J
    assert (
        figures.resolution(Filters(start=MARCH.start, end=MARCH.end, priority=3))["resolved"] == 4
    )  # A B D E
    assert every_figure(desk, service) == live_only(desk, service)
    # the task rolls the dirty days again: the same figures, from the roll-up now
    with time_machine.travel(NOW, tick=False):
        assert tasks.roll_up_days() == 3  # B's 3 and 4 March, D's 9 March
    assert not DirtyDay.objects.exists()
    assert every_figure(desk, service) == live_only(desk, service)


def test_a_reopen_marks_the_day_of_the_resolution_it_undoes(desk, rolled):
    d = desk.incidents["D"]  # resolved 9 March 09:30
    incidents.reopen(d, actor=desk.alice)
    assert date(2026, 3, 9) in set(DirtyDay.objects.values_list("day", flat=True))
    assert figures.resolution(MARCH)["resolved"] == 4
    with time_machine.travel(NOW, tick=False):
        services.roll_up_pending()
    assert IncidentDay.objects.filter(day=date(2026, 3, 9), resolved__gt=0).count() == 0
    assert figures.resolution(MARCH)["resolved"] == 4


def test_a_mark_written_while_a_day_is_rolled_is_kept(desk, rolled, monkeypatch):
    """A change committed while the roll-up reads the incidents may be missed by it: its mark
    stays, and the day is rolled again next time."""
    day = date(2026, 3, 3)
    DirtyDay.objects.create(day=day)
    real_live = rollup.live

    def live_then_a_change(*args, **kwargs):
        found = real_live(*args, **kwargs)
        DirtyDay.objects.create(day=day)  # written after the marks were read
        return found

    monkeypatch.setattr(rollup, "live", live_then_a_change)
    services.roll_up([day])
    assert DirtyDay.objects.filter(day=day).count() == 1
    assert day not in rollup.covered_days(day, day)


# --- The task and the command --------------------------------------------------------------------


def test_the_task_rolls_missing_and_dirty_days_once(desk):
    assert tasks.roll_up_days() == 42
    assert tasks.roll_up_days() == 0  # nothing due
    services.mark_days_dirty([date(2026, 3, 5), date(2026, 3, 5), date(2026, 3, 15)])
    assert list(DirtyDay.objects.values_list("day", flat=True)) == [date(2026, 3, 5)]
    assert tasks.roll_up_days() == 1
    assert tasks.roll_up_days() == 0


def test_yesterday_is_rolled_once_it_has_been_over_for_a_while():
    # 00:05 on 15 March: a write begun before midnight may still be committing
    assert services.rollable_until(datetime(2026, 3, 15, 0, 5, tzinfo=UTC)) == date(2026, 3, 13)
    assert services.rollable_until(datetime(2026, 3, 15, 0, 15, tzinfo=UTC)) == date(2026, 3, 14)


def test_the_task_stops_after_its_time_budget(desk, monkeypatch):
    monkeypatch.setattr(tasks, "TIME_BUDGET", -1.0)
    assert tasks.roll_up_days() == 0
    monkeypatch.setattr(tasks, "TIME_BUDGET", 60.0)
    assert tasks.roll_up_days() == 42


def test_the_task_runs_on_beat_every_report_rollup_seconds():
    entry = django_settings.CELERY_BEAT_SCHEDULE["report-rollup"]
    assert entry["task"] == "reports.tasks.roll_up_days"
    assert entry["schedule"] == django_settings.REPORT_ROLLUP_SECONDS == 300


class Bar:
    """What the command's tqdm bar is told."""

    def __init__(self):
        self.total, self.done = None, 0

    def reset(self, total):
        self.total = total

    def update(self, n):
        self.done += n


def test_the_progress_bar_counts_the_days_to_roll(desk):
    bar = Bar()
    assert services.roll_up_pending(progress=bar) == 42
    assert (bar.total, bar.done) == (42, 42)
    services.mark_days_dirty([date(2026, 3, 3)])
    bar = Bar()
    services.rebuild_all(progress=bar)
    assert (bar.total, bar.done) == (42, 42)


def test_the_command_rolls_what_is_due(desk):
    out = io.StringIO()
    call_command("rebuild_report_days", stdout=out)
    assert "42 day(s) rolled." in out.getvalue()
    out = io.StringIO()
    call_command("rebuild_report_days", stdout=out)
    assert "0 day(s) rolled." in out.getvalue()


def test_the_command_all_rebuilds_every_day_and_forgets_stale_rows(desk, rolled):
    IncidentDay.objects.create(day=date(2020, 1, 1), priority=3, opened=7)
    RolledDay.objects.create(day=date(2020, 1, 1), rolled_at=NOW)
    DirtyDay.objects.create(day=date(2026, 3, 3))
    before = list(IncidentDay.objects.order_by("day", "team_id", "priority").values())
    out = io.StringIO()
    call_command("rebuild_report_days", "--all", stdout=out, verbosity=0)
    assert "42 day(s) rolled." in out.getvalue()
    assert not IncidentDay.objects.filter(day__year=2020).exists()
    assert not RolledDay.objects.filter(day__year=2020).exists()
    assert not DirtyDay.objects.exists()
    after = list(IncidentDay.objects.order_by("day", "team_id", "priority").values())
    strip = [{k: v for k, v in row.items() if k != "id"} for row in before[1:]]
    assert strip == [{k: v for k, v in row.items() if k != "id"} for row in after]


def test_an_empty_desk_rolls_nothing(db):
    assert tasks.roll_up_days() == 0
    assert services.rebuild_all() == 0


# --- Time zone and query counts ------------------------------------------------------------------


def test_days_are_days_of_the_server_time_zone(desk, settings):
    settings.TIME_ZONE = "Pacific/Auckland"  # UTC+13 in March: 09:00 UTC is 22:00 local
    late = make_incident(actor=desk.alice, assignment_group=desk.sd)
    Incident.objects.filter(pk=late.pk).update(created_at=at(3, 3, 11, 30))  # 4 March 00:30
    call_command("rebuild_report_days", "--all", stdout=io.StringIO(), verbosity=0)
    one_day = Filters(start=date(2026, 3, 4), end=date(2026, 3, 4))
    assert figures.opened_count(one_day) == 2  # C (22:00 on 4 March) and the late one
    everything = figures.incident_summary(SPRING, NOW), figures.volume_trend(SPRING)
    RolledDay.objects.all().delete()
    assert (figures.incident_summary(SPRING, NOW), figures.volume_trend(SPRING)) == everything


@pytest.mark.parametrize("days", [14, 365])
def test_query_counts_do_not_grow_with_the_period(
    desk, rolled, days, django_assert_max_num_queries
):
    # some days dirty, so the period is read partly from the roll-up, partly live
    services.mark_days_dirty([date(2026, 3, 3), date(2026, 3, 9), date(2026, 2, 20)])
    filters = Filters(start=date(2026, 3, 15) - timedelta(days=days - 1), end=date(2026, 3, 15))
    # coverage, roll-up rows, three live aggregations, the median (its buckets rolled and
    # live, at most two reads of one bucket's incidents), backlog
    with django_assert_max_num_queries(10):
        figures.incident_summary(filters, NOW)
    with django_assert_max_num_queries(5):
        figures.volume_trend(filters)


def test_a_roll_up_takes_a_fixed_number_of_queries_per_month(desk, django_assert_max_num_queries):
    # a month of days: marks, three aggregations, delete, insert, rolled days (3), marks; on
    # PostgreSQL also the lock and the median's buckets (delete, aggregation, insert)
    extra = 4 if connection.vendor == "postgresql" else 0
    with django_assert_max_num_queries(10 + extra):
        services.roll_up(rollup.days_between(date(2026, 2, 12), date(2026, 3, 14)))
    assert RolledDay.objects.count() == 31


def test_a_write_to_an_old_incident_costs_one_insert(desk, rolled, django_assert_num_queries):
    assert services.mark_days_dirty([]) == 0
    with django_assert_num_queries(1):
        services.mark_days_dirty([date(2026, 3, 3), date(2026, 3, 4)])


def test_resolving_marks_the_day_it_was_opened(desk, rolled):
    g = desk.incidents["G"]  # opened 14 March, in progress
    resolve(g, desk.alice)
    assert set(DirtyDay.objects.values_list("day", flat=True)) == {date(2026, 3, 14)}
    assert (
        figures.resolution(Filters(start=date(2026, 3, 14), end=date(2026, 3, 15)))["resolved"] == 1
    )


# --- The median time to resolve (PostgreSQL: the buckets, then one bucket's incidents) ----------

postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the buckets are PostgreSQL's; SQLite sorts"
)


def direct_median(filters):
    resolved = figures.incidents(filters).filter(figures.in_period("resolved_at", filters))
    return rollup.median_ttr(filters, resolved, set())  # nothing covered: one aggregation


@postgresql
def test_the_buckets_count_each_resolution_once(desk, rolled):
    assert sum(IncidentDayTime.objects.values_list("resolved", flat=True)) == (
        Incident.objects.filter(resolved_at__lt=at(3, 15, 0)).count()
    )
    # B, resolved on 3 March after exactly 4 h: the bucket whose lower bound is 4 h
    row = IncidentDayTime.objects.get(day=date(2026, 3, 3))
    assert rollup.THRESHOLDS[row.bucket - 1] <= 4 * HOUR < rollup.THRESHOLDS[row.bucket]


@postgresql
def test_the_median_from_the_buckets_is_the_median_of_the_incidents(desk, rolled):
    # March: A 1 h, B 4 h, C 24 h, D 30 min, E 18 days: 4 h (odd count)
    assert figures.median_ttr(MARCH) == direct_median(MARCH) == 4 * HOUR
    # 3 to 10 March: B 4 h, C 24 h, D 30 min, E 18 days: (4 h + 24 h) / 2 (even count)
    even = Filters(start=date(2026, 3, 3), end=date(2026, 3, 10))
    assert figures.median_ttr(even) == direct_median(even) == 14 * HOUR
    # one day: B alone
    one = Filters(start=date(2026, 3, 3), end=date(2026, 3, 3))
    assert figures.median_ttr(one) == 4 * HOUR
    # a period partly live (today, a dirty day): the same
    resolve(desk.incidents["G"], desk.alice)  # opened 14 March 09:00: 27 h
    spring = figures.median_ttr(SPRING)
    # 30 min, 1 h, 4 h, 24 h, 27 h, 18 days: (4 h + 24 h) / 2
    assert spring == direct_median(SPRING) == 14 * HOUR


@postgresql
def test_the_median_reads_the_incidents_when_the_buckets_disagree(desk, rolled):
    # an SQL edit (no signal, no rebuild): B now took 5 days, its bucket says 4 h
    b = desk.incidents["B"]
    Incident.objects.filter(pk=b.pk).update(created_at=at(3, 3, 13) - timedelta(days=5))
    even = Filters(start=date(2026, 3, 3), end=date(2026, 3, 10))
    # B 5 d, C 24 h, D 30 min, E 18 d: (24 h + 5 d) / 2, read from the incidents
    assert figures.median_ttr(even) == direct_median(even) == (DAY + 5 * DAY) // 2


def test_the_days_of_a_change_are_its_instants_now_and_before(desk):
    from reports.receivers import days_of

    c = desk.incidents["C"]  # opened 4 March, resolved 5 March, rated 5 March
    assert days_of(c, {}) == {date(2026, 3, 4), date(2026, 3, 5)}
    undone = {"resolved_at": (at(3, 2, 11), None), "state": ("resolved", "in_progress")}
    assert days_of(c, undone) == {date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 5)}
    # a value that is not an instant (never sent today) is no day, and no failed write
    assert days_of(c, {"rated_at": ("2026-03-01T09:00:00Z", None)}) == days_of(c, {})
