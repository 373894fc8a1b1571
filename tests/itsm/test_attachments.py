import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from itsm.attachments import UploadTooLarge, sanitize_filename
from itsm.services import add_attachment
from itsm.testing import make_incident


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("evil\x00.pdf.exe", "evil.pdf.exe"),
        ("line\r\nbreak.txt", "linebreak.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("<script>alert(1)</script>.html", "script_.html"),
        ('quote"semi;colon.txt', "quote_semi_colon.txt"),
        ("...", "file"),
        ("", "file"),
        (".htaccess", "htaccess"),
        ("naïve café.txt", "naïve café.txt"),
    ],
)
def test_file_names_are_sanitised(raw, safe):
    assert sanitize_filename(raw) == safe


def test_a_very_long_name_is_shortened_keeping_its_extension():
    name = sanitize_filename("a" * 1000 + ".docx")
    assert len(name) <= 150
    assert name.endswith(".docx")


def test_an_upload_over_the_limit_is_refused_and_nothing_is_stored(db, alice, settings, tmp_path):
    settings.ATTACHMENT_MAX_BYTES = 1024
    incident = make_incident()
    with pytest.raises(UploadTooLarge):
        add_attachment(incident, actor=alice, upload=SimpleUploadedFile("big.bin", b"x" * 1025))
    assert not incident.attachments.exists()
    assert not [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]


def test_the_stored_path_never_contains_the_users_file_name(db, alice):
    incident = make_incident()
    attachment = add_attachment(
        incident, actor=alice, upload=SimpleUploadedFile("../../secret plan.txt", b"hello")
    )
    assert attachment.name == "secret plan.txt"
    assert "secret" not in attachment.file.name
    assert ".." not in attachment.file.name
    assert attachment.content_type == "text/plain"


def test_the_api_answers_413_for_a_file_over_the_limit(db, api, rita, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    incident = make_incident(requester=rita)
    response = api.as_(rita).post(
        f"/api/v1/incidents/{incident.number}/attachments/",
        {"file": SimpleUploadedFile("big.txt", b"x" * 11)},
        format="multipart",
    )
    assert response.status_code == 413
    assert "file" in response.json()


def test_a_download_is_an_attachment_never_rendered_inline(db, api, rita):
    incident = make_incident(requester=rita)
    upload = SimpleUploadedFile("page.html", b"<script>alert(1)</script>", "text/html")
    created = api.as_(rita).post(
        f"/api/v1/incidents/{incident.number}/attachments/", {"file": upload}, format="multipart"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) >= {"id", "name", "size", "content_type", "url"}
    response = api.get(body["url"])
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


def test_another_user_cannot_list_or_download_attachments(db, api, rita, eve):
    incident = make_incident(requester=rita)
    created = (
        api.as_(rita)
        .post(
            f"/api/v1/incidents/{incident.number}/attachments/",
            {"file": SimpleUploadedFile("a.txt", b"private")},
            format="multipart",
        )
        .json()
    )
    api.as_(eve)
    assert api.get(f"/api/v1/incidents/{incident.number}/attachments/").status_code == 404
    assert api.get(created["url"]).status_code == 404


def test_anonymous_downloads_are_refused(db, api, rita):
    incident = make_incident(requester=rita)
    created = (
        api.as_(rita)
        .post(
            f"/api/v1/incidents/{incident.number}/attachments/",
            {"file": SimpleUploadedFile("a.txt", b"private")},
            format="multipart",
        )
        .json()
    )
    api.force_authenticate(user=None)
    assert api.get(created["url"]).status_code in (401, 403)
