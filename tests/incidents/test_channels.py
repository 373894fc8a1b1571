"""Every channel gets the same answer, because every channel calls the same verb: the API, the
desk and the portal (one door)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services
from incidents.models import Incident
from itsm.models import Notification
from itsm.search import search
from itsm.testing import make_incident, make_team


@pytest.fixture
def desk(alice):
    return make_team("Service Desk", members=[alice], lead=alice)


@pytest.fixture
def incident(rita, alice, desk):
    incident = make_incident(requester=rita)
    services.assign(incident, actor=alice, assignee=alice, group=desk)
    return incident


def url(incident, suffix=""):
    return f"/api/v1/incidents/{incident.number}/{suffix}"


def in_state(incident, state, actor):
    steps = {"resolved": ["resolved"], "closed": ["resolved", "closed"], "canceled": ["canceled"]}
    for step in steps[state]:
        extra = {"resolution_code": "fixed", "resolution_notes": "Done."}
        services.change_state(incident, step, actor=actor, **(extra if step == "resolved" else {}))
    return incident


# --- Comments through the API are the incident's comments


def test_a_requesters_reply_through_the_api_notifies_the_assignee(db, api, incident, rita, alice):
    response = api.as_(rita).post(url(incident, "comments/"), {"body": "Still broken"})
    assert response.status_code == 201
    assert Notification.objects.filter(
        recipient=alice, kind="comment", ticket=incident.number
    ).exists()


def test_an_agents_reply_through_the_api_notifies_the_requester(db, api, incident, rita, alice):
    api.as_(alice).post(url(incident, "comments/"), {"body": "Please reboot"})
    assert Notification.objects.filter(recipient=rita, kind="comment").exists()


def test_a_reply_through_the_api_is_found_by_search(db, api, incident, rita):
    api.as_(rita).post(url(incident, "comments/"), {"body": "quokka appears on the screen"})
    found = search(Incident.objects.all(), "quokka", internal=False)
    assert list(found.values_list("number", flat=True)) == [incident.number]


def test_the_callers_reply_through_the_api_brings_the_incident_back(db, api, incident, rita, alice):
    services.hold(incident, actor=alice, reason="awaiting_caller")
    api.as_(rita).post(url(incident, "comments/"), {"body": "Here is the screenshot"})
    incident.refresh_from_db()
    assert (incident.state, incident.hold_reason) == ("in_progress", "")


# --- Field scope on transitions


@pytest.mark.parametrize(
    "extra",
    [
        {"resolution_code": "user_error"},
        {"resolution_notes": "It was my fault."},
        {"hold_reason": "awaiting_vendor"},
    ],
)
def test_a_requester_closing_cannot_rewrite_how_it_was_handled(
    db, api, incident, rita, alice, extra
):
    in_state(incident, "resolved", alice)
    response = api.as_(rita).post(url(incident, "transition/"), {"state": "closed", **extra})
    assert response.status_code == 400
    assert set(response.json()) == set(extra)  # each field named
    incident.refresh_from_db()
    assert (incident.state, incident.resolution_code, incident.resolution_notes) == (
        "resolved",
        "fixed",
        "Done.",
    )


def test_an_agent_may_not_send_a_field_the_move_does_not_take(db, api, incident, alice):
    response = api.as_(alice).post(
        url(incident, "transition/"), {"state": "in_progress", "resolution_notes": "x"}
    )
    assert response.status_code == 400
    assert "resolution_notes" in response.json()


def test_a_field_that_is_not_a_field_is_named_not_a_500(db, api, incident, alice):
    response = api.as_(alice).post(url(incident, "transition/"), {"state": "resolved", "foo": 1})
    assert response.status_code == 400
    assert "foo" in response.json()


def test_read_only_fields_sent_on_create_or_patch_are_refused_by_name(db, api, incident, alice):
    created = api.as_(alice).post("/api/v1/incidents/", {"title": "x", "priority": 1})
    assert created.status_code == 400 and "priority" in created.json()
    patched = api.patch(url(incident), {"number": "INC0000001", "csat_score": 5})
    assert patched.status_code == 400
    assert set(patched.json()) == {"number", "csat_score"}


# --- Assignees are agents


def test_the_api_refuses_an_end_user_as_assignee(db, api, incident, alice, eve):
    response = api.as_(alice).patch(url(incident), {"assignee": eve.pk})
    assert response.status_code == 400
    assert "assignee" in response.json()
    incident.refresh_from_db()
    assert incident.assignee == alice


def test_the_desk_and_the_api_accept_the_same_agents(db, api, incident, alice, bob):
    assert api.as_(alice).patch(url(incident), {"assignee": bob.pk}).status_code == 200
    incident.refresh_from_db()
    assert incident.assignee == bob


# --- A closed or canceled incident takes nothing more, whatever the channel


@pytest.mark.parametrize("state", ["closed", "canceled"])
def test_no_channel_adds_a_comment_to_a_finished_incident(
    db, api, client, incident, rita, alice, state
):
    in_state(incident, state, alice)
    comments = incident.comments.count()
    assert api.as_(rita).post(url(incident, "comments/"), {"body": "hello"}).status_code == 409
    assert api.as_(alice).post(url(incident, "comments/"), {"body": "note"}).status_code == 409
    client.force_login(rita)
    client.post(f"/portal/tickets/{incident.number}/comment/", {"body": "hello"})
    client.force_login(alice)
    client.post(f"/desk/incidents/{incident.number}/comment/", {"body": "note"})
    assert incident.comments.count() == comments


@pytest.mark.parametrize("state", ["closed", "canceled"])
def test_no_channel_adds_a_file_to_a_finished_incident(
    db, api, client, incident, rita, alice, state
):
    in_state(incident, state, alice)

    def upload():
        return SimpleUploadedFile("log.txt", b"trace")

    response = api.as_(alice).post(
        url(incident, "attachments/"), {"file": upload()}, format="multipart"
    )
    assert response.status_code == 409
    client.force_login(rita)
    client.post(f"/portal/tickets/{incident.number}/attach/", {"attachments": [upload()]})
    client.force_login(alice)
    client.post(f"/desk/incidents/{incident.number}/attach/", {"file": upload()})
    assert incident.attachments.count() == 0


# --- What an end user reads


def test_an_end_user_reads_their_incident_without_its_handling(db, api, incident, rita, alice):
    services.update_incident(incident, {"impact": 1}, actor=alice)
    body = api.as_(rita).get(url(incident)).json()
    hidden = {"impact", "priority", "assignee", "assignment_group", "ci", "watchers", "major"}
    assert not hidden & set(body)
    assert body["number"] == incident.number and body["urgency"] == incident.urgency


def test_an_end_users_history_has_no_assignment_nor_priority(db, api, incident, rita, alice):
    services.update_incident(incident, {"impact": 1}, actor=alice)
    services.comment(incident, actor=alice, body="Reboot please")
    fields = {entry["field"] for entry in api.as_(rita).get(url(incident, "history/")).json()}
    assert "comment" in fields and "created" in fields
    assert not {"assignee", "assignment_group", "impact", "priority", "watchers"} & fields
    staff_fields = {e["field"] for e in api.as_(alice).get(url(incident, "history/")).json()}
    assert {"assignee", "impact", "priority"} <= staff_fields


def test_the_portal_page_shows_no_field_the_api_hides(db, client, incident, rita, alice):
    """The portal reads the ticket through the requester's fields: the CI's name never
    reaches the page, and a template asking for a hidden field gets nothing."""
    from cmdb.models import CIClass
    from cmdb.services import create_ci
    from portal.views import as_requester_sees

    server = create_ci(
        actor=None, name="srv-zanzibar-07", ci_class=CIClass.objects.get(name="server")
    )
    services.update_incident(incident, {"ci": server}, actor=alice)
    client.force_login(rita)
    page = client.get(f"/portal/tickets/{incident.number}/").content.decode()
    assert incident.title in page and "srv-zanzibar-07" not in page
    seen = as_requester_sees(incident)
    assert seen.title == incident.title
    with pytest.raises(AttributeError):
        seen.ci  # noqa: B018


def test_an_acknowledgement_reaches_the_requester_who_opened_it_themself(db, api, rita):
    number = api.as_(rita).post("/api/v1/incidents/", {"title": "Printer"}).json()["number"]
    notice = Notification.objects.get(recipient=rita, kind="created")
    assert notice.ticket == number and number in notice.subject
