"""Smoke test: the README's run command, ``make run``, boots the embedded default — SQLite and the
file-system Celery broker under ``ITSM_VAR_DIR``, web + worker + beat under honcho — and a
SIGTERM stops every process it started."""

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.smoke

ROOT = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT = 150  # seconds from `make run` to a healthy /health/ (seed_demo takes most)
LOG_TIMEOUT = 30  # seconds for an expected worker or beat log line
# Seconds for a task sent after boot: it queues behind the demo data's notification mails.
TASK_TIMEOUT = 120
STOP_TIMEOUT = 20  # seconds for every process to end after SIGTERM
CELERY = [sys.executable, "-m", "celery", "-A", "itsm"]


class Output:
    """Collects the lines a process writes, in a thread, and waits for one to appear."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = LOG_TIMEOUT) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        checked = 0
        with self._changed:
            while True:
                for line in self.lines[checked:]:
                    if match := regex.search(line):
                        return match
                checked = len(self.lines)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no line matching {pattern!r} within {timeout} s")
                self._changed.wait(remaining)

    def text(self) -> str:
        with self._changed:
            return "\n".join(self.lines)


# --- Processes, read from /proc (Linux) --------------------------------------------------------
# A process is (pid, start time), so a recycled pid is never mistaken for one of ours.


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # Fields after the command name, which is in parentheses and may hold spaces.
    return raw[raw.rindex(")") + 2 :].split()


def _identity(pid: int) -> tuple[int, str] | None:
    fields = _stat(pid)
    return None if fields is None else (pid, fields[19])


def descendants(root: int) -> set[tuple[int, str]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if identity := _identity(child):
                found.add(identity)
                stack.append(child)
    return found


def alive(process: tuple[int, str]) -> bool:
    fields = _stat(process[0])
    return fields is not None and fields[19] == process[1] and fields[0] != "Z"


def describe(processes) -> list[str]:
    described = []
    for pid, _start in processes:
        try:
            described.append(
                f"{pid}: {Path(f'/proc/{pid}/cmdline').read_text().replace(chr(0), ' ')}"
            )
        except OSError:
            described.append(f"{pid}: (gone)")
    return described


# --- HTTP --------------------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(opener, url: str) -> tuple[int, str]:
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def post(opener, url: str, form: dict) -> tuple[int, str]:
    """POST a form without following the redirect: (status, Location)."""
    data = urllib.parse.urlencode(form).encode()
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=10) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def wait_until_healthy(port: int, process: subprocess.Popen, seen: set) -> dict:
    opener = urllib.request.build_opener()
    deadline = time.monotonic() + BOOT_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        seen |= descendants(process.pid)
        if process.poll() is not None:
            raise AssertionError(f"`make run` exited with {process.returncode} before it was up")
        try:
            status, body = get(opener, f"http://127.0.0.1:{port}/health/")
        except OSError as error:
            last = repr(error)
        else:
            last = f"{status} {body}"
            if status == 200 and json.loads(body).get("broker") == "ok":
                return json.loads(body)
        time.sleep(0.5)
    raise AssertionError(f"/health/ not healthy within {BOOT_TIMEOUT} s; last: {last}")


def stop(process: subprocess.Popen, seen: set) -> list[str]:
    """SIGTERM the process group, as a service manager or Ctrl+C would; return what is still
    running STOP_TIMEOUT later, then SIGKILL that so nothing outlives the test."""
    seen |= descendants(process.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None and not any(alive(p) for p in seen):
            break
        time.sleep(0.2)
    survivors = [p for p in seen if alive(p)]
    left = describe(survivors) + ([] if process.poll() is not None else ["make run"])
    for pid, _start in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    return left


def test_make_run_boots_web_worker_and_beat_and_stops_cleanly(clean_env, tmp_path):
    port = free_port()
    var = tmp_path / "var"
    env = clean_env(PORT=str(port), PYTHONUNBUFFERED="1")
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    output = Output(process.stdout)
    seen: set[tuple[int, str]] = set()
    booted = float("nan")
    try:
        health = wait_until_healthy(port, process, seen)
        assert health == {"status": "ok", "database": "ok", "broker": "ok"}
        booted = time.monotonic() - started

        # The web app: the login page with its form and its vendored assets.
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
        status, page = get(browser, f"http://127.0.0.1:{port}/accounts/login/")
        assert status == 200
        assert re.search(r'<form[^>]+method="post"', page)
        assert 'name="username"' in page
        assert 'name="password"' in page
        stylesheet = re.search(r'href="(/static/vendor/bootstrap/[^"]+\.css)"', page)
        assert stylesheet, "the login page links no vendored Bootstrap stylesheet"
        assert get(browser, f"http://127.0.0.1:{port}{stylesheet[1]}")[0] == 200
        # DEBUG is off: the demo lists its logins because demo data was loaded, and a missing
        # page is the product's own 404, not Django's debug page with its URL patterns.
        assert 'data-demo-login="agent"' in page
        status, missing = get(browser, f"http://127.0.0.1:{port}/no/such/page/")
        assert status == 404
        assert "URLconf" not in missing and "Error 404" in missing

        # The demo data: a demo login is accepted (redirected away from the login page).
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        form = {"csrfmiddlewaretoken": token, "username": "agent", "password": "demo"}
        status, location = post(browser, f"http://127.0.0.1:{port}/accounts/login/", form)
        assert status == 302, "the demo login 'agent' / 'demo' was refused"
        assert "/accounts/login/" not in location

        # Beat runs; the worker consumes a task sent through the embedded broker.
        output.wait_for(r"beat: Starting\.\.\.")
        output.wait_for(r"celery@\S+ ready\.")
        sent = subprocess.run(
            [*CELERY, "call", "itsm.tasks.sweep_notifications"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        task_id = sent.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r"[0-9a-f-]{36}", task_id), sent.stdout + sent.stderr
        output.wait_for(
            rf"Task itsm\.tasks\.sweep_notifications\[{task_id}\] succeeded", timeout=TASK_TIMEOUT
        )

        # Everything it keeps is under ITSM_VAR_DIR.
        assert (var / "itsm.sqlite3").is_file()
        assert (var / "celery" / "control").is_dir()
        assert list(var.glob("celerybeat-schedule*"))

        running = " ".join(describe(descendants(process.pid)))
        for command in ("manage.py runserver", "celery -A itsm worker", "celery -A itsm beat"):
            assert command in running
    finally:
        stopping = time.monotonic()
        left = stop(process, seen)
        print(output.text())
        print(
            f"--- healthy after {booted:.1f} s, stopped in {time.monotonic() - stopping:.1f} s, "
            f"{time.monotonic() - started:.1f} s in all; {len(seen)} processes seen"
        )
    assert not left, f"still running {STOP_TIMEOUT} s after SIGTERM: {left}"
