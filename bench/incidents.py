"""Desk list and ticket page at a million incidents (target: p95 under 50 ms).

Generates the rows in SQL (``generate_series``) into the database of ``DATABASE_URL`` (use a
dedicated one, e.g. ``postgres://postgres@127.0.0.1:5432/itsm_bench``), then times the pages
logged in as an agent, twice: through Django's test client in process (the application alone),
and over HTTP from a gunicorn started as the production image starts it (what a browser waits
for, minus the network).
"""

import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tqdm import tqdm

from accounts.models import Team, User
from incidents.models import Incident
from itsm.testing import make_team, make_user

BATCH = 100_000


def ensure_rows(rows: int) -> None:
    have = Incident.objects.count()
    if have >= rows:
        return
    requester = User.objects.get(username="bench-requester")
    agents = list(
        User.objects.filter(username__startswith="bench-agent").values_list("pk", flat=True)
    )
    teams = list(Team.objects.filter(name__startswith="Bench").values_list("pk", flat=True))
    with tqdm(total=rows - have, desc="incidents", unit="row") as bar:
        start = have + 1
        while start <= rows:
            end = min(start + BATCH - 1, rows)
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    INSERT INTO incidents_incident (
                        number, title, description, state, requester_id, assignee_id,
                        assignment_group_id, impact, urgency, priority, major, hold_reason,
                        resolution_code, resolution_notes, csat_comment, created_at,
                        updated_at, version, resolved_at)
                    SELECT
                        'INC' || lpad(i::text, 7, '0'),
                        (ARRAY['VPN drops','Printer jam','Email bounce','Slow CRM',
                               'Disk full','Password reset','Wi-Fi weak','ERP error'])
                            [1 + i %% 8] || ' #' || i,
                        'Generated for the benchmark, row ' || i,
                        (ARRAY['new','in_progress','on_hold','resolved','closed','closed',
                               'closed','closed','canceled','in_progress'])[1 + (i * 7) %% 10],
                        %s,
                        CASE WHEN i %% 5 = 0 THEN NULL
                             ELSE (%s::bigint[])[1 + i %% array_length(%s::bigint[], 1)] END,
                        (%s::bigint[])[1 + i %% array_length(%s::bigint[], 1)],
                        1 + i %% 3, 1 + (i / 3) %% 3,
                        1 + i %% 3 + (i / 3) %% 3,
                        i %% 997 = 0, '', '', '', '',
                        now() - make_interval(mins => (%s - i)),
                        now() - make_interval(mins => (%s - i)),
                        1, NULL
                    FROM generate_series(%s, %s) AS i
                    """,
                    [requester.pk, agents, agents, teams, teams, rows, rows, start, end],
                )
            bar.update(end - start + 1)
            start = end + 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('itsm_number_inc', %s)", [rows])
        cursor.execute("ANALYZE incidents_incident")


COMMENT = (
    "Thanks for the details. I have checked the **VPN concentrator** logs:\n\n"
    "- the tunnel drops every ~20 minutes\n- only on Wi-Fi\n\n"
    "Could you run `ipconfig /all` and paste the output here? See "
    "[the runbook](https://wiki.example.com/vpn) step %s."
)


def ensure_history(numbers: list[str]) -> None:
    """A working history on the tickets the benchmark opens: the created event, team and
    assignee changes, three state changes, eight public replies and four internal notes (an
    empty timeline would flatter the ticket page)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.id, i.requester_id, coalesce(i.assignee_id, i.requester_id),
                   i.assignment_group_id, i.created_at
            FROM incidents_incident i
            WHERE i.number = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM incidents_incidentcomment c WHERE c.ticket_id = i.id)
            """,
            [numbers],
        )
        tickets = cursor.fetchall()
        for ticket, requester, agent, team, created in tickets:
            moments = (created + timedelta(minutes=7 * step) for step in range(1, 50))
            events = [
                ("created", None, None, requester),
                ("assignment_group", None, team, agent),
                ("assignee", None, agent, agent),
                ("state", "new", "in_progress", agent),
                ("state", "in_progress", "on_hold", agent),
                ("state", "on_hold", "in_progress", requester),
            ]
            cursor.executemany(
                "INSERT INTO incidents_incidentevent (ticket_id, at, field, old, new, internal,"
                " actor_id) VALUES (%s, %s, %s, %s, %s, false, %s)",
                [
                    (ticket, next(moments), field, json.dumps(old), json.dumps(new), actor)
                    for field, old, new, actor in events
                ],
            )
            cursor.executemany(
                "INSERT INTO incidents_incidentcomment (ticket_id, body, internal, created_at,"
                " author_id) VALUES (%s, %s, %s, %s, %s)",
                [
                    # Every third entry is an agent's internal note; replies alternate.
                    (
                        ticket,
                        COMMENT % n,
                        n % 3 == 2,
                        next(moments),
                        agent if n % 2 or n % 3 == 2 else requester,
                    )
                    for n in range(12)
                ],
            )


def ensure_people() -> User:
    agent = User.objects.filter(username="bench-agent-0").first()
    if agent:
        return agent
    agents = [make_user(f"bench-agent-{i}", roles=("agent",)) for i in range(20)]
    make_user("bench-requester")
    for t in range(5):
        make_team(f"Bench team {t}", members=agents[t * 4 : (t + 1) * 4])
    return agents[0]


def _summary(label: str, timings: list[float], queries: int | None) -> dict:
    timings.sort()
    return {
        "label": label,
        "p50": statistics.median(timings),
        "p95": timings[int(len(timings) * 0.95) - 1],
        "queries": queries,
    }


def measure(client: Client, label: str, paths: list[str], repeat: int) -> dict:
    for path in paths[:3]:
        client.get(path)
    timings, queries = [], 0
    for index in range(repeat):
        path = paths[index % len(paths)]
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        timings.append(elapsed)
        queries = max(queries, len(captured))
    return _summary(label, timings, queries)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str, session: str) -> int:
    """One request on a new connection (gunicorn's sync workers close it after each)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": "localhost", "Cookie": f"sessionid={session}"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def measure_http(port: int, session: str, label: str, paths: list[str], repeat: int) -> dict:
    for path in paths[:3]:
        _get(port, path, session)
    timings = []
    for index in range(repeat):
        path = paths[index % len(paths)]
        started = time.perf_counter()
        status = _get(port, path, session)
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 200, (path, status)
    return _summary(label, timings, None)


def start_gunicorn(port: int) -> subprocess.Popen:
    """gunicorn as the Dockerfile runs it (sync workers), with this process's settings."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "itsm.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        # errors only: the ceiling rows' 404s would otherwise log a line per request
        env={**os.environ, "LOG_LEVEL": "ERROR"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health/", headers={"Host": "localhost"})
            if conn.getresponse().status in (200, 503):
                return server
        except OSError:
            time.sleep(0.25)
    server.kill()
    raise RuntimeError("gunicorn did not answer within 60 s")


def print_table(title: str, results: list[dict]) -> None:
    print(f"\n{title}")
    print(f"{'page':<34}{'p50':>8}{'p95':>8}{'queries':>9}")
    for r in results:
        queries = "" if r["queries"] is None else r["queries"]
        print(f"{r['label']:<34}{r['p50']:>8.1f}{r['p95']:>8.1f}{queries:>9}")


def run(*, rows: int, repeat: int) -> int:
    if connection.vendor != "postgresql":
        print("The benchmark needs PostgreSQL (set DATABASE_URL).")
        return 2
    call_command("migrate", verbosity=0)
    agent = ensure_people()
    ensure_rows(rows)
    client = Client(HTTP_HOST="localhost")
    client.force_login(agent)
    rng = random.Random(7)
    numbers = [f"INC{rng.randint(1, rows):07d}" for _ in range(repeat)]
    ensure_history(numbers)
    html = client.get("/desk/?queue=open").content.decode()
    page_two = re.search(r'cursor=([^"&]+)" rel="next"', html).group(1)
    pages = [
        ("desk: all open, by priority", ["/desk/?queue=open"]),
        ("desk: my open work", ["/desk/?queue=mine"]),
        ("desk: team unassigned", ["/desk/?queue=team"]),
        ("desk: all, by last update", ["/desk/?queue=all&sort=-updated"]),
        ("desk: filter P1 + new", ["/desk/?queue=all&priority=1&state=new"]),
        ("desk: all open, page 2", [f"/desk/?queue=open&cursor={page_two}"]),
        ("desk: ticket page", [f"/desk/incidents/{n}/" for n in numbers]),
        ("api: incidents?state=new", ["/api/v1/incidents/?state=new"]),
    ]
    in_process = [measure(client, label, paths, repeat) for label, paths in pages]
    print_table(f"{rows:,} incidents — {repeat} requests each, in process (ms)", in_process)

    port = _free_port()
    server = start_gunicorn(port)
    try:
        session = client.cookies["sessionid"].value
        over_http = [measure_http(port, session, label, paths, repeat) for label, paths in pages]
    finally:
        server.terminate()
        server.wait(timeout=30)
    print_table("the same over HTTP — gunicorn, 2 sync workers, one client (ms)", over_http)

    worst = max(r["p95"] for r in in_process + over_http)
    print(f"\nworst p95: {worst:.1f} ms (target < 50 ms)")
    return 0 if worst < 50 else 1
