"""Every demo role signs in through the real form, lands where its work is and sees the
navigation of its roles only (SPEC §1; ``itsm.context_processors.NAVIGATION``)."""

from dataclasses import dataclass
from urllib.parse import urlparse

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from accounts.models import User

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

# Navigation entries: URL name → label. An entry whose page is not routed yet cannot appear.
PORTAL, DESK = "portal:home", "incidents:incident_list"
CHANGES, PROBLEMS, CMDB = "changes:home", "problems:home", "cmdb:home"
SLA, REPORTS, ADMIN = "sla:home", "reports:home", "admin:index"
LABELS = {
    PORTAL: "Portal",
    DESK: "Agent desk",
    CHANGES: "Changes",
    PROBLEMS: "Problems",
    CMDB: "CMDB",
    SLA: "SLA",
    REPORTS: "Reports",
    ADMIN: "Admin",
}
FRENCH_LABELS = {PORTAL: "Portail", DESK: "Espace agent"}


@dataclass(frozen=True)
class Role:
    sees: frozenset[str]
    lands: tuple[str, ...]  # where home sends them: the first of these that is routed
    roles: tuple[str, ...]  # what the user menu lists


STAFF = frozenset({PORTAL, DESK, CHANGES, PROBLEMS, CMDB})
ROLES = {
    "enduser": Role(frozenset({PORTAL}), (PORTAL,), ("End user",)),
    "agent": Role(STAFF, (DESK,), ("Agent",)),
    "netagent": Role(STAFF, (DESK,), ("Agent",)),
    "cab": Role(frozenset({PORTAL, CHANGES}), (CHANGES, PORTAL), ("CAB member",)),
    "security": Role(frozenset({PORTAL, CHANGES}), (CHANGES, PORTAL), ("CAB member",)),
    "changemgr": Role(STAFF, (CHANGES, DESK), ("Agent", "Change manager")),
    "problemmgr": Role(STAFF, (PROBLEMS, DESK), ("Agent", "Problem manager")),
    "manager": Role(STAFF | {SLA, REPORTS}, (SLA, DESK), ("Manager",)),
    "admin": Role(frozenset(LABELS), (DESK,), ("Administrator",)),
}


def routed(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def path_of(page) -> str:
    return urlparse(page.url).path


def nav_labels(page) -> list[str]:
    return [text.strip() for text in page.locator("#main-nav .app-nav .nav-link").all_inner_texts()]


@pytest.mark.parametrize("username", list(ROLES))
def test_each_role_lands_on_its_work_and_sees_only_its_navigation(
    page, login, screenshot, username
):
    role = ROLES[username]
    login(page, username)

    landing = next(url for url in map(routed, role.lands) if url)
    assert path_of(page) == landing

    labels = nav_labels(page)
    expected = {LABELS[name] for name in role.sees if routed(name)}
    forbidden = {LABELS[name] for name in LABELS.keys() - role.sees}
    assert set(labels) == expected, f"{username} sees {labels}"
    assert len(labels) == len(set(labels))
    assert not forbidden & set(labels)
    for name in role.sees:
        if routed(name):
            link = page.locator("#main-nav .app-nav .nav-link", has_text=LABELS[name])
            expect(link).to_have_attribute("href", routed(name))
    current = page.locator('#main-nav .nav-link[aria-current="page"]')
    landing_items = [LABELS[name] for name in role.sees if routed(name) == landing]
    if landing_items:
        expect(current).to_have_text(landing_items)

    screenshot(page, f"landing-{username}")

    page.locator("#user-menu").click()
    menu = page.locator(".user-menu")
    expect(menu).to_be_visible()
    expect(menu).to_contain_text(User.objects.get(username=username).get_full_name())
    expect(menu.locator(".role-badge")).to_have_text(sorted(role.roles), use_inner_text=True)
    expect(menu.get_by_role("button", name="Sign out")).to_be_visible()
    if username == "changemgr":
        screenshot(page, "user-menu-changemgr")


@pytest.mark.parametrize("username", ["enduser", "agent"])
def test_on_a_phone_the_navigation_collapses_to_a_toggler_usable_by_keyboard(
    new_page, login, screenshot, username
):
    page = new_page(viewport=PHONE)
    login(page, username)
    toggler = page.locator(".navbar-toggler")
    first_link = page.locator("#main-nav .app-nav .nav-link").first
    expect(toggler).to_be_visible()
    expect(first_link).to_be_hidden()
    screenshot(page, f"phone-{username}")

    # Skip link, brand, then the toggler.
    focused = []
    for _press in range(3):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.className"))
    assert "navbar-toggler" in focused[-1], focused
    page.keyboard.press("Enter")
    expect(page.locator("#main-nav.collapse.show")).to_be_visible()  # transition over
    expect(first_link).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Portal"
    expect(page.locator("#user-menu")).to_be_visible()
    screenshot(page, f"phone-{username}-menu")

    with page.expect_navigation(url="**/portal/"):
        page.keyboard.press("Enter")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_login_page_fits_a_phone(new_page, demo_users, screenshot):
    page = new_page(viewport=PHONE)
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "phone-login")


def test_french_is_chosen_with_the_selector_and_kept_on_the_user(new_page, login, screenshot):
    page = new_page()
    page.goto("/accounts/login/")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.select_option("#language-login", "fr")
    expect(page.locator("h1")).to_have_text("Se connecter")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_label("Mot de passe")).to_be_visible()
    screenshot(page, "login-fr")

    login(page, "agent")
    assert nav_labels(page)[:2] == [FRENCH_LABELS[PORTAL], FRENCH_LABELS[DESK]]

    # Signed in, the choice is saved on the user.
    page.select_option("#language-nav", "en")
    expect(page.locator("#main-nav .app-nav")).to_contain_text("Agent desk")
    assert User.objects.get(username="agent").language == "en"
    page.select_option("#language-nav", "fr")
    expect(page.locator("#main-nav .app-nav")).to_contain_text("Espace agent")
    assert User.objects.get(username="agent").language == "fr"
    screenshot(page, "landing-agent-fr")

    page.locator("#user-menu").click()
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/accounts/login/")
    expect(page.locator("h1")).to_have_text("Se connecter")

    # A browser that never chose French (no cookie, English Accept-Language) shows English
    # until the user signs in; then their saved language wins.
    fresh = new_page(locale="en-US")
    fresh.goto("/accounts/login/")
    expect(fresh.locator("h1")).to_have_text("Sign in")
    login(fresh, "agent")
    assert nav_labels(fresh)[:2] == [FRENCH_LABELS[PORTAL], FRENCH_LABELS[DESK]]
    fresh.goto("/portal/")
    expect(fresh.locator("h1")).to_contain_text("Bonjour Alex")


def test_signing_out_takes_a_post_with_its_csrf_token(page, login, live_server):
    login(page, "agent")
    form = page.locator("form.logout-form")
    assert form.get_attribute("method") == "post"
    assert len(form.locator("input[name=csrfmiddlewaretoken]").get_attribute("value")) >= 32

    # A plain link (GET) cannot sign anybody out, nor can a POST without the token.
    assert page.request.get(f"{live_server.url}/accounts/logout/").status == 405
    assert page.request.post(f"{live_server.url}/accounts/logout/").status == 403
    page.goto("/portal/")
    assert path_of(page) == "/portal/"

    page.locator("#user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    expect(page.locator("#login-form")).to_be_visible()
    page.goto("/portal/")
    assert path_of(page) == "/accounts/login/"
    assert "next=/portal/" in page.url


def test_the_skip_link_is_the_first_focusable_element(page, login):
    first_focusable = """() => document.querySelector(
        'a[href], button, input:not([type=hidden]), select, textarea,'
        + '[tabindex]:not([tabindex="-1"])'
    ) === document.querySelector('.skip-link')"""
    page.goto("/accounts/login/")
    assert page.evaluate(first_focusable)

    login(page, "enduser")
    assert page.evaluate(first_focusable)
    skip = page.locator(".skip-link")
    assert skip.bounding_box()["width"] <= 1  # visually hidden until focused
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    assert skip.bounding_box()["width"] > 100
    expect(skip).to_have_text("Skip to main content")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
