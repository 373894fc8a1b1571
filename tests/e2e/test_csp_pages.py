"""Every page type, for each demo role, under the strict Content-Security-Policy and with the
XSS corpus (tests/hostile.py) in every text field: no CSP violation, no console error, no
JavaScript dialog, and the policy header on every document.

A ``securitypolicyviolation`` listener is installed in every page before its scripts run (an
init script) and reports through an exposed function, so a violation on any page, including
one blocked before any of our scripts loaded, fails the test. A payload that escaped the HTML
escaping would either run (``alert`` → a dialog) or be blocked by the policy (a violation).
"""

import pytest
from django.db import transaction
from playwright.sync_api import expect

from tests.hostile import build_hostile_desk, hostile_names

pytestmark = pytest.mark.e2e

LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `in ${event.documentURI} line ${event.lineNumber}: ${event.sample || ""}`
  );
});
"""
STAFF = ["agent", "netagent", "cab", "security", "changemgr", "problemmgr", "manager", "admin"]
END_USER_DESK_PAGES = ["/desk/", "/cmdb/cis/", "/no-such-page/"]
# The browser logs the status of a document answered 403/404 (pages a role may not open).
REFUSED_DOCUMENT = "Failed to load resource: the server responded with a status of 40"


@pytest.fixture
def hostile_desk(demo_users):
    with transaction.atomic():
        hostile_names(demo_users)
        return build_hostile_desk(demo_users)


@pytest.fixture
def watched_page(new_page):
    """A page whose CSP violations, console errors and dialogs are collected."""
    problems: list[str] = []

    def make():
        page = new_page()
        page.context.expose_function("__cspViolation", lambda text: problems.append(f"CSP {text}"))
        page.context.add_init_script(LISTENER)
        page.on(
            "console",
            lambda message: (
                problems.append(f"console {message.type}: {message.text}")
                if message.type == "error" and not message.text.startswith(REFUSED_DOCUMENT)
                else None
            ),
        )

        def on_dialog(dialog):
            problems.append(f"dialog {dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    make.problems = problems
    return make


def visit(page, url: str, problems: list[str]) -> None:
    response = page.goto(url)
    assert response is not None, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, (url, policy)
    page.wait_for_load_state("networkidle")
    # Open what opens on a click (menus, tabs) so their scripts and styles run too.
    menu = page.locator("#user-menu")
    if menu.count():
        menu.click()
    for tab in page.locator("[data-bs-toggle='tab']").all():
        if tab.is_visible():
            tab.click()
    page.wait_for_load_state("networkidle")
    # the listener is async: give a violation raised during load the time to be reported
    page.evaluate("new Promise((resolve) => setTimeout(resolve, 50))")
    assert not problems, f"{url}:\n" + "\n".join(problems)


@pytest.mark.parametrize("username", STAFF)
def test_desk_pages_run_under_the_policy_with_hostile_data(
    watched_page, login, hostile_desk, username
):
    page = watched_page()
    login(page, username)
    incident = hostile_desk.incidents[0].pk
    extra = [
        "/admin/",
        "/admin/incidents/incident/",
        f"/admin/incidents/incident/{incident}/change/",
    ]
    for url in [*hostile_desk.desk_pages(), "/portal/", "/api/docs/"]:
        visit(page, url, watched_page.problems)
    if username == "admin":  # Django's admin too
        for url in extra:
            visit(page, url, watched_page.problems)


def test_portal_pages_run_under_the_policy_with_hostile_data(watched_page, login, hostile_desk):
    page = watched_page()
    login(page, "enduser")
    for url in [*hostile_desk.portal_pages(), *END_USER_DESK_PAGES]:
        visit(page, url, watched_page.problems)


def test_the_scripts_and_sizes_moved_out_of_the_html_still_work(watched_page, login, hostile_desk):
    """The incident list's bulk selection (was an inline script) and the SLA bars' widths (were
    style attributes, now set from data-bar)."""
    page = watched_page()
    login(page, "agent")
    page.goto("/desk/")
    count = page.locator("#bulk-count")
    page.locator("input[data-number]").first.check()
    expect(count).to_have_text("1 selected")
    expect(page.locator("[data-bulk]").first).to_be_enabled()
    page.locator("#select-all").check()
    expect(count).not_to_have_text("1 selected")
    page.goto(f"/desk/incidents/{hostile_desk.incidents[0].number}/")
    bars = page.locator(".progress-bar[data-bar]")
    expect(bars.first).to_be_attached()
    widths = bars.evaluate_all("bars => bars.map((b) => [b.dataset.bar, b.style.width])")
    assert widths and all(width == f"{bar}%" for bar, width in widths), widths
    assert not watched_page.problems, watched_page.problems


def test_the_sign_in_page_runs_under_the_policy(watched_page, demo_users):
    page = watched_page()
    visit(page, "/accounts/login/", watched_page.problems)


def test_the_listener_sees_what_the_policy_blocks(watched_page, demo_users):
    """The check itself: an inline script and a style attribute added to a page are reported."""
    page = watched_page()
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "alert('inline ran')";
        document.body.appendChild(script);
        document.body.insertAdjacentHTML("beforeend", '<p style="color: red">styled</p>');
      }"""
    )
    page.wait_for_timeout(200)
    found = list(watched_page.problems)
    watched_page.problems.clear()
    assert any("script-src" in problem for problem in found), found
    assert any("style-src" in problem for problem in found), found
    assert not any(problem.startswith("dialog") for problem in found), found
