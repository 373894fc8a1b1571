"""Impact analysis: what breaks when a CI fails, and what a CI depends on (SPEC §7).

A relationship ``source —type→ target`` reads "source depends on target": when the target fails,
the source is impacted. **Every relationship type propagates impact** (``depends_on``, ``runs_on``,
``hosted_on``, ``connects_to``, ``part_of`` alike): the spec gives them all that reading, so a CI's
*impact* is every CI with a path ``CI ← … ← source`` (walking from targets to sources) and its
*dependencies* are every CI reachable the other way. Relationships of retired CIs still count:
the answer describes the recorded estate; the rows carry each CI's status.

Both walks are one recursive SQL query, breadth-first, that returns each CI once with its
shortest distance (``depth``, 1 = a direct neighbour) and never loops on cycles. The plain
``UNION`` recipe (``WITH RECURSIVE walk(id) … UNION …``) terminates on cycles only while the row
is the bare id; adding the depth to the row makes every revisit of a cycle a "new" row again.
So each step of the recursion carries a whole BFS level instead: ``frontier`` (the ids first
reached at this depth) and ``seen`` (every id reached so far). The next level is the neighbours
of the frontier that are not yet seen; the walk stops on an empty frontier, so cycles end, and a
diamond's far corner is reached once, at its shortest depth.

- PostgreSQL keeps ``seen`` in a ``jsonb`` object (key lookup is a binary search), so the walk
  costs O((V + E) log V) over the part of the estate it reaches — see ``bench/cmdb_impact.py``.
- SQLite (the embedded demo) has no LATERAL and no ``jsonb`` index, so it keeps JSON arrays;
  membership tests are linear, which is fine for an embedded estate of a few thousand CIs.
"""

from dataclasses import dataclass, field

from django.db import connection

from .models import BUSINESS_SERVICE, CI

IMPACT = "impact"  # who is impacted when the CI fails: walk target → source
DEPENDENCIES = "dependencies"  # what the CI depends on: walk source → target
# (column we arrive on, column we leave by) for each direction
_COLUMNS = {IMPACT: ("target_id", "source_id"), DEPENDENCIES: ("source_id", "target_id")}

_POSTGRESQL = """
WITH RECURSIVE bfs(depth, frontier, seen) AS (
    SELECT 0, ARRAY[%(ci)s]::bigint[], jsonb_build_object(%(ci)s::text, 0)
  UNION ALL
    SELECT b.depth + 1, step.ids, b.seen || step.marks
    FROM bfs AS b
    CROSS JOIN LATERAL (
        SELECT array_agg(x.id) AS ids, jsonb_object_agg(x.id::text, 0) AS marks
        FROM (
            SELECT DISTINCT r.{far} AS id
            FROM cmdb_relationship AS r
            WHERE r.{near} = ANY(b.frontier) AND NOT b.seen ? r.{far}::text
        ) AS x
    ) AS step
    WHERE step.ids IS NOT NULL AND b.depth < %(max_depth)s
)
SELECT ci.id, b.depth, ci.name, cls.name, cls.label, ci.status, ci.environment, ci.criticality
FROM bfs AS b
CROSS JOIN LATERAL unnest(b.frontier) AS reached(id)
JOIN cmdb_ci AS ci ON ci.id = reached.id
JOIN cmdb_ciclass AS cls ON cls.id = ci.ci_class_id
WHERE b.depth > 0
ORDER BY b.depth, ci.name, ci.id
"""

_SQLITE = """
WITH RECURSIVE bfs(depth, frontier, seen) AS (
    SELECT 0, json_array(%(ci)s), json_array()
  UNION ALL
    SELECT
        b.depth + 1,
        (SELECT json_group_array(x.id) FROM (
            SELECT DISTINCT r.{far} AS id
            FROM cmdb_relationship AS r
            WHERE r.{near} IN (SELECT value FROM json_each(b.frontier))
              AND r.{far} NOT IN (SELECT value FROM json_each(b.frontier))
              AND r.{far} NOT IN (SELECT value FROM json_each(b.seen))
        ) AS x),
        (SELECT json_group_array(value) FROM (
            SELECT value FROM json_each(b.seen)
            UNION ALL SELECT value FROM json_each(b.frontier)
        ))
    FROM bfs AS b
    WHERE json_array_length(b.frontier) > 0 AND b.depth < %(max_depth)s
)
SELECT ci.id, b.depth, ci.name, cls.name, cls.label, ci.status, ci.environment, ci.criticality
FROM bfs AS b
JOIN json_each(b.frontier) AS reached
JOIN cmdb_ci AS ci ON ci.id = reached.value
JOIN cmdb_ciclass AS cls ON cls.id = ci.ci_class_id
WHERE b.depth > 0
ORDER BY b.depth, ci.name, ci.id
"""

# Deeper than any real estate; only bounds a walk the caller wants unbounded.
UNBOUNDED = 1_000_000


@dataclass(frozen=True)
class Reached:
    """One CI found by a walk, with what the impact view shows of it."""

    id: int
    depth: int
    name: str
    class_name: str
    class_label: str
    status: str
    environment: str
    criticality: int

    @property
    def is_service(self) -> bool:
        return self.class_name == BUSINESS_SERVICE

    @property
    def status_label(self) -> str:
        return str(CI.Status(self.status).label)

    @property
    def environment_label(self) -> str:
        return str(CI.Environment(self.environment).label)


@dataclass
class Walk:
    """The answer of ``impact_of`` or ``dependencies_of``."""

    ci_id: int
    direction: str
    cis: list[Reached] = field(default_factory=list)

    @property
    def services(self) -> list[Reached]:
        return [row for row in self.cis if row.is_service]

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self.cis]

    def depths(self) -> dict[int, int]:
        return {row.id: row.depth for row in self.cis}

    def by_depth(self) -> list[tuple[int, list[Reached]]]:
        levels: dict[int, list[Reached]] = {}
        for row in self.cis:
            levels.setdefault(row.depth, []).append(row)
        return sorted(levels.items())


def walk(ci_id: int, direction: str, *, max_depth: int | None = None) -> Walk:
    """Every CI reached from ``ci_id`` in ``direction`` (``IMPACT`` or ``DEPENDENCIES``),
    nearest first, each once with its shortest distance; ``max_depth`` stops the walk early."""
    near, far = _COLUMNS[direction]
    if connection.vendor == "postgresql":
        template = _POSTGRESQL
    elif connection.vendor == "sqlite":
        template = _SQLITE
    else:  # pragma: no cover - the project runs on PostgreSQL or SQLite only
        raise NotImplementedError(f"impact analysis on {connection.vendor}")
    # near/far come from _COLUMNS above, never from the caller: the format is not an injection.
    sql = template.format(near=near, far=far)
    params = {"ci": int(ci_id), "max_depth": UNBOUNDED if max_depth is None else int(max_depth)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return Walk(ci_id=ci_id, direction=direction, cis=[Reached(*row) for row in rows])


def impact_of(ci: CI | int, *, max_depth: int | None = None) -> Walk:
    """Every CI that transitively depends on ``ci`` (impacted when it fails)."""
    return walk(getattr(ci, "pk", ci), IMPACT, max_depth=max_depth)


def dependencies_of(ci: CI | int, *, max_depth: int | None = None) -> Walk:
    """Every CI ``ci`` transitively depends on (what a service needs to run)."""
    return walk(getattr(ci, "pk", ci), DEPENDENCIES, max_depth=max_depth)
