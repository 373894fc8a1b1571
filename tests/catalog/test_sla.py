"""Request timers behave as incident timers do (SPEC §4, §8): policies with ``applies_to:
request`` attach response and resolution timers; waiting for approval may pause them; the
first task worked (or an agent's public reply) is the response, fulfilment the resolution;
met at the due instant, breached one second later; the scanner escalates exactly once.

Calendar "always" is 24×7 UTC; instants are UTC.
"""

from datetime import timedelta

import pytest
import time_machine

from catalog import services
from itsm.models import Notification
from sla.models import Policy, Timer
from sla.scanner import scan_due
from tests.sla.conftest import ALWAYS_HOURS, HOUR, MINUTE, make_calendar, make_policy, utc

from .conftest import make_item, order

pytestmark = pytest.mark.django_db
START = utc(2026, 3, 2, 9)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def always(db):
    return make_calendar("Always", "UTC", ALWAYS_HOURS)


def request_policy(calendar, **fields):
    fields.setdefault("pause_on", [])
    return make_policy(calendar, applies_to="request", **fields)


def timers(request):
    found = {t.metric: t for t in Timer.objects.filter(request=request)}
    return found.get("response"), found.get("resolution")


def test_an_order_gets_running_timers_from_a_request_policy(clock, always, rita, headset):
    request_policy(always, response=HOUR, resolution=8 * HOUR)
    request = order(headset, by=rita, answers={})
    response, resolution = timers(request)
    assert (response.state, resolution.state) == ("running", "running")
    assert response.started_at == START
    assert response.due_at == START + timedelta(hours=1)
    assert resolution.due_at == START + timedelta(hours=8)
    assert resolution.ticket == request


def test_incident_policies_never_measure_requests(clock, always, rita, headset):
    make_policy(always, applies_to="incident")
    assert timers(order(headset, by=rita, answers={})) == (None, None)


def test_the_items_policy_wins_over_the_first_by_order(clock, always, rita, desk):
    request_policy(always, name="Any request", order=1, resolution=8 * HOUR)
    chosen = request_policy(always, name="Hardware", order=50, resolution=40 * HOUR)
    item = make_item("Dock", form=[], sla_policy=chosen)
    assert timers(order(item, by=rita, answers={}))[1].policy == chosen
    services.save_item(item, {"active": True}, actor=None)
    other = make_item("Mouse", form=[])
    assert timers(order(other, by=rita, answers={}))[1].policy.name == "Any request"


def test_waiting_for_approval_pauses_both_timers_when_the_policy_says_so(
    clock, always, managed_rita, max_, laptop
):
    request_policy(always, pause_on=["awaiting_approval"], response=HOUR, resolution=8 * HOUR)
    request = order(laptop, by=managed_rita)
    response, resolution = timers(request)
    assert (response.state, resolution.state) == ("paused", "paused")
    assert resolution.due_at is None
    clock.move_to(START + timedelta(hours=3))
    services.approve(request, actor=max_)
    response, resolution = timers(request)
    assert (response.state, resolution.state) == ("running", "running")
    assert resolution.due_at == START + timedelta(hours=3 + 8)  # the wait did not count


def test_without_pause_the_clock_runs_while_the_approver_thinks(
    clock, always, managed_rita, max_, laptop
):
    request_policy(always, resolution=8 * HOUR)
    request = order(laptop, by=managed_rita)
    clock.move_to(START + timedelta(hours=3))
    services.approve(request, actor=max_)
    assert timers(request)[1].due_at == START + timedelta(hours=8)


def test_the_first_task_worked_is_the_response(clock, always, rita, alice, headset):
    request_policy(always, response=HOUR)
    request = order(headset, by=rita, answers={})
    clock.move_to(START + timedelta(minutes=20))
    services.take_task(request.tasks.get(), actor=alice)
    response, resolution = timers(request)
    assert (response.state, response.met_at) == ("met", START + timedelta(minutes=20))
    assert resolution.state == "running"


def test_an_agents_public_reply_responds_an_internal_note_does_not(
    clock, always, rita, alice, headset
):
    request_policy(always, response=HOUR)
    request = order(headset, by=rita, answers={})
    clock.move_to(START + timedelta(minutes=5))
    services.comment(request, actor=alice, body="Checking stock.", internal=True)
    assert timers(request)[0].state == "running"
    clock.move_to(START + timedelta(minutes=10))
    services.comment(request, actor=alice, body="We have one in stock.")
    assert timers(request)[0].met_at == START + timedelta(minutes=10)


def test_fulfilled_exactly_at_due_is_met_one_second_later_is_breached(
    clock, always, rita, alice, headset
):
    request_policy(always, response=HOUR, resolution=2 * HOUR)
    on_time = order(headset, by=rita, answers={})
    late = order(headset, by=rita, answers={})
    clock.move_to(START + timedelta(hours=2))
    services.complete_task(on_time.tasks.get(), actor=alice)
    clock.move_to(START + timedelta(hours=2, seconds=1))
    services.complete_task(late.tasks.get(), actor=alice)
    assert timers(on_time)[1].state == "met"
    breached = timers(late)[1]
    assert breached.state == "breached"
    assert breached.breached_at == START + timedelta(hours=2)
    assert breached.met_at == START + timedelta(hours=2, seconds=1)


def test_rejection_and_cancellation_stop_the_timers(clock, always, managed_rita, max_, laptop):
    request_policy(always)
    rejected = order(laptop, by=managed_rita)
    canceled = order(laptop, by=managed_rita)
    services.reject(rejected, actor=max_, comment="No budget.")
    services.cancel(canceled, actor=managed_rita)
    for request in (rejected, canceled):
        assert {t.state for t in timers(request)} == {"canceled"}


def test_a_breach_escalates_to_the_team_exactly_once(clock, always, rita, alice, headset):
    request_policy(always, response=HOUR, resolution=2 * HOUR, warn_at=[])
    request = order(headset, by=rita, answers={})
    clock.move_to(START + timedelta(hours=3))
    scan_due(START + timedelta(hours=3))
    scan_due(START + timedelta(hours=3))
    breaches = Notification.objects.filter(kind="sla_breach", ticket=request.number)
    assert sorted(breaches.values_list("recipient__username", flat=True)) == ["alice", "alice"]
    assert {t.state for t in timers(request)} == {"breached"}


def test_a_breach_may_hand_the_request_to_another_team(
    clock, always, rita, bob, headset, django_capture_on_commit_callbacks
):
    network = bob.teams.get()
    request_policy(always, resolution=HOUR, warn_at=[], breach_reassign_to=network)
    request = order(headset, by=rita, answers={})
    with django_capture_on_commit_callbacks(execute=True):
        scan_due(START + timedelta(hours=2))
    request.refresh_from_db()
    assert request.assignment_group == network


def test_the_request_sla_route_answers_the_spec_fields(clock, always, api, rita, alice, headset):
    request_policy(always, response=30 * MINUTE, resolution=4 * HOUR)
    request = order(headset, by=rita, answers={})
    clock.move_to(START + timedelta(minutes=10))
    response = api.as_(alice).get(f"/api/v1/requests/{request.number}/sla/")
    assert response.status_code == 200
    first, second = response.json()
    assert (first["metric"], second["metric"]) == ("response", "resolution")
    assert first["remaining_seconds"] == 20 * MINUTE
    assert set(first) >= {
        "metric",
        "policy",
        "state",
        "started_at",
        "due_at",
        "elapsed_seconds",
        "remaining_seconds",
        "breached_at",
        "met_at",
    }
    assert api.as_(rita).get(f"/api/v1/requests/{request.number}/sla/").status_code == 403


def test_a_request_policy_may_only_pause_on_the_wait_for_approval(db, always):
    from django.core.exceptions import ValidationError

    from sla.config import save_policy

    values = {
        "name": "Requests",
        "applies_to": "request",
        "calendar": always,
        "response_seconds": HOUR,
        "resolution_seconds": 8 * HOUR,
    }
    policy = save_policy(None, {**values, "pause_on": ["awaiting_approval"]}, actor=None)
    assert policy.pause_on == ["awaiting_approval"]
    with pytest.raises(ValidationError):
        save_policy(None, {**values, "name": "Bad", "pause_on": ["awaiting_caller"]}, actor=None)
    assert Policy.objects.count() == 1


def test_the_sla_dashboard_counts_requests_by_team_and_filters_by_kind(
    clock, always, rita, alice, headset, desk
):
    from itsm.testing import make_incident
    from sla import dashboard

    request_policy(always, response=HOUR, resolution=2 * HOUR)
    make_policy(always, name="Incidents", applies_to="incident", response=HOUR, resolution=2 * HOUR)
    request = order(headset, by=rita, answers={})
    make_incident(actor=alice, assignment_group=desk)
    clock.move_to(START + timedelta(minutes=30))
    services.complete_task(request.tasks.get(), actor=alice)  # both request timers met
    filters, errors = dashboard.parse_filters({"from": "2026-03-01", "to": "2026-03-31"})
    assert errors == {}
    (team,) = dashboard.compliance(filters, "team")
    assert (team["label"], team["met"], team["breached"]) == ("Service Desk", 2, 0)
    only_requests, _ = dashboard.parse_filters({"from": "2026-03-01", "kind": "request"})
    clock.move_to(START + timedelta(hours=3))
    _rows, total = dashboard.breached_now(only_requests)
    assert total == 0  # the incident's breached timers are not requests'
    everything, total = dashboard.breached_now(filters)
    assert total == 2 and {row["ticket"].number[:3] for row in everything} == {"INC"}
