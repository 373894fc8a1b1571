"""The shell every page shares: assets, the sign-in page, the portal home, the error pages."""

from importlib.metadata import version
from urllib.parse import urlparse

import pytest
from django.urls import include, path
from playwright.sync_api import expect

from itsm.management.commands.seed_demo import DEMO_USERS
from itsm.testing import make_incident

pytestmark = pytest.mark.e2e

SURFACE = "rgb(244, 246, 250)"  # --itsm-surface, from static/css/itsm.css
NAVY = "rgb(15, 39, 71)"  # --itsm-navy
PRIMARY = "rgb(29, 78, 216)"  # --itsm-primary


def style(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e)[{prop!r}]")


def path_of(page) -> str:
    return urlparse(page.url).path


def test_the_project_and_vendor_assets_load(page, login):
    login(page, "agent")
    assert style(page, "body", "backgroundColor") == SURFACE  # itsm.css
    assert style(page, ".app-navbar", "backgroundColor") == NAVY
    assert style(page, ".app-navbar", "display") == "flex"  # Bootstrap
    assert page.evaluate("typeof window.bootstrap.Collapse") == "function"
    assert page.evaluate("typeof window.htmx.ajax") == "function"
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px bootstrap-icons')")
    footer = page.locator(".app-footer")
    expect(footer).to_contain_text(f"ITSM Service Desk · version {version('itsm')}")
    expect(footer.get_by_role("link", name="API documentation")).to_have_attribute(
        "href", "/api/docs/"
    )


def test_a_wrong_password_is_refused_with_a_message(page, demo_users):
    page.goto("/accounts/login/")
    page.locator("#id_username").fill("agent")
    page.locator("#id_password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page.locator("#id_username")).to_have_value("agent")
    expect(page.locator("#id_password")).to_have_value("")
    assert path_of(page) == "/accounts/login/"


def test_the_demo_accounts_are_listed_only_where_demo_logins_are_on(
    page, demo_users, settings, screenshot
):
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.locator(".demo-card")).to_have_count(0)
    screenshot(page, "login")

    settings.DEMO_LOGINS = True  # the embedded default's own setting
    page.reload()
    demo = page.locator(".demo-card")
    expect(demo).to_be_visible()
    expect(demo.locator("[data-demo-login]")).to_have_text([row[0] for row in DEMO_USERS])
    expect(demo).to_contain_text("Change manager, Agent")
    screenshot(page, "login-demo")

    demo.get_by_role("button", name="Sign in as enduser").click()
    page.wait_for_url("**/portal/")
    expect(page.locator("h1")).to_contain_text("Hello Emma")


def test_the_portal_home_offers_the_actions_and_the_recent_tickets(
    page, login, demo_users, screenshot
):
    enduser = demo_users["enduser"]
    make_incident(requester=enduser, title="VPN drops every ten minutes")
    make_incident(requester=enduser, title="New laptop for the intern")
    make_incident(requester=demo_users["agent"], title="Someone else's ticket")
    login(page, "enduser")

    tiles = page.locator(".portal-tiles .tile")
    expect(tiles).to_have_count(3)
    report = page.locator(".portal-tiles a.tile", has_text="Report an issue")
    expect(report).to_have_attribute("href", "/portal/report/")
    mine = page.locator(".portal-tiles a.tile", has_text="My tickets")
    expect(mine).to_have_attribute("href", "/portal/tickets/")
    order = page.locator(".portal-tiles .tile", has_text="Order something")
    if order.evaluate("e => e.tagName") == "A":  # the catalogue is routed
        assert order.get_attribute("href").startswith("/portal/")
    else:
        expect(order).to_contain_text("Not available yet")

    rows = page.locator(".recent-tickets .ticket-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("New laptop for the intern")  # newest first
    expect(page.locator(".recent-tickets")).not_to_contain_text("Someone else's ticket")
    link = rows.first.get_by_role("link", name="New laptop for the intern")
    number = rows.first.locator(".ticket-number").inner_text()
    expect(link).to_have_attribute("href", f"/portal/tickets/{number}/")
    expect(rows.first.locator(".status-pill")).to_have_text("Received")
    screenshot(page, "portal-home")


def test_someone_without_tickets_sees_an_empty_state(page, login):
    login(page, "netagent")
    page.goto("/portal/")
    expect(page.locator(".recent-tickets .empty-state")).to_contain_text("You have no tickets yet.")
    expect(page.locator(".recent-tickets .ticket-row")).to_have_count(0)


def test_a_missing_page_answers_404_inside_the_shell(page, login, screenshot):
    login(page, "agent")
    response = page.goto("/no-such-page/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    expect(page.locator("#main-nav .app-nav")).to_contain_text("Agent desk")
    screenshot(page, "error-404")
    page.get_by_role("link", name="Back to my home page").click()
    page.wait_for_url("**/desk/")


def test_an_area_outside_the_roles_answers_403_inside_the_shell(page, login, screenshot):
    login(page, "enduser")
    response = page.goto("/desk/")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Access denied")
    expect(page.locator("#main-nav .app-nav")).not_to_contain_text("Agent desk")
    screenshot(page, "error-403")


def boom(request):
    raise RuntimeError("boom (on purpose, for the 500 page)")


class BoomURLConf:
    urlpatterns = [path("boom/", boom), path("", include("itsm.urls"))]


def test_a_server_error_answers_a_standalone_500_page(page, login, settings, screenshot):
    login(page, "agent")
    settings.ROOT_URLCONF = BoomURLConf
    response = page.goto("/boom/")
    assert response.status == 500
    expect(page.locator("h1")).to_have_text("Something went wrong")
    assert style(page, "body", "backgroundColor") == SURFACE
    expect(page.locator("#main-nav")).to_have_count(0)  # no context processors, no database
    screenshot(page, "error-500")


@pytest.mark.parametrize("width", [992, 1280, 1366])
@pytest.mark.parametrize("username", ["admin", "manager"])
def test_the_navigation_bar_fits_a_laptop_screen(
    new_page, login, demo_users, screenshot, username, width
):
    """The roles with the most areas (admin, manager) see every link, the language, their menu
    and the bell without the page scrolling sideways, in the longer language too."""
    for locale in ("en-US", "fr-FR"):
        page = new_page(viewport={"width": width, "height": 800}, locale=locale)
        login(page, username)
        page.goto("/reports/" if username == "manager" else "/desk/")
        screenshot(page, f"navbar-{username}-{locale}-{width}")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{locale} {username}: {scroll} px wide at {width} px"
        bell = page.locator(".app-bell").bounding_box()
        assert bell is not None and bell["x"] + bell["width"] <= width
        page.close()
