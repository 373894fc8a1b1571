"""What the walkthrough of every role found (issue 18), each fix seen in a real browser: in
English and French, on a phone (390 px) and a laptop (1366 px). Screenshots:
``test-results/screenshots/walkthrough-<item>-<page>-<language>-<width>.png``."""

import re

import pytest
from playwright.sync_api import expect

from incidents import demo as incident_demo
from tests.browser import PHONE

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1366, "height": 768}
LANGUAGES = {"en": "en-US", "fr": "fr-FR"}
VIEWS = [(language, viewport) for language in LANGUAGES for viewport in (PHONE, LAPTOP)]


def views(new_page, login, username):
    """One signed-in page per language and width: ``(language, width, page)``."""
    for language, viewport in VIEWS:
        page = new_page(viewport=viewport, locale=LANGUAGES[language])
        login(page, username)
        yield language, viewport["width"], page


def shoot(screenshot, page, item: str, name: str, language: str, width: int) -> None:
    """Saves the page, and checks it fits its width (nothing makes the page scroll sideways)."""
    screenshot(page, f"walkthrough-{item}-{name}-{language}-{width}")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide at {width} px"


# --- 11. The portal's home puts "waiting for your reply" first ---------------------------------


def test_11_portal_home_shows_what_waits_for_the_end_user_first(
    new_page, login, demo_users, screenshot
):
    incident_demo._for_the_end_user_login(
        {team.name: team for team in demo_users["agent"].teams.all()}, incident_demo.timezone.now()
    )
    heading = {"en": "Waiting for your reply", "fr": "En attente de votre réponse"}
    solved = {"en": "Solved — please confirm", "fr": "Résolu — merci de confirmer"}
    for language, width, page in views(new_page, login, "enduser"):
        page.goto("/portal/")
        first = page.locator("main h2").first
        expect(first).to_have_text(re.compile(heading[language]))
        waiting = page.locator(".waiting-for-you")
        expect(waiting.locator(".ticket-row")).to_have_count(2)
        expect(waiting).to_contain_text("Docking station")
        expect(waiting).to_contain_text(solved[language])
        shoot(screenshot, page, "11", "portal-home", language, width)
