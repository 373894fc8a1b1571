"""Browser fixtures for the portal's end-to-end tests: the Playwright harness of
``tests/e2e/conftest.py`` (Debian's Chromium, pages that fail on broken assets or script
errors, screenshots), with a light sign-in that needs no demo data."""

import gc
import os

import pytest

from itsm.testing import PASSWORD, make_user
from tests.e2e.conftest import (  # noqa: F401  (fixtures, re-exported for this folder)
    CHROMIUM,
    CHROMIUM_ARGS,
    new_page,
    page,
    screenshot,
)


def _live_browser():
    """The Chromium another folder's ``browser`` fixture already launched, if any.

    Playwright's sync API drives one instance per thread: while ``tests/e2e``'s session-wide
    browser is open, a second launch fails. That fixture is not visible from this folder (it
    belongs in ``tests/conftest.py``), so its browser is found among the live objects.
    """
    from playwright.sync_api import Browser

    for candidate in gc.get_objects():
        if isinstance(candidate, Browser) and candidate.is_connected():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    """The session's Chromium when one is open, else one for this module (closed after it, so
    a later folder can launch its own)."""
    shared = _live_browser()
    if shared is not None:
        yield shared
        return
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium.")
    from playwright.sync_api import sync_playwright

    # Playwright's loop on the main thread trips Django's async-safety check (see tests/e2e).
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


@pytest.fixture
def emma(transactional_db, settings):
    """An end user of the live server's database (a fast hasher; the form still checks)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return make_user("emma", first_name="Emma", last_name="Laurent")


@pytest.fixture
def sign_in():
    def go(tab, user, password: str = PASSWORD) -> None:
        tab.goto("/accounts/login/")
        tab.locator("#id_username").fill(user.username)
        tab.locator("#id_password").fill(password)
        tab.locator("#login-form [type=submit]").click()
        tab.wait_for_url(lambda url: "/accounts/login/" not in url)

    return go
