"""A file over the size limit in a real browser: the form comes back (413) with the error on
its file field and everything typed still there; on the desk, the comment form (htmx) is
swapped in the same way despite the error status."""

import re

import pytest
from playwright.sync_api import expect

from incidents.models import Incident
from itsm.testing import make_incident, make_user

pytestmark = pytest.mark.e2e

TITLE = "Scanner beeps three times"
DESCRIPTION = "Since this morning, on the 2nd floor.\nThe display says E-42."


def big_file(size: int = 2048) -> dict:
    return {"name": "scan-log.txt", "mimeType": "text/plain", "buffer": b"x" * size}


def test_an_oversize_file_on_the_report_form_keeps_what_was_typed(
    new_page, emma, sign_in, settings
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    page = new_page()
    sign_in(page, emma)
    page.goto("/portal/report/")
    page.get_by_label("What is the problem?").fill(TITLE)
    page.get_by_label("Tell us more").fill(DESCRIPTION)
    page.get_by_text("It slows me down").click()
    page.locator("#id_attachments").set_input_files([big_file()])
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/portal/report/")
    ) as posted:
        page.get_by_role("button", name="Submit").click()
    assert posted.value.status == 413
    errors = page.locator("#id_attachments_errors")
    expect(errors).to_contain_text(
        "Attachments: scan-log.txt is too large (2.0\xa0KB): each file can be up to 1.0\xa0KB."
    )
    expect(page.get_by_label("What is the problem?")).to_have_value(TITLE)
    expect(page.get_by_label("Tell us more")).to_have_value(DESCRIPTION)
    expect(page.locator("#id_attachments")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label(re.compile("It slows me down"))).to_be_checked()
    assert not Incident.objects.exists()


def test_the_desk_comment_form_comes_back_at_413_with_its_text(new_page, sign_in, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    agent = make_user("alex", roles=("agent",), first_name="Alex", last_name="Martin")
    incident = make_incident(title="Printer jammed")
    page = new_page()
    sign_in(page, agent)
    page.goto(f"/desk/incidents/{incident.number}/")
    page.locator("#comment-body").fill("Spooler restarted; trace attached.")
    page.locator("#comment-files").set_input_files([big_file()])

    def is_comment(response):
        return response.request.method == "POST" and response.url.endswith("/comment/")

    with page.expect_response(is_comment) as sent:
        page.get_by_role("button", name="Post").click()
    assert sent.value.status == 413
    expect(page.locator(".comment-form")).to_contain_text(
        "Files: scan-log.txt is too large (2.0\xa0KB): each file can be up to 1.0\xa0KB."
    )
    expect(page.locator("#comment-body")).to_have_value("Spooler restarted; trace attached.")
    assert not incident.comments.exists()


def test_a_desk_comment_over_the_request_limit_says_so_and_keeps_its_text(
    new_page, sign_in, settings
):
    """Refused before the form is read (itsm.middleware): no form comes back, so the message
    shows in the page's alert area, and the comment typed is still in its box."""
    settings.UPLOAD_MAX_REQUEST_BYTES = 4096
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    agent = make_user("alex", roles=("agent",), first_name="Alex", last_name="Martin")
    incident = make_incident(title="Printer jammed")
    page = new_page()
    sign_in(page, agent)
    page.goto(f"/desk/incidents/{incident.number}/")
    page.locator("#comment-body").fill("Spooler restarted; trace attached.")
    page.locator("#comment-files").set_input_files([big_file(8192)])

    def is_comment(response):
        return response.request.method == "POST" and response.url.endswith("/comment/")

    with page.expect_response(is_comment) as sent:
        page.get_by_role("button", name="Post").click()
    assert sent.value.status == 413
    alert = page.locator("#page-alerts [role=alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Upload too large")
    expect(alert).to_contain_text("at most 4.0\xa0KB can be sent at once")
    expect(page.locator("#comment-body")).to_have_value("Spooler restarted; trace attached.")
    assert not incident.comments.exists()
