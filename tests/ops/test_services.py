"""``bin/services``, the first step of the test commands: it uses the PostgreSQL and Redis that
answer, starts servers of its own where a local address does not answer, finds them again on
the next run, and stops only those. These tests start real servers on free ports, with their
data in a temporary ``ITSM_VAR_DIR``, and delete them afterwards."""

import os
import socket
import subprocess
from pathlib import Path

import psycopg
import pytest
import redis

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def services(tmp_path):
    """``services(*args, **urls)``: run ``bin/services`` with its servers kept under a temporary
    ``ITSM_VAR_DIR``; at the end, ``bin/services delete`` stops and deletes what it started."""
    env = {**os.environ, "ITSM_VAR_DIR": str(tmp_path / "var")}

    def run(*args: str, **urls: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [ROOT / "bin" / "services", *args],
            env={**env, **urls},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    yield run
    deleted = run("delete")
    assert deleted.returncode == 0, deleted.stderr


def test_it_starts_servers_of_its_own_on_free_local_ports_and_runs_them_again(services):
    pg_port, redis_port = free_port(), free_port()
    urls = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/itsm_services",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/3",
    }

    first = services(**urls)
    assert first.returncode == 0, first.stderr
    assert f"PostgreSQL 127.0.0.1:{pg_port} started a new cluster" in first.stdout
    assert "created the database itsm_services" in first.stdout
    assert f"Redis 127.0.0.1:{redis_port} started" in first.stdout
    assert len(first.stdout.splitlines()) == 1
    with psycopg.connect(urls["DATABASE_URL"].replace("postgres://", "postgresql://")) as db:
        db.execute("CREATE TABLE kept (id int)")
    assert redis.Redis.from_url(urls["REDIS_URL"]).ping()

    again = services(**urls)
    assert again.returncode == 0, again.stderr
    assert f"PostgreSQL 127.0.0.1:{pg_port} ours, running" in again.stdout
    assert f"Redis 127.0.0.1:{redis_port} ours, running" in again.stdout

    stopped = services("stop", **urls)
    assert stopped.returncode == 0, stopped.stderr
    assert not answers(pg_port)
    assert not answers(redis_port)

    restarted = services(**urls)
    assert restarted.returncode == 0, restarted.stderr
    assert f"PostgreSQL 127.0.0.1:{pg_port} started again" in restarted.stdout
    assert f"Redis 127.0.0.1:{redis_port} started again" in restarted.stdout
    with psycopg.connect(urls["DATABASE_URL"].replace("postgres://", "postgresql://")) as db:
        assert db.execute("SELECT count(*) FROM kept").fetchone() == (0,)


def test_it_uses_servers_that_answer_and_stop_leaves_them_running(services):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the suite runs without PostgreSQL")
    urls = {
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    }

    checked = services(**urls)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count(" answers") == 2, checked.stdout

    stopped = services("stop", **urls)
    assert stopped.stdout == "services: none of ours runs\n"
    with psycopg.connect(urls["DATABASE_URL"].replace("postgres://", "postgresql://")) as db:
        assert db.execute("SELECT 1").fetchone() == (1,)
    assert redis.Redis.from_url(urls["REDIS_URL"]).ping()


@pytest.mark.parametrize(
    ("variable", "url", "named"),
    [
        ("DATABASE_URL", "postgres://itsm@db.invalid:5432/itsm", "PostgreSQL at db.invalid:5432"),
        ("REDIS_URL", "redis://cache.invalid:6379/0", "Redis at cache.invalid:6379"),
    ],
)
def test_a_remote_address_that_does_not_answer_stops_the_run(services, variable, url, named):
    # The other address is a free local port: it would get a server, had the run gone on.
    urls = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/itsm",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        variable: url,
    }

    result = services(**urls)

    assert result.returncode == 1
    assert f"{named} ({variable}) does not answer" in result.stderr
    assert "started" not in result.stdout
