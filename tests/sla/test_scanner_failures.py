"""One timer that cannot be processed does not hold its batch back (issue 17, durable work):
the batch is done again one timer per savepoint, every other timer escalates, the failing one
is logged by id and checked again ``SLA_RETRY_SECONDS`` later, not in a loop."""

import logging
from datetime import timedelta

import pytest
import time_machine

from itsm.models import Notification
from itsm.testing import make_incident, make_persona, make_team
from sla import scanner
from sla.models import Escalation, Timer
from sla.scanner import claim_batch, scan_due

from .conftest import HOUR, make_policy, utc

T0 = utc(2026, 3, 2, 9)
NOON = utc(2026, 3, 2, 12)


@pytest.fixture
def team(db):
    lead = make_persona("bob")
    agent = make_persona("alice")
    return make_team("Service Desk", members=[agent, lead], lead=lead)


@pytest.fixture
def incidents(always, team):
    make_policy(always, resolution=HOUR)
    with time_machine.travel(T0, tick=False):
        return [make_incident(actor=make_persona("alice"), assignment_group=team) for _ in range(4)]


def breach_tickets():
    return sorted(
        set(Notification.objects.filter(kind="sla_breach").values_list("ticket", flat=True))
    )


def failing(monkeypatch, name, bad_timer):
    """Make ``scanner.<name>`` raise for ``bad_timer``; return the list of its attempts."""
    real, attempts = getattr(scanner, name), []

    def broken(timer_or_plan, *args, **kwargs):
        timer = timer_or_plan["timer"] if isinstance(timer_or_plan, dict) else timer_or_plan
        if timer.pk == bad_timer.pk:
            attempts.append(timer.pk)
            raise RuntimeError(f"template of timer {timer.pk} is broken")
        return real(timer_or_plan, *args, **kwargs)

    monkeypatch.setattr(scanner, name, broken)
    return attempts


@pytest.mark.django_db
@pytest.mark.parametrize("stage", ["_notify", "_plan"])
def test_one_failing_timer_is_set_aside_and_the_rest_of_its_batch_escalates(
    incidents, monkeypatch, caplog, stage
):
    bad = Timer.objects.get(incident=incidents[1], metric="resolution")
    attempts = failing(monkeypatch, stage, bad)
    with caplog.at_level(logging.WARNING, logger="sla.scanner"):
        assert claim_batch(NOON) == 8  # 4 incidents × (response, resolution)

    # every other timer escalated and notified its people (alice and bob), once
    others = Timer.objects.exclude(pk=bad.pk)
    assert Escalation.objects.filter(level=100).count() == 7
    assert set(Escalation.objects.values_list("timer", flat=True)) == set(
        others.values_list("pk", flat=True)
    )
    assert breach_tickets() == sorted(i.number for i in incidents)  # incident 1's response
    assert Notification.objects.filter(kind="sla_breach").count() == 7 * 2
    assert all(t.notified_level == 100 for t in others)

    # the failing one: nothing half-written, checked again in SLA_RETRY_SECONDS (300 s)
    bad.refresh_from_db()
    assert bad.notified_level == 0
    assert bad.next_check_at == NOON + timedelta(seconds=300)
    assert not Escalation.objects.filter(timer=bad).exists()
    assert attempts == [bad.pk, bad.pk]  # the batch, then alone: no more

    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"timer {bad.pk} failed" in record.getMessage()
    assert record.exc_info and "is broken" in str(record.exc_info[1])

    # not retried in a loop: a scan before the retry instant leaves it alone
    assert scan_due(NOON + timedelta(minutes=1)) == 0
    assert attempts == [bad.pk, bad.pk]

    # once whatever broke it is mended, the retry escalates it once
    monkeypatch.undo()
    scan_due(NOON + timedelta(minutes=5))
    assert Escalation.objects.filter(timer=bad, level=100).count() == 1
    assert Notification.objects.filter(kind="sla_breach").count() == 8 * 2


@pytest.mark.django_db
def test_the_retry_delay_is_the_setting(incidents, monkeypatch, settings):
    settings.SLA_RETRY_SECONDS = 120
    bad = Timer.objects.get(incident=incidents[0], metric="response")
    failing(monkeypatch, "_notify", bad)
    claim_batch(NOON)
    bad.refresh_from_db()
    assert bad.next_check_at == NOON + timedelta(seconds=120)
    assert Escalation.objects.count() == 7


@pytest.mark.django_db
def test_a_timer_that_keeps_failing_is_tried_once_per_retry_delay(incidents, monkeypatch):
    bad = Timer.objects.get(incident=incidents[2], metric="resolution")
    attempts = failing(monkeypatch, "_notify", bad)
    now = NOON
    for _minute in range(0, 16):  # a scan every minute for a quarter of an hour
        scan_due(now)
        now += timedelta(minutes=1)
    # at 12:00, 12:05, 12:10, 12:15: twice each (the batch, then alone)
    assert len(attempts) == 4 * 2
    assert Escalation.objects.count() == 7
