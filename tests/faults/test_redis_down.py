"""Redis stopped while tickets are created: every ticket is saved (201), the notifications they
owe wait in the database, and once Redis is back the real worker and beat deliver each one
exactly once (the sweep; the messages the web process could not queue are not needed)."""

import time

import pytest

from incidents.models import Incident
from itsm.models import Notification
from itsm.testing import make_persona, make_team

from .conftest import BIN, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.live_celery, pytest.mark.django_db(transaction=True)]


def test_tickets_created_while_redis_is_down_are_saved_and_notified_later(
    api, broker, processes, tmp_path
):
    rita = make_persona("rita")
    agents = [make_persona(name) for name in ("alice", "bob")]
    make_team("Service Desk", members=agents)
    fast = {
        "REDIS_URL": broker.url,
        "NOTIFICATION_SWEEP_SECONDS": "1",
        "NOTIFICATION_SWEEP_GRACE_SECONDS": "1",
    }
    processes.worker(**fast)
    processes.start(
        "beat",
        str(BIN / "celery"),
        "-A",
        "itsm",
        "beat",
        "--loglevel=INFO",
        "-s",
        str(tmp_path / "beat-schedule"),
        env=fast,
    )
    broker.stop()

    numbers = []
    for index in range(6):
        response = api.as_(rita).post(
            "/api/v1/incidents/",
            {"title": f"Redis down {index}", "description": "Saved?", "urgency": 2},
            format="json",
        )
        assert response.status_code == 201, response.content
        numbers.append(response.json()["number"])
    assert Incident.objects.filter(number__in=numbers).count() == 6
    owed = Notification.objects.filter(ticket__in=numbers)
    assert owed.count() >= 6 * len(agents)
    time.sleep(2)
    assert owed.filter(email_state="pending").count() == owed.count()  # nothing could go

    broker.start()  # Redis is back (empty: the messages sent while it was down are gone)
    assert wait_for(lambda: not owed.exclude(email_state="sent").exists(), 60), (
        processes.log("worker")[-3000:] + processes.log("beat")[-2000:]
    )
    time.sleep(2)  # more sweeps: nothing is sent twice
    mails = list((tmp_path / "mail").glob("*.eml"))
    assert len(mails) == owed.count()
    ids = [
        line for m in mails for line in m.read_text().splitlines() if line.startswith("Message-ID")
    ]
    assert len(set(ids)) == len(mails)
