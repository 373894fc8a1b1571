"""Beat down for an hour (and the broker with it, so nothing was queued): when beat comes back,
one run of each periodic task catches everything up — timers breached at their true instant
and escalated once (only the highest level), escalation actions applied once, every owed email
mailed once, incidents due for auto-close closed — and a second run finds nothing left."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from incidents import tasks as incident_tasks
from incidents.models import Incident
from itsm import tasks as itsm_tasks
from itsm.models import Notification
from itsm.testing import make_incident, make_persona, make_team
from sla import tasks as sla_tasks
from sla.models import Escalation, Timer
from tests.sla.conftest import ALWAYS_HOURS, MINUTE, make_calendar, make_policy, utc

pytestmark = pytest.mark.faults

T0 = utc(2026, 3, 2, 9)


def beat_runs_everything():
    """What beat would have sent, run once each (the worker's side of it)."""
    return (
        sla_tasks.scan(),
        itsm_tasks.sweep_notifications(),
        incident_tasks.auto_close_resolved(),
    )


@pytest.mark.django_db
def test_one_run_after_an_hour_without_beat_catches_everything_up(settings, monkeypatch):
    from itsm import broker

    monkeypatch.setattr(broker, "send", lambda task, *args, **options: False)  # lost
    settings.INCIDENT_AUTO_CLOSE_DAYS = 3
    always = make_calendar("Always", "UTC", ALWAYS_HOURS)
    make_policy(
        always,
        response=10 * MINUTE,
        resolution=30 * MINUTE,
        warning_notify=["assignee"],
        breach_notify=["assignee"],
        breach_raise_priority=True,
    )
    alice = make_persona("alice")
    team = make_team("Service Desk", members=[alice])
    with time_machine.travel(T0 - timedelta(days=4), tick=False):
        old = make_incident(actor=alice, assignee=alice, assignment_group=team)
        from incidents.services import change_state

        change_state(
            old, "resolved", actor=alice, resolution_code="fixed", resolution_notes="Done."
        )
        itsm_tasks.sweep_notifications()  # what was owed then went out then
    sent_before = len(mail.outbox)
    with time_machine.travel(T0, tick=False):
        incidents = [
            make_incident(actor=alice, assignee=alice, assignment_group=team, impact=3, urgency=3)
            for _ in range(5)
        ]
    owed_at_t0 = Notification.objects.filter(email_state="pending").count()
    assert owed_at_t0 > 0  # the broker took none of them; beat is down

    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        beat_runs_everything()
        timers = Timer.objects.filter(incident__in=incidents)
        assert {t.state for t in timers} == {"breached"}
        for timer in timers:  # at the true instant, not when beat came back
            target = 10 * MINUTE if timer.metric == "response" else 30 * MINUTE
            assert timer.breached_at == T0 + timedelta(seconds=target)
        breaches = Notification.objects.filter(kind="sla_breach")
        assert breaches.count() == 2 * len(incidents)  # one per timer
        assert not Notification.objects.filter(kind="sla_warning").exists()
        old.refresh_from_db()
        assert old.state == "closed"
        # what was owed at T0 went out now; what this run wrote goes out on the next one
        assert not Notification.objects.filter(
            email_state="pending", created_at__lte=T0 + timedelta(minutes=59)
        ).exists()

    # the escalations' actions, whose tasks were lost too, are applied by the next scan
    for minutes in (1, 2):
        with time_machine.travel(T0 + timedelta(hours=1, minutes=minutes), tick=False):
            beat_runs_everything()
        assert not Escalation.objects.filter(actions_done_at__isnull=True).exists()
        for incident in incidents:
            incident.refresh_from_db()
            assert incident.priority == 4  # raised once, though two timers breached
    # nothing twice: no new breach, no second close
    assert Notification.objects.filter(kind="sla_breach").count() == 2 * len(incidents)
    assert Incident.objects.filter(state="closed").count() == 1
    assert not Notification.objects.filter(email_state__in=["pending", "sending"]).exists()
    assert (
        len(mail.outbox) - sent_before
        == Notification.objects.filter(email_state="sent").count() - sent_before
    )
