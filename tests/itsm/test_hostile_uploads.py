"""Hostile uploads: too large (413 with a message that says the limit, nothing stored, the body
not even read), active content (HTML, SVG, XHTML, scripts) only ever served as a download,
path-traversal names, archives stored as sent and never expanded."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.models import Incident
from itsm.testing import make_incident


def stored_files(settings) -> list[Path]:
    root = Path(settings.STORAGES["attachments"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def incident(db, rita):
    return make_incident(requester=rita)


def test_a_request_over_the_upload_limit_is_a_413_before_its_body_is_read(
    client, rita, incident, settings
):
    settings.UPLOAD_MAX_REQUEST_BYTES = 4096
    client.force_login(rita)
    upload = SimpleUploadedFile("big.log", b"x" * 8192)
    response = client.post(f"/portal/tickets/{incident.number}/attach/", {"attachments": [upload]})
    assert response.status_code == 413
    html = response.content.decode()
    assert "Upload too large" in html
    assert "at most 4.0\xa0KB can be sent at once" in html
    assert "Content-Security-Policy" in response
    assert not incident.attachments.exists()
    assert stored_files(settings) == []


def test_an_htmx_request_over_the_limit_brings_its_message_to_the_pages_alert_area(
    client, alice, incident, settings
):
    """htmx swaps nothing of a 413 it is not told to: the answer retargets the page's alert area
    (base.html) and is marked for itsm.js to swap; the form the agent typed stays as it was."""
    settings.UPLOAD_MAX_REQUEST_BYTES = 4096
    client.force_login(alice)
    response = client.post(
        f"/desk/incidents/{incident.number}/comment/",
        {"body": "Trace attached.", "files": [SimpleUploadedFile("big.log", b"x" * 8192)]},
        headers={"HX-Request": "true", "HX-Target": "ticket"},
    )
    assert response.status_code == 413
    assert response["HX-Retarget"] == "#page-alerts"
    assert response["HX-Reswap"] == "innerHTML"
    assert response["X-Form-Errors"] == "1"  # itsm.js swaps it in despite the status
    assert "Connection" not in response  # hop-by-hop: the WSGI server's (runserver: a 500)
    html = response.content.decode()
    assert "<html" not in html and 'role="alert"' in html  # the message only, not a page
    assert "Upload too large" in html and "at most 4.0\xa0KB can be sent at once" in html
    assert not incident.comments.exists()

    page = client.get(f"/desk/incidents/{incident.number}/").content.decode()
    assert 'id="page-alerts"' in page  # where it lands, on every page


def test_the_htmx_message_for_a_request_over_the_limit_is_in_the_readers_language(
    client, alice, incident, settings
):
    settings.UPLOAD_MAX_REQUEST_BYTES = 4096
    client.force_login(alice)
    response = client.post(
        f"/desk/incidents/{incident.number}/comment/",
        {"body": "Trace.", "files": [SimpleUploadedFile("big.log", b"x" * 8192)]},
        headers={"HX-Request": "true", "Accept-Language": "fr"},
    )
    assert response.status_code == 413 and response["HX-Retarget"] == "#page-alerts"
    html = response.content.decode()
    assert "<html" not in html and "Envoi trop volumineux" in html


def test_a_plain_request_over_the_limit_is_still_the_413_page(client, alice, incident, settings):
    settings.UPLOAD_MAX_REQUEST_BYTES = 4096
    client.force_login(alice)
    response = client.post(
        f"/desk/incidents/{incident.number}/comment/",
        {"body": "Trace.", "files": [SimpleUploadedFile("big.log", b"x" * 8192)]},
    )
    assert response.status_code == 413
    assert "HX-Retarget" not in response and "X-Form-Errors" not in response
    html = response.content.decode()
    assert "<html" in html and "Error 413" in html and "at most 4.0\xa0KB" in html


def test_the_api_answers_413_in_json_for_a_request_over_the_limit(api, rita, incident, settings):
    settings.UPLOAD_MAX_REQUEST_BYTES = 4096
    response = api.as_(rita).post(
        f"/api/v1/incidents/{incident.number}/attachments/",
        {"file": SimpleUploadedFile("big.log", b"x" * 8192)},
        format="multipart",
    )
    assert response.status_code == 413
    assert "can be sent at once" in response.json()["file"][0]
    assert stored_files(settings) == []


def test_a_file_over_the_per_file_limit_is_named_in_the_form_and_not_stored(
    client, rita, incident, settings
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    client.force_login(rita)
    upload = SimpleUploadedFile("screenshot.png", b"x" * 2048)
    response = client.post(f"/portal/tickets/{incident.number}/attach/", {"attachments": [upload]})
    assert response.status_code == 413
    html = response.content.decode()
    assert (
        "Add files: screenshot.png is too large (2.0\xa0KB): each file can be up to 1.0\xa0KB."
        in html
    )
    assert not incident.attachments.exists()


ACTIVE = [
    ("page.html", b"<script>alert(1)</script>"),
    ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("page.xhtml", b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script>'),
    ("run.js", b"alert(1)"),
    ("notes.txt", b"<script>alert(1)</script>"),
    ("pic.png", b"<html><script>alert(1)</script></html>"),  # sniffable as HTML
]


@pytest.mark.parametrize(("name", "content"), ACTIVE, ids=[n for n, _ in ACTIVE])
def test_active_content_is_only_ever_a_download(client, api, rita, alice, name, content):
    incident = make_incident(requester=rita)
    created = api.as_(rita).post(
        f"/api/v1/incidents/{incident.number}/attachments/",
        {"file": SimpleUploadedFile(name, content, "text/html")},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    attachment_id = created.json()["id"]
    routes = [
        (rita, created.json()["url"]),
        (rita, f"/portal/tickets/{incident.number}/attachments/{attachment_id}/"),
        (alice, f"/desk/incidents/{incident.number}/attachments/{attachment_id}/"),
    ]
    for user, url in routes:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Disposition"].startswith("attachment;"), url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox", url
        assert not response["Content-Type"].startswith(("text/", "image/svg")), url
        assert b"".join(response.streaming_content) == content


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/var/www/html/shell.php", "shell.php"),
        ("....//....//x.txt", "x.txt"),
        ("%2e%2e%2fsecret.txt", "_2e_2e_2fsecret.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ],
)
def test_a_path_traversal_name_is_stored_under_its_last_part_only(
    api, rita, incident, settings, sent, kept
):
    response = api.as_(rita).post(
        f"/api/v1/incidents/{incident.number}/attachments/",
        {"file": SimpleUploadedFile(sent, b"hello")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["name"] == kept
    root = Path(settings.STORAGES["attachments"]["OPTIONS"]["location"]).resolve()
    for path in stored_files(settings):
        assert path.resolve().is_relative_to(root)
        assert kept not in path.name


def zip_bomb(expanded_bytes: int) -> bytes:
    """A small zip that would expand to ``expanded_bytes`` of zeros."""
    buffer = io.BytesIO()
    chunk = b"\0" * (1024 * 1024)
    archive = zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    with archive, archive.open("zeros.bin", "w", force_zip64=True) as member:
        for _ in range(expanded_bytes // len(chunk)):
            member.write(chunk)
    return buffer.getvalue()


def test_an_archive_is_stored_as_sent_and_never_expanded(api, rita, incident, settings):
    bomb = zip_bomb(200 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024
    response = api.as_(rita).post(
        f"/api/v1/incidents/{incident.number}/attachments/",
        {"file": SimpleUploadedFile("report.zip", bomb)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["size"] == len(bomb)
    assert body["content_type"] == "application/zip"
    files = stored_files(settings)
    assert [p.stat().st_size for p in files] == [len(bomb)]
    download = api.get(body["url"])
    assert b"".join(download.streaming_content) == bomb
    assert Incident.objects.get(pk=incident.pk).attachments.count() == 1
