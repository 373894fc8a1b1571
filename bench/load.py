"""The desk under load: ``make bench`` (PostgreSQL and Redis; wrk from Debian's packages).

    python -m bench load [--size 1000000] [--duration 10] [--only NAME,NAME]

1. Fills the database of ``DATABASE_URL`` (use a dedicated one: the Makefile's
   ``BENCH_DATABASE_URL``) up to ``--size`` incidents, in SQL, with a progress bar: a working
   history (6 events, 14 replies and notes: 20 entries) on one ticket in ten, searchable text,
   SLA timers on every open ticket, 100,000 CIs and 300,000 relationships, 10,000 changes.
   What is already there is kept, so a second run starts measuring at once.
2. Starts the desk as production does: gunicorn with 2 sync workers, ``DEBUG=0``, Redis.
3. Loads each scenario with wrk at concurrency 1 and 8 for ``--duration`` seconds (after a
   warm-up), and records requests per second, p50/p95/p99, the page's query count (one request
   in process) and ``floor_ms``: the page's slowest SQL statement run alone through ``psql``.
4. Measures the SLA scanner (``bench.sla_notify``: due timers per second, each notifying) and
   its idle tick on the filled database, and the gunicorn workers' memory after the load.
5. Writes ``bench/results.json`` and ``bench/results.md`` (the table ``bench/README.md`` quotes).

Any non-2xx answer under load fails the run (exit code 1), as does a missed target.
"""

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tqdm import tqdm

from bench import incidents as incident_bench

HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "results.md"
HISTORY_SHARE = 10  # one ticket in ten carries a working history
SAMPLE = 200  # ticket pages the load cycles through
LUA = r"""
local paths, counter, body_template = {}, 0, nil
local thread_id = 0
local threads = {}
expected, unexpected = nil, 0  -- globals: done() reads them from each thread
setup = function(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  wrk.headers["Host"] = "localhost"
  if args[2] ~= "" then wrk.headers["Cookie"] = args[2] end
  if args[3] ~= "" then wrk.headers["Authorization"] = args[3] end
  if args[4] ~= "" then
    body_template = args[4]
    wrk.headers["Content-Type"] = "application/json"
  end
  if args[5] ~= "" then expected = tonumber(args[5]) end
  counter = tid * 1000003
end
-- A scenario that expects a refusal (a ceiling row: 404, 400) counts any other answer as an
-- error; wrk's own count (any status >= 400) serves the others.
response = function(status, headers, body)
  if expected and status ~= expected then unexpected = unexpected + 1 end
end
request = function()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  if body_template then
    return wrk.format("POST", path, nil, string.gsub(body_template, "#N#", tostring(counter)))
  end
  return wrk.format("GET", path)
end
done = function(summary, latency, requests)
  local status_errors = summary.errors.status
  if threads[1]:get("expected") then
    status_errors = 0
    for _, thread in ipairs(threads) do status_errors = status_errors + thread:get("unexpected") end
  end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
    '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration, status_errors, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""
CREATE_BODY = json.dumps(
    {
        "title": "Load test: VPN drops every 20 minutes (#N#)",
        "description": "Since this morning the VPN tunnel drops on Wi-Fi; wired is fine.",
        "impact": 2,
        "urgency": 2,
    }
)
CEILING_BODY = json.dumps({"description": "No title: refused before anything is written (#N#)"})
# The targets of the load benchmark (issue "Performance"): scenario → (concurrency, minimum rps)
# and every page's p95 at concurrency 8.
RPS_TARGETS = {("incident_detail", 8): 150, ("incident_create", 8): 250}
P95_LIMIT_MS = 150
DASHBOARD_LIMIT_MS = 500
SCANNER_TARGET = 2000
IDLE_TICK_LIMIT_MS = 20


# --- Filling ----------------------------------------------------------------------------------


def sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def scalar(statement: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


def fill_history() -> None:
    """Events and conversation on one ticket in ten (``id % 10 = 0``), in SQL: 6 events
    (created, team, assignee, three moves) and 14 replies of which every third is an internal
    note — 20 entries, the ticket page's realistic case."""
    missing = scalar(
        "SELECT count(*) FROM incidents_incident i WHERE i.id %% %s = 0 AND NOT EXISTS "
        "(SELECT 1 FROM incidents_incidentevent e WHERE e.ticket_id = i.id)",
        [HISTORY_SHARE],
    )
    if not missing:
        return
    top = scalar("SELECT max(id) FROM incidents_incident")
    step = 50_000
    with tqdm(total=top, desc="history", unit="id") as bar:
        for low in range(0, top + 1, step):
            high = low + step
            where = (
                f"i.id >= %s AND i.id < %s AND i.id %% {HISTORY_SHARE} = 0 AND NOT EXISTS "
                "(SELECT 1 FROM incidents_incidentevent e WHERE e.ticket_id = i.id)"
            )
            sql(
                f"""
                INSERT INTO incidents_incidentevent (ticket_id, at, field, old, new, internal,
                                                     actor_id)
                SELECT i.id, i.created_at + make_interval(mins => 7 * e.n), e.field,
                       e.old::jsonb,
                       CASE e.field
                         WHEN 'assignment_group' THEN to_jsonb(i.assignment_group_id)
                         WHEN 'assignee' THEN to_jsonb(coalesce(i.assignee_id, i.requester_id))
                         ELSE e.new::jsonb END,
                       false,
                       CASE WHEN e.n IN (1, 6) THEN i.requester_id
                            ELSE coalesce(i.assignee_id, i.requester_id) END
                FROM incidents_incident i CROSS JOIN (VALUES
                    (1, 'created', 'null', 'null'),
                    (2, 'assignment_group', 'null', 'null'),
                    (3, 'assignee', 'null', 'null'),
                    (4, 'state', '"new"', '"in_progress"'),
                    (5, 'state', '"in_progress"', '"on_hold"'),
                    (6, 'state', '"on_hold"', '"in_progress"')) AS e(n, field, old, new)
                WHERE {where}
                """,
                [low, high],
            )
            sql(
                f"""
                INSERT INTO incidents_incidentcomment (ticket_id, body, internal, created_at,
                                                       author_id)
                SELECT i.id, replace(%s, '%%s', c.n::text), c.n %% 3 = 2,
                       i.created_at + make_interval(mins => 60 + 7 * c.n),
                       CASE WHEN c.n %% 2 = 1 OR c.n %% 3 = 2
                            THEN coalesce(i.assignee_id, i.requester_id)
                            ELSE i.requester_id END
                FROM incidents_incident i CROSS JOIN generate_series(0, 13) AS c(n)
                WHERE i.id >= %s AND i.id < %s AND i.id %% {HISTORY_SHARE} = 0
                  AND NOT EXISTS (SELECT 1 FROM incidents_incidentcomment x
                                  WHERE x.ticket_id = i.id)
                """,
                [incident_bench.COMMENT, low, high],
            )
            bar.update(min(step, top + 1 - low))
    sql("ANALYZE incidents_incidentevent")
    sql("ANALYZE incidents_incidentcomment")


def fill_search() -> None:
    """The search vectors the services write (number, title, description, public replies)."""
    missing = scalar("SELECT count(*) FROM incidents_incident WHERE search_public IS NULL")
    if not missing:
        return
    top = scalar("SELECT max(id) FROM incidents_incident")
    step = 100_000
    with tqdm(total=top, desc="search", unit="id") as bar:
        for low in range(0, top + 1, step):
            sql(
                """
                UPDATE incidents_incident SET
                  search_public = setweight(to_tsvector('simple', number), 'A')
                    || setweight(to_tsvector('simple', title), 'A')
                    || setweight(to_tsvector('simple', description), 'B'),
                  search_internal = ''::tsvector
                WHERE id >= %s AND id < %s AND search_public IS NULL
                """,
                [low, low + step],
            )
            bar.update(min(step, top + 1 - low))


def fill_timers() -> None:
    """Response and resolution timers on every open incident, copied in SQL from one the engine
    made (so the row is what the engine writes), due in the future (the scanner has nothing to
    do until then: the idle tick is measured on them)."""
    from sla.models import Timer

    open_states = ("new", "in_progress", "on_hold")
    missing = scalar(
        "SELECT count(*) FROM incidents_incident i WHERE i.state = ANY(%s) AND NOT EXISTS "
        "(SELECT 1 FROM sla_timer t WHERE t.incident_id = i.id)",
        [list(open_states)],
    )
    if not missing:
        return
    template = _template_timers()
    top = scalar("SELECT max(id) FROM incidents_incident")
    step = 100_000
    columns = [
        f.column
        for f in Timer._meta.concrete_fields
        if f.column
        not in {
            "id",
            "incident_id",
            "request_id",
            "started_at",
            "last_change_at",
            "due_at",
            "next_check_at",
            "state",
            "clock",
            "created_at",
            "updated_at",
        }
    ]
    copied = ", ".join(f"t.{c}" for c in columns)
    with tqdm(total=top, desc="timers", unit="id") as bar:
        for low in range(0, top + 1, step):
            sql(
                f"""
                INSERT INTO sla_timer (incident_id, started_at, last_change_at, due_at,
                                       next_check_at, state, clock, created_at, updated_at,
                                       {", ".join(columns)})
                SELECT i.id, i.created_at, i.created_at,
                       now() + make_interval(mins => (60 + i.id %% 5000)::int),
                       now() + make_interval(mins => (30 + i.id %% 5000)::int),
                       CASE WHEN i.state = 'on_hold' THEN 'paused' ELSE 'running' END,
                       CASE WHEN i.state = 'on_hold' THEN 'paused' ELSE 'running' END,
                       i.created_at, i.created_at, {copied}
                FROM incidents_incident i CROSS JOIN sla_timer t
                WHERE t.id = ANY(%s) AND i.id >= %s AND i.id < %s AND i.state = ANY(%s)
                  AND i.id <> t.incident_id
                  AND NOT EXISTS (SELECT 1 FROM sla_timer x WHERE x.incident_id = i.id)
                """,
                [template, low, low + step, list(open_states)],
            )
            bar.update(min(step, top + 1 - low))
    sql("ANALYZE sla_timer")


def _template_timers() -> list[int]:
    """The timers of one incident opened through the service, under a bench policy (24x7
    calendar: 4 h response, 24 h resolution, warnings at 50 and 75 % to the assignee)."""
    from accounts.models import User
    from incidents import services
    from itsm.notify import without_mail
    from sla import config
    from sla.models import Policy, Timer

    existing = Timer.objects.filter(incident__title="Bench timer template").values_list(
        "pk", flat=True
    )
    if existing:
        return list(existing)
    if not Policy.objects.filter(name="Bench incidents").exists():
        config.save_policy(
            None,
            {
                "name": "Bench incidents",
                "calendar": config.default_calendar(),
                "response_seconds": 4 * 3600,
                "resolution_seconds": 24 * 3600,
                "warn_at": [50, 75],
                "warning_notify": ["assignee"],
                "breach_notify": ["assignee", "team_lead"],
            },
        )
    agent = User.objects.get(username="bench-agent-0")
    requester = User.objects.get(username="bench-requester")
    with without_mail():
        incident = services.open_incident(
            actor=agent,
            requester=requester,
            title="Bench timer template",
            description="The timers of this incident are copied onto every open one.",
            impact=2,
            urgency=2,
        )
    timers = list(Timer.objects.filter(incident=incident).values_list("pk", flat=True))
    if not timers:
        raise SystemExit("No SLA policy applied to the template incident.")
    return timers


def fill_cmdb() -> None:
    from bench import cmdb_impact

    mark = cmdb_impact.fingerprint(
        cmdb_impact.DEFAULT_CIS, cmdb_impact.DEFAULT_RELATIONSHIPS, seed=1
    )
    if cmdb_impact.stored_fingerprint() == mark:
        return
    print("CMDB: 100,000 CIs and 300,000 relationships")
    nodes, edges = cmdb_impact.generate(
        cmdb_impact.DEFAULT_CIS, cmdb_impact.DEFAULT_RELATIONSHIPS, 1
    )
    cmdb_impact.load(nodes, edges, seed=1, mark=mark)


def fill_changes() -> None:
    from bench import changes

    manager, member, cab = changes.ensure_people()
    changes.ensure_rows(10_000, manager, member, cab, changes.ensure_cis())


def fill(size: int) -> None:
    call_command("migrate", verbosity=0)
    fill_cmdb()  # first: it rewrites the CMDB tables (TRUNCATE … CASCADE)
    fill_changes()
    incident_bench.ensure_people()
    incident_bench.ensure_rows(size)
    fill_history()
    fill_search()
    fill_timers()
    # What autovacuum does on a live desk: the fill rewrote every row (search vectors), leaving a
    # million dead tuples and the full-text index's pending list; measured before this, the
    # search floor was 1,124 ms instead of tens.
    with tqdm(total=1, desc="vacuum") as bar:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        bar.update(1)


# --- Measuring --------------------------------------------------------------------------------


def people() -> dict:
    """Who each scenario runs as: an agent, the requester of the generated tickets, a manager
    and the change manager, each with a session (and the agent with an API token)."""
    from accounts import services as accounts
    from accounts.models import User
    from bench import changes
    from itsm.testing import make_user

    agent = User.objects.get(username="bench-agent-0")
    manager = User.objects.filter(username="bench-manager").first() or make_user(
        "bench-manager", roles=("manager",)
    )
    change_manager = changes.ensure_people()[0]
    requester = User.objects.get(username="bench-requester")
    sessions = {}
    for name, user in {
        "agent": agent,
        "requester": requester,
        "manager": manager,
        "change_manager": change_manager,
    }.items():
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        sessions[name] = client
    token = accounts.issue_token(agent)
    return {"clients": sessions, "token": token.key}


def scenarios(size: int) -> list[dict]:
    """name, who, paths (and a POST body for the create)."""
    from cmdb.models import CI

    numbers = [
        f"INC{n:07d}" for n in range(HISTORY_SHARE, size + 1, max(HISTORY_SHARE, size // SAMPLE))
    ][:SAMPLE]
    cis = list(
        CI.objects.filter(name__startswith="bench-")
        .order_by("pk")
        .values_list("pk", flat=True)[:: max(1, CI.objects.count() // SAMPLE)][:SAMPLE]
    )
    return [
        {"name": "desk_list", "who": "agent", "paths": ["/desk/?queue=open"]},
        {
            "name": "desk_list_filtered",
            "who": "agent",
            "paths": ["/desk/?queue=all&priority=1&state=new"],
        },
        {
            "name": "desk_search",
            "who": "agent",
            "paths": [f"/desk/?queue=all&q={word}" for word in ("vpn", "printer+jam", "disk")],
        },
        {
            "name": "incident_detail",
            "who": "agent",
            "paths": [f"/desk/incidents/{n}/" for n in numbers],
        },
        {
            "name": "incident_create",
            "who": "agent",
            "paths": ["/api/v1/incidents/"],
            "body": CREATE_BODY,
        },
        {"name": "portal_my_tickets", "who": "requester", "paths": ["/portal/tickets/"]},
        {"name": "sla_dashboard", "who": "manager", "paths": ["/sla/"]},
        {
            "name": "ci_impact",
            "who": "agent",
            "paths": [f"/api/v1/cmdb/cis/{pk}/impact/" for pk in cis],
        },
        {"name": "change_calendar", "who": "change_manager", "paths": ["/changes/calendar/"]},
        # Ceilings: the least a signed-in page and an API create cost on this stack, measured
        # the same way. A ticket number that does not exist answers 404 with the page chrome
        # (session, roles, one indexed read, the base template); a create without a title is
        # refused with 400 after token authentication, parsing and validation, writing nothing.
        # No scenario doing more than these can serve more requests per second than they do.
        {
            "name": "ceiling_page",
            "who": "agent",
            "paths": ["/desk/incidents/INC0000000/"],
            "status": 404,
        },
        {
            "name": "ceiling_create",
            "who": "agent",
            "paths": ["/api/v1/incidents/"],
            "body": CEILING_BODY,
            "status": 400,
        },
    ]


def page_queries(client: Client, scenario: dict, token: str) -> tuple[int, str]:
    """One request per path (the first three) in process: the most queries a request made,
    and the slowest statement's SQL among them (the desk search's three words plan apart)."""
    counts, statements = [], []
    for path in scenario["paths"][:3]:
        with CaptureQueriesContext(connection) as captured:
            if "body" in scenario:
                response = client.post(
                    path,
                    scenario["body"].replace("#N#", "query count"),
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Token {token}",
                )
            else:
                response = client.get(path)
        if response.status_code != scenario.get("status", response.status_code) or (
            "status" not in scenario and response.status_code >= 300
        ):
            raise SystemExit(f"{scenario['name']}: {path} answered {response.status_code}")
        counts.append(len(captured))
        reads = [
            q
            for q in captured.captured_queries
            if q["sql"].lstrip().upper()[:6] in ("SELECT", "WITH R", "WITH (", "WITH")
        ]
        statements += reads or captured.captured_queries
    slowest = max(statements, key=lambda q: float(q["time"]))
    return max(counts), slowest["sql"]


def floor_ms(statement: str) -> float | None:
    """The statement run alone through psql, median of five (``\\timing``)."""
    psql = shutil.which("psql")
    if psql is None:
        return None
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    args = [
        psql,
        "-X",
        "-q",
        "-h",
        settings.get("HOST") or "127.0.0.1",
        "-p",
        str(settings.get("PORT") or 5432),
        "-U",
        settings.get("USER") or "postgres",
        "-d",
        settings["NAME"],
        "-c",
        "\\timing on",
    ]
    for _ in range(6):
        args += ["-c", statement]
    output = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    times = [float(t) for t in re.findall(r"^Time: ([0-9.]+) ms", output.stdout, re.M)]
    return round(statistics.median(times[1:]), 2) if len(times) > 1 else None


def wrk(port: int, scenario: dict, cookie: str, token: str, *, concurrency: int, duration: int):
    """wrk against the running desk; the Lua script cycles through the scenario's paths."""
    with tempfile.TemporaryDirectory() as work:
        script = Path(work, "bench.lua")
        script.write_text(LUA)
        paths = Path(work, "paths.txt")
        paths.write_text("\n".join(scenario["paths"]) + "\n")
        body = scenario.get("body", "")
        authorization = f"Token {token}" if body else ""
        cookie = "" if body else cookie
        command = [
            "wrk",
            f"-t{min(concurrency, 2)}",
            f"-c{concurrency}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
            "--",
            str(paths),
            cookie,
            authorization,
            body,
            str(scenario.get("status", "")),
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = json.loads(re.search(r"^RESULT (.*)$", output, re.M).group(1))
    seconds = result["duration_us"] / 1e6
    errors = sum(
        result[k]
        for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return {
        "rps": round(result["requests"] / seconds, 1),
        "p50_ms": round(result["p50_ms"], 1),
        "p95_ms": round(result["p95_ms"], 1),
        "p99_ms": round(result["p99_ms"], 1),
        "requests": result["requests"],
        "errors": errors,
    }


def gunicorn_rss_mb(server: subprocess.Popen) -> float:
    """Resident memory of the gunicorn master and its workers, in MB."""
    pids = [server.pid]
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            match = re.search(r"^VmRSS:\s+(\d+) kB", status.read_text(), re.M)
            total += int(match.group(1)) if match else 0
    return round(total / 1024, 1)


def scanner_figures() -> dict:
    """Due timers per second with one notification each (``bench.sla_notify``, its own
    database) and the idle tick here: a scan when none of the open timers is due."""
    from sla.scanner import scan_due

    output = subprocess.run(
        [sys.executable, "-m", "bench.sla_notify", "--timers", "2000", "--rounds", "3"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"median: ([0-9.]+) timers/s", output).group(1))
    # The filled timers run on the wall clock: some come due while the benchmark runs. Those
    # are processed first (up to two minutes), so that the ticks below find nothing due.
    deadline = time.monotonic() + 120
    while scan_due() and time.monotonic() < deadline:
        pass
    ticks = []
    for _ in range(20):
        started = time.perf_counter()
        scan_due()
        ticks.append((time.perf_counter() - started) * 1000)
    open_timers = scalar("SELECT count(*) FROM sla_timer WHERE clock <> 'stopped'")
    return {
        "timers_per_s": rate,
        "idle_tick_ms": round(statistics.median(ticks), 2),
        "open_timers": open_timers,
    }


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.*)$", cpuinfo.read_text(), re.M)
        model = found.group(1).strip() if found else ""
    server = scalar("SHOW server_version")
    return (
        f"{os.cpu_count()} CPU {model}; Python {platform.python_version()}; "
        f"PostgreSQL {server}; {platform.system()} {platform.release()}"
    )


def check_targets(results: dict) -> list[str]:
    missed = []
    by_key = {(s["name"], s["concurrency"]): s for s in results["scenarios"]}
    for key, minimum in RPS_TARGETS.items():
        if key in by_key and by_key[key]["rps"] < minimum:
            missed.append(f"{key[0]} c{key[1]}: {by_key[key]['rps']} rps < {minimum}")
    for scenario in results["scenarios"]:
        if scenario["errors"]:
            missed.append(f"{scenario['name']} c{scenario['concurrency']}: errors")
        if scenario["concurrency"] == 8 and not scenario["name"].startswith("ceiling_"):
            limit = DASHBOARD_LIMIT_MS if scenario["name"] == "sla_dashboard" else P95_LIMIT_MS
            if scenario["p95_ms"] > limit:
                missed.append(f"{scenario['name']} c8: p95 {scenario['p95_ms']} ms > {limit} ms")
    scanner = results.get("scanner") or {}
    if scanner and scanner["timers_per_s"] < SCANNER_TARGET:
        missed.append(f"scanner: {scanner['timers_per_s']} timers/s < {SCANNER_TARGET}")
    if scanner and scanner["idle_tick_ms"] > IDLE_TICK_LIMIT_MS:
        missed.append(f"scanner idle tick {scanner['idle_tick_ms']} ms > {IDLE_TICK_LIMIT_MS}")
    return missed


def markdown(results: dict) -> str:
    lines = [
        f"{results['size']:,} incidents — {results['machine']}",
        "",
        f"gunicorn 2 sync workers, DEBUG=0, wrk {results['duration_s']} s per row; "
        f"{results['date']}",
        "",
        "| scenario | c | rps | p50 ms | p95 ms | p99 ms | queries | floor ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in results["scenarios"]:
        lines.append(
            f"| {s['name']} | {s['concurrency']} | {s['rps']} | {s['p50_ms']} | {s['p95_ms']} "
            f"| {s['p99_ms']} | {s['queries']} | {s['floor_ms']} |"
        )
    scanner = results.get("scanner")
    if scanner:
        lines += [
            "",
            f"SLA scanner: {scanner['timers_per_s']} due timers/s (one notification each); "
            f"idle tick {scanner['idle_tick_ms']} ms over {scanner['open_timers']:,} open "
            "timers.",
        ]
    lines += ["", f"gunicorn resident memory after the load: {results['rss_mb']} MB."]
    return "\n".join(lines) + "\n"


def run(*, size: int, duration: int, only: set[str] | None, scanner: bool) -> int:
    if connection.vendor != "postgresql":
        print("The benchmark needs PostgreSQL (set DATABASE_URL).")
        return 2
    if shutil.which("wrk") is None:
        print("The benchmark needs wrk: apt-get install wrk")
        return 2
    fill(size)
    who = people()
    chosen = [s for s in scenarios(size) if not only or s["name"] in only]
    measured = []
    port = incident_bench._free_port()
    server = incident_bench.start_gunicorn(port)
    try:
        for scenario in chosen:
            client = who["clients"][scenario["who"]]
            queries, statement = page_queries(client, scenario, who["token"])
            floor = floor_ms(statement)
            cookie = f"sessionid={client.cookies['sessionid'].value}"
            wrk(port, scenario, cookie, who["token"], concurrency=2, duration=2)  # warm-up
            for concurrency in (1, 8):
                figures = wrk(
                    port,
                    scenario,
                    cookie,
                    who["token"],
                    concurrency=concurrency,
                    duration=duration,
                )
                row = {
                    "name": scenario["name"],
                    "concurrency": concurrency,
                    **figures,
                    "queries": queries,
                    "floor_ms": floor,
                }
                measured.append(row)
                print(
                    f"{row['name']:<20} c{concurrency}: {row['rps']:>7} rps  p50 "
                    f"{row['p50_ms']:>6} p95 {row['p95_ms']:>6} p99 {row['p99_ms']:>6} ms  "
                    f"{queries} queries  floor {floor} ms  errors {row['errors']}"
                )
        rss = gunicorn_rss_mb(server)
    finally:
        server.terminate()
        server.wait(timeout=30)
    results = {
        "size": scalar("SELECT count(*) FROM incidents_incident"),
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "duration_s": duration,
        "scenarios": measured,
        "scanner": scanner_figures() if scanner else None,
        "rss_mb": rss,
    }
    missed = check_targets(results)
    results["missed"] = missed
    RESULTS_JSON.write_text(json.dumps(results, indent=2) + "\n")
    RESULTS_MD.write_text(markdown(results))
    print("\n" + markdown(results))
    print(
        f"written: {RESULTS_JSON.relative_to(HERE.parent)}, {RESULTS_MD.relative_to(HERE.parent)}"
    )
    for line in missed:
        print(f"MISSED {line}")
    return 1 if missed else 0
