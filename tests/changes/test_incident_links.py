"""Incidents point at real changes: the change that caused them, the change they wait for."""

from django.urls import reverse

from incidents import services as incidents
from itsm.testing import make_incident

from .builders import make_change


def test_an_agent_marks_an_incident_caused_by_a_change(db, api, alice, chris, client):
    change = make_change(actor=chris)
    incident = make_incident()
    response = api.as_(alice).patch(
        f"/api/v1/incidents/{incident.number}/",
        {"caused_by_change": change.number},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["caused_by_change"] == change.number
    client.force_login(chris)
    page = client.get(change.get_absolute_url()).content.decode()
    assert "Caused by this change" in page and incident.number in page


def test_an_incident_on_hold_awaiting_a_change_names_it(db, api, alice, chris):
    change = make_change(actor=chris)
    incident = make_incident()
    api.as_(alice)
    url = f"/api/v1/incidents/{incident.number}/transition/"
    response = api.post(
        url,
        {"state": "on_hold", "hold_reason": "awaiting_change", "awaited_change": change.number},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["awaited_change"] == change.number
    assert list(change.awaiting_incidents.all()) == [incident]
    resumed = api.post(url, {"state": "in_progress"}, format="json").json()
    assert resumed["awaited_change"] is None
    by_id = api.post(
        url,
        {"state": "on_hold", "hold_reason": "awaiting_change", "awaited_change": change.pk},
        format="json",
    )
    assert by_id.json()["awaited_change"] == change.number


def test_only_an_incident_awaiting_a_change_names_one_and_an_open_one(db, api, alice, chris):
    change = make_change(actor=chris)
    incident = make_incident()
    api.as_(alice)
    url = f"/api/v1/incidents/{incident.number}/transition/"
    wrong_reason = api.post(
        url,
        {"state": "on_hold", "hold_reason": "awaiting_vendor", "awaited_change": change.number},
        format="json",
    )
    assert wrong_reason.status_code == 400
    assert list(wrong_reason.json()) == ["awaited_change"]
    from changes import services

    services.change_state(change, "canceled", actor=chris)
    closed = api.post(
        url,
        {"state": "on_hold", "hold_reason": "awaiting_change", "awaited_change": change.number},
        format="json",
    )
    assert closed.status_code == 400


def test_the_desk_asks_which_change_an_incident_waits_for(db, client, alice, chris):
    change = make_change(actor=chris)
    incident = make_incident()
    client.force_login(alice)
    url = reverse("incidents:incident_hold", args=[incident.number])
    refused = client.post(url, {"hold_reason": "awaiting_change"})
    assert "Name the change the incident waits for." in refused.content.decode()
    client.post(url, {"hold_reason": "awaiting_change", "awaited_change": change.number})
    incident.refresh_from_db()
    assert (incident.state, incident.awaited_change) == ("on_hold", change)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert f"Awaiting change: {change.number}" in page


def test_holding_through_the_verb_names_the_change(db, alice, chris):
    change = make_change(actor=chris)
    incident = make_incident()
    incidents.hold(incident, actor=alice, reason="awaiting_change", change=change)
    assert incident.awaited_change == change


def test_the_cause_may_be_written_as_the_change_id_too(db, api, alice, chris):
    change = make_change(actor=chris)
    incident = make_incident()
    response = api.as_(alice).patch(
        f"/api/v1/incidents/{incident.number}/", {"caused_by_change": change.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["caused_by_change"] == change.number
    missing = api.patch(
        f"/api/v1/incidents/{incident.number}/", {"caused_by_change": 999999}, format="json"
    )
    assert missing.status_code == 400
