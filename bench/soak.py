"""Soak: mixed load against gunicorn (DEBUG off) for N minutes; zero errors, flat memory.

    python -m bench soak --minutes 10 [--clients 6]

Into the database of ``DATABASE_URL`` (a dedicated one, e.g. ``itsm_soak``: it is migrated and
gets a few people and tickets), gunicorn is started as the production image starts it (2 sync
workers). ``--clients`` threads then loop over a mix of what a desk does all day — agents read
the queue, open tickets and page through the API, end users open incidents and comment, agents
comment and move tickets along, the health check is polled — each request on its own
connection. Every loop is bounded by the deadline; the traffic goes to 127.0.0.1 only.

Reported: requests, throughput, p50/p95 per kind, errors (any 5xx, any status the request does
not expect, any dropped connection: must be 0), and each worker's resident memory after the
warm-up and at the end (must stay flat: at most ``--max-growth-mb`` more). Exit code 1 when
either fails.
"""

import http.client
import json
import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token

from accounts.models import User
from bench.incidents import _free_port, start_gunicorn
from itsm.testing import make_team, make_user

WARM_UP_SECONDS = 30


def ensure_people() -> tuple[User, list[User]]:
    agents = [
        User.objects.filter(username=f"soak-agent-{i}").first()
        or make_user(f"soak-agent-{i}", roles=("agent",))
        for i in range(3)
    ]
    if not agents[0].teams.exists():
        make_team("Soak desk", members=agents)
    requester = User.objects.filter(username="soak-requester").first() or make_user(
        "soak-requester"
    )
    return requester, agents


def token(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def session(user: User) -> str:
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client.cookies["sessionid"].value


class Load:
    """The clients' shared tallies."""

    def __init__(self, port: int, requester: User, agents: list[User]):
        self.port = port
        self.user_token = token(requester)
        self.agent_tokens = [token(a) for a in agents]
        self.agent_session = session(agents[0])
        self.lock = threading.Lock()
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()
        self.samples: list[str] = []
        self.numbers: list[str] = []

    def call(self, kind, method, path, *, token=None, cookie=None, body=None, ok=(200,)):
        headers = {"Host": "localhost"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if cookie:
            headers["Cookie"] = f"sessionid={cookie}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        status, data = 0, b""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            status, data = response.status, response.read()
        except OSError as exc:
            data = repr(exc).encode()
        finally:
            conn.close()
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.timings[kind].append(elapsed)
            if status not in ok:
                self.errors[f"{kind}: {status or 'connection'}"] += 1
                if len(self.samples) < 10:
                    self.samples.append(f"{method} {path} -> {status}: {data[:300]!r}")
        return status, data

    # --- What people do

    def open_incident(self, rng):
        status, data = self.call(
            "api: open incident",
            "POST",
            "/api/v1/incidents/",
            token=self.user_token,
            body={"title": f"Soak {rng.random():.6f}", "description": "Load.", "urgency": 3},
            ok=(201,),
        )
        if status == 201:
            with self.lock:
                self.numbers.append(json.loads(data)["number"])
                del self.numbers[:-200]

    def some_number(self, rng):
        with self.lock:
            return rng.choice(self.numbers) if self.numbers else None

    def step(self, rng):
        choice = rng.random()
        number = self.some_number(rng)
        agent = rng.choice(self.agent_tokens)
        if choice < 0.15 or number is None:
            self.open_incident(rng)
        elif choice < 0.35:
            self.call("page: desk queue", "GET", "/desk/?queue=open", cookie=self.agent_session)
        elif choice < 0.50:
            self.call(
                "page: ticket", "GET", f"/desk/incidents/{number}/", cookie=self.agent_session
            )
        elif choice < 0.65:
            self.call("api: list", "GET", "/api/v1/incidents/?state=new", token=agent)
        elif choice < 0.75:
            self.call(
                "api: comment",
                "POST",
                f"/api/v1/incidents/{number}/comments/",
                token=rng.choice([agent, self.user_token]),
                body={"body": "Still happening?"},
                ok=(201, 409),  # 409: the ticket was closed meanwhile
            )
        elif choice < 0.90:
            target = rng.choice(["in_progress", "on_hold", "resolved"])
            fields = {
                "on_hold": {"hold_reason": "awaiting_caller"},
                "resolved": {"resolution_code": "fixed", "resolution_notes": "Done."},
            }.get(target, {})
            self.call(
                "api: transition",
                "POST",
                f"/api/v1/incidents/{number}/transition/",
                token=agent,
                body={"state": target, **fields},
                ok=(200, 409),  # 409: not allowed from the state another client left
            )
        elif choice < 0.97:
            self.call("api: ticket", "GET", f"/api/v1/incidents/{number}/", token=agent)
        else:
            self.call("health", "GET", "/health/", ok=(200,))


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return sorted(found)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(*, minutes: float, clients: int, max_growth_mb: float) -> int:
    if connection.vendor != "postgresql":
        print("The soak needs PostgreSQL (set DATABASE_URL).")
        return 2
    call_command("migrate", verbosity=0)
    requester, agents = ensure_people()
    port = _free_port()
    server = start_gunicorn(port)
    load = Load(port, requester, agents)
    deadline = time.monotonic() + max(minutes * 60, WARM_UP_SECONDS + 10)
    memory: dict[str, dict[int, float]] = {}

    def client(seed: int):
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            load.step(rng)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        time.sleep(WARM_UP_SECONDS)
        workers = children(server.pid)
        memory["start"] = {pid: rss_mb(pid) for pid in workers}
        for thread in threads:
            thread.join(timeout=minutes * 60 + 120)
        memory["end"] = {pid: rss_mb(pid) for pid in children(server.pid)}
    finally:
        server.terminate()
        server.wait(timeout=30)
    elapsed = time.monotonic() - started

    total = sum(len(t) for t in load.timings.values())
    print(
        f"\nsoak: {elapsed / 60:.1f} min, {clients} clients, {total:,} requests, "
        f"{total / elapsed:.1f} req/s"
    )
    print(f"{'kind':<24}{'count':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for kind, timings in sorted(load.timings.items()):
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1] if len(timings) > 1 else timings[0]
        print(f"{kind:<24}{len(timings):>8}{statistics.median(timings):>9.1f}{p95:>9.1f}")
    errors = sum(load.errors.values())
    print(f"errors: {errors}" + "".join(f"\n  {k}: {v}" for k, v in load.errors.items()))
    for sample in load.samples:
        print(f"  e.g. {sample}")
    growth = 0.0
    print("worker RSS (MB), after warm-up -> end:")
    for pid, start in memory["start"].items():
        end = memory["end"].get(pid)
        if end is None:
            print(f"  worker {pid}: {start:.1f} -> restarted (a worker died)")
            errors += 1
            continue
        growth = max(growth, end - start)
        print(f"  worker {pid}: {start:.1f} -> {end:.1f} ({end - start:+.1f})")
    flat = growth <= max_growth_mb
    print(
        f"largest growth {growth:+.1f} MB (limit {max_growth_mb} MB): "
        f"{'flat' if flat else 'GROWING'}"
    )
    return 0 if errors == 0 and flat else 1
