"""Two agents at the same ticket at the same instant (real threads, real transactions): one
wins, the other is told (409 on the API, the conflict message on the page) and nothing of the
winner's change is lost; the loser's change, made again on the new version, goes through.
Bulk assignment from two desks at once: the versions the lists showed are checked, one desk's
whole batch wins, the other changes nothing, and the audit trail shows the winner only."""

import threading

import pytest
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from incidents.models import Incident
from itsm.testing import make_incident, make_persona, make_team

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def together(*calls):
    """Run each call in its own thread (own database connection), released at once."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def desk():
    alice, bob = make_persona("alice"), make_persona("bob")
    team = make_team("Service Desk", members=[alice, bob])
    network = make_team("Network", members=[make_persona("carol")])
    return alice, bob, team, network


def api_as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_as(user):
    client = Client()
    client.force_login(user)
    return client


def test_two_agents_patching_the_same_version_through_the_api(desk):
    alice, bob, team, _network = desk
    incident = make_incident(actor=alice, assignment_group=team)
    url = f"/api/v1/incidents/{incident.number}/"
    version = incident.version
    answers = together(
        lambda: api_as(alice).patch(url, {"title": "Alice's title", "version": version}),
        lambda: api_as(bob).patch(url, {"description": "Bob's notes", "version": version}),
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409], [a.content for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    assert "changed this ticket" in loser.json()["detail"]
    incident.refresh_from_db()
    assert incident.version == version + 1
    won_title = incident.title == "Alice's title"
    assert won_title != (incident.description == "Bob's notes")  # exactly one change applied
    # the loser reloads and makes the change again: both are kept
    redo = ({"description": "Bob's notes"} if won_title else {"title": "Alice's title"}) | {
        "version": incident.version
    }
    assert api_as(bob if won_title else alice).patch(url, redo).status_code == 200
    incident.refresh_from_db()
    assert (incident.title, incident.description) == ("Alice's title", "Bob's notes")
    fields = list(
        incident.events.filter(field__in=["title", "description"]).values_list("field", flat=True)
    )
    assert sorted(fields) == ["description", "title"]  # each change audited once


def test_two_agents_saving_the_same_version_of_the_edit_page(desk):
    alice, bob, team, _network = desk
    incident = make_incident(actor=alice, assignment_group=team, impact=3, urgency=3)
    url = f"/desk/incidents/{incident.number}/edit/"
    form = {
        "version": incident.version,
        "description": incident.description,
        "impact": 3,
        "urgency": 3,
        "assignment_group": team.pk,
    }
    answers = together(
        lambda: page_as(alice).post(url, {**form, "title": "Alice's title"}, follow=True),
        lambda: page_as(bob).post(url, {**form, "title": "Bob's title"}, follow=True),
    )
    # the page answers with the ticket again: "Saved." for one, the conflict for the other
    told = sorted(b"changed this ticket" in a.content for a in answers)
    assert told == [False, True]
    winner = next(a for a in answers if b"changed this ticket" not in a.content)
    assert b"Saved." in winner.content
    incident.refresh_from_db()
    assert incident.title in ("Alice's title", "Bob's title")
    assert incident.title.encode().replace(b"'", b"&#x27;") in winner.content
    assert incident.events.filter(field="title").count() == 1


def test_bulk_assignment_from_two_desks_at_once(desk):
    alice, bob, team, network = desk
    incidents = [make_incident(actor=alice, assignment_group=team) for _ in range(4)]
    # what each desk's list showed: number:version
    shown = ",".join(f"{i.number}:{i.version}" for i in incidents)
    url = "/desk/incidents/bulk/"
    together(
        lambda: page_as(alice).post(url, {"numbers": shown, "action": "take"}),
        lambda: page_as(bob).post(
            url, {"numbers": shown, "action": "assign", "assignment_group": network.pk}
        ),
    )
    rows = Incident.objects.filter(pk__in=[i.pk for i in incidents])
    outcomes = {(r.assignee_id, r.assignment_group_id) for r in rows}
    assert outcomes in ({(alice.pk, team.pk)}, {(None, network.pk)}), outcomes  # one desk won
    won_by_alice = outcomes == {(alice.pk, team.pk)}
    for incident in rows:
        events = incident.events.filter(field__in=["assignee", "assignment_group"])
        actors = set(events.values_list("actor_id", flat=True))
        assert actors == {alice.pk if won_by_alice else bob.pk}  # audited, winner only


def test_bulk_assignment_from_a_stale_list_changes_nothing(desk):
    alice, bob, team, network = desk
    incidents = [make_incident(actor=alice, assignment_group=team) for _ in range(3)]
    shown = ",".join(f"{i.number}:{i.version}" for i in incidents)
    api_as(alice).patch(f"/api/v1/incidents/{incidents[1].number}/", {"title": "Moved on"})
    response = page_as(bob).post(
        "/desk/incidents/bulk/",
        {"numbers": shown, "action": "assign", "assignment_group": network.pk},
        follow=True,
    )
    assert b"Nothing was changed" in response.content
    assert not Incident.objects.filter(assignment_group=network).exists()
