"""The portal's browser tests use the shared harness (``tests/browser.py``) with a light
sign-in that needs no demo data."""

import pytest

from itsm.testing import PASSWORD, make_user


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
