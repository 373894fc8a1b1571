"""Impact analysis on a large estate: 100,000 CIs and 300,000 relationships (PostgreSQL only).

    .venv/bin/python -m bench.cmdb_impact [--cis 100000] [--relationships 300000]
                                          [--samples 300] [--verify 40] [--seed 1] [--fresh]

Works in its own database, ``<DATABASE_URL's name>_cmdb_bench`` (created and migrated on the
first run, kept afterwards, so later runs skip the generation), never in the one the URL names.
The estate is generated in memory and written with ``COPY``: a layered enterprise (business
services → applications → databases → VMs → hypervisor hosts → storage and a switched network,
plus cloud resources), with the cross-links real estates have — applications calling each
other, HA pairs pointing at each other (cycles), redundant uplinks (diamonds) — and a few
thousand random links on top. Then it times ``impact_of`` (the recursive query, display columns
included) and ``dependencies_of`` for ``--samples`` random CIs, reports p50/p95/p99/max and the
sizes of the answers, and checks the first ``--verify`` answers against a breadth-first search
in Python over the same relationships.
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections import deque

DEFAULT_CIS = 100_000
DEFAULT_RELATIONSHIPS = 300_000
PREFIX = "bench-"
GENERATOR = 2  # bump when generate() changes: a kept estate from another version is rebuilt
# share of the CIs per class (sums to 1)
MIX = {
    "business_service": 0.01,
    "application": 0.12,
    "database": 0.08,
    "server": 0.55,
    "network_device": 0.08,
    "storage": 0.02,
    "cloud_resource": 0.14,
}


def generate(cis: int, relationships: int, seed: int):
    """``(nodes, edges)``: ``nodes`` is a list of class names (index = CI number), ``edges`` a
    set of ``(source, type, target)`` with source != target.

    Business domains (about 400 CIs each: a few services with their applications, databases,
    VMs and cloud resources) are wired mostly inside themselves; what they share is what real
    estates share: a handful of platform applications (identity, messaging), the hypervisor
    hosts, the storage arrays and the network, whose failure impacts thousands of CIs.
    """
    rng = random.Random(seed)
    counts = {name: max(int(cis * share), 1) for name, share in MIX.items()}
    counts["server"] += cis - sum(counts.values())
    nodes: list[str] = []
    ranges: dict[str, range] = {}
    for name, count in counts.items():
        ranges[name] = range(len(nodes), len(nodes) + count)
        nodes.extend([name] * count)
    services, apps, dbs = ranges["business_service"], ranges["application"], ranges["database"]
    servers, network, storage = ranges["server"], ranges["network_device"], ranges["storage"]
    cloud = ranges["cloud_resource"]
    hosts = range(servers.start, servers.start + len(servers) // 18)  # hypervisor hosts
    vms = range(hosts.stop, servers.stop)
    core = range(network.start, network.start + max(len(network) // 50, 2))
    access = range(core.stop, network.stop)
    platform = range(apps.start, apps.start + max(len(apps) // 500, 2))  # identity, messaging
    domains = max(cis // 400, 1)
    edges: set[tuple[int, str, int]] = set()

    def add(source: int, rel_type: str, target: int) -> None:
        if source != target:
            edges.add((source, rel_type, target))

    def pick(pool: range) -> int:
        return pool[rng.randrange(len(pool))]

    def domain(pool: range, member: int) -> int:
        return (member - pool.start) * domains // len(pool)

    def local(pool: range, number: int) -> int:
        """A random member of ``pool`` in business domain ``number``."""
        low = pool.start + -(-number * len(pool) // domains)
        high = pool.start + -(-(number + 1) * len(pool) // domains)
        return pool[rng.randrange(low - pool.start, max(high, low + 1) - pool.start)]

    for service in services:
        home = domain(services, service)
        for _ in range(rng.randint(2, 6)):
            add(service, "depends_on", local(apps, home))
        if rng.random() < 0.05:
            add(service, "depends_on", pick(services))  # a service built on another one
    for app in apps:
        home = domain(apps, app)
        add(app, "depends_on", local(dbs, home))
        for _ in range(2):
            add(app, "runs_on", local(vms, home) if rng.random() < 0.8 else local(cloud, home))
        if rng.random() < 0.3:
            add(app, "connects_to", local(apps, home))  # integrations (cycles in a domain)
        if rng.random() < 0.3:
            add(app, "depends_on", pick(platform))
        if rng.random() < 0.01:
            add(app, "connects_to", pick(apps))  # the odd integration across domains
    for db in dbs:
        for _ in range(2):
            add(db, "hosted_on", local(vms, domain(dbs, db)))
    for vm in vms:
        add(vm, "hosted_on", pick(hosts))
    for host in hosts:
        add(host, "depends_on", pick(storage))
    for server in servers:
        first = pick(access)
        add(server, "connects_to", first)
        add(server, "connects_to", access[(first - access.start + 1) % len(access)])  # diamond
    for switch in access:
        add(switch, "connects_to", pick(core))
        add(switch, "connects_to", pick(core))
    for index, router in enumerate(core):  # HA pairs: each needs the other (cycles)
        add(router, "connects_to", core[index ^ 1] if (index ^ 1) < len(core) else core[0])
    for array in storage:
        add(array, "connects_to", pick(core))
    for resource in cloud:
        if rng.random() < 0.7:
            add(resource, "depends_on", local(cloud, domain(cloud, resource)))
    layers = [vms, dbs, cloud, apps]
    while len(edges) < relationships:  # the rest: clustering and replication inside a domain
        layer = rng.choice(layers)
        home = rng.randrange(domains)
        add(local(layer, home), rng.choice(["connects_to", "depends_on"]), local(layer, home))
    while len(edges) > relationships:
        edges.pop()
    return nodes, edges


def bfs(neighbours: dict[int, list[int]], start: int) -> dict[int, int]:
    distance = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for other in neighbours.get(node, ()):
            if other not in distance:
                distance[other] = distance[node] + 1
                queue.append(other)
    del distance[start]
    return distance


def use_bench_database(fresh: bool) -> str:
    """Switch the default connection to the dedicated bench database (created if missing)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench.cmdb_impact needs PostgreSQL: set DATABASE_URL.")
    name = f"{connection.settings_dict['NAME']}_cmdb_bench"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False, keepdb=not fresh
    )
    return name


def fingerprint(cis: int, relationships: int, seed: int) -> str:
    return (
        f"bench.cmdb_impact generator={GENERATOR} cis={cis} "
        f"relationships={relationships} seed={seed}"
    )


def stored_fingerprint() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description('cmdb_ci'::regclass, 'pg_class')")
        return cursor.fetchone()[0] or ""


def load(nodes: list[str], edges, *, seed: int, mark: str) -> None:
    """Write the estate with COPY; return {CI number: database id}."""
    from django.db import connection
    from django.utils import timezone

    from cmdb.classes import ensure_default_classes
    from cmdb.models import CIClass

    ensure_default_classes()
    class_ids = dict(CIClass.objects.values_list("name", "pk"))
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE cmdb_cievent, cmdb_relationship, cmdb_ci RESTART IDENTITY CASCADE")
    raw = connection.connection
    statuses = ["in_service"] * 18 + ["planned", "retired"]
    rng = random.Random(seed)
    with raw.cursor() as cursor:
        columns = (
            "id, created_at, updated_at, name, ci_class_id, status, environment, criticality, "
            "supplier, description, attributes, version"
        )
        with cursor.copy(f"COPY cmdb_ci ({columns}) FROM STDIN") as copy:
            for number, class_name in enumerate(nodes):
                copy.write_row(
                    (
                        number + 1,
                        now,
                        now,
                        f"{PREFIX}{class_name}-{number:06d}",
                        class_ids[class_name],
                        rng.choice(statuses),
                        "production",
                        1 + number % 4,
                        "",
                        "",
                        "{}",
                        1,
                    )
                )
        with cursor.copy(
            "COPY cmdb_relationship (source_id, type, target_id, created_at) FROM STDIN"
        ) as copy:
            for source, rel_type, target in edges:
                copy.write_row((source + 1, rel_type, target + 1, now))
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('cmdb_ci', 'id'), (SELECT max(id) FROM cmdb_ci))"
        )
        cursor.execute("ANALYZE cmdb_ci")
        cursor.execute("ANALYZE cmdb_relationship")
        cursor.execute(f"COMMENT ON TABLE cmdb_ci IS '{mark}'")  # mark: digits and words only
    if not raw.autocommit:
        raw.commit()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(share * (len(ordered) - 1))), len(ordered) - 1)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cmdb_impact", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--cis", type=int, default=DEFAULT_CIS)
    parser.add_argument("--relationships", type=int, default=DEFAULT_RELATIONSHIPS)
    parser.add_argument("--samples", type=int, default=300, help="random CIs to time")
    parser.add_argument("--verify", type=int, default=40, help="answers checked against a BFS")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fresh", action="store_true", help="recreate the bench database")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")
    import django

    django.setup()
    from cmdb.impact import DEPENDENCIES, IMPACT, walk
    from cmdb.models import CI, Relationship

    started = time.perf_counter()
    database = use_bench_database(args.fresh)
    nodes, edges = generate(args.cis, args.relationships, args.seed)
    mark = fingerprint(args.cis, args.relationships, args.seed)
    if stored_fingerprint() == mark and not args.fresh:
        print(f"{database}: reusing the estate ({mark})")
    else:
        load(nodes, edges, seed=args.seed, mark=mark)
        print(
            f"{database}: wrote {len(nodes):,} CIs and {len(edges):,} relationships "
            f"in {time.perf_counter() - started:.1f} s"
        )
    into: dict[int, list[int]] = {}
    out: dict[int, list[int]] = {}
    for source, target in Relationship.objects.values_list("source_id", "target_id").iterator(
        chunk_size=50_000
    ):
        into.setdefault(target, []).append(source)
        out.setdefault(source, []).append(target)
    ids = list(CI.objects.filter(name__startswith=PREFIX).values_list("pk", flat=True))
    rng = random.Random(args.seed + 1)
    sample = rng.sample(ids, min(args.samples, len(ids)))
    walk(sample[0], IMPACT)  # warm the connection and the plan cache
    report = []
    mismatches = 0
    for direction, neighbours in ((IMPACT, into), (DEPENDENCIES, out)):
        times, sizes, services = [], [], []
        for index, ci_id in enumerate(sample):
            tick = time.perf_counter()
            result = walk(ci_id, direction)
            times.append((time.perf_counter() - tick) * 1000)
            sizes.append(len(result.cis))
            services.append(len(result.services))
            if index < args.verify and result.depths() != bfs(neighbours, ci_id):
                mismatches += 1
                print(f"MISMATCH {direction} of CI {ci_id}", file=sys.stderr)
        report.append((direction, times, sizes, services))
    print(f"\n{len(nodes):,} CIs, {len(edges):,} relationships; {len(sample)} random CIs each way")
    print(
        f"{'walk':<13}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'CIs p50':>9}{'CIs p95':>9}{'CIs max':>9}{'services p95':>14}"
    )
    for direction, times, sizes, services in report:
        print(
            f"{direction:<13}{percentile(times, 0.5):>9.1f}{percentile(times, 0.95):>9.1f}"
            f"{percentile(times, 0.99):>9.1f}{max(times):>9.1f}{statistics.median(sizes):>9.0f}"
            f"{percentile(sizes, 0.95):>9.0f}{max(sizes):>9,}{percentile(services, 0.95):>14.0f}"
        )
    checked = min(args.verify, len(sample)) * 2
    print(f"\nchecked against a Python BFS: {checked - mismatches}/{checked} identical")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
