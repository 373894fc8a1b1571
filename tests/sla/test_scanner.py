"""The scanner: due timers claimed through the index, each level escalated exactly once —
scanning twice, racing, dying mid-batch or catching up after downtime."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.services import change_state
from incidents.workflow import compute_priority
from itsm.models import Notification
from itsm.testing import make_incident, make_persona, make_team
from sla import scanner
from sla.models import Escalation, SlaEvent, Timer
from sla.scanner import apply_escalation_actions, claim_batch, scan_due, sweep_escalation_actions

from .conftest import HOUR, make_policy, utc

T0 = utc(2026, 3, 2, 9)  # a Monday; the 24×7 calendar makes every instant obvious


@pytest.fixture
def team(db):
    lead = make_persona("bob")
    agent = make_persona("alice")
    return make_team("Service Desk", members=[agent, lead], lead=lead)


def open_at(instant, **fields):
    with time_machine.travel(instant, tick=False):
        return make_incident(actor=make_persona("alice"), **fields)


def sla_kinds():
    return list(
        Notification.objects.filter(kind__startswith="sla")
        .order_by("id")
        .values_list("kind", "recipient__username")
    )


def levels(incident, metric="resolution"):
    timer = Timer.objects.get(incident=incident, metric=metric)
    return sorted(Escalation.objects.filter(timer=timer).values_list("level", flat=True))


@pytest.mark.django_db
class TestLevels:
    def test_each_warning_and_the_breach_escalate_once_at_their_instant(self, always, team):
        make_policy(always, response=10 * HOUR, resolution=HOUR, warning_notify=["assignee"])
        alice = team.members.get(username="alice")
        incident = open_at(T0, assignee=alice, assignment_group=team)
        timer = Timer.objects.get(incident=incident, metric="resolution")
        assert timer.next_check_at == utc(2026, 3, 2, 9, 30)
        scan_due(utc(2026, 3, 2, 9, 29, 59))
        assert levels(incident) == []
        for minute, expected in ((30, [50]), (45, [50, 75]), (54, [50, 75, 90])):
            scan_due(utc(2026, 3, 2, 9, minute))
            scan_due(utc(2026, 3, 2, 9, minute))  # twice: nothing more
            assert levels(incident) == expected
        scan_due(utc(2026, 3, 2, 10, 0, 0))  # at due: not yet breached
        assert levels(incident) == [50, 75, 90]
        scan_due(utc(2026, 3, 2, 10, 0, 1))
        assert levels(incident) == [50, 75, 90, 100]
        timer.refresh_from_db()
        assert timer.state == "breached" and timer.breached_at == utc(2026, 3, 2, 10)
        assert timer.next_check_at is None
        kinds = [k for k, _u in sla_kinds()]
        assert kinds == ["sla_warning"] * 3 + ["sla_breach", "sla_breach"]  # assignee + lead

    def test_catch_up_after_hours_of_downtime_escalates_only_the_highest_level(self, always, team):
        make_policy(always, response=100 * HOUR, resolution=HOUR)
        incidents = [open_at(T0, assignment_group=team) for _ in range(3)]
        assert scan_due(utc(2026, 3, 2, 14)) == 0  # four hours later
        for incident in incidents:
            assert levels(incident) == [100]
            timer = Timer.objects.get(incident=incident, metric="resolution")
            assert timer.breached_at == utc(2026, 3, 2, 10)  # the true crossing, not 14:00
        assert {k for k, _u in sla_kinds()} == {"sla_breach"}

    def test_a_timer_resolved_late_before_any_scan_still_notifies_its_breach_once(
        self, always, team
    ):
        make_policy(always, response=10 * HOUR, resolution=HOUR, breach_notify=["team_lead"])
        incident = open_at(T0, assignment_group=team)
        with time_machine.travel(utc(2026, 3, 2, 10, 5), tick=False):
            change_state(
                incident,
                "resolved",
                actor=make_persona("alice"),
                resolution_code="fixed",
                resolution_notes="ok",
            )
        scan_due(utc(2026, 3, 2, 10, 6))
        scan_due(utc(2026, 3, 2, 11))
        assert sla_kinds() == [("sla_breach", "bob")]

    def test_a_met_timer_is_not_warned_after_it_stopped(self, always, team):
        make_policy(always, response=10 * HOUR, resolution=HOUR)
        incident = open_at(T0, assignment_group=team)
        with time_machine.travel(utc(2026, 3, 2, 9, 55), tick=False):  # 91 %, never scanned
            change_state(
                incident,
                "resolved",
                actor=make_persona("alice"),
                resolution_code="fixed",
                resolution_notes="ok",
            )
        scan_due(utc(2026, 3, 2, 12))
        assert sla_kinds() == []

    def test_unassigned_ticket_notifies_the_team_and_managers_on_request(self, always, team):
        make_persona("max")
        make_policy(always, resolution=HOUR, breach_notify=["assignee", "managers"])
        open_at(T0, assignment_group=team)
        scan_due(utc(2026, 3, 2, 12))
        assert {u for _k, u in sla_kinds()} == {"alice", "bob", "max"}


@pytest.mark.django_db
class TestExactlyOnce:
    def test_an_existing_escalation_row_makes_a_rescan_a_no_op(self, always, team):
        make_policy(always, resolution=HOUR)
        incident = open_at(T0, assignment_group=team)
        scan_due(utc(2026, 3, 2, 12))
        before = sla_kinds()
        # as if the timer row had been scanned again by a redelivered task
        Timer.objects.filter(incident=incident).update(notified_level=0, next_check_at=T0)
        scan_due(utc(2026, 3, 2, 12, 1))
        assert sla_kinds() == before

    def test_a_worker_dying_mid_batch_rolls_the_whole_batch_back(self, always, team, monkeypatch):
        make_policy(always, resolution=HOUR)
        for _ in range(4):
            open_at(T0, assignment_group=team)
        real, calls = scanner._notify, []

        def dying(plan):
            calls.append(plan["timer"].pk)
            if len(calls) == 3:
                raise SystemExit("worker killed")
            return real(plan)

        monkeypatch.setattr(scanner, "_notify", dying)
        with pytest.raises(SystemExit):
            scan_due(utc(2026, 3, 2, 12))
        assert Notification.objects.filter(kind="sla_breach").count() == 0
        assert Escalation.objects.count() == 0
        monkeypatch.setattr(scanner, "_notify", real)
        assert scan_due(utc(2026, 3, 2, 12, 1)) == 0
        assert Escalation.objects.filter(level=100).count() == 8  # 4 tickets × 2 metrics
        assert Notification.objects.filter(kind="sla_breach").count() == 8 * 2  # alice, bob

    def test_scan_returns_the_work_left_and_claims_in_batches(self, always, team):
        make_policy(always, resolution=HOUR)
        for _ in range(3):
            open_at(T0, assignment_group=team)
        now = utc(2026, 3, 2, 12)
        assert scan_due(now, batch=4) == 2
        assert scan_due(now, batch=4) == 0


@pytest.mark.django_db(transaction=True)
def test_two_scanners_racing_escalate_each_timer_once(always):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED race on PostgreSQL (SQLite serializes writers)")
    bob = make_persona("bob")
    team = make_team("Network", members=[bob], lead=bob)
    make_policy(always, resolution=HOUR, breach_notify=["team_lead"])
    incidents = [open_at(T0, assignment_group=team) for _ in range(40)]
    barrier = threading.Barrier(4)
    errors = []

    def worker():
        try:
            barrier.wait()
            while claim_batch(utc(2026, 3, 2, 12), batch=7):
                pass
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Escalation.objects.count() == 80
    notices = Notification.objects.filter(kind="sla_breach")
    assert notices.count() == 80  # one per timer: each incident's response and resolution
    assert {n.ticket for n in notices} == {i.number for i in incidents}


@pytest.mark.django_db
class TestActions:
    def test_breach_raises_priority_and_reassigns_once(self, always, team):
        network = make_team("Network", members=[make_persona("carol")])
        make_policy(
            always,
            response=10 * HOUR,
            resolution=HOUR,
            breach_raise_priority=True,
            breach_reassign_to=network,
        )
        incident = open_at(
            T0,
            impact=3,
            urgency=2,
            assignee=team.members.get(username="alice"),
            assignment_group=team,
        )
        assert incident.priority == 4
        scan_due(utc(2026, 3, 2, 12))
        escalation = Escalation.objects.get(level=100)
        assert escalation.actions == {"priority": 3, "reassign_to": network.pk}
        with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
            assert apply_escalation_actions(escalation.pk) is True
            assert apply_escalation_actions(escalation.pk) is False  # done once
        incident.refresh_from_db()
        assert incident.priority == 3
        # raised through the incident's verb: the priority still follows impact × urgency
        assert incident.priority == compute_priority(incident.impact, incident.urgency)
        assert incident.assignment_group == network and incident.assignee is None
        # ...and the new team hears of it, as of any assignment
        carol = network.members.get()
        assert Notification.objects.filter(
            recipient=carol, kind="assigned", ticket=incident.number
        ).exists()
        assert incident.events.filter(field="assignment_group", new=network.pk).exists()

    def test_sweep_applies_actions_whose_task_was_lost(self, always, team):
        make_policy(always, resolution=HOUR, breach_raise_priority=True)
        incident = open_at(T0, assignment_group=team)
        scan_due(utc(2026, 3, 2, 12))
        assert Escalation.objects.filter(actions_done_at__isnull=True).count() == 2
        later = timezone.now() + timedelta(minutes=1)
        assert sweep_escalation_actions(later) == 1  # both timers breached: raised once
        incident.refresh_from_db()
        assert incident.priority == 4
        assert Escalation.objects.filter(actions_done_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_the_scanner_finds_due_timers_through_the_partial_index(always, team):
    if connection.vendor != "postgresql":
        pytest.skip("plan check on PostgreSQL")
    make_policy(always, resolution=HOUR)
    open_at(T0, assignment_group=team)
    query = str(Timer.objects.filter(next_check_at__lte=T0).order_by("next_check_at", "id").query)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN " + query.replace("+00:00", "+00:00'").replace("<= 2026", "<= '2026")
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "sla_timer_due_idx" in plan


@pytest.mark.django_db
def test_a_batch_takes_a_fixed_number_of_queries_per_timer(always, team):
    make_policy(always, response=10 * HOUR, resolution=HOUR, warning_notify=[], breach_notify=[])
    for _ in range(10):
        open_at(T0, assignment_group=team)
    with CaptureQueriesContext(connection) as queries:
        claim_batch(utc(2026, 3, 2, 9, 31))  # 50 % of every resolution timer
    # per batch: savepoint, claim, tickets, escalations, timers, events, release
    assert len(queries) <= 7
    assert SlaEvent.objects.filter(kind="warning").count() == 10


@pytest.mark.django_db
def test_a_batchs_escalations_are_one_insert_however_many_timers(always, team, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("one statement per batch on PostgreSQL (SQLite inserts in chunks)")
    monkeypatch.setattr(scanner, "CLAIM_CHUNK", 2)  # the statement size no longer matters
    make_policy(always, response=10 * HOUR, resolution=HOUR, warning_notify=[], breach_notify=[])
    for _ in range(5):
        open_at(T0, assignment_group=team)
    with CaptureQueriesContext(connection) as queries:
        assert claim_batch(utc(2026, 3, 2, 9, 31)) == 5
    inserts = [q for q in queries if q["sql"].startswith("INSERT INTO sla_escalation")]
    assert len(inserts) == 1
    assert len(queries) <= 7
    assert Escalation.objects.filter(level=50).count() == 5
    assert SlaEvent.objects.filter(kind="warning").count() == 5
