"""Timers following incidents (SPEC §4), with every instant written out.

Calendars: "office" is Mon–Fri 09:00–18:00 Europe/Paris; "always" is 24×7 UTC. January 2026:
Friday 16th, Monday 19th. Instants are Paris wall time unless written ``utc(...)``.
"""

from datetime import date, timedelta

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.services import change_state, open_incident, update_incident
from itsm.models import Notification
from itsm.services import add_comment
from itsm.testing import make_incident, make_team
from sla import services
from sla.models import Escalation, EventKind, Policy, SlaEvent, Timer
from sla.scanner import scan_due

from .conftest import HOUR, MINUTE, make_policy, paris, utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(utc(2026, 1, 1), tick=False) as traveller:
        yield traveller


def timers_of(incident):
    timers = {t.metric: t for t in Timer.objects.filter(incident=incident)}
    return timers.get("response"), timers.get("resolution")


def resolution(incident) -> Timer:
    return Timer.objects.get(incident=incident, metric="resolution")


def response(incident) -> Timer:
    return Timer.objects.get(incident=incident, metric="response")


def hold(incident, agent, reason="awaiting_caller"):
    change_state(incident, "on_hold", actor=agent, hold_reason=reason)


def work(incident, agent):
    change_state(incident, "in_progress", actor=agent)


def resolve(incident, agent):
    change_state(
        incident, "resolved", actor=agent, resolution_code="fixed", resolution_notes="Done."
    )


# --- Attaching ---------------------------------------------------------------------------------


def test_new_incident_gets_running_response_and_resolution_timers(clock, office, alice):
    make_policy(office, response=30 * MINUTE, resolution=HOUR)
    clock.move_to(paris(2026, 1, 16, 17, 0))
    incident = make_incident(actor=alice)
    first, last = timers_of(incident)
    assert (first.state, last.state) == ("running", "running")
    assert first.started_at == paris(2026, 1, 16, 17, 0)
    assert first.due_at == paris(2026, 1, 16, 17, 30)
    assert last.due_at == paris(2026, 1, 16, 18, 0)  # close of the range, not Monday 09:00
    assert first.next_check_at == paris(2026, 1, 16, 17, 15)  # the 50 % warning


def test_first_matching_policy_by_order_wins(clock, office, always, alice):
    make_policy(always, name="P1", priorities=[1], order=10, response=15 * MINUTE)
    make_policy(office, name="any", order=100, response=4 * HOUR)
    make_policy(always, name="P1 late", priorities=[1], order=200, response=HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    p1 = make_incident(actor=alice, impact=1, urgency=1)
    p5 = make_incident(actor=alice)
    assert response(p1).policy.name == "P1"
    assert response(p5).policy.name == "any"


def test_service_condition_narrows_a_policy(clock, office, always, alice):
    from cmdb.models import CI, CIClass

    service_class, _ = CIClass.objects.get_or_create(
        name="business_service", defaults={"label": "Business service"}
    )
    email = CI.objects.create(name="Email", ci_class=service_class)
    make_policy(always, name="email", service=email, order=1, response=5 * MINUTE)
    make_policy(office, name="any", order=2)
    clock.move_to(utc(2026, 3, 2, 9))
    assert response(make_incident(actor=alice, service=email)).policy.name == "email"
    assert response(make_incident(actor=alice)).policy.name == "any"


def test_no_matching_policy_means_no_timers(clock, always, alice):
    make_policy(always, priorities=[1])
    clock.move_to(utc(2026, 3, 2, 9))
    assert timers_of(make_incident(actor=alice)) == (None, None)


def test_created_in_a_pausing_state_attaches_paused(clock, office, alice):
    make_policy(office)
    clock.move_to(paris(2026, 1, 14, 10, 0))
    incident = make_incident(actor=alice, state="on_hold", hold_reason="awaiting_caller")
    first, last = timers_of(incident)
    assert (first.state, last.state) == ("paused", "paused")
    assert last.due_at is None and last.elapsed_seconds == 0 and last.next_check_at is None
    clock.move_to(paris(2026, 1, 14, 11, 0))
    work(incident, alice)
    assert resolution(incident).due_at == paris(2026, 1, 14, 15, 0)  # 4 h from 11:00


def test_created_in_a_non_pausing_hold_runs(clock, office, alice):
    make_policy(office)
    clock.move_to(paris(2026, 1, 14, 10, 0))
    incident = make_incident(actor=alice, state="on_hold", hold_reason="awaiting_change")
    assert resolution(incident).state == "running"


# --- Pause and resume --------------------------------------------------------------------------


def test_pause_friday_1700_with_30_min_left_resume_monday_1000_is_due_1030(clock, office, alice):
    make_policy(office, resolution=8 * HOUR + 30 * MINUTE)
    clock.move_to(paris(2026, 1, 16, 9, 0))
    incident = make_incident(actor=alice)
    clock.move_to(paris(2026, 1, 16, 17, 0))
    hold(incident, alice)
    timer = resolution(incident)
    assert timer.state == "paused" and timer.due_at is None
    assert timer.target_seconds - timer.elapsed_seconds == 30 * MINUTE
    clock.move_to(paris(2026, 1, 19, 10, 0))
    work(incident, alice)
    timer = resolution(incident)
    assert timer.state == "running"
    assert timer.due_at == paris(2026, 1, 19, 10, 30)


def test_pause_and_resume_inside_non_working_time_change_nothing(clock, office, alice):
    make_policy(office, resolution=2 * HOUR)
    clock.move_to(paris(2026, 1, 16, 17, 0))
    incident = make_incident(actor=alice)
    due = resolution(incident).due_at
    assert due == paris(2026, 1, 19, 10, 0)
    clock.move_to(paris(2026, 1, 16, 19, 0))
    hold(incident, alice, "awaiting_vendor")
    clock.move_to(paris(2026, 1, 19, 8, 30))
    work(incident, alice)
    assert resolution(incident).due_at == due


def test_hold_reason_not_in_pause_on_keeps_the_clock_running(clock, office, alice):
    make_policy(office, resolution=2 * HOUR)
    clock.move_to(paris(2026, 1, 14, 10, 0))
    incident = make_incident(actor=alice)
    clock.move_to(paris(2026, 1, 14, 10, 30))
    hold(incident, alice, "awaiting_change")
    assert resolution(incident).state == "running"
    assert resolution(incident).due_at == paris(2026, 1, 14, 12, 0)


def test_pause_on_pauses_both_metrics(clock, office, alice):
    make_policy(office, response=HOUR, resolution=2 * HOUR)
    clock.move_to(paris(2026, 1, 14, 10, 0))
    incident = make_incident(actor=alice)
    clock.move_to(paris(2026, 1, 14, 10, 20))
    hold(incident, alice)
    first, last = timers_of(incident)
    assert (first.state, last.state) == ("paused", "paused")
    assert first.elapsed_seconds == 20 * MINUTE


def test_pause_and_resume_twice_in_one_second_keeps_elapsed_sane(clock, always, alice):
    make_policy(always, resolution=HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice)
    clock.move_to(utc(2026, 3, 2, 9, 10))
    hold(incident, alice)
    work(incident, alice)
    hold(incident, alice)
    work(incident, alice)
    timer = resolution(incident)
    assert timer.elapsed_seconds == 10 * MINUTE
    assert timer.due_at == utc(2026, 3, 2, 10)


# --- Response -------------------------------------------------------------------------------------


def test_response_met_by_moving_to_in_progress(clock, office, alice):
    make_policy(office, response=HOUR)
    clock.move_to(paris(2026, 1, 14, 10, 0))
    incident = make_incident(actor=alice)
    clock.move_to(paris(2026, 1, 14, 10, 40))
    work(incident, alice)
    timer = response(incident)
    assert timer.state == "met" and timer.met_at == paris(2026, 1, 14, 10, 40)
    assert timer.elapsed_seconds == 40 * MINUTE
    assert resolution(incident).state == "running"


def test_internal_note_never_responds_a_public_agent_reply_does(clock, office, alice, rita):
    make_policy(office, response=HOUR)
    clock.move_to(paris(2026, 1, 14, 10, 0))
    incident = make_incident(actor=rita, requester=rita)
    clock.move_to(paris(2026, 1, 14, 10, 5))
    add_comment(incident, actor=alice, body="Looking at the logs", internal=True)
    add_comment(incident, actor=rita, body="Any news?")
    assert response(incident).state == "running"
    clock.move_to(paris(2026, 1, 14, 10, 10))
    add_comment(incident, actor=alice, body="We are on it.")
    assert response(incident).state == "met"
    assert response(incident).met_at == paris(2026, 1, 14, 10, 10)


def test_resolving_without_a_reply_meets_response_too(clock, office, alice):
    make_policy(office, response=HOUR)
    clock.move_to(paris(2026, 1, 14, 10, 0))
    incident = make_incident(actor=alice)
    clock.move_to(paris(2026, 1, 14, 10, 30))
    resolve(incident, alice)
    first, last = timers_of(incident)
    assert (first.state, last.state) == ("met", "met")


# --- Met, breached, overrun -----------------------------------------------------------------------


def test_resolved_exactly_at_due_is_met(clock, always, alice):
    make_policy(always, resolution=4 * HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice)
    clock.move_to(utc(2026, 3, 2, 13))
    resolve(incident, alice)
    timer = resolution(incident)
    assert timer.state == "met" and timer.breached_at is None


def test_resolved_one_second_after_due_is_breached_at_due(clock, always, alice):
    make_policy(always, resolution=4 * HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice)
    clock.move_to(utc(2026, 3, 2, 13, 0, 1))
    resolve(incident, alice)
    timer = resolution(incident)
    assert timer.state == "breached"
    assert timer.breached_at == utc(2026, 3, 2, 13)
    assert timer.met_at == utc(2026, 3, 2, 13, 0, 1)
    assert timer.elapsed_seconds == 4 * HOUR + 1


def test_breached_timer_keeps_running_and_measures_the_overrun(clock, always, alice):
    make_policy(always, resolution=HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice)
    scan_due(utc(2026, 3, 2, 10, 30))
    timer = resolution(incident)
    assert timer.state == "breached" and timer.clock == "running"
    assert timer.breached_at == utc(2026, 3, 2, 10)
    reading = services.reading(timer, utc(2026, 3, 2, 11))
    assert reading["remaining_seconds"] == -HOUR
    clock.move_to(utc(2026, 3, 2, 11))
    hold(incident, alice)
    clock.move_to(utc(2026, 3, 2, 15))
    work(incident, alice)
    clock.move_to(utc(2026, 3, 2, 15, 30))
    resolve(incident, alice)
    timer = resolution(incident)
    assert timer.state == "breached" and timer.clock == "stopped"
    assert timer.elapsed_seconds == 2 * HOUR + 30 * MINUTE  # 1 h 30 min overrun, hold excluded


def test_reading_shows_a_breach_the_scanner_has_not_recorded_yet(clock, always, alice):
    make_policy(always, resolution=HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice)
    reading = services.reading(resolution(incident), utc(2026, 3, 2, 10, 0, 5))
    assert reading["state"] == "breached" and reading["breached_at"] == utc(2026, 3, 2, 10)


# --- Reopen ---------------------------------------------------------------------------------------


def test_reopen_resumes_the_same_resolution_timer_with_elapsed_kept(clock, always, alice):
    make_policy(always, response=HOUR, resolution=4 * HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice)
    clock.move_to(utc(2026, 3, 2, 10))
    resolve(incident, alice)
    assert resolution(incident).state == "met"
    clock.move_to(utc(2026, 3, 3, 9))
    work(incident, alice)  # the requester reopens
    first, last = timers_of(incident)
    assert Timer.objects.filter(incident=incident).count() == 2
    assert first.state == "met"  # response is not restarted
    assert last.state == "running" and last.met_at is None
    assert last.elapsed_seconds == HOUR
    assert last.due_at == utc(2026, 3, 3, 12)  # 3 h left from the reopen
    kinds = list(SlaEvent.objects.filter(timer=last).values_list("kind", flat=True))
    assert kinds == ["start", "met", "reopen"]


def test_reopened_then_resolved_late_is_breached(clock, always, alice):
    make_policy(always, resolution=2 * HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice)
    clock.move_to(utc(2026, 3, 2, 10, 30))
    resolve(incident, alice)
    clock.move_to(utc(2026, 3, 3, 9))
    work(incident, alice)
    clock.move_to(utc(2026, 3, 3, 10))
    resolve(incident, alice)
    timer = resolution(incident)
    assert timer.state == "breached" and timer.breached_at == utc(2026, 3, 3, 9, 30)


# --- Priority change ------------------------------------------------------------------------------


@pytest.fixture
def per_priority(office, always):
    make_policy(
        always, name="P1", priorities=[1], order=1, response=15 * MINUTE, resolution=4 * HOUR
    )
    make_policy(office, name="P3", priorities=[3], order=3, response=4 * HOUR, resolution=27 * HOUR)
    make_policy(office, name="other", order=9, response=8 * HOUR, resolution=45 * HOUR)


def test_priority_3_to_1_after_the_p1_target_breaches_at_start_plus_target(
    clock, per_priority, alice
):
    lead = make_team("Service Desk", members=[alice])
    lead.lead = alice
    lead.save()
    clock.move_to(paris(2026, 1, 19, 10, 0))  # Monday
    incident = make_incident(
        actor=alice, impact=2, urgency=2, assignee=alice, assignment_group=lead
    )
    assert resolution(incident).policy.name == "P3"
    clock.move_to(paris(2026, 1, 19, 10, 5))
    work(incident, alice)  # response met in 5 min
    clock.move_to(paris(2026, 1, 19, 15, 0))
    update_incident(incident, {"impact": 1, "urgency": 1}, actor=alice)
    first, last = timers_of(incident)
    assert first.state == "met" and first.policy.name == "P3"  # met timers never change
    assert last.policy.name == "P1" and last.target_seconds == 4 * HOUR
    assert last.state == "breached"
    assert last.breached_at == paris(2026, 1, 19, 14, 0)  # start + 4 h (24×7)
    assert last.next_check_at == paris(2026, 1, 19, 15, 0)
    scan_due(paris(2026, 1, 19, 15, 0, 30))
    kinds = list(Notification.objects.filter(kind__startswith="sla").values_list("kind", flat=True))
    assert kinds == ["sla_breach"]  # no 50/75/90 % storm


def test_priority_change_recomputes_from_the_original_start(clock, per_priority, alice):
    clock.move_to(paris(2026, 1, 19, 10, 0))
    incident = make_incident(actor=alice, impact=2, urgency=2)
    clock.move_to(paris(2026, 1, 19, 11, 0))
    update_incident(incident, {"impact": 1, "urgency": 1}, actor=alice)
    last = resolution(incident)
    assert last.state == "running" and last.started_at == paris(2026, 1, 19, 10, 0)
    assert last.due_at == paris(2026, 1, 19, 14, 0)
    events = SlaEvent.objects.filter(timer=last, kind=EventKind.RECOMPUTE)
    assert events.get().data["previous_target"] == 27 * HOUR


def test_downgrade_never_erases_a_breach_nor_repeats_warnings(clock, per_priority, alice):
    clock.move_to(utc(2026, 1, 19, 9, 0))
    incident = make_incident(actor=alice, impact=1, urgency=1, assignee=alice)
    scan_due(utc(2026, 1, 19, 12, 0))  # 75 % of 4 h
    assert Escalation.objects.filter(timer=resolution(incident)).get().level == 75
    clock.move_to(utc(2026, 1, 19, 12, 0))
    update_incident(incident, {"impact": 2, "urgency": 2}, actor=alice)  # P1 → P3
    first, last = timers_of(incident)
    assert first.state == "breached" and first.policy.name == "P1"  # breach never erased
    assert last.policy.name == "P3" and last.notified_level == 75
    scan_due(utc(2026, 1, 21, 17, 0))  # 26 h of 27 h: past 50, 75 and 90 % of P3
    levels = sorted(Escalation.objects.filter(timer=last).values_list("level", flat=True))
    assert levels == [75, 90]


# --- Cancel ---------------------------------------------------------------------------------------


def test_cancel_stops_timers_and_keeps_a_breach(clock, always, alice):
    make_policy(always, response=15 * MINUTE, resolution=4 * HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice)
    clock.move_to(utc(2026, 3, 2, 10))
    change_state(incident, "canceled", actor=alice)
    first, last = timers_of(incident)
    assert first.state == "breached" and first.clock == "stopped"
    assert last.state == "canceled" and last.next_check_at is None


# --- Configuration edits --------------------------------------------------------------------------


def test_policy_edit_recomputes_running_timers_only(clock, always, alice):
    policy = make_policy(always, response=HOUR, resolution=4 * HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    done = make_incident(actor=alice)
    clock.move_to(utc(2026, 3, 2, 11, 30))
    resolve(done, alice)  # 2 h 30 min under a 4 h goal
    running = make_incident(actor=alice)
    policy.resolution_seconds = 2 * HOUR
    policy.version += 1
    policy.save()
    clock.move_to(utc(2026, 3, 2, 12))
    changed, cursor = services.recompute_batch()
    assert (changed, cursor) == (2, None)  # the running incident's two timers
    assert resolution(done).state == "met" and resolution(done).target_seconds == 4 * HOUR
    assert resolution(running).due_at == utc(2026, 3, 2, 13, 30)
    assert services.recompute_batch() == (0, None)  # idempotent


def test_holiday_added_while_running_moves_the_due_instant(clock, office, alice):
    make_policy(office, resolution=4 * HOUR)
    clock.move_to(paris(2026, 1, 16, 16, 0))
    incident = make_incident(actor=alice)
    assert resolution(incident).due_at == paris(2026, 1, 19, 11, 0)
    office.holidays.create(date=date(2026, 1, 19), name="Local holiday")
    office.version += 1
    office.save()
    services.recompute_batch(calendar_id=office.pk)
    assert resolution(incident).due_at == paris(2026, 1, 20, 11, 0)


def test_policy_added_later_attaches_with_the_original_start_and_history(clock, always, alice):
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice)
    clock.move_to(utc(2026, 3, 2, 9, 20))
    work(incident, alice)
    clock.move_to(utc(2026, 3, 2, 10))
    hold(incident, alice)
    clock.move_to(utc(2026, 3, 2, 11))
    work(incident, alice)
    make_policy(always, response=HOUR, resolution=4 * HOUR)
    clock.move_to(utc(2026, 3, 2, 12))
    assert services.attach_missing() == 1
    first, last = timers_of(incident)
    assert first.state == "met" and first.met_at == utc(2026, 3, 2, 9, 20)
    assert last.started_at == utc(2026, 3, 2, 9)
    assert last.elapsed_seconds == 2 * HOUR  # 09:00–10:00 and 11:00–12:00
    assert last.due_at == utc(2026, 3, 2, 14)
    assert last.notified_level == 50  # crossed before attaching: not escalated


def test_any_ticket_change_attaches_when_a_policy_matches_late(clock, always, alice):
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice)
    make_policy(always, response=HOUR, resolution=4 * HOUR)
    clock.move_to(utc(2026, 3, 2, 9, 30))
    work(incident, alice)
    first, last = timers_of(incident)
    assert first.state == "met" and first.elapsed_seconds == 30 * MINUTE
    assert last.started_at == utc(2026, 3, 2, 9)


def test_attach_with_a_given_start_replays_the_audit_trail(clock, always, alice):
    clock.move_to(utc(2026, 3, 2, 9))
    incident = open_incident(actor=alice, title="Printer", description="jam")
    clock.move_to(utc(2026, 3, 2, 10))
    resolve(incident, alice)
    make_policy(always, response=15 * MINUTE, resolution=HOUR)
    Timer.objects.filter(incident=incident).delete()
    timers = services.attach(incident, at=utc(2026, 3, 2, 9))
    assert {t.metric: t.state for t in timers} == {"response": "breached", "resolution": "met"}
    assert timers_of(incident)[0].breached_at == utc(2026, 3, 2, 9, 15)
    assert timers_of(incident)[0].next_check_at == utc(2026, 3, 2, 10)  # the breach notifies


def test_recorded_instants_are_whole_seconds(clock, always, alice):
    make_policy(always)
    clock.move_to(utc(2026, 3, 2, 9, 0, 0) + timedelta(microseconds=700_000))
    incident = make_incident(actor=alice)
    assert resolution(incident).started_at == utc(2026, 3, 2, 9)


# --- Demo data --------------------------------------------------------------------------------


def test_demo_seed_is_idempotent_and_follows_the_issue(db):
    from sla.demo import seed_demo
    from sla.models import Calendar, Policy

    seed_demo(progress=None)
    seed_demo(progress=None)
    paris_office = Calendar.objects.get(name="Paris office hours")
    assert paris_office.timezone == "Europe/Paris" and len(paris_office.hours) == 5
    assert paris_office.holidays.filter(date__month=7, date__day=14).count() == 2  # two years
    assert Calendar.objects.filter(is_default=True).count() == 1
    targets = {
        p.priorities[0]: (p.calendar.name, p.response_seconds, p.resolution_seconds)
        for p in Policy.objects.select_related("calendar")
    }
    assert targets[1] == ("24×7", 15 * MINUTE, 4 * HOUR)
    assert targets[3] == ("Paris office hours", 4 * HOUR, 27 * HOUR)
    assert len(targets) == 5


# --- Properties: random holds against a minute walk ------------------------------------------


class _Rollback(Exception):
    pass


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    start_minute=st.integers(min_value=0, max_value=7 * 24 * 60 - 1),
    gaps=st.lists(st.integers(min_value=1, max_value=20 * 60), min_size=1, max_size=6),
    target_minutes=st.integers(min_value=30, max_value=30 * 60),
)
def test_random_holds_give_the_due_instant_of_a_minute_walk(
    office, alice, start_minute, gaps, target_minutes
):
    """Hold and resume at random minutes (office calendar, Paris): the timer's elapsed time
    and due instant equal a minute-by-minute walk of working, not-held minutes."""
    from sla.calendar import is_working

    start = paris(2026, 3, 23, 0, 0) + timedelta(minutes=start_minute)  # DST week included
    try:
        with transaction.atomic():
            make_policy(office, name="prop", resolution=target_minutes * MINUTE)
            with time_machine.travel(start, tick=False) as traveller:
                incident = make_incident(actor=alice)
                at, held, changes = start, False, []
                for gap in gaps:
                    at += timedelta(minutes=gap)
                    traveller.move_to(at)
                    if held:
                        work(incident, alice)
                    else:
                        hold(incident, alice)
                    held = not held
                    changes.append(at)
            timer = resolution(incident)
            cal = services.clock_of(timer).calendar
            target = target_minutes * MINUTE

            # the oracle: walk minutes from the start; the clock runs unless held (holds are
            # [changes[0], changes[1]), [changes[2], changes[3]), ...)
            def running_at(instant):
                return sum(1 for c in changes if c <= instant) % 2 == 0

            spent, spent_at_end, reached = 0, None, None
            minute = start
            while minute < at or (reached is None and minute < at + timedelta(days=30)):
                if minute == at:
                    spent_at_end = spent
                    if not running_at(at):
                        break
                if running_at(minute) and is_working(cal, minute):
                    spent += MINUTE
                    if reached is None and spent >= target:
                        reached = minute + timedelta(minutes=1)
                minute += timedelta(minutes=1)
            if spent_at_end is None:
                spent_at_end = spent
            due = reached
            if reached is not None and not running_at(reached):
                # the clock stopped exactly at the target: due when it runs again
                due = next((c for c in changes if c > reached), None)
            assert timer.elapsed_seconds == spent_at_end
            if due is not None and due < at:
                assert timer.state == "breached" and timer.breached_at == due
            elif held:
                assert timer.state == "paused" and timer.due_at is None
            else:
                assert timer.state == "running" and timer.due_at == due
            raise _Rollback
    except _Rollback:
        pass


# --- Repair and history -----------------------------------------------------------------------


def test_sla_repair_recomputes_stale_timers_and_is_idempotent(clock, always, alice):
    from io import StringIO

    from django.core.management import call_command

    policy = make_policy(always, response=HOUR, resolution=4 * HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice)
    Policy.objects.filter(pk=policy.pk).update(resolution_seconds=2 * HOUR, version=2)
    clock.move_to(utc(2026, 3, 2, 10))
    out = StringIO()
    call_command("sla_repair", stdout=out, verbosity=0)
    assert "2 timer(s) recomputed" in out.getvalue()
    assert resolution(incident).due_at == utc(2026, 3, 2, 11)
    out = StringIO()
    call_command("sla_repair", stdout=out, verbosity=0)
    assert "0 timer(s) recomputed, 0 ticket(s) attached" in out.getvalue()


def test_demo_history_can_be_marked_handled_without_notifying(clock, always, alice):
    from sla.demo import finish_demo

    make_policy(always, response=HOUR, resolution=2 * HOUR)
    clock.move_to(utc(2026, 3, 2, 9))
    incident = make_incident(actor=alice, assignee=alice)
    clock.move_to(utc(2026, 3, 2, 12))
    assert finish_demo() == 2
    scan_due(utc(2026, 3, 2, 12))
    assert not Notification.objects.filter(kind__startswith="sla").exists()
    first, last = timers_of(incident)
    assert (first.state, first.breached_at) == ("breached", utc(2026, 3, 2, 10))
    assert last.notified_level == 100
