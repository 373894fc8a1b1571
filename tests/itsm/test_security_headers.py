"""Every response carries the browser-side defences: a strict Content-Security-Policy and the
other security headers, on each kind of page (desk, portal, sign-in, errors, API, API docs,
admin), while downloads keep their own sandboxing policy."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from itsm.services import add_attachment
from itsm.testing import make_incident, make_persona

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_strict_policy(response):
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert set(policy["img-src"]) == {"'self'", "data:"}
    text = response["Content-Security-Policy"]
    assert "unsafe-inline" not in text and "unsafe-eval" not in text


def assert_security_headers(response):
    for name, value in HEADERS.items():
        assert response[name] == value, name
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions


@pytest.fixture
def scene(db, rita, alice):
    incident = make_incident(requester=rita)
    return {
        "rita": rita,
        "alice": alice,
        "max": make_persona("max"),
        "ada": make_persona("ada"),
        "incident": incident,
    }


def pages(scene):
    number = scene["incident"].number
    return [
        (None, "/accounts/login/", 200),
        (None, "/health/", 200),
        (None, "/no-such-page/", 404),
        ("alice", "/desk/", 200),
        ("alice", f"/desk/incidents/{number}/", 200),
        ("alice", "/desk/incidents/new/", 200),
        ("alice", "/cmdb/cis/", 200),
        ("max", "/sla/", 200),
        ("alice", "/changes/", 200),
        ("alice", "/problems/", 200),
        ("alice", "/notifications/", 200),
        ("alice", "/desk/incidents/INC9999999/", 404),
        ("rita", "/portal/", 200),
        ("rita", f"/portal/tickets/{number}/", 200),
        ("rita", "/portal/catalog/", 200),
        ("rita", "/desk/", 403),
        ("rita", "/api/v1/incidents/", 200),
        ("rita", "/api/docs/", 200),
        ("rita", "/api/docs/?script", 200),
        ("ada", "/admin/", 200),
        ("ada", "/admin/incidents/incident/", 200),
    ]


def test_every_kind_of_page_sends_the_strict_policy_and_the_security_headers(client, scene):
    checked = 0
    for username, url, status in pages(scene):
        client.logout()
        if username:
            client.force_login(scene[username])
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        assert_strict_policy(response)
        assert_security_headers(response)
        checked += 1
    assert checked == len(pages(scene))


def test_html_pages_carry_no_inline_script_and_no_style_attribute(client, scene):
    """What the policy would block: an inline script (not a JSON data block), an event
    handler attribute, a style attribute or element, a javascript: URL."""
    for username, url, _status in pages(scene):
        client.logout()
        if username:
            client.force_login(scene[username])
        response = client.get(url)
        if not response["Content-Type"].startswith("text/html"):
            continue
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert not re.search(r"<[^>]+\sstyle=", html), url
        assert "<style" not in html, url
        assert not re.search(r"<[^>]+\son[a-z]+=", html), url
        assert "javascript:" not in html, url


def test_a_download_keeps_its_own_sandbox_policy(client, scene):
    rita, incident = scene["rita"], scene["incident"]
    attachment = add_attachment(
        incident, actor=rita, upload=SimpleUploadedFile("page.svg", b"<svg onload=alert(1)>")
    )
    client.force_login(rita)
    response = client.get(f"/api/v1/incidents/{incident.number}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert_security_headers(response)
