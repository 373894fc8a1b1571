"""A small desk whose every report figure is computed by hand in the tests.

The period is Monday 2 to Sunday 15 March 2026 (server time zone UTC), "now" is 15 March 12:00.
Incidents (Service Desk = SD, Network = NET; priority from impact × urgency):

====  ===========  ====  ===  ===========================================  ===========
name  created      team  P    story                                        rated
====  ===========  ====  ===  ===========================================  ===========
A     03-02 09:00  SD    3    resolved 03-02 10:00 (1 h)                   5 (03-02)
B     03-03 09:00  →NET  3    moved SD → NET 10:00, resolved 13:00 (4 h)   3 (03-04)
C     03-04 09:00  SD    5    resolved 11:00, reopened 12:00, resolved     1 (03-05)
                              03-05 09:00 (24 h)
D     03-09 09:00  NET   5    resolved 09:30 (30 min)
E     02-20 09:00  SD    3    resolved 03-10 09:00 (18 days)               4 (03-16)
F     03-10 09:00  SD    5    on hold (open, 5 days old now)
G     03-14 09:00  NET   3    in progress (open, 1 day old)
H     02-01 09:00  SD    5    new (open, 42 days old)
I     03-11 09:00  SD    5    canceled
J     03-15 08:00  SD    5    new (open, 4 hours old)
K     03-01 09:00  SD    5    new (open, 14 days old; created before the period)
====  ===========  ====  ===  ===========================================  ===========
"""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import time_machine

from catalog.models import CatalogItem, Category, Request
from changes.models import Change
from cmdb.models import CI, CIClass
from incidents import services as incidents
from itsm.testing import make_incident, make_persona, make_team
from problems.models import Problem

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


def at(month, day, hour=9, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def resolve(incident, actor):
    incidents.resolve(incident, actor=actor, code="fixed", notes="Done.")


@pytest.fixture
def desk(db, settings):
    settings.TIME_ZONE = "UTC"
    alice, rita = make_persona("alice"), make_persona("rita")
    sd = make_team("Service Desk", members=[alice])
    net = make_team("Network", members=[alice])
    made = {}

    def open_at(name, when, team, priority):
        impact, urgency = {3: (2, 2), 5: (3, 3)}[priority]
        with time_machine.travel(when, tick=False):
            made[name] = make_incident(
                actor=alice, assignment_group=team, impact=impact, urgency=urgency
            )
        return made[name]

    def then(when, action, *args, **kwargs):
        with time_machine.travel(when, tick=False):
            action(*args, **kwargs)

    a = open_at("A", at(3, 2), sd, 3)
    then(at(3, 2, 10), resolve, a, alice)
    then(at(3, 2, 11), incidents.rate, a, actor=rita, score=5)

    b = open_at("B", at(3, 3), sd, 3)
    then(at(3, 3, 10), incidents.assign, b, actor=alice, group=net)
    then(at(3, 3, 13), resolve, b, alice)
    then(at(3, 4, 8), incidents.rate, b, actor=rita, score=3)

    c = open_at("C", at(3, 4), sd, 5)
    then(at(3, 4, 11), resolve, c, alice)
    then(at(3, 4, 12), incidents.reopen, c, actor=alice)
    then(at(3, 5, 9), resolve, c, alice)
    then(at(3, 5, 10), incidents.rate, c, actor=rita, score=1)

    d = open_at("D", at(3, 9), net, 5)
    then(at(3, 9, 9, 30), resolve, d, alice)

    e = open_at("E", at(2, 20), sd, 3)
    then(at(3, 10), resolve, e, alice)
    then(at(3, 16), incidents.rate, e, actor=rita, score=4)

    f = open_at("F", at(3, 10), sd, 5)
    then(at(3, 10, 10), incidents.hold, f, actor=alice, reason="awaiting_caller")
    g = open_at("G", at(3, 14), net, 3)
    then(at(3, 14, 10), incidents.change_state, g, "in_progress", actor=alice)
    open_at("H", at(2, 1), sd, 5)
    i = open_at("I", at(3, 11), sd, 5)
    then(at(3, 11, 10), incidents.cancel, i, actor=alice)
    open_at("J", at(3, 15, 8), sd, 5)
    open_at("K", at(3, 1), sd, 5)
    return SimpleNamespace(incidents=made, sd=sd, net=net, alice=alice, rita=rita)


def ci_class(name: str) -> CIClass:
    """A CI class the CMDB's data migration installs (a browser test's flush may have removed
    it in this process: then it is made again)."""
    return CIClass.objects.get_or_create(name=name, defaults={"label": name.title()})[0]


@pytest.fixture
def service(db):
    return CI.objects.create(name="E-mail", ci_class=ci_class("business_service"))


_numbers = iter(range(9_000_001, 9_999_999))


def make_change(*, closed_at, outcome, state="closed", cis=(), created_at=None):
    change = Change.objects.create(
        number=f"CHG{next(_numbers)}",
        title="Patch the mail relays",
        requester=make_persona("chris"),
        state=state,
        outcome=outcome,
        closed_at=closed_at,
        created_at=created_at or closed_at,
    )
    change.cis.set(cis)
    return change


def make_problem(*, created_at, state="new", services=(), **fields):
    problem = Problem.objects.create(
        number=f"PRB{next(_numbers)}",
        title="Mail relay drops connections",
        requester=make_persona("paula"),
        state=state,
        created_at=created_at,
        **fields,
    )
    problem.services.set(services)
    return problem


def make_request(*, created_at, fulfilled_at=None, state="fulfilled", service=None):
    category = Category.objects.get_or_create(name="Hardware", slug="hardware")[0]
    item = CatalogItem.objects.get_or_create(
        category=category,
        name="Laptop",
        slug="laptop",
        defaults={"fulfillment_team": make_team("Service Desk")},
    )[0]
    rita = make_persona("rita")
    return Request.objects.create(
        number=f"REQ{next(_numbers)}",
        title="Laptop",
        requester=rita,
        requested_for=rita,
        item=item,
        state=state,
        created_at=created_at,
        fulfilled_at=fulfilled_at,
        service=service,
    )
