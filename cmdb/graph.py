"""The neighbourhood drawn on a CI's page: the CIs a few steps away both ways, the
relationships among them, and what was left out to keep the drawing readable.

Readability rules: a level (one side, one distance) shows at most ``level_cap`` CIs — business
services first, then by criticality and name — and the rest of that level becomes one summary
node ("+58 more: 55 servers, 3 applications"); that side stops there, since a partial level
would make the next one misleading. The full answers stay in the impact list and the API.
"""

from collections import Counter
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from .impact import Reached, Walk, dependencies_of, impact_of
from .models import CI, Relationship, translated

LEVEL_CAP = 20
UP, DOWN, FOCUS = "up", "down", "focus"


@dataclass
class Neighbourhood:
    ci: CI
    depth: int
    upstream: Walk  # what the CI depends on
    downstream: Walk  # what depends on the CI (its impact)
    nodes: list[dict]
    edges: list[dict]
    hidden: int  # CIs within ``depth`` that are not drawn (summarised or beyond a summary)

    def as_json(self) -> dict:
        return {"focus": self.ci.pk, "nodes": self.nodes, "edges": self.edges}

    @property
    def classes(self) -> list[tuple[str, str]]:
        """The classes drawn, for the legend."""
        drawn = {(n["class"], n["class_label"]) for n in self.nodes if not n.get("summary")}
        return sorted(drawn, key=lambda item: item[1])

    def _links(self) -> dict:
        labels = dict(Relationship.Type.choices)
        by_id = {node["id"]: node for node in self.nodes}
        links: dict = {}
        for edge in self.edges:
            label = labels.get(edge["type"], edge["type"])
            links.setdefault(edge["source"], []).append((label, by_id[edge["target"]]))
        return links

    @property
    def focus_links(self) -> list[tuple[str, dict]]:
        return self._links().get(self.ci.pk, [])

    def outline(self) -> list[dict]:
        """The drawing as text, for the accessible list: each side, level by level, each CI
        with its relationships towards other drawn CIs."""
        links = self._links()
        sections = []
        for side in (UP, DOWN):
            levels: dict[int, list[dict]] = {}
            for node in self.nodes:
                if node["side"] == side:
                    levels.setdefault(node["depth"], []).append(
                        {**node, "links": links.get(node["id"], [])}
                    )
            sections.append({"side": side, "levels": sorted(levels.items())})
        return sections


def _priority(row: Reached):
    return (not row.is_service, row.criticality, row.name.lower(), row.id)


def _node(row: Reached, side: str) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "class": row.class_name,
        "class_label": translated(row.class_label),
        "status": row.status,
        "criticality": row.criticality,
        "depth": row.depth,
        "side": side,
        "service": row.is_service,
        "url": reverse("cmdb:ci_detail", args=[row.id]),
    }


def _summary(key: str, side: str, depth: int, members: list[Reached]) -> dict:
    counts = Counter(translated(row.class_label) for row in members)
    breakdown = ", ".join(f"{count} × {label}" for label, count in counts.most_common())
    return {
        "id": key,
        "name": _("+%(count)d more") % {"count": len(members)},
        "class": "more",
        "class_label": breakdown,
        "status": "",
        "criticality": 4,
        "depth": depth,
        "side": side,
        "service": False,
        "summary": True,
        "count": len(members),
        "url": "#impact" if side == DOWN else "",
    }


def neighbourhood(
    ci: CI, *, depth: int = 2, level_cap: int = LEVEL_CAP, limit: int = 250
) -> Neighbourhood:
    """The CIs within ``depth`` steps of ``ci`` both ways and the relationships among them."""
    upstream = dependencies_of(ci, max_depth=depth)
    downstream = impact_of(ci, max_depth=depth)
    kept: dict[int, dict] = {}
    summaries: list[dict] = []
    members: dict[int, str] = {}  # CI id -> the summary node it is folded into
    hidden = 0
    for side, walk in ((DOWN, downstream), (UP, upstream)):
        stopped = False
        for level, rows in walk.by_depth():
            rows = sorted((r for r in rows if r.id != ci.pk and r.id not in kept), key=_priority)
            if stopped:
                hidden += len(rows)
                continue
            room = max(min(level_cap, limit - 1 - len(kept)), 0)
            if len(rows) <= room + 1 and len(kept) + len(rows) < limit:
                room = len(rows)
            for row in rows[:room]:
                kept[row.id] = _node(row, side)
            rest = rows[room:]
            if rest:
                summary = _summary(f"more-{side}-{level}", side, level, rest)
                summaries.append(summary)
                members.update({row.id: summary["id"] for row in rest})
                hidden += len(rest)
                stopped = True
    focus = _node(
        Reached(
            ci.pk,
            0,
            ci.name,
            ci.ci_class.name,
            ci.ci_class.display_label,
            ci.status,
            ci.environment,
            ci.criticality,
        ),
        FOCUS,
    )
    nodes = [focus, *kept.values(), *summaries]
    return Neighbourhood(
        ci=ci,
        depth=depth,
        upstream=upstream,
        downstream=downstream,
        nodes=nodes,
        edges=_edges([ci.pk, *kept], members),
        hidden=hidden,
    )


def _edges(drawn: list[int], members: dict[int, str]) -> list[dict]:
    """Relationships among drawn CIs, plus one edge per (summary, drawn CI) pair."""
    ids = [*drawn, *members]
    drawn_set = set(drawn)
    edges, folded = [], {}
    rows = (
        Relationship.objects.filter(source_id__in=ids, target_id__in=ids)
        .order_by("id")
        .values_list("id", "source_id", "target_id", "type")
    )
    for rel_id, source, target, rel_type in rows:
        if source in drawn_set and target in drawn_set:
            edges.append({"id": rel_id, "source": source, "target": target, "type": rel_type})
            continue
        ends = (members.get(source, source), members.get(target, target))
        if ends[0] == ends[1] or not all(e in drawn_set or isinstance(e, str) for e in ends):
            continue
        previous = folded.get(ends)
        folded[ends] = rel_type if previous in (None, rel_type) else ""
    for (source, target), rel_type in folded.items():
        edges.append(
            {"id": f"{source}-{target}", "source": source, "target": target, "type": rel_type}
        )
    return edges
