"""Reports at a large number of incidents (target: every report under a second).

    DATABASE_URL=postgres://…/itsm_reports_bench python -m bench.reports --rows 1000000

Fills the database of ``DATABASE_URL`` (use a dedicated one) in SQL (``generate_series``) with
two years of incidents: most closed within three days, a backlog of the last six weeks still
open, one in three rated, one in five moved between teams and one in twenty reopened (audit
rows), one in a thousand major, two thirds on one of ten business services. Then rolls the days
the daily roll-up does not hold yet (``rebuild_report_days``, as beat would) and times each
report as a manager, in process, over the default 30 days and over a whole year.
"""

import argparse
import os
import sys
import time

import django
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tqdm import tqdm

BATCH = 100_000
YEARS_2 = 2 * 365 * 86400


def ensure_services() -> list[int]:
    from cmdb.models import CI, CIClass

    service_class = CIClass.objects.get(name="business_service")
    found = list(CI.objects.filter(name__startswith="Bench service").values_list("pk", flat=True))
    if found:
        return found
    from cmdb.services import create_ci

    return [
        create_ci(actor=None, name=f"Bench service {n}", ci_class=service_class).pk
        for n in range(10)
    ]


def ensure_rows(rows: int, services: list[int]) -> None:
    from accounts.models import Team, User
    from incidents.models import Incident

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
                        assignment_group_id, service_id, impact, urgency, priority, major,
                        hold_reason, resolution_code, resolution_notes, csat_score,
                        csat_comment, rated_at, created_at, updated_at, version, resolved_at,
                        closed_at)
                    SELECT
                        'INC' || lpad(i::text, 7, '0'),
                        'Generated for the reports benchmark #' || i, '',
                        s.state, %(requester)s,
                        (%(agents)s::bigint[])[1 + i %% array_length(%(agents)s::bigint[], 1)],
                        (%(teams)s::bigint[])[1 + i %% array_length(%(teams)s::bigint[], 1)],
                        CASE WHEN i %% 3 = 0 THEN NULL
                             ELSE (%(services)s::bigint[])
                                  [1 + i %% array_length(%(services)s::bigint[], 1)] END,
                        1 + i %% 3, 1 + (i / 3) %% 3, 1 + i %% 3 + (i / 3) %% 3,
                        i %% 997 = 0, '', '', '',
                        CASE WHEN s.done AND i %% 3 = 0 THEN 1 + i %% 5 END, '',
                        CASE WHEN s.done AND i %% 3 = 0 THEN s.resolved + interval '1 hour' END,
                        s.created, s.created, 1,
                        CASE WHEN s.done THEN s.resolved END,
                        CASE WHEN s.state = 'closed' THEN s.resolved + interval '3 days' END
                    FROM generate_series(%(start)s, %(end)s) AS i
                    CROSS JOIN LATERAL (
                        SELECT c.created,
                               c.created + make_interval(secs => (i::bigint * 7919) %% (72 * 3600))
                                   AS resolved,
                               c.state, c.state IN ('resolved', 'closed') AS done
                        FROM (SELECT
                            now() - make_interval(secs => (%(rows)s - i)::float8
                                                          * %(span)s / %(rows)s) AS created,
                            CASE
                              WHEN (%(rows)s - i)::float8 * %(span)s / %(rows)s > 42 * 86400
                                THEN CASE WHEN i %% 10 = 9 THEN 'canceled' ELSE 'closed' END
                              ELSE (ARRAY['new','in_progress','on_hold','resolved','closed',
                                          'closed','closed','closed','canceled',
                                          'in_progress'])[1 + (i * 7) %% 10]
                            END AS state) AS c
                    ) AS s
                    """,
                    {
                        "requester": requester.pk,
                        "agents": agents,
                        "teams": teams,
                        "services": services,
                        "rows": rows,
                        "span": YEARS_2,
                        "start": start,
                        "end": end,
                    },
                )
                # the audit rows first-contact resolution reads: moves between teams, reopens
                cursor.execute(
                    """
                    INSERT INTO incidents_incidentevent (ticket_id, at, field, old, new, internal)
                    SELECT id, created_at + interval '1 hour', 'assignment_group',
                           to_jsonb(assignment_group_id), to_jsonb(assignment_group_id), false
                    FROM incidents_incident
                    WHERE number BETWEEN %(first)s AND %(last)s AND id %% 5 = 0
                    UNION ALL
                    SELECT id, created_at + interval '2 hours', 'state',
                           '"resolved"'::jsonb, '"in_progress"'::jsonb, false
                    FROM incidents_incident
                    WHERE number BETWEEN %(first)s AND %(last)s AND id %% 20 = 1
                    """,
                    {"first": f"INC{start:07d}", "last": f"INC{end:07d}"},
                )
            bar.update(end - start + 1)
            start = end + 1
    with connection.cursor() as cursor:  # as autovacuum would on a live desk
        cursor.execute("VACUUM ANALYZE incidents_incident")
        cursor.execute("VACUUM ANALYZE incidents_incidentevent")


def measure(client, label: str, path: str, repeat: int) -> dict:
    from bench.incidents import _summary

    client.get(path)  # warm the caches once
    timings, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        timings.append(elapsed)
        queries = max(queries, len(captured))
    return _summary(label, timings, queries)


def run(*, rows: int, repeat: int) -> int:
    from django.test import Client

    from accounts.models import Team, User
    from bench.incidents import ensure_people, print_table
    from incidents.models import Incident
    from itsm.testing import make_user

    if connection.vendor != "postgresql":
        print("The benchmark needs PostgreSQL (set DATABASE_URL).")
        return 2
    call_command("migrate", verbosity=0)
    ensure_people()
    services = ensure_services()
    ensure_rows(rows, services)
    # the daily roll-up, as beat keeps it (reports.tasks.roll_up_days): days not rolled yet
    started = time.perf_counter()
    call_command("rebuild_report_days", verbosity=0)
    print(f"roll-up of the days due: {time.perf_counter() - started:.1f} s")
    manager = User.objects.filter(username="bench-manager").first() or make_user(
        "bench-manager", roles=("manager",)
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(manager)
    team = Team.objects.filter(name__startswith="Bench").first().pk
    service = services[0]
    year = "from=" + time.strftime("%Y-%m-%d", time.gmtime(time.time() - 365 * 86400))
    reports = [
        ("api: incidents, 30 days", "/api/v1/reports/incidents/"),
        ("api: incidents, 1 year", f"/api/v1/reports/incidents/?{year}"),
        ("api: incidents, 1 year, team", f"/api/v1/reports/incidents/?{year}&team={team}"),
        ("api: incidents, 30 days, P1", "/api/v1/reports/incidents/?priority=1"),
        ("api: trend, 1 year", f"/api/v1/reports/trend/?{year}"),
        ("api: sla by team, 30 days", "/api/v1/reports/sla/?group_by=team"),
        ("api: changes, 1 year", f"/api/v1/reports/changes/?{year}"),
        ("api: problems, 1 year", f"/api/v1/reports/problems/?{year}"),
        ("api: requests, 1 year", f"/api/v1/reports/requests/?{year}"),
        ("api: service review, 30 days", f"/api/v1/reports/services/{service}/review/"),
        ("api: service review, 1 year", f"/api/v1/reports/services/{service}/review/?{year}"),
        ("page: /reports/, 30 days", "/reports/"),
        ("page: /reports/, 1 year", f"/reports/?{year}"),
        ("page: service review, 30 days", f"/reports/services/{service}/"),
        ("page: service review, 1 year", f"/reports/services/{service}/?{year}"),
    ]
    results = []
    for label, path in tqdm(reports, desc="reports", unit="report"):
        results.append(measure(client, label, path, repeat))
    print_table(f"{Incident.objects.count():,} incidents — {repeat} requests each (ms)", results)
    worst = max(r["p95"] for r in results)
    print(f"\nworst p95: {worst:.1f} ms (target < 1000 ms)")
    return 0 if worst < 1000 else 1


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")
    django.setup()
    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    arguments = parser.parse_args()
    sys.exit(run(rows=arguments.rows, repeat=arguments.repeat))
