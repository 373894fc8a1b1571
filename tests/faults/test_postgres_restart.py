"""PostgreSQL restarted under load: gunicorn (DEBUG off) keeps answering — 503 with Retry-After
while the database is away, never a 500 nor a dropped connection — and serves again once it is
back, with the same worker processes (CONN_HEALTH_CHECKS: no restart of the app)."""

import threading
import time
from collections import Counter

import pytest
from rest_framework.authtoken.models import Token

from itsm.testing import make_persona, make_team

from .conftest import BIN, free_port, http, wait_for

API = "/api/v1/incidents/"
pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def test_requests_fail_with_503_while_postgres_restarts_and_recover(own_postgres, processes):
    alice = make_persona("alice")
    make_team("Service Desk", members=[alice])
    token = Token.objects.create(user=alice).key
    own_postgres.load()
    port = free_port()
    processes.start(
        "gunicorn",
        str(BIN / "gunicorn"),
        "itsm.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "2",
        "--timeout",
        "30",
        env={
            "DATABASE_URL": own_postgres.url,
            "DJANGO_SETTINGS_MODULE": "tests.faults.settings",
            "DEBUG": "0",
            "SECRET_KEY": "faults-only-not-secret",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
        },
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Token {token}"}
    assert wait_for(lambda: _get(base + "/health/") == 200, 30), processes.log("gunicorn")

    results: list[tuple[float, int, str]] = []
    stop = threading.Event()

    def load(kind: str):
        n = 0
        while not stop.is_set():
            n += 1
            # when the request was sent: one sent before the stop may still be answered 201
            sent = time.monotonic()
            try:
                if kind == "write":
                    body = {"title": f"Load {n}", "description": "x", "urgency": 3}
                    status, answer, _ = http("POST", base + API, headers=headers, body=body)
                else:
                    status, answer, _ = http("GET", base + API, headers=headers)
                results.append((sent, status, answer.get("Retry-After", "")))
            except OSError as exc:  # a dropped connection: not clean
                results.append((sent, 0, repr(exc)))
            time.sleep(0.02)

    threads = [threading.Thread(target=load, args=(k,)) for k in ("read", "read", "write")]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        own_postgres.pg_ctl("stop", "-m", "fast")
        stopped = time.monotonic()
        time.sleep(3)  # requests meet a database that is gone
        restarting = time.monotonic()  # the server answers before pg_ctl returns
        own_postgres.pg_ctl("start")
        started = time.monotonic()
        assert wait_for(lambda: any(t > started and s == 200 for t, s, _ in results[-20:]), 45), (
            results[-10:]
        )
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    statuses = Counter(status for _t, status, _r in results)
    assert set(statuses) <= {200, 201, 503}, (statuses, processes.log("gunicorn")[-3000:])
    during = [(s, r) for t, s, r in results if stopped + 0.5 < t < restarting]
    odd = [(s, r) for s, r in during if (s, r) != (503, "5")]
    assert during and not odd, (odd[:5], len(during))
    after = [s for t, s, _r in results if t > started + 1]
    assert after and all(s in (200, 201) for s in after), Counter(after)
    # the same workers served before and after: none was restarted
    assert processes.log("gunicorn").count("Booting worker") == 2
    # every 201 is an incident that exists in the database
    created = statuses[201]
    assert created > 0


def _get(url: str) -> int:
    try:
        return http("GET", url, timeout=5)[0]
    except OSError:
        return 0
