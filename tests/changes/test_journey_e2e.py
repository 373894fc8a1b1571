"""The change journey of issue #11 in a real browser, in English and in French, with
screenshots at each step: a change manager raises a normal change and submits it to the CAB →
two CAB members approve it in "My approvals" → it is scheduled and shows on the calendar; a
second change is rejected by one member and goes back to ``new`` with the comment shown.
Phone-sized screenshots of "My approvals" and of the calendar too."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Team
from changes import services
from changes.models import Change
from cmdb.classes import ensure_default_classes
from tests.browser import PHONE

from .builders import make_ci, submitted

pytestmark = pytest.mark.e2e

REJECTION = "The backout plan skips the DNS step: add it and bring it back."


def _choose_language(page, lang: str) -> None:
    if lang == "en":
        return
    if not page.locator("#language-nav").is_visible():  # on a phone, in the menu
        page.locator(".navbar-toggler").click()
        page.locator("#language-nav").wait_for(state="visible")
    with page.expect_navigation():
        page.locator("#language-nav").select_option(lang)
    assert page.locator("html").get_attribute("lang") == lang


def _signed_in(new_page, login, username, language, **options):
    page = new_page(locale=language, **options)
    login(page, username)
    _choose_language(page, language[:2])
    return page


def _move(page, state: str) -> None:
    with page.expect_navigation():
        page.locator(f"form:has(input[name=state][value={state}]) button").click()


@pytest.mark.parametrize("language", ["en-US", "fr-FR"])
def test_a_change_is_approved_by_two_cab_members_and_another_rejected(
    new_page, login, screenshot, demo_users, language
):
    lang = language[:2]
    ensure_default_classes()  # the live server's database is emptied after each test
    cab = Team.objects.get(name="CAB")
    services.save_board(cab, actor=None, policy="majority")
    make_ci("srv-mail-01")
    start = timezone.localtime(timezone.now() + timedelta(days=3)).replace(
        hour=21, minute=0, second=0, microsecond=0
    )
    second = submitted(
        actor=demo_users["changemgr"],
        cab=cab,
        cis=[make_ci("srv-print-01")],
        title="Replace the print server",
        planned_start=start + timedelta(days=1),
        planned_end=start + timedelta(days=1, hours=1),
    )

    # 1. The change manager lands on the CAB agenda and raises a normal change.
    manager = _signed_in(new_page, login, "changemgr", language)
    manager.goto("/")
    assert manager.url.endswith("/changes/")
    assert manager.locator(".agenda-table").is_visible()
    screenshot(manager, f"changes-{lang}-1-cab-agenda")
    manager.goto("/changes/new/")
    manager.locator("#id_title").fill("Patch the mail relay")
    manager.locator("#id_description").fill("Security update of the **mail relay**.")
    manager.locator("#id_cis").fill("srv-mail-01")
    manager.locator("#id_planned_start").fill(start.strftime("%Y-%m-%dT%H:%M"))
    manager.locator("#id_planned_end").fill((start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    manager.locator("#id_implementation_plan").fill("1. Drain the queue.\n2. Patch.\n3. Reboot.")
    manager.locator("#id_backout_plan").fill("Restore the snapshot.")
    manager.locator("#id_test_plan").fill("Send a test mail through the relay.")
    manager.locator("#id_cab").select_option(str(cab.pk))
    manager.locator("input[name=risk_tested][value=yes]").check()
    manager.locator("input[name=risk_outage][value=partial]").check()
    screenshot(manager, f"changes-{lang}-2-new-change")
    with manager.expect_navigation():
        manager.locator(".change-form [type=submit]").click()
    assert re.search(r"/changes/CHG\d{7}/$", manager.url), manager.url
    number = re.search(r"CHG\d{7}", manager.url).group(0)
    _move(manager, "assess")
    _move(manager, "authorize")
    change = Change.objects.get(number=number)
    assert (change.state, change.approval_policy) == ("authorize", "majority")
    assert [ci.name for ci in change.cis.all()] == ["srv-mail-01"]
    screenshot(manager, f"changes-{lang}-3-submitted")

    # 2. A CAB member lands on "My approvals" (two votes wait, counted in the navigation),
    #    approves the first change and rejects the second with a comment, each in one step.
    phone = _signed_in(new_page, login, "cab", language, viewport=PHONE)
    phone.goto("/changes/approvals/")
    screenshot(phone, f"changes-{lang}-phone-my-approvals")
    member = _signed_in(new_page, login, "cab", language)
    member.goto("/")
    assert member.url.endswith("/changes/")
    assert member.locator("#main-nav .nav-badge").inner_text().startswith("2")
    screenshot(member, f"changes-{lang}-4-my-approvals")
    card = member.locator("article.change-card", has_text=number)
    card.locator("textarea[name=comment]").fill("Tested in staging last week.")
    with member.expect_navigation():
        card.locator("button[name=decision][value=approve]").click()
    change.refresh_from_db()
    assert change.state == "authorize"  # one of three: the majority needs two
    card = member.locator("article.change-card", has_text=second.number)
    card.locator("textarea[name=comment]").fill(REJECTION)
    with member.expect_navigation():
        card.locator("button[name=decision][value=reject]").click()
    second.refresh_from_db()
    assert second.state == "new"
    screenshot(member, f"changes-{lang}-5-voted")

    # 3. A second CAB member approves: the policy is met, the change is scheduled.
    other = _signed_in(new_page, login, "security", language)
    other.goto("/changes/")
    card = other.locator("article.change-card", has_text=number)
    with other.expect_navigation():
        card.locator("button[name=decision][value=approve]").click()
    change.refresh_from_db()
    assert change.state == "scheduled"
    assert other.locator(".alert-success").is_visible()
    screenshot(other, f"changes-{lang}-6-scheduled")

    # 4. It shows on the calendar, coloured by its risk, a click from "My approvals".
    other.locator(".change-area-nav a[href='/changes/calendar/']").click()
    other.wait_for_url("**/changes/calendar/")
    other.goto(f"/changes/calendar/?view=week&date={start.date().isoformat()}")
    chip = other.locator(f"a.cal-chip.risk-{change.risk}.state-scheduled", has_text=number)
    assert chip.is_visible()
    screenshot(other, f"changes-{lang}-7-calendar-week")
    other.goto(f"/changes/calendar/?date={start.date().isoformat()}")
    screenshot(other, f"changes-{lang}-8-calendar-month")
    phone.goto(f"/changes/calendar/?view=week&date={start.date().isoformat()}")
    assert phone.locator("a.cal-chip", has_text=number).is_visible()
    screenshot(phone, f"changes-{lang}-phone-calendar")

    # 5. The rejected change is back in "new" for its requester, with the comment shown.
    manager.goto(second.get_absolute_url())
    rejection = manager.locator(".alert.rejection")
    assert REJECTION in rejection.inner_text()
    screenshot(manager, f"changes-{lang}-9-rejected")


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_change_pages_meet_aa_contrast(new_page, login, demo_users, viewport):
    """Risk colours, vote badges, blackout stripes and calendar chips stay readable (1.4.3)."""
    from tests.e2e.test_accessibility import contrast_problems

    ensure_default_classes()
    manager = demo_users["changemgr"]
    cab = Team.objects.get(name="CAB")
    services.save_board(cab, actor=None)
    start = timezone.localtime(timezone.now() + timedelta(days=1)).replace(hour=9, minute=0)
    services.save_blackout(
        None,
        {"name": "Freeze", "start": start + timedelta(days=1), "end": start + timedelta(days=2)},
        actor=None,
    )
    server = make_ci("srv-contrast-01")
    waiting = submitted(
        actor=manager,
        cab=cab,
        cis=[server],
        planned_start=start,
        planned_end=start + timedelta(hours=2),
    )
    services.vote(waiting, actor=demo_users["security"], decision="approve", comment="Fine.")
    for risk_answers, hours in (({"outage": "full", "users": 900}, 3), ({}, 5)):
        change = submitted(
            actor=manager,
            cab=cab,
            cis=[server],
            risk_answers=risk_answers,
            approval_policy="any",
            planned_start=start + timedelta(hours=hours),
            planned_end=start + timedelta(hours=hours + 1),
        )
        services.vote(change, actor=demo_users["cab"], decision="approve")
    page = new_page(**({"viewport": viewport} if viewport else {}))
    login(page, "cab")
    day = start.date().isoformat()
    for path in (
        "/changes/approvals/",
        f"/changes/calendar/?view=week&date={day}",
        f"/changes/calendar/?date={day}",
        "/changes/cab/",
        waiting.get_absolute_url(),
        "/changes/list/",
    ):
        page.goto(path)
        assert contrast_problems(page) == [], path


def test_a_cab_member_votes_with_the_keyboard_alone(new_page, login, demo_users):
    ensure_default_classes()
    cab = Team.objects.get(name="CAB")
    services.save_board(cab, actor=None)
    change = submitted(actor=demo_users["changemgr"], cab=cab, cis=[make_ci("srv-keys-01")])
    page = new_page()
    login(page, "cab")
    page.goto("/changes/approvals/")
    page.locator("textarea[name=comment]").focus()
    page.keyboard.type("Checked the backout plan.")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.value")
    assert focused == "approve"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    vote = change.approvals.get(approver=demo_users["cab"])
    assert (vote.decision, vote.comment) == ("approved", "Checked the backout plan.")
