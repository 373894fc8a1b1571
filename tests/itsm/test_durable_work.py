"""Work owed after a write survives a broker that is down, and batch jobs isolate each row.

The write never depends on the broker: every piece of owed work is a row written in the write's
transaction (``Notification``, ``Escalation`` with pending actions, ``RecomputeJob``), and the
sweeps do what the lost Celery messages would have done. A sweep that meets a row it cannot
process logs it and goes on with the others.
"""

import logging
import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from incidents.models import Incident
from itsm import notify
from itsm.celery import app as celery_app
from itsm.models import Notification, OutboundMail
from itsm.testing import PASSWORD, make_incident, make_persona, make_team
from sla import scanner, services
from sla import tasks as sla_tasks
from sla.models import Escalation, RecomputeJob


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_pools():
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down(monkeypatch):
    """The project's Celery app, not eager, sending to a port where nothing listens (Redis
    stopped). Its settings are the production ones (CELERY_BROKER_TRANSPORT_OPTIONS)."""
    celery_app.conf.task_always_eager = False  # the autouse fixture sets it back
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{closed_port()}/0")
    reset_pools()
    yield
    reset_pools()


@pytest.mark.django_db(transaction=True)
def test_an_incident_opened_while_the_broker_is_down_is_saved_and_mailed_later(
    api, broker_down, caplog
):
    rita = make_persona("rita")
    alice = make_persona("alice")
    make_team("Service Desk", members=[alice])
    caplog.set_level(logging.WARNING, logger="itsm.broker")
    response = api.as_(rita).post(
        "/api/v1/incidents/",
        {"title": "Printer on fire", "description": "Smoke.", "urgency": 1},
        format="json",
    )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(number=response.json()["number"])
    owed = Notification.objects.filter(ticket=incident.number, email_state="pending")
    assert owed.exists()  # the rows are the truth: written with the incident
    assert "broker unreachable" in caplog.text
    assert mail.outbox == []

    sent = notify.sweep(now=timezone.now() + timedelta(minutes=1))
    assert sent == Notification.objects.filter(ticket=incident.number).count() > 0
    assert not owed.exists()
    assert {m.to[0] for m in mail.outbox} >= {alice.email}


@pytest.mark.django_db(transaction=True)
def test_changing_an_email_address_while_the_broker_is_down_still_warns_the_old_one(
    broker_down,
):
    from accounts.services import update_profile

    rita = make_persona("rita")
    old = rita.email
    update_profile(rita, {"email": "new@example.com"}, actor=rita, current_password=PASSWORD)
    rita.refresh_from_db()
    assert rita.email == "new@example.com"
    # the notice is a row of the outbox, written with the change: the sweep mails it, once
    assert OutboundMail.objects.get().to == old
    assert mail.outbox == []
    assert notify.sweep(now=timezone.now() + timedelta(minutes=1)) == 1
    assert [m.to for m in mail.outbox] == [[old]]
    assert notify.sweep(now=timezone.now() + timedelta(minutes=2)) == 0


# --- Batch jobs isolate each row


@pytest.fixture
def two_pending_escalations(db):
    from tests.sla.conftest import ALWAYS_HOURS, make_calendar, make_policy

    calendar = make_calendar("Always", "UTC", ALWAYS_HOURS)
    make_policy(calendar, resolution=60, breach_raise_priority=True)
    team = make_team("Service Desk", members=[make_persona("alice")])
    first = make_incident(assignment_group=team, impact=3, urgency=3)
    second = make_incident(assignment_group=team, impact=3, urgency=3)
    scanner.scan_due(timezone.now() + timedelta(hours=2))
    pending = Escalation.objects.filter(actions_done_at__isnull=True).order_by("created_at", "pk")
    by_incident = {e.timer.incident_id: e for e in pending.filter(timer__metric="resolution")}
    assert set(by_incident) == {first.pk, second.pk}
    return first, second


def test_one_escalation_that_fails_does_not_stop_the_sweep(
    two_pending_escalations, monkeypatch, caplog
):
    first, second = two_pending_escalations
    original = scanner.apply_escalation_actions
    poisoned = set(Escalation.objects.filter(timer__incident=first).values_list("pk", flat=True))

    def apply(escalation_id):
        if escalation_id in poisoned:
            raise RuntimeError("boom")
        return original(escalation_id)

    monkeypatch.setattr(scanner, "apply_escalation_actions", apply)
    caplog.set_level(logging.ERROR, logger="sla.scanner")
    later = timezone.now() + timedelta(minutes=5)
    assert scanner.sweep_escalation_actions(later) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.priority < 5 and first.priority == 5  # the other one was raised
    assert "boom" in caplog.text
    # the failed ones stay owed for the next sweep, which applies them once fixed
    assert Escalation.objects.filter(pk__in=poisoned, actions_done_at__isnull=True).exists()
    monkeypatch.setattr(scanner, "apply_escalation_actions", original)
    assert scanner.sweep_escalation_actions(later) == 1
    first.refresh_from_db()
    assert first.priority < 5


@pytest.mark.django_db
def test_one_recompute_job_that_fails_does_not_stop_the_others(monkeypatch, caplog):
    bad = RecomputeJob.objects.create(applies_to="incident")
    good = RecomputeJob.objects.create(applies_to="incident")
    original = services.work_recompute_job

    def work(job_id, **options):
        if job_id == bad.pk:
            raise RuntimeError("kaput")
        return original(job_id, **options)

    monkeypatch.setattr(services, "work_recompute_job", work)
    caplog.set_level(logging.ERROR, logger="sla.services")
    later = timezone.now() + timedelta(minutes=10)
    assert services.sweep_recompute_jobs(budget=5, now=later) == 1
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.done_at is not None and bad.done_at is None
    assert "kaput" in caplog.text


@pytest.mark.django_db
def test_the_scan_runs_every_sweep_even_when_one_fails(monkeypatch, caplog):
    swept = []

    def broken(*args, **kwargs):
        raise RuntimeError("claim failed")

    monkeypatch.setattr(scanner, "claim_batch", broken)
    monkeypatch.setattr(scanner, "sweep_escalation_actions", broken)
    monkeypatch.setattr(services, "sweep_recompute_jobs", lambda **kw: swept.append(kw))
    caplog.set_level(logging.ERROR, logger="sla.tasks")
    sla_tasks.scan()
    assert len(swept) == 1  # the recompute sweep still ran
    assert [r.getMessage() for r in caplog.records] == [
        "SLA scan: a batch failed; the next scan tries it again",
        "SLA scan: the escalation actions sweep failed",
    ]
