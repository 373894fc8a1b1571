"""Problem management at a realistic size: the knowledge search, deflection and candidates
over a year of incidents (100,000 by default), on PostgreSQL.

    DATABASE_URL=postgres://…/itsm_problems_bench python -m bench problems --rows 100000

Generates, in SQL, a year of incidents whose titles combine thirty subjects, fifteen symptoms
and some context (a couple of thousand distinct titles), spread over twenty services and two
hundred CIs, mostly closed, a tenth of them linked to 300 problems (150 known errors, 100 of
them published); fills their search vectors and files them in title clusters; then times the
pages and API calls a problem manager, an agent and an end user make.
"""

import random
import time
from urllib.parse import quote

from django.core.management import call_command
from django.db import connection
from django.test import Client
from tqdm import tqdm

from accounts.models import User
from bench.incidents import ensure_people, measure, print_table
from cmdb.models import CI, CIClass
from incidents.models import Incident
from itsm.notify import without_mail
from itsm.testing import make_user
from problems import candidates, search
from problems import services as problem_services
from problems.models import ClusteredIncident, Problem

SUBJECTS = [
    "VPN",
    "Outlook",
    "Printer",
    "Teams",
    "Wi-Fi",
    "CRM",
    "ERP",
    "Laptop",
    "Badge reader",
    "File share",
    "SharePoint",
    "Password",
    "MFA",
    "Docking station",
    "Monitor",
    "Headset",
    "Citrix",
    "Payroll app",
    "Website",
    "Intranet",
    "Phone",
    "Scanner",
    "Backup",
    "Database",
    "Email",
    "Calendar",
    "Timesheet app",
    "Expense app",
    "Projector",
    "Webcam",
]
SYMPTOMS = [
    "is very slow",
    "does not start",
    "keeps disconnecting",
    "shows an error",
    "asks for my password again",
    "freezes",
    "cannot connect",
    "is down for everyone",
    "crashes when saving",
    "stopped syncing",
    "drops every few minutes",
    "is not responding",
    "gives access denied",
    "prints blank pages",
    "lost my settings",
]
CONTEXTS = [
    "",
    "",
    "",
    "at home",
    "since this morning",
    "after the update",
    "on the 3rd floor",
    "again",
    "for the whole team",
    "in Lyon",
]
SERVICES = 20
CIS = 200
PROBLEMS = 300
BATCH = 50_000


def ensure_estate() -> tuple[list[int], list[int]]:
    service_class, _ = CIClass.objects.get_or_create(
        name="business_service", defaults={"label": "Business service"}
    )
    server, _ = CIClass.objects.get_or_create(name="server", defaults={"label": "Server"})
    for n in range(SERVICES):
        CI.objects.get_or_create(name=f"Bench service {n:02d}", ci_class=service_class)
    for n in range(CIS):
        CI.objects.get_or_create(name=f"bench-srv-{n:03d}", ci_class=server)
    services = list(
        CI.objects.filter(name__startswith="Bench service").values_list("pk", flat=True)
    )
    cis = list(CI.objects.filter(name__startswith="bench-srv-").values_list("pk", flat=True))
    return sorted(services), sorted(cis)


def ensure_problems(manager) -> None:
    if Problem.objects.count() >= PROBLEMS:
        return
    rng = random.Random(11)
    for n in range(PROBLEMS):
        subject, symptom = SUBJECTS[n % len(SUBJECTS)], rng.choice(SYMPTOMS)
        known = n % 2 == 0
        problem_services.open_problem(
            actor=manager,
            title=f"{subject} {symptom} ({n})",
            description=f"Many users report that {subject} {symptom}.",
            root_cause="Under analysis." if n % 3 else "",
            workaround=(
                f"Restart {subject} and sign in again; if it {symptom.split()[0]} still, use the "
                "web version meanwhile."
                if known
                else ""
            ),
            known_error=known,
            publish_workaround=known and n % 3 != 0,
        )


def ensure_incidents(rows: int, services: list[int], cis: list[int]) -> None:
    have = connection.cursor()
    have.execute("SELECT count(*) FROM incidents_incident")
    start = have.fetchone()[0] + 1
    if start > rows:
        return
    requester = User.objects.get(username="bench-requester").pk
    agents = list(
        User.objects.filter(username__startswith="bench-agent").values_list("pk", flat=True)
    )
    problems = list(Problem.objects.order_by("pk").values_list("pk", flat=True))
    with tqdm(total=rows - start + 1, desc="incidents", unit="row") as bar:
        while start <= rows:
            end = min(start + BATCH - 1, rows)
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    INSERT INTO incidents_incident (
                        number, title, description, state, requester_id, assignee_id,
                        impact, urgency, priority, major, hold_reason, resolution_code,
                        resolution_notes, csat_comment, created_at, updated_at, version,
                        service_id, ci_id, problem_id)
                    SELECT
                        'INC' || lpad(i::text, 7, '0'),
                        trim((%(subjects)s::text[])[1 + (i * 7) %% 30] || ' '
                             || (%(symptoms)s::text[])[1 + (i * 13) %% 15] || ' '
                             || (%(contexts)s::text[])[1 + (i * 17) %% 10]),
                        'Reported by phone, row ' || i,
                        CASE WHEN %(rows)s - i < %(rows)s / 26
                             THEN (ARRAY['new','in_progress','on_hold','in_progress'])[1 + i %% 4]
                             WHEN i %% 33 = 0 THEN 'in_progress'
                             ELSE (ARRAY['closed','closed','closed','resolved','canceled'])
                                  [1 + i %% 5] END,
                        %(requester)s,
                        (%(agents)s::bigint[])[1 + i %% array_length(%(agents)s::bigint[], 1)],
                        1 + i %% 3, 1 + (i / 3) %% 3, 1 + i %% 3 + (i / 3) %% 3, false,
                        '', '', '', '',
                        now() - make_interval(secs => (%(rows)s - i) * 31536000.0 / %(rows)s),
                        now() - make_interval(secs => (%(rows)s - i) * 31536000.0 / %(rows)s),
                        1,
                        (%(services)s::bigint[])[1 + ((i * 7) %% 30) %% %(nservices)s],
                        CASE WHEN i %% 5 < 3
                             THEN (%(cis)s::bigint[])[1 + (i * 31) %% %(ncis)s] END,
                        CASE WHEN i %% 10 = 0
                             THEN (%(problems)s::bigint[])[1 + (i / 10) %% %(nproblems)s] END
                    FROM generate_series(%(start)s, %(end)s) AS i
                    """,
                    {
                        "subjects": SUBJECTS,
                        "symptoms": SYMPTOMS,
                        "contexts": CONTEXTS,
                        "rows": rows,
                        "requester": requester,
                        "agents": agents,
                        "services": services,
                        "nservices": len(services),
                        "cis": cis,
                        "ncis": len(cis),
                        "problems": problems,
                        "nproblems": len(problems),
                        "start": start,
                        "end": end,
                    },
                )
            bar.update(end - start + 1)
            start = end + 1
    with connection.cursor() as cursor:
        # what ``itsm.search.refresh`` would have written (no comments in generated rows)
        cursor.execute(
            """
            UPDATE incidents_incident SET search_public =
                setweight(to_tsvector('simple', number), 'A')
                || setweight(to_tsvector('simple', title), 'A')
                || setweight(to_tsvector('simple', description), 'B')
            WHERE search_public IS NULL
            """
        )
        cursor.execute("SELECT setval('itsm_number_inc', %s)", [rows])
        cursor.execute("ANALYZE incidents_incident")


def ensure_clusters() -> None:
    pending = ClusteredIncident.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_incident")
        total = cursor.fetchone()[0]
    if pending >= total:
        return
    started = time.perf_counter()
    done = problem_services.cluster_unclustered(batch=5000)
    elapsed = time.perf_counter() - started
    print(f"clustered {done:,} incidents in {elapsed:.0f} s ({1000 * elapsed / done:.2f} ms each)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE problems_clusteredincident")
        cursor.execute("ANALYZE problems_titlecluster")


def time_call(label: str, call, repeat: int) -> dict:
    call()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "label": label,
        "p50": timings[len(timings) // 2],
        "p95": timings[int(len(timings) * 0.95) - 1],
        "queries": None,
    }


def run(*, rows: int, repeat: int) -> int:
    if connection.vendor != "postgresql":
        print("The benchmark needs PostgreSQL (set DATABASE_URL).")
        return 2
    call_command("migrate", verbosity=0)
    agent = ensure_people()
    manager = User.objects.filter(username="bench-problemmgr").first() or make_user(
        "bench-problemmgr", roles=("problem_manager", "agent")
    )
    enduser = User.objects.get(username="bench-requester")
    services, cis = ensure_estate()
    with without_mail():  # nobody is mailed about generated problems
        ensure_problems(manager)
    ensure_incidents(rows, services, cis)
    ensure_clusters()
    for problem in Problem.objects.all():
        search.refresh(problem)

    rng = random.Random(5)
    texts = [f"{rng.choice(SUBJECTS)} {rng.choice(SYMPTOMS)}".lower() for _ in range(repeat)] + [
        "vpn",
        "outlook password",
        "printer blank",
    ]
    open_numbers = list(
        Incident.objects.filter(state__in=["new", "in_progress", "on_hold"])
        .order_by("?")
        .values_list("number", flat=True)[:repeat]
    )
    linked = Problem.objects.order_by("pk").first()

    as_user, as_agent, as_manager = (Client(HTTP_HOST="localhost") for _ in range(3))
    as_user.force_login(enduser)
    as_agent.force_login(agent)
    as_manager.force_login(manager)
    in_process = [
        measure(
            as_user,
            "api: known-errors ?search (user)",
            [f"/api/v1/known-errors/?search={quote(t)}" for t in texts],
            repeat,
        ),
        measure(
            as_agent,
            "api: known-errors ?search (agent)",
            [f"/api/v1/known-errors/?search={quote(t)}" for t in texts],
            repeat,
        ),
        measure(
            as_user,
            "portal: knowledge ?q",
            [f"/portal/knowledge/?q={quote(t)}" for t in texts],
            repeat,
        ),
        measure(
            as_user,
            "portal: report suggestions",
            [f"/portal/report/suggestions/?title={quote(t)}" for t in texts],
            repeat,
        ),
        measure(
            as_agent,
            "desk: ticket page (reference)",
            [f"/desk/incidents/{n}/" for n in open_numbers],
            repeat,
        ),
        measure(
            as_agent,
            "desk: incident suggestions",
            [f"/desk/incidents/{n}/suggestions/" for n in open_numbers],
            repeat,
        ),
        measure(as_manager, "problems: list (all open)", ["/problems/?queue=open"], repeat),
        measure(as_manager, "problems: problem page", [linked.get_absolute_url()], repeat),
        measure(
            as_manager, "problems: candidates, 7 days", ["/problems/candidates/?days=7"], repeat
        ),
        measure(
            as_manager, "problems: candidates, 30 days", ["/problems/candidates/?days=30"], repeat
        ),
        measure(
            as_manager, "problems: candidates, 90 days", ["/problems/candidates/?days=90"], repeat
        ),
        measure(
            as_manager,
            "problems: candidates, 90 d, trend",
            ["/problems/candidates/?days=90&sort=trend"],
            repeat,
        ),
    ]
    print_table(f"{rows:,} incidents — {repeat} requests each, in process (ms)", in_process)
    window = candidates.Window.of(90)
    grouping = [
        time_call(f"groups({kind!r}, 90 days)", lambda k=kind: candidates.groups(k, window), repeat)
        for kind in candidates.KINDS
    ]
    print_table("the grouping alone, one SQL aggregate each (ms)", grouping)
    return 0
