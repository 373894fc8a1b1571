"""Desk list and ticket page at a million incidents (target: p95 under 50 ms).

Generates the rows in SQL (``generate_series``) into the database of ``DATABASE_URL`` (use a
dedicated one, e.g. ``postgres://postgres@127.0.0.1:5432/itsm_bench``), then times the pages
through Django's test client, in process, logged in as an agent.
"""

import random
import re
import statistics
import time

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


def ensure_people() -> User:
    agent = User.objects.filter(username="bench-agent-0").first()
    if agent:
        return agent
    agents = [make_user(f"bench-agent-{i}", roles=("agent",)) for i in range(20)]
    make_user("bench-requester")
    for t in range(5):
        make_team(f"Bench team {t}", members=agents[t * 4 : (t + 1) * 4])
    return agents[0]


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
    timings.sort()
    return {
        "label": label,
        "p50": statistics.median(timings),
        "p95": timings[int(len(timings) * 0.95) - 1],
        "queries": queries,
    }


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
    results = [
        measure(client, "desk: all open, by priority", ["/desk/?queue=open"], repeat),
        measure(client, "desk: my open work", ["/desk/?queue=mine"], repeat),
        measure(client, "desk: team unassigned", ["/desk/?queue=team"], repeat),
        measure(client, "desk: all, by last update", ["/desk/?queue=all&sort=-updated"], repeat),
        measure(client, "desk: filter P1 + new", ["/desk/?queue=all&priority=1&state=new"], repeat),
        measure(client, "desk: ticket page", [f"/desk/incidents/{n}/" for n in numbers], repeat),
        measure(client, "api: incidents?state=new", ["/api/v1/incidents/?state=new"], repeat),
    ]
    html = client.get("/desk/?queue=open").content.decode()
    page_two = re.search(r'cursor=([^"&]+)" rel="next"', html).group(1)
    results.append(
        measure(client, "desk: all open, page 2", [f"/desk/?queue=open&cursor={page_two}"], repeat)
    )
    print(f"\n{rows:,} incidents — {repeat} requests each (in-process, ms)")
    print(f"{'page':<34}{'p50':>8}{'p95':>8}{'queries':>9}")
    for r in results:
        print(f"{r['label']:<34}{r['p50']:>8.1f}{r['p95']:>8.1f}{r['queries']:>9}")
    worst = max(r["p95"] for r in results)
    print(f"\nworst p95: {worst:.1f} ms (target < 50 ms)")
    return 0 if worst < 50 else 1
