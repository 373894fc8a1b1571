"""The portal in a real browser: an end user reports an issue and finds it in My tickets,
replies without a page reload, confirms the fix and rates it with the keyboard; every page
fits a phone. Screenshots land in ``test-results/screenshots/portal-*.png``."""

import re

import pytest
from playwright.sync_api import expect

from cmdb.models import CI, CIClass
from incidents import services
from incidents.models import Incident
from incidents.workflow import HoldReason
from itsm.testing import make_user
from tests.browser import SCREENSHOTS

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
NOTE = "SECRET-NOTE-e2e-41b7"


@pytest.fixture
def business_services(transactional_db):
    business, _ = CIClass.objects.get_or_create(
        name="business_service", defaults={"label": "Business service"}
    )
    for name in ("Email", "VPN", "Printing", "ERP"):
        CI.objects.get_or_create(name=name, ci_class=business)


@pytest.fixture
def agent(emma):
    return make_user("alex", roles=("agent",), first_name="Alex", last_name="Martin")


def snap(target, name: str) -> None:
    """A screenshot of what is on screen (a dialog) or of one element (``target``)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=SCREENSHOTS / f"{name}.png")


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_end_user_reports_an_issue_and_finds_it_in_my_tickets(
    new_page, emma, business_services, sign_in, screenshot
):
    page = new_page()
    sign_in(page, emma)
    page.goto("/portal/")
    page.get_by_role("link", name=re.compile("Report an issue")).click()
    expect(page.locator("h1")).to_have_text("Report an issue")
    screenshot(page, "portal-report")

    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#id_title_errors")).to_be_visible()
    expect(page.get_by_label("What is the problem?")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "portal-report-errors")

    page.get_by_label("What is the problem?").fill("The VPN drops every ten minutes")
    page.get_by_label("Tell us more").fill(
        "Since **Monday**, working from home.\n\n- client 5.2\n- Windows 11"
    )
    page.locator("label", has_text="It slows me down").click()
    page.get_by_label("Which service is affected?").select_option(label="VPN")
    page.get_by_label("Attachments").set_input_files(
        [{"name": "vpn.log", "mimeType": "text/plain", "buffer": b"12:01 tunnel down\n"}]
    )
    page.get_by_role("button", name="Submit").click()

    page.wait_for_url(re.compile(r"/portal/tickets/INC\d{7}/$"))
    incident = Incident.objects.get()
    assert (incident.requester, incident.urgency, incident.service.name) == (emma, 2, "VPN")
    expect(page.locator(".alert-success")).to_contain_text(incident.number)
    expect(page.locator("h1")).to_have_text("The VPN drops every ten minutes")
    expect(page.locator(".ticket-header .status-pill")).to_contain_text("Received")
    expect(page.get_by_role("link", name="vpn.log")).to_be_visible()
    screenshot(page, "portal-ticket-new")

    page.locator(".portal-breadcrumb").get_by_role("link", name="My tickets").click()
    row = page.locator(".ticket-item", has_text=incident.number)
    expect(row).to_contain_text("The VPN drops every ten minutes")
    expect(row).to_contain_text("Received")
    expect(page.locator(".ticket-tabs .active")).to_contain_text("1")
    screenshot(page, "portal-my-tickets")


def test_reply_without_reload_then_confirm_and_rate_with_the_keyboard(
    new_page, emma, agent, sign_in, screenshot
):
    incident = services.open_incident(
        actor=emma,
        requester=emma,
        title="Outlook keeps asking for my password",
        description="Every few minutes a **credentials prompt** pops up.",
        urgency=2,
    )
    services.take(incident, actor=agent)
    services.comment(incident, actor=agent, body="Hi Emma, did you change your password lately?")
    services.comment(incident, actor=agent, body=f"{NOTE} check her AD lockouts", internal=True)
    services.hold(incident, actor=agent, reason=HoldReason.AWAITING_CALLER)

    page = new_page()
    sign_in(page, emma)
    page.goto(incident.get_portal_url())
    expect(page.locator(".ticket-header .status-pill")).to_contain_text("Waiting for your reply")
    screenshot(page, "portal-ticket-waiting")

    page.evaluate("window.portalNotReloaded = true")
    page.get_by_label("Your reply", exact=True).fill(
        "Yes, on Monday. The prompt started right after."
    )
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#conversation .message-mine")).to_contain_text("The prompt started")
    expect(page.locator("#conversation-status")).to_have_text("Your reply was sent.")
    expect(page.get_by_label("Your reply", exact=True)).to_have_value("")
    assert page.evaluate("window.portalNotReloaded === true")
    assert NOTE not in page.content()

    services.resolve(
        incident,
        actor=agent,
        code="fixed",
        notes="Your old password was still saved in the **Windows credential manager**.",
    )
    page.reload()
    expect(page.locator(".ticket-header .status-pill")).to_contain_text("Solved")
    screenshot(page, "portal-ticket-resolved")

    page.get_by_role("button", name="Yes, it's solved").click()
    expect(page.locator(".ticket-header .status-pill")).to_contain_text("Closed")

    page.locator("#rating-1").focus()
    for _press in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#rating-4")).to_be_checked()
    expect(page.locator(".star-caption[data-score='4']")).to_be_visible()
    snap(page.locator("#rating"), "portal-rating-keyboard")
    page.get_by_label("Anything you would like to add?").fill("Quick and friendly.")
    page.get_by_role("button", name="Send my rating").click()
    expect(page.locator(".rating-summary")).to_contain_text("You gave 4 stars out of 5.")
    screenshot(page, "portal-ticket-rated")
    incident.refresh_from_db()
    assert (incident.state, incident.csat_score) == ("closed", 4)
    assert NOTE not in page.content()


def test_the_portal_fits_a_phone_and_cancels_through_its_dialog(
    new_page, emma, agent, business_services, sign_in, screenshot
):
    for n, title in enumerate(["Badge does not open the garage", "Teams camera is black"]):
        incident = services.open_incident(
            actor=emma, requester=emma, title=title, description="Since today.", urgency=n + 1
        )
    services.take(incident, actor=agent)
    services.comment(incident, actor=agent, body="Could you try another USB port?")
    page = new_page(viewport=PHONE)
    sign_in(page, emma)

    page.goto("/portal/report/")
    assert fits(page, PHONE["width"])
    screenshot(page, "portal-phone-report")

    page.goto("/portal/tickets/")
    expect(page.locator(".ticket-item")).to_have_count(2)
    assert fits(page, PHONE["width"])
    screenshot(page, "portal-phone-my-tickets")

    page.goto(incident.get_portal_url())
    assert fits(page, PHONE["width"])
    screenshot(page, "portal-phone-ticket")

    badge = Incident.objects.get(title__startswith="Badge")
    page.goto(badge.get_portal_url())
    page.get_by_role("button", name="Cancel this request").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.wait_for_function(
        "() => !document.querySelector('#cancel-dialog').matches('.fade:not(.show)')"
    )
    page.wait_for_timeout(400)  # the fade-in transition
    expect(dialog.get_by_role("button", name="Keep it")).to_be_visible()
    snap(page, "portal-phone-cancel-dialog")
    dialog.get_by_role("button", name="Yes, cancel it").click()
    expect(page.locator(".ticket-header .status-pill")).to_contain_text("Canceled")
    badge.refresh_from_db()
    assert badge.state == "canceled"


def test_a_fix_that_did_not_work_is_reopened_with_a_reason(
    new_page, emma, agent, sign_in, screenshot
):
    incident = services.open_incident(
        actor=emma, requester=emma, title="Cannot print in colour", description="Only grey."
    )
    services.take(incident, actor=agent)
    services.resolve(incident, actor=agent, code="fixed", notes="Reinstalled the driver.")
    page = new_page()
    sign_in(page, emma)
    page.goto(incident.get_portal_url())

    page.get_by_text("No, it's still broken").click()
    reason = page.get_by_label("What is still not working?")
    expect(reason).to_be_visible()
    page.get_by_role("button", name="Reopen my ticket").click()
    expect(page.locator("#id_reason_errors")).to_be_visible()  # a reason is required
    expect(page.get_by_label("What is still not working?")).to_be_focused()
    page.get_by_label("What is still not working?").fill("Still grey on the 2nd floor printer.")
    screenshot(page, "portal-ticket-reopen")
    page.get_by_role("button", name="Reopen my ticket").click()

    expect(page.locator(".ticket-header .status-pill")).to_contain_text("We're working on it")
    expect(page.locator("#conversation .message-mine")).to_contain_text("Still grey")
    incident.refresh_from_db()
    assert incident.state == "in_progress"
