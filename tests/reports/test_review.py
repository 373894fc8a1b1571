"""The service review (SPEC §10) on a hand-computed month of the E-mail service.

Period: Monday 2 to Sunday 15 March 2026 (14 days, 1 209 600 s), read on 20 March. Major
incidents of E-mail:

- M1 03-03 10:00 → 12:00 and M2 03-03 11:00 → 14:00: they overlap, 4 h of outage once merged;
- M3 03-01 22:00 → 03-02 01:00: 1 h inside the period;
- M4 03-15 23:00, still open: 1 h inside the period;
- M5 canceled (no outage), and N, not major, on mail-01 (no outage).
"""

from datetime import UTC, date, datetime

import pytest
import time_machine

from cmdb.models import CI, Relationship
from incidents import services as incidents
from itsm.testing import make_incident, make_persona
from reports import review
from sla.dashboard import Filters
from sla.models import Calendar, Policy

from .conftest import at, ci_class, make_change, make_problem, resolve

pytestmark = pytest.mark.django_db

PERIOD = Filters(start=date(2026, 3, 2), end=date(2026, 3, 15))
LATER = datetime(2026, 3, 20, 12, tzinfo=UTC)
HOUR = 3600
OFFICE = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]


def test_merge_counts_overlapping_and_touching_outages_once():
    one, two, three, four = at(3, 3, 10), at(3, 3, 11), at(3, 3, 12), at(3, 3, 14)
    assert review.merge([(two, four), (one, three)]) == [(one, four)]
    assert review.merge([(one, two), (two, three)]) == [(one, three)]  # touching
    assert review.merge([(one, two), (three, four)]) == [(one, two), (three, four)]
    assert review.merge([(one, four), (two, three)]) == [(one, four)]  # inside another
    assert review.merge([(two, two)]) == []


@pytest.fixture
def email(db, settings):
    settings.TIME_ZONE = "UTC"
    alice = make_persona("alice")
    classes = {name: ci_class(name) for name in ("business_service", "server")}
    service = CI.objects.create(name="E-mail", ci_class=classes["business_service"])
    mail01 = CI.objects.create(name="mail-01", ci_class=classes["server"])
    relay = CI.objects.create(name="relay-01", ci_class=classes["server"])
    Relationship.objects.create(source=service, type="depends_on", target=mail01)

    def major(name, opened, resolved=None, *, impact=1, urgency=1, ci=None, cancel=False):
        with time_machine.travel(opened, tick=False):
            incident = make_incident(
                actor=alice,
                title=name,
                service=service,
                major=True,
                impact=impact,
                urgency=urgency,
                ci=ci,
            )
        if resolved:
            with time_machine.travel(resolved, tick=False):
                resolve(incident, alice)
        if cancel:
            with time_machine.travel(opened, tick=False):
                incidents.cancel(incident, actor=alice)
        return incident

    major("M1", at(3, 3, 10), at(3, 3, 12), ci=mail01)
    major("M2", at(3, 3, 11), at(3, 3, 14), urgency=2, ci=relay)
    major("M3", at(3, 1, 22), at(3, 2, 1))
    major("M4", at(3, 15, 23))
    major("M5", at(3, 6, 9), impact=2, urgency=2, cancel=True)
    with time_machine.travel(at(3, 5), tick=False):
        n = make_incident(actor=alice, title="N", service=service, impact=3, urgency=3, ci=mail01)
    return {"service": service, "mail01": mail01, "relay": relay, "alice": alice, "N": n}


def test_availability_merges_overlapping_major_incidents_over_the_period(email):
    found = review.availability(email["service"], PERIOD, LATER)
    assert found["outage_seconds"] == 6 * HOUR  # 4 h merged + 1 h + 1 h
    assert found["service_seconds"] == 14 * 24 * HOUR
    assert found["availability"] == round(100 * (1 - 6 * HOUR / (14 * 24 * HOUR)), 3) == 98.214
    assert found["outages"] == [
        (at(3, 2, 0), at(3, 2, 1)),
        (at(3, 3, 10), at(3, 3, 14)),
        (at(3, 15, 23), at(3, 16, 0)),
    ]


def test_availability_counts_only_the_service_hours_when_the_service_has_a_calendar(email):
    office = Calendar.objects.create(name="Office", timezone="UTC", hours=OFFICE)
    Policy.objects.create(
        name="E-mail incidents",
        service=email["service"],
        calendar=office,
        response_seconds=HOUR,
        resolution_seconds=8 * HOUR,
    )
    found = review.review(email["service"], PERIOD, LATER)
    # 10 working days of 9 h; only Tuesday's 10:00-14:00 outage falls in them
    assert found["calendar"] == office
    assert found["service_seconds"] == 10 * 9 * HOUR
    assert found["outage_seconds"] == 4 * HOUR
    assert found["availability"] == round(100 * (1 - 4 / 90), 3) == 95.556


def test_a_period_still_running_counts_service_time_up_to_now(email):
    found = review.availability(email["service"], PERIOD, at(3, 3, 12))
    # from 2 March 00:00 to 3 March 12:00: 36 h, of which 1 h (M3) + 2 h (10:00-12:00) down
    assert found["service_seconds"] == 36 * HOUR
    assert found["outage_seconds"] == 3 * HOUR


def test_review_counts_incidents_changes_problems_and_frequent_cis(email):
    service, alice = email["service"], email["alice"]
    make_change(closed_at=at(3, 4), outcome="successful", cis=[service])
    make_change(closed_at=at(3, 5), outcome="failed", cis=[email["mail01"]])  # a dependency
    make_change(closed_at=at(3, 6), outcome="backed_out", cis=[email["relay"]])  # not one
    named = make_problem(created_at=at(3, 3), services=[service])
    linked = make_problem(created_at=at(3, 4), state="assess")
    incidents.link_problem(email["N"], linked, actor=alice)
    make_problem(created_at=at(3, 4), state="resolved", services=[service])
    found = review.review(service, PERIOD, LATER)
    # opened in the period: M1 P1, M2 P2, M4 P1, M5 P3, N P5 (M3 opened on 1 March)
    assert found["incidents_by_priority"] == {"1": 2, "2": 1, "3": 1, "4": 0, "5": 1}
    assert found["changes"]["total"] == 2
    assert (found["changes"]["successful"], found["changes"]["failed"]) == (1, 1)
    assert [p.pk for p in found["open_problems"]] == [named.pk, linked.pk]
    assert found["top_cis"] == [
        {"id": email["mail01"].pk, "name": "mail-01", "incidents": 2},
        {"id": email["relay"].pk, "name": "relay-01", "incidents": 1},
    ]


def test_review_payload_has_the_api_shape(email):
    from reports import payloads

    make_change(closed_at=at(3, 4), outcome="successful_with_issues", cis=[email["service"]])
    data = payloads.review_payload(email["service"], PERIOD, LATER)
    assert data == {
        "service": email["service"].pk,
        "from": date(2026, 3, 2),
        "to": date(2026, 3, 15),
        "availability": 98.214,
        "outage_seconds": 6 * HOUR,
        "incidents_by_priority": {"1": 2, "2": 1, "3": 1, "4": 0, "5": 1},
        "sla_compliance": None,
        "changes": {"total": 1, "successful": 1, "failed": 0, "backed_out": 0},
        "open_problems": 0,
    }


def test_sla_compliance_of_the_service_counts_its_timers(db, settings):
    settings.TIME_ZONE = "UTC"
    alice = make_persona("alice")
    always = Calendar.objects.create(
        name="Always",
        timezone="UTC",
        hours=[{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
    )
    Policy.objects.create(
        name="All", calendar=always, response_seconds=10 * HOUR, resolution_seconds=HOUR
    )
    service = CI.objects.create(name="Payroll", ci_class=ci_class("business_service"))
    for minutes in (30, 120):
        with time_machine.travel(at(3, 4, 9), tick=False):
            incident = make_incident(actor=alice, service=service, title=f"{minutes} min")
            incidents.change_state(incident, "in_progress", actor=alice)
        with time_machine.travel(at(3, 4, 9, minutes % 60) if minutes < 60 else at(3, 4, 11)):
            resolve(incident, alice)
    found = review.review(service, PERIOD, LATER)
    # response met twice, resolution met once and breached once
    assert (found["sla"]["met"], found["sla"]["breached"]) == (3, 1)
    assert found["sla"]["compliance"] == 75.0
