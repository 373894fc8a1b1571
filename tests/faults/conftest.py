"""Real services for the fault tests: a PostgreSQL cluster and a redis-server of their own on
free ports (so stopping them disturbs nothing else), a Celery worker and beat, gunicorn with
DEBUG off. Every process started here is stopped here."""

import contextlib
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from itsm.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def http(method: str, url: str, *, headers=None, body=None, timeout: float = 20):
    """``(status, headers, body)`` of one request; a connection that fails raises OSError."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    for name, value in {**(headers or {}), "Content-Type": "application/json"}.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(predicate, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


@pytest.fixture
def postgres_needed():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")


class OwnRedis:
    """A redis-server of our own (no persistence), stopped and started at will."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert wait_for(lambda: answers(self.port), 10), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
        assert wait_for(lambda: not answers(self.port), 10)


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


class OwnPostgres:
    """A PostgreSQL cluster of our own (bin/services on a free port), holding a copy of the
    test database as it is committed when ``load`` runs."""

    def __init__(self, var_dir: Path):
        self.port = free_port()
        self.var_dir = var_dir
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/itsm_faults"
        self.env = {
            **os.environ,
            "ITSM_VAR_DIR": str(var_dir),
            "DATABASE_URL": self.url,
            # answers already: bin/services uses it as it is and never stops it
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        }

    def services(self, *args: str) -> None:
        done = subprocess.run(
            [ROOT / "bin" / "services", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def load(self) -> None:
        """Copy the test database (what is committed now) into our cluster."""
        source = settings.DATABASES["default"]
        dump = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                "-h",
                source["HOST"] or "127.0.0.1",
                "-p",
                str(source["PORT"] or 5432),
                "-U",
                source["USER"],
                source["NAME"],
            ],
            capture_output=True,
            check=True,
            timeout=60,
            env={**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""},
        )
        subprocess.run(
            [
                "psql",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "itsm_faults",
            ],
            input=dump.stdout,
            capture_output=True,
            check=True,
            timeout=60,
        )

    def pg_ctl(self, *args: str) -> None:
        home = self.var_dir / "services" / f"postgres-{self.port}"
        data = os.path.realpath(home / "data")  # a link when the checkout is root's only
        version = Path(data, "PG_VERSION").read_text().strip()
        found = glob.glob(f"/usr/lib/postgresql/{version}/bin/pg_ctl")
        pg_ctl = found[0] if found else "pg_ctl"
        log = os.path.join(os.path.dirname(data), "server.log")
        command = [pg_ctl, "-D", data, "-l", log, "-w", "-t", "30", *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, cwd="/", capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def own_postgres(tmp_path, postgres_needed):
    server = OwnPostgres(tmp_path / "var")
    server.services()
    yield server
    server.services("delete")


class Processes:
    """Subprocesses (worker, beat, gunicorn), each in its own process group."""

    def __init__(self, env: dict, directory: Path):
        self.env, self.directory = env, directory
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *command: str, env: dict | None = None) -> subprocess.Popen:
        log = open(self.directory / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.running[name] = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.running[name]

    def worker(self, name: str = "worker", concurrency: int = 1, **env) -> None:
        self.start(
            name,
            str(BIN / "celery"),
            "-A",
            "itsm",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}-{uuid.uuid4().hex[:6]}@%h",
            env=env,
        )
        assert wait_for(lambda: "ready" in self.log(name), 60), self.log(name)[-3000:]

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
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def tests_database_url() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{settings.DATABASES['default']['NAME']}"))


@pytest.fixture
def processes(tmp_path, postgres_needed):
    env = {
        **os.environ,
        "DATABASE_URL": tests_database_url(),
        "EMAIL_URL": f"file://{tmp_path / 'mail'}",
        "ITSM_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "itsm.settings",
        "PYTHONUNBUFFERED": "1",
    }
    procs = Processes(env, tmp_path)
    yield procs
    procs.stop_all()
    connection.close()


@pytest.fixture
def broker(own_redis, monkeypatch):
    """This process's Celery app sends to our own Redis (the one the test stops)."""
    monkeypatch.setattr(celery_app.conf, "broker_url", own_redis.url)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield own_redis
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
