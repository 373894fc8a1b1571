"""A worker SIGKILLed in the middle of mailing: the rows it had claimed stay ``sending``; after
the lease the sweep of another worker mails them, and each recipient gets the message once
(the dead worker's attempt never reached the server). Killing workers mid-scan is in
``tests/sla/test_integration.py``."""

import time

import pytest

from itsm.models import Notification
from itsm.testing import make_incident, make_persona, make_team
from tests.itsm.smtp_server import SMTPServer

from .conftest import BIN, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.live_celery, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_while_mailing_leaves_each_message_sent_once(broker, processes, tmp_path):
    agents = [make_persona(name) for name in ("alice", "bob")]
    make_team("Service Desk", members=agents)
    with SMTPServer() as smtp:
        smtp.handler.script = ["stall"]
        smtp.handler.stall_seconds = 20
        env = {
            "REDIS_URL": broker.url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            "NOTIFICATION_SWEEP_SECONDS": "1",
            "NOTIFICATION_SWEEP_GRACE_SECONDS": "1",
            "NOTIFICATION_LEASE_SECONDS": "3",
        }
        processes.worker(**env)
        incident = make_incident()
        rows = Notification.objects.filter(
            ticket=incident.number, email_state__in=["pending", "sending", "sent"]
        )
        expected = rows.count()
        assert expected >= 2
        # the worker has claimed the rows and waits for the server: kill it there
        assert wait_for(lambda: smtp.handler.transactions >= 1, 40), processes.log("worker")
        processes.kill("worker")
        assert rows.filter(email_state="sending").exists()  # claimed by the dead worker
        assert not rows.filter(email_state="sent").exists()
        assert smtp.handler.received == []

        processes.worker("worker-2", **env)
        processes.start(
            "beat",
            str(BIN / "celery"),
            "-A",
            "itsm",
            "beat",
            "--loglevel=INFO",
            "-s",
            str(tmp_path / "beat-schedule"),
            env=env,
        )
        assert wait_for(lambda: rows.filter(email_state="sent").count() == expected, 60), (
            processes.log("worker-2")[-3000:]
        )
        time.sleep(2)  # more sweeps find nothing to send
        assert len(smtp.handler.received) == expected
        assert len(set(smtp.handler.ids())) == expected
        assert sorted(m["To"] for m in smtp.handler.received) == sorted(
            rows.values_list("recipient__email", flat=True)
        )
