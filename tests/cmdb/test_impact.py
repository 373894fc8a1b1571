"""Impact analysis against an independent breadth-first search, on diamonds, cycles and random
graphs (hypothesis), on whichever database the suite runs (PostgreSQL or SQLite)."""

import random
from collections import deque

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmdb import services
from cmdb.impact import dependencies_of, impact_of
from cmdb.models import CI, Relationship

TYPES = Relationship.Type.values


def bfs(edges, start, *, reverse=False, max_depth=None) -> dict[int, int]:
    """Shortest distances from ``start``: over ``source -> target`` edges walked from target to
    source (impact) or, with ``reverse``, from source to target (dependencies)."""
    neighbours: dict[int, list[int]] = {}
    for source, target in edges:
        near, far = (source, target) if reverse else (target, source)
        neighbours.setdefault(near, []).append(far)
    distance = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if max_depth is not None and distance[node] >= max_depth:
            continue
        for other in neighbours.get(node, ()):
            if other not in distance:
                distance[other] = distance[node] + 1
                queue.append(other)
    del distance[start]
    return distance


def link(edges, cis):
    Relationship.objects.bulk_create(
        Relationship(source=cis[s], target=cis[t], type=TYPES[(s + t) % len(TYPES)])
        for s, t in edges
    )


@pytest.fixture
def letters(make_ci):
    """CIs A..F; F is a business service."""
    cis = {name: make_ci("server", name) for name in "ABCDE"}
    cis["F"] = make_ci("business_service", "F")
    return cis


def names(walk):
    return {row.name: row.depth for row in walk.cis}


def test_a_diamond_is_reached_once_at_its_shortest_distance(letters, alice):
    a, b, c, d = (letters[n] for n in "ABCD")
    for source, target in ((a, b), (a, c), (b, d), (c, d), (a, d)):
        services.relate(source, target, "depends_on", actor=alice)
    assert names(impact_of(d)) == {"A": 1, "B": 1, "C": 1}
    assert names(dependencies_of(a)) == {"B": 1, "C": 1, "D": 1}
    assert [row.name for row in impact_of(d).cis] == ["A", "B", "C"]  # nearest, then by name


def test_a_cycle_ends_and_leaves_the_ci_itself_out(letters, alice):
    a, b, c = (letters[n] for n in "ABC")
    services.relate(a, b, "connects_to", actor=alice)
    services.relate(b, c, "connects_to", actor=alice)
    services.relate(c, a, "connects_to", actor=alice)
    assert names(impact_of(a)) == {"C": 1, "B": 2}
    assert names(dependencies_of(a)) == {"B": 1, "C": 2}


def test_every_relationship_type_propagates_impact(letters, alice):
    chain = [letters[n] for n in "ABCDEF"]
    for (source, target), rel_type in zip(zip(chain[1:], chain, strict=False), TYPES, strict=True):
        services.relate(source, target, rel_type, actor=alice)
    assert names(impact_of(letters["A"])) == {"B": 1, "C": 2, "D": 3, "E": 4, "F": 5}


def test_the_services_among_the_impacted(letters, alice):
    services.relate(letters["F"], letters["B"], "depends_on", actor=alice)
    services.relate(letters["B"], letters["A"], "runs_on", actor=alice)
    result = impact_of(letters["A"])
    assert [row.name for row in result.services] == ["F"]
    assert result.services[0].depth == 2
    assert impact_of(letters["F"]).cis == []


def test_max_depth_stops_the_walk(letters, alice):
    chain = [letters[n] for n in "ABCDE"]
    for source, target in zip(chain[1:], chain, strict=False):
        services.relate(source, target, "depends_on", actor=alice)
    assert names(impact_of(letters["A"], max_depth=2)) == {"B": 1, "C": 2}


def test_a_ci_without_relationships_impacts_nothing(letters):
    assert impact_of(letters["A"]).cis == []
    assert dependencies_of(letters["A"]).cis == []


NODES = 12
edge = st.tuples(st.integers(0, NODES - 1), st.integers(0, NODES - 1)).filter(
    lambda e: e[0] != e[1]
)


@pytest.fixture
def dozen(make_ci):
    return [make_ci("server", f"n{index:02d}") for index in range(NODES)]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edges=st.sets(edge, max_size=36),
    start=st.integers(0, NODES - 1),
    max_depth=st.none() | st.integers(1, 4),
)
def test_both_walks_match_a_breadth_first_search(dozen, edges, start, max_depth):
    with transaction.atomic():
        link(edges, dozen)
        ids = {ci.pk: index for index, ci in enumerate(dozen)}
        for walk, reverse in ((impact_of, False), (dependencies_of, True)):
            got = {ids[row.id]: row.depth for row in walk(dozen[start], max_depth=max_depth).cis}
            assert got == bfs(edges, start, reverse=reverse, max_depth=max_depth)
        transaction.set_rollback(True)


def test_a_larger_random_estate_matches_a_breadth_first_search(classes):
    """400 CIs, 1,200 relationships: cycles and diamonds everywhere."""
    rng = random.Random(7)
    server = classes["server"]
    cis = CI.objects.bulk_create(
        CI(name=f"r{index:03d}", ci_class=server, attributes={}) for index in range(400)
    )
    edges = set()
    while len(edges) < 1200:
        source, target = rng.randrange(400), rng.randrange(400)
        if source != target:
            edges.add((source, target))
    link(edges, cis)
    ids = {ci.pk: index for index, ci in enumerate(cis)}
    for start in rng.sample(range(400), 8):
        impacted = {ids[row.id]: row.depth for row in impact_of(cis[start]).cis}
        assert impacted == bfs(edges, start)
        needed = {ids[row.id]: row.depth for row in dependencies_of(cis[start]).cis}
        assert needed == bfs(edges, start, reverse=True)
