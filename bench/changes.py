"""The change calendar and the CAB agenda on 10,000 changes (query counts and timings).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bench_changes python -m bench changes

Generates the rows in SQL (``generate_series``) into the database of ``DATABASE_URL`` (use a
dedicated one): three years of changes around today — closed ones behind, scheduled ones
ahead, a hundred and twenty awaiting the CAB with their approvals and conflicts — on two
hundred CIs, with blackout windows. Then times the pages in process, as a CAB member and as a
change manager, and shows the plan of the calendar's window query.
"""

import random

from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from accounts.models import Team, User
from changes.models import Change
from changes.views.calendar import window_rows
from cmdb.classes import ensure_default_classes
from cmdb.models import CI, CIClass
from itsm.testing import make_team, make_user

from .incidents import measure, print_table

AWAITING = 120


def ensure_people() -> tuple[User, User, Team]:
    manager = User.objects.filter(username="bench-changemgr").first()
    if manager is None:
        manager = make_user("bench-changemgr", roles=("change_manager", "agent"))
        members = [make_user(f"bench-cab-{i}", roles=("cab_member",)) for i in range(2)]
        cab = make_team("Bench CAB", members=[*members, manager])
        from changes import services

        services.save_board(cab, actor=None)
    cab = Team.objects.get(name="Bench CAB")
    return manager, User.objects.get(username="bench-cab-0"), cab


def ensure_cis(count: int = 200) -> list[int]:
    ensure_default_classes()
    server = CIClass.objects.get(name="server")
    have = list(CI.objects.filter(name__startswith="bench-srv-").values_list("pk", flat=True))
    if len(have) < count:
        CI.objects.bulk_create(
            CI(name=f"bench-srv-{i:03d}", ci_class=server, attributes={})
            for i in range(len(have), count)
        )
        have = list(CI.objects.filter(name__startswith="bench-srv-").values_list("pk", flat=True))
    return have


def ensure_rows(rows: int, manager: User, member: User, cab: Team, cis: list[int]) -> None:
    if Change.objects.count() >= rows:
        return
    members = list(cab.members.values_list("pk", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        # Day i - 730 relative to today: two years behind, one ahead. The past is closed (or
        # canceled); the future is scheduled, except the first days ahead, some of which wait
        # for the CAB.
        cursor.execute(
            """
            INSERT INTO changes_change (
                number, title, description, state, type, requester_id, assignee_id,
                assignment_group_id, cab_id, approval_policy, approval_round, planned_start,
                planned_end, actual_start, actual_end, closed_at, implementation_plan,
                backout_plan, test_plan, risk_answers, risk, risk_score, risk_reasons,
                outcome, review_notes, created_at, updated_at, version)
            SELECT
                'CHG' || lpad(i::text, 7, '0'),
                (ARRAY['Patch','Upgrade','Resize','Replace','Reboot','Migrate'])[1 + i %% 6]
                    || ' bench-srv-' || lpad((i %% 200)::text, 3, '0'),
                'Generated for the benchmark.',
                CASE WHEN w.start < now() THEN (CASE WHEN i %% 25 = 0 THEN 'canceled'
                                                     ELSE 'closed' END)
                     ELSE 'scheduled' END,
                (ARRAY['normal','normal','standard','normal','emergency'])[1 + i %% 5],
                %(manager)s, %(manager)s, NULL, %(cab)s, 'all', 1,
                w.start, w.start + make_interval(hours => 1 + i %% 4),
                CASE WHEN w.start < now() THEN w.start END,
                CASE WHEN w.start < now() THEN w.start + make_interval(hours => 1 + i %% 4) END,
                CASE WHEN w.start < now() AND i %% 25 <> 0 THEN w.start + interval '1 day' END,
                'steps', 'restore', 'smoke tests', '{}'::jsonb,
                (ARRAY['low','moderate','high'])[1 + i %% 3], i %% 9, '[]'::jsonb,
                CASE WHEN w.start < now() AND i %% 25 <> 0
                     THEN (ARRAY['successful','successful','successful','successful',
                                 'successful_with_issues','failed','backed_out'])[1 + i %% 7]
                     ELSE '' END,
                '', w.start - interval '7 days', w.start - interval '7 days', 1
            FROM generate_series(1, %(rows)s) AS i
            CROSS JOIN LATERAL (
                SELECT date_trunc('day', now()) - interval '730 days'
                       + make_interval(mins => (i::bigint * 1095 * 24 * 60 / %(rows)s)::int)
                       + make_interval(hours => 0) AS start
            ) AS w
            """,
            {"manager": manager.pk, "cab": cab.pk, "rows": rows},
        )
        cursor.execute("SELECT setval('itsm_number_chg', %s)", [rows])
        # The changes of the coming weeks wait for the CAB: their approvals are asked.
        cursor.execute(
            """
            UPDATE changes_change SET state = 'authorize', type = 'normal'
            WHERE id IN (SELECT id FROM changes_change WHERE planned_start > now()
                         ORDER BY planned_start LIMIT %s)
            """,
            [AWAITING],
        )
        cursor.execute(
            """
            INSERT INTO changes_approval (change_id, round, approver_id, decision, comment,
                                          created_at)
            SELECT c.id, 1, m.id, 'pending', '', now()
            FROM changes_change c CROSS JOIN unnest(%s::bigint[]) AS m(id)
            WHERE c.state = 'authorize'
            """,
            [members],
        )
        rng = random.Random(11)
        cursor.executemany(
            "INSERT INTO changes_change_cis (change_id, ci_id) SELECT id, %s FROM changes_change"
            " WHERE number = %s",
            [(ci, f"CHG{i:07d}") for i in range(1, rows + 1) for ci in rng.sample(cis, 1 + i % 2)],
        )
        # One conflict in three among those awaiting the CAB: with the next one.
        cursor.execute(
            """
            WITH waiting AS (
                SELECT id, row_number() OVER (ORDER BY planned_start) AS n
                FROM changes_change WHERE state = 'authorize')
            INSERT INTO changes_changeconflict (change_id, kind, other_id, via, dependent,
                                                accepted, detected_at)
            SELECT a.id, 'change', b.id, '[]'::jsonb, false, false, now()
            FROM waiting a JOIN waiting b ON b.n = a.n + 1 WHERE a.n % 3 = 0
            """
        )
        cursor.execute(
            """
            INSERT INTO changes_blackout (name, description, start, "end", created_at,
                                          updated_at)
            SELECT 'Freeze ' || k, '', date_trunc('month', now()) + make_interval(days => 60 * k),
                   date_trunc('month', now()) + make_interval(days => 60 * k + 3), now(), now()
            FROM generate_series(-6, 6) AS k
            """
        )
        cursor.execute("ANALYZE changes_change")
        cursor.execute("ANALYZE changes_approval")
        cursor.execute("ANALYZE changes_changeconflict")


def explain_calendar() -> None:
    now = timezone.now()
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start + timezone.timedelta(days=42)
    sql, params = window_rows(start, end).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print("\ncalendar window query (this month's grid):")
        for (line,) in cursor.fetchall():
            print("  " + line)


def run(*, rows: int = 10_000, repeat: int = 30) -> int:
    if connection.vendor != "postgresql":
        print("The benchmark needs PostgreSQL (set DATABASE_URL).")
        return 2
    call_command("migrate", verbosity=0)
    manager, member, cab = ensure_people()
    ensure_rows(rows, manager, member, cab, ensure_cis())
    today = timezone.localdate()
    months = [today.replace(day=1) + timezone.timedelta(days=31 * k) for k in range(-12, 12)]
    weeks = [today + timezone.timedelta(days=7 * k) for k in range(-20, 20)]
    as_member = Client(HTTP_HOST="localhost")
    as_member.force_login(member)
    as_manager = Client(HTTP_HOST="localhost")
    as_manager.force_login(manager)
    results = [
        measure(
            as_member,
            "calendar: month (24 months)",
            [f"/changes/calendar/?date={m.replace(day=1).isoformat()}" for m in months],
            repeat,
        ),
        measure(
            as_member,
            "calendar: week (40 weeks)",
            [f"/changes/calendar/?view=week&date={w.isoformat()}" for w in weeks],
            repeat,
        ),
        measure(as_manager, "CAB agenda", ["/changes/cab/"], repeat),
        measure(as_member, f"my approvals ({AWAITING} waiting)", ["/changes/approvals/"], repeat),
        measure(as_manager, "change list (open)", ["/changes/list/"], repeat),
        measure(
            as_manager, "api: changes?state=scheduled", ["/api/v1/changes/?state=scheduled"], repeat
        ),
    ]
    print_table(
        f"{Change.objects.count():,} changes — {repeat} requests each, in process (ms)", results
    )
    explain_calendar()
    return 0
