"""The catalog's other pages in a real browser, with screenshots: a manager builds an item's
form in the editor (no JSON); the portal's catalog on a phone; a request's SLA bars on the
desk and requests in the SLA dashboard."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Team, User
from catalog import services
from catalog.models import CatalogItem
from sla.config import default_calendar, save_policy
from tests.browser import PHONE
from tests.e2e.test_accessibility import contrast_problems

pytestmark = pytest.mark.e2e


@pytest.fixture
def hardware(demo_users):
    return services.save_category(
        None,
        {"name": "Hardware", "icon": "laptop", "translations": {"fr": {"name": "Matériel"}}},
        actor=None,
    )


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_manager_builds_an_items_form_in_the_editor(new_page, login, screenshot, hardware):
    page = new_page()
    login(page, "manager")
    page.goto("/catalog/")
    expect(page.locator("h1")).to_have_text("Service catalog")
    page.get_by_role("link", name="New item").click()
    page.get_by_label("Name", exact=True).fill("VPN access")
    page.get_by_label("Category").select_option(label="Hardware")
    page.get_by_label("Fulfilment team").select_option(label="Network")
    page.get_by_label("The manager of the person it is for").check()

    # Two questions, added in place; the second is moved above the first.
    page.get_by_role("button", name="Add a question").click()
    first = page.locator("[data-formset=fields] > [data-card]").nth(0)
    first.get_by_label("Question", exact=True).fill("Device")
    first.get_by_label("Answer type").select_option("choice")
    expect(first.get_by_label("Options")).to_be_visible()
    expect(first.get_by_label("Minimum")).to_be_hidden()
    first.get_by_label("Options").fill("Company laptop | Portable de l’entreprise\nPersonal")
    first.get_by_label("Required").check()
    page.get_by_role("button", name="Add a question").click()
    second = page.locator("[data-formset=fields] > [data-card]").nth(1)
    second.get_by_label("Question", exact=True).fill("Needed until")
    second.get_by_label("Answer type").select_option("date")
    second.locator("summary").click()
    second.get_by_label("Question (French)").fill("Jusqu’au")
    second.get_by_role("button", name="Move up").click()
    expect(page.locator("[data-formset=fields] [data-card-title]").first).to_have_text(
        "Needed until"
    )
    page.get_by_role("button", name="Add a task").click()
    page.locator("[data-formset=tasks] input[name$='-title']").fill("Open the VPN account")
    assert contrast_problems(page) == []
    screenshot(page, "catalog-editor-builder")

    page.get_by_role("button", name="Save the item").click()
    expect(page.locator(".alert-success")).to_contain_text("VPN access")
    item = CatalogItem.objects.get(name="VPN access")
    assert [f["name"] for f in item.form] == ["needed_until", "device"]
    assert item.form[0]["translations"]["fr"]["label"] == "Jusqu’au"
    assert [c["label"] for c in item.form[1]["choices"]] == ["Company laptop", "Personal"]
    assert item.approval == "manager" and item.tasks[0]["title"] == "Open the VPN account"

    page.goto("/catalog/")
    assert contrast_problems(page) == []
    screenshot(page, "catalog-editor-list")
    preview = new_page(viewport=PHONE)
    login(preview, "enduser")
    preview.goto(item.get_portal_url())
    expect(preview.locator("#id_answer__device")).to_be_visible()
    assert fits(preview, PHONE["width"])


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_portal_catalog_fits_a_phone(new_page, login, screenshot, hardware, language):
    services.save_item(
        None,
        {
            "category": hardware,
            "name": "Laptop",
            "summary": "A new or replacement laptop, ready to use.",
            "translations": {"fr": {"name": "Ordinateur portable", "summary": "Prêt à l’emploi."}},
            "fulfillment_team": Team.objects.get(name="Service Desk"),
            "approval": "manager",
        },
        actor=None,
    )
    User.objects.filter(username="enduser").update(language=language)
    page = new_page(viewport=PHONE)
    login(page, "enduser")
    page.goto("/portal/catalog/")
    expect(page.locator(".catalog-card").first).to_be_visible()
    assert fits(page, PHONE["width"])
    assert contrast_problems(page) == []
    screenshot(page, f"catalog-{language}-phone-catalog")
    page.locator("#catalog-search").fill("portable" if language == "fr" else "laptop")
    page.locator("#catalog-search").press("Enter")
    expect(page.locator("[aria-labelledby=results-title] .catalog-card")).to_have_count(1)
    page.goto("/portal/requests/")
    assert fits(page, PHONE["width"])
    screenshot(page, f"catalog-{language}-phone-my-requests-empty")


def test_request_timers_show_on_the_desk_and_in_the_sla_dashboard(
    new_page, login, screenshot, demo_users, hardware
):
    save_policy(
        None,
        {
            "name": "Hardware requests",
            "applies_to": "request",
            "calendar": default_calendar(),
            "response_seconds": 4 * 3600,
            "resolution_seconds": 40 * 3600,
        },
        actor=None,
    )
    headset = services.save_item(
        None,
        {
            "category": hardware,
            "name": "Headset",
            "fulfillment_team": Team.objects.get(name="Service Desk"),
        },
        actor=None,
    )
    request = services.order(actor=demo_users["enduser"], item=headset, answers={})
    page = new_page()
    login(page, "agent")
    page.goto(f"/desk/requests/{request.number}/")
    expect(page.locator(".sla-panel")).to_contain_text("Hardware requests")
    expect(page.locator(".sla-panel .progress")).to_have_count(2)
    assert contrast_problems(page) == []
    screenshot(page, "catalog-desk-request-sla")
    page.goto("/desk/requests/?queue=requests_breaching_soon")
    expect(page.locator("h1")).to_have_text("Breaching soon")

    manager = new_page()
    login(manager, "manager")
    manager.goto("/sla/?kind=request&hours=48")
    expect(manager.locator("#id_kind")).to_have_value("request")
    expect(manager.locator("body")).to_contain_text(re.compile(request.number))
    screenshot(manager, "catalog-sla-dashboard-requests")
