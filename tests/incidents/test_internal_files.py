"""Internal files (SPEC §2): kept from end users on every route, as internal notes are."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services
from itsm.testing import make_incident

SECRET_NAME = "core-switch-dump-7731.log"


def upload(name=SECRET_NAME):
    return SimpleUploadedFile(name, b"hostname core-sw-01\n")


def url(incident, suffix=""):
    return f"/api/v1/incidents/{incident.number}/{suffix}"


@pytest.fixture
def incident(rita):
    return make_incident(requester=rita)


@pytest.fixture
def internal_file(incident, alice):
    return services.attach(incident, actor=alice, upload=upload(), internal=True)


def test_an_agent_uploads_an_internal_file_through_the_api(db, api, incident, alice):
    response = api.as_(alice).post(
        url(incident, "attachments/"), {"file": upload(), "internal": "true"}, format="multipart"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["internal"] is True
    assert set(body) >= {"id", "name", "size", "content_type", "url", "internal"}


def test_an_end_user_cannot_mark_a_file_internal(db, api, incident, rita):
    response = api.as_(rita).post(
        url(incident, "attachments/"), {"file": upload(), "internal": "true"}, format="multipart"
    )
    assert response.status_code == 400 and "internal" in response.json()
    assert incident.attachments.count() == 0


def test_the_requester_never_reaches_an_internal_file(
    db, api, client, incident, internal_file, rita
):
    api.as_(rita)
    listed = api.get(url(incident, "attachments/")).json()
    assert SECRET_NAME not in str(listed)
    assert api.get(url(incident, f"attachments/{internal_file.pk}/")).status_code == 404
    history = api.get(url(incident, "history/")).json()
    assert SECRET_NAME not in str(history)
    client.force_login(rita)
    page = client.get(f"/portal/tickets/{incident.number}/").content.decode()
    assert SECRET_NAME not in page
    download = f"/portal/tickets/{incident.number}/attachments/{internal_file.pk}/"
    assert client.get(download).status_code == 404
    assert SECRET_NAME not in str(list(rita.notifications.values("subject", "message")))


def test_agents_download_it_and_see_it_marked_internal(
    db, api, client, incident, internal_file, alice
):
    api.as_(alice)
    assert api.get(url(incident, f"attachments/{internal_file.pk}/")).status_code == 200
    client.force_login(alice)
    page = client.get(f"/desk/incidents/{incident.number}/").content.decode()
    assert SECRET_NAME in page and "attachment-row internal" in page


def test_files_sent_with_an_internal_note_are_internal(db, client, incident, alice, rita):
    client.force_login(alice)
    client.post(
        f"/desk/incidents/{incident.number}/comment/",
        {"body": "Switch dump attached", "internal": "on", "files": [upload()]},
    )
    note_file = incident.attachments.get()
    assert note_file.internal is True
    assert incident.comments.get().internal is True


def test_an_agent_makes_an_internal_file_public_and_it_is_audited(
    db, api, incident, internal_file, alice, rita
):
    response = api.as_(alice).patch(
        url(incident, f"attachments/{internal_file.pk}/"), {"internal": False}
    )
    assert response.status_code == 200 and response.json()["internal"] is False
    event = incident.events.get(field="attachment_internal")
    assert event.actor == alice and event.new == {"name": SECRET_NAME, "internal": False}
    assert api.as_(rita).get(url(incident, f"attachments/{internal_file.pk}/")).status_code == 200


def test_a_requesters_own_upload_stays_public(db, api, incident, alice, rita):
    theirs = services.attach(incident, actor=rita, upload=upload("photo.png"))
    response = api.as_(alice).patch(url(incident, f"attachments/{theirs.pk}/"), {"internal": True})
    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.internal is False
