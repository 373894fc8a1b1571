"""Browser fixtures for every folder (imported by ``tests/conftest.py``).

Playwright for Python drives Debian's Chromium against pytest-django's
``live_server`` (which serves the static files through ``StaticFilesHandler``).

Playwright never downloads a browser here: ``/usr/bin/chromium`` comes from the distribution
(``make browser`` installs it). Every test module marks itself ``pytest.mark.e2e``.

Fixtures:
- ``browser`` (session): one headless Chromium.
- ``new_page(viewport=..., locale=...)``: a page in a fresh browser context (no cookies);
  ``page`` is one at desktop size. A page fails its test at teardown when a static asset
  does not load or a script throws.
- ``demo_users``: the demo logins of ``manage.py seed_demo`` (one per SPEC §1 role) and teams.
- ``login(page, username, password="demo")``: signs in through the real login form.
- ``screenshot(page, name)``: full-page PNG in ``test-results/screenshots/<name>.png``.
"""

import os
import re
from pathlib import Path

import pytest
from django.db import transaction

from itsm.management.commands.seed_demo import DEMO_PASSWORD
from itsm.management.commands.seed_demo import Command as SeedDemo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop registered on the main thread while it runs,
    # which trips Django's async-safety check on every ORM call made by the tests (and by the
    # live server's setup); the check is meant for real async code, not this.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


@pytest.fixture
def new_page(request, browser, live_server):
    """Factory of pages, each in its own context (its own cookies), aimed at the live server.

    When the test fails, each page's last state is saved as ``FAILED-<test>-<n>.png``.
    """
    contexts = []
    pages = []
    problems: list[str] = []

    def watch_response(response):
        if "/static/" in response.url and response.status >= 400:
            problems.append(f"static asset {response.url} answered {response.status}")

    def watch_failure(request):
        # ERR_ABORTED: the page moved on before the asset finished (e.g. the favicon).
        if "/static/" in request.url and request.failure != "net::ERR_ABORTED":
            problems.append(f"static asset {request.url} failed: {request.failure}")

    def make(*, viewport=DESKTOP, locale="en-US"):
        context = browser.new_context(viewport=viewport, locale=locale, base_url=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        page.on("response", watch_response)
        page.on("requestfailed", watch_failure)
        pages.append(page)
        return page

    yield make
    if getattr(request.node, "e2e_failed", False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "-", request.node.name)
        for number, page in enumerate(pages, 1):
            page.screenshot(path=SCREENSHOTS / f"FAILED-{name}-{number}.png", full_page=True)
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def demo_users(transactional_db, settings):
    """The demo logins of ``manage.py seed_demo`` (one per role, password "demo") and their
    teams, in the live server's database; returns them by username.

    Only the people and teams: the apps' demo records (hundreds of incidents) take more than a
    minute to load, and the live server's database is emptied after every test. A fast hasher
    keeps it cheap; the login form still checks the password for real.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed = SeedDemo()
    with transaction.atomic():
        users = seed.seed_people()
        seed.seed_teams(users)
    return users


@pytest.fixture
def login(demo_users):
    def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password)
        with page.expect_response(
            lambda r: r.request.method == "POST" and "/accounts/login/" in r.url
        ) as posted:
            page.locator("#login-form [type=submit]").click()
        assert posted.value.status == 302, f"{username} could not sign in"
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        page.wait_for_load_state()

    return sign_in


@pytest.fixture
def screenshot():
    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take
