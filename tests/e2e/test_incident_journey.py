"""The incident journey of issue #4, in a real browser, with screenshots at each step:
an end user reports an incident in the portal → an agent finds it in "My teams' unassigned",
takes it, adds an internal note and a public reply, resolves it → the end user sees the reply
but not the note, confirms the resolution and rates it."""

import re

import pytest

from incidents.models import Incident

pytestmark = pytest.mark.e2e

TITLE = "Badge reader at the north entrance refuses my badge"
NOTE = "Reader firmware 2.3 is known to drop badges: replacing it (internal)."
REPLY = "We are replacing the reader; your badge works again at the south entrance."


@pytest.mark.parametrize("language", ["en-US", "fr-FR"])
def test_report_work_resolve_confirm_and_rate(new_page, login, screenshot, language):
    lang = language[:2]
    user = new_page(locale=language)
    login(user, "enduser")
    _choose_language(user, lang)

    # 1. The end user reports the issue.
    user.goto("/portal/report/")
    user.locator("[name=title]").fill(TITLE)
    user.locator("[name=description]").fill("Since Monday the reader blinks **red**.")
    user.locator("input[name=urgency][value='2']").check(force=True)
    screenshot(user, f"journey-{lang}-1-report")
    user.locator("#report-form [type=submit]").click()
    user.wait_for_url(re.compile(r"/portal/tickets/INC\d{7}/"))
    number = re.search(r"INC\d{7}", user.url).group(0)
    incident = Incident.objects.get(number=number)
    assert incident.title == TITLE
    assert incident.requester.username == "enduser"
    screenshot(user, f"journey-{lang}-2-reported")

    # 2. An agent finds it in "My teams' unassigned" and takes it.
    agent = new_page(locale=language)
    login(agent, "agent")
    _choose_language(agent, lang)
    agent.goto("/desk/?queue=team")
    agent.locator("#id_q").fill(number)
    agent.locator("#id_q").press("Enter")
    agent.wait_for_load_state("networkidle")
    rows = agent.locator("#incident-rows a.ticket-link")
    assert rows.all_inner_texts() == [number]
    row_link = rows.first
    screenshot(agent, f"journey-{lang}-3-queue")
    row_link.click()
    agent.wait_for_url(f"**/desk/incidents/{number}/")
    agent.keyboard.press("a")  # the "assign to me" shortcut
    agent.locator(".ticket-header .badge", has_text=_in_progress(lang)).wait_for()
    incident.refresh_from_db()
    assert incident.assignee.username == "agent"
    assert incident.state == "in_progress"

    # 3. An internal note, then a public reply (htmx: no page reload).
    agent.locator("#comment-body").fill(NOTE)
    agent.locator("#comment-internal").check()
    agent.locator(".comment-form [type=submit]").click()
    agent.locator(".timeline-item.internal", has_text="firmware 2.3").wait_for()
    agent.locator("#comment-body").fill(REPLY)
    agent.locator(".comment-form [type=submit]").click()
    agent.locator(".timeline-item.public", has_text="south entrance").wait_for()

    # 4. Resolve with a code and notes.
    agent.keyboard.press("r")
    agent.locator("#resolution-code").select_option("fixed")
    agent.locator("#resolution-notes").fill("Reader replaced.")
    agent.locator("#resolve-panel [type=submit]").click()
    agent.locator(".ticket-header .badge", has_text=_resolved(lang)).wait_for()
    screenshot(agent, f"journey-{lang}-4-resolved-by-agent")
    incident.refresh_from_db()
    assert (incident.state, incident.resolution_code) == ("resolved", "fixed")

    # 5. The end user sees the reply, never the note; confirms and rates.
    user.reload()
    body = user.content()
    assert "south entrance" in body
    assert "firmware" not in body
    screenshot(user, f"journey-{lang}-5-resolution")
    user.locator("form[action$='/confirm/'] [type=submit]").click()
    user.wait_for_load_state()
    user.locator("label[for='rating-5']").click()
    user.locator(".rating-form [name=comment]").fill("Quick and clear, thank you.")
    user.locator(".rating-form [type=submit]").click()
    user.wait_for_load_state()
    screenshot(user, f"journey-{lang}-6-rated")
    incident.refresh_from_db()
    assert incident.state == "closed"
    assert incident.csat_score == 5
    assert "firmware" not in user.content()


def _choose_language(page, lang: str) -> None:
    if lang == "en":
        return
    with page.expect_navigation():
        page.locator("#language-nav").select_option(lang)
    assert page.locator("html").get_attribute("lang") == lang


def _in_progress(lang: str) -> str:
    return {"en": "In progress", "fr": "En cours"}[lang]


def _resolved(lang: str) -> str:
    return {"en": "Resolved", "fr": "Résolu"}[lang]
