import pytest

from itsm import services
from itsm.testing import make_incident
from itsm.workflow import StaleVersion


def test_each_write_bumps_the_version(db, alice):
    incident = make_incident()
    assert incident.version == 1
    services.update_ticket(incident, {"title": "New title"}, actor=alice, version=1)
    assert incident.version == 2
    incident.refresh_from_db()
    assert incident.version == 2


def test_a_write_from_a_stale_version_is_refused_and_changes_nothing(db, alice, bob):
    incident = make_incident()
    services.update_ticket(incident, {"title": "Alice was here"}, actor=alice, version=1)
    with pytest.raises(StaleVersion):
        services.update_ticket(incident, {"title": "Bob overwrites"}, actor=bob, version=1)
    incident.refresh_from_db()
    assert incident.title == "Alice was here"
    assert incident.version == 2


def test_a_stale_transition_is_refused(db, alice):
    incident = make_incident()
    services.update_ticket(incident, {"title": "changed"}, actor=alice)
    with pytest.raises(StaleVersion):
        services.transition(incident, "in_progress", actor=alice, version=1)
    incident.refresh_from_db()
    assert incident.state == "new"


def test_an_old_instance_without_version_sees_the_latest_row(db, alice, bob):
    incident = make_incident()
    old_copy = type(incident).objects.get(pk=incident.pk)
    services.update_ticket(incident, {"title": "Alice's title"}, actor=alice)
    services.update_ticket(old_copy, {"description": "Bob's text"}, actor=bob)
    incident.refresh_from_db()
    assert (incident.title, incident.description) == ("Alice's title", "Bob's text")
    assert incident.version == 3


def test_the_api_answers_409_to_a_stale_patch(db, api, alice):
    incident = make_incident()
    url = f"/api/v1/incidents/{incident.number}/"
    first = api.as_(alice).patch(url, {"title": "first", "version": 1}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["version"] == 2
    stale = api.patch(url, {"title": "second", "version": 1}, format="json")
    assert stale.status_code == 409
    assert "detail" in stale.json()
    incident.refresh_from_db()
    assert incident.title == "first"


def test_the_api_accepts_a_patch_without_version(db, api, alice):
    incident = make_incident()
    response = api.as_(alice).patch(
        f"/api/v1/incidents/{incident.number}/", {"title": "no version"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["title"] == "no version"
