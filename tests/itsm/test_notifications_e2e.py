"""The bell and the notification centre in a browser: keyboard, phone, French; the approval
confirmation page; and what a notification email looks like."""

import pytest
from django.core import mail

from incidents import services
from itsm import notify
from itsm.extensions import _approval_actions, approval_action
from itsm.testing import make_incident

pytestmark = pytest.mark.e2e


@pytest.fixture
def news(demo_users, django_capture_on_commit_callbacks):
    """The end user's incidents, answered by the agent: unread notifications on both sides."""
    from accounts.services import set_language

    enduser, agent = demo_users["enduser"], demo_users["agent"]
    set_language(enduser, "fr", actor=enduser)
    first = make_incident(requester=enduser, title="Le VPN se déconnecte")
    second = make_incident(requester=enduser, title="Imprimante du 3e étage")
    services.assign(first, actor=agent, assignee=agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.comment(first, actor=agent, body="Pouvez-vous **redémarrer** le poste ?")
    services.change_state(second, "in_progress", actor=agent)
    services.comment(first, actor=enduser, body="C’est fait, toujours pareil.")
    return first, second


def test_the_end_user_follows_the_bell_to_their_ticket_on_a_phone_in_french(
    news, new_page, login, screenshot
):
    page = new_page(viewport={"width": 390, "height": 844}, locale="fr-FR")
    login(page, "enduser")
    bell = page.locator("a.app-bell")
    assert bell.is_visible()  # outside the collapsed menu
    assert bell.get_attribute("aria-label") == "Notifications\u00a0: 4 non lues"
    screenshot(page, "notifications-bell-phone-fr")
    bell.click()
    page.wait_for_url("**/notifications/")
    assert page.locator("h1").inner_text() == "Notifications"
    assert page.locator(".notification-row.is-unread").count() == 4
    screenshot(page, "notifications-list-phone-fr")
    page.locator(".notification-row .notification-subject").first.click()
    page.wait_for_url("**/portal/tickets/*/")
    assert page.locator("a.app-bell").get_attribute("aria-label") == (
        "Notifications\u00a0: 3 non lues"
    )


def test_an_agent_marks_read_and_sets_preferences_with_the_keyboard(
    news, new_page, login, screenshot
):
    page = new_page()
    login(page, "agent")
    page.goto("/notifications/")
    rows = page.locator(".notification-row.is-unread")
    before = rows.count()
    assert before >= 1
    screenshot(page, "notifications-list-desktop")
    page.locator(".notification-action button").first.focus()
    page.keyboard.press("Enter")  # htmx swaps the row
    # a function, not an expression: the CSP refuses the eval() an expression would need
    page.wait_for_function(
        "(before) => document.querySelectorAll('.notification-row.is-unread').length < before",
        arg=before,
    )
    page.goto("/notifications/preferences/")
    page.locator("#comment-email").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save preferences").click()
    page.wait_for_load_state()
    assert "saved" in page.locator(".alert").inner_text()
    assert not page.locator("#comment-email").is_checked()
    screenshot(page, "notifications-preferences-desktop")


def test_the_approval_link_asks_to_confirm_then_records_once(
    demo_users, new_page, screenshot, django_capture_on_commit_callbacks
):
    cab = demo_users["cab"]
    incident = make_incident(requester=demo_users["enduser"], title="Upgrade the core switch")

    def decide(approval, *, actor, decision, comment):
        services.comment(approval, actor=demo_users["agent"], body=f"{actor}: {decision}")

    approval_action("incidents.Incident", describe=lambda i: f"{i.number} {i.title}")(decide)
    try:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            notify.notify(
                [cab],
                kind="approval_requested",
                ticket=incident,
                subject="Approval requested for %(number)s",
                message='%(number)s "%(title)s" waits for your approval.',
                approval=incident,
            )
        [message] = mail.outbox
        html = message.alternatives[0][0]
        email_page = new_page(viewport={"width": 700, "height": 900})
        email_page.set_content(html)
        screenshot(email_page, "email-approval-request")
        approve = next(
            line.split(" ", 1)[1]
            for line in message.body.splitlines()
            if line.startswith("Approve:")
        )
        page = new_page(viewport={"width": 390, "height": 844})
        page.goto("/" + approve.split("/", 3)[3])
        screenshot(page, "approval-link-confirm-phone")
        page.get_by_role("button", name="Confirm the approval").click()
        page.wait_for_load_state()
        assert "Approval recorded" in page.locator("h1").inner_text()
        page.goto("/" + approve.split("/", 3)[3])
        assert "Link already used" in page.locator("h1").inner_text()
        screenshot(page, "approval-link-used-phone")
    finally:
        _approval_actions.pop("incidents.incident", None)


def test_a_comment_email_in_french(news, new_page, screenshot):
    first, _second = news
    [message] = [m for m in mail.outbox if "redémarrer" in m.body]
    page = new_page(viewport={"width": 390, "height": 844})
    page.set_content(message.alternatives[0][0])
    assert page.locator("h1").inner_text().startswith("Nouveau commentaire")
    screenshot(page, "email-comment-phone")
