"""A real Celery worker and beat on Redis against the test database (SLA_SCAN_SECONDS=1).

- a 5-second target breaches and notifies once;
- scanners racing (two workers, a flood of scan tasks) notify each breach once;
- workers killed with SIGKILL, timers breaching while they are down, a worker killed again just
  after restarting: the catch-up notifies each breach exactly once and no warnings.

Run with ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` set; every process started here is
stopped here.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from itsm.models import Notification
from itsm.testing import make_persona, make_team
from sla.models import Escalation, Timer

from .conftest import ALWAYS_HOURS, make_calendar, make_policy

pytestmark = [pytest.mark.live_celery, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


@pytest.fixture
def environment(tmp_path):
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    parts = urlsplit(os.environ["DATABASE_URL"])
    test_db = settings.DATABASES["default"]["NAME"]
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(parts._replace(path=f"/{test_db}")),
        "SLA_SCAN_SECONDS": "1",
        "EMAIL_URL": f"file://{tmp_path / 'mail'}",
        "ITSM_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "itsm.settings",
        "PYTHONUNBUFFERED": "1",
    }
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # our own Redis database
    return env


class Processes:
    """Worker and beat subprocesses, each in its own process group (killed as a whole)."""

    def __init__(self, env, directory: Path):
        self.env, self.directory = env, directory
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> None:
        log = open(self.directory / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.running[name] = subprocess.Popen(
            [CELERY, "-A", "itsm", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def worker(self, name: str = "worker", concurrency: int = 2) -> None:
        self.start(
            name,
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}-{uuid.uuid4().hex[:6]}@%h",
        )

    def beat(self) -> None:
        self.start(
            "beat",
            "beat",
            "--loglevel=INFO",
            "-s",
            str(self.directory / "beat-schedule"),
        )

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        process = self.running.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for name in list(self.running):
            process = self.running[name]
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            self.kill(name)

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")


@pytest.fixture
def processes(environment, tmp_path):
    procs = Processes(environment, tmp_path)
    yield procs
    procs.stop_all()
    connection.close()


def wait_for(predicate, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


@pytest.fixture
def five_seconds(db):
    always = make_calendar("Always", "UTC", ALWAYS_HOURS)
    alice = make_persona("alice")
    team = make_team("Service Desk", members=[alice])
    make_policy(
        always,
        response=5,
        resolution=3600,
        warning_notify=["assignee"],
        breach_notify=["assignee"],
    )
    return alice, team


def open_incidents(alice, team, count):
    from incidents.services import open_incident

    return [
        open_incident(
            actor=alice,
            requester=alice,
            title=f"Live {index}",
            description="",
            assignee=alice,
            assignment_group=team,
        )
        for index in range(count)
    ]


def breaches():
    return Notification.objects.filter(kind="sla_breach")


def test_a_five_second_target_breaches_and_notifies_once(processes, five_seconds):
    alice, team = five_seconds
    processes.worker()
    processes.beat()
    (incident,) = open_incidents(alice, team, 1)
    assert wait_for(lambda: breaches().exists(), timeout=30), processes.log("worker")[-3000:]
    time.sleep(4)  # four more scans
    assert breaches().count() == 1
    notice = breaches().get()
    assert (notice.ticket, notice.recipient) == (incident.number, alice)
    timer = Timer.objects.get(incident=incident, metric="response")
    assert timer.state == "breached"
    assert (timer.breached_at - timer.started_at).total_seconds() == 5  # the true instant
    warnings = Notification.objects.filter(kind="sla_warning", ticket=incident.number)
    assert warnings.count() == len(set(warnings.values_list("subject", flat=True)))


def test_racing_scanners_notify_each_breach_once(processes, five_seconds):
    from sla.tasks import scan

    alice, team = five_seconds
    incidents = open_incidents(alice, team, 25)
    time.sleep(6)  # every response target has passed; no worker has run yet
    processes.worker("worker-a", concurrency=4)
    processes.worker("worker-b", concurrency=4)
    processes.beat()
    for _ in range(40):
        scan.apply_async()
    assert wait_for(lambda: breaches().count() >= 25, timeout=60), processes.log("worker-a")[-3000:]
    time.sleep(3)
    assert breaches().count() == 25
    assert sorted(breaches().values_list("ticket", flat=True)) == sorted(
        i.number for i in incidents
    )
    assert Escalation.objects.filter(level=100).count() == 25


def test_workers_killed_then_restarted_catch_up_without_duplicates(processes, five_seconds):
    alice, team = five_seconds
    processes.worker()
    processes.beat()
    assert wait_for(lambda: "ready" in processes.log("worker"), timeout=30)
    processes.kill("worker")  # SIGKILL to the whole worker: pool children too
    incidents = open_incidents(alice, team, 150)
    time.sleep(7)  # all response targets pass while no worker runs; beat keeps ticking
    assert not breaches().exists()
    processes.worker("worker-2")
    # kill it again as soon as it starts scanning (possibly mid-batch)
    wait_for(lambda: "sla.tasks.scan" in processes.log("worker-2"), timeout=30, step=0.05)
    time.sleep(0.2)
    processes.kill("worker-2")
    processes.worker("worker-3")
    assert wait_for(lambda: breaches().count() >= 150, timeout=90), processes.log("worker-3")[
        -3000:
    ]
    time.sleep(3)
    assert breaches().count() == 150
    assert len(set(breaches().values_list("ticket", flat=True))) == 150
    # catch-up escalates only the highest level reached: no warning for these timers
    assert not Notification.objects.filter(kind="sla_warning").exists()
    breached = Timer.objects.filter(incident__in=incidents, metric="response")
    assert all((t.breached_at - t.started_at).total_seconds() == 5 for t in breached)
