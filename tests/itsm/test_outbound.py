"""What notification emails say and how they thread; what each person chose to receive;
one INSERT and one task however many people or tickets a notification reaches."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services
from itsm import notify
from itsm.mail import our_message, thread_id
from itsm.models import Notification
from itsm.testing import make_incident, make_user


@pytest.fixture
def mailed(django_capture_on_commit_callbacks):
    """Run ``func`` and mail what it notified (the task runs eagerly after commit)."""

    def run(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = func(*args, **kwargs)
        return result

    return run


def html_of(message) -> str:
    [(content, kind)] = message.alternatives
    assert kind == "text/html"
    return content


def test_the_acknowledgement_carries_the_number_in_the_subject_and_the_portal_link(
    db, rita, mailed
):
    incident = mailed(make_incident, requester=rita, title="Printer on fire")
    [message] = mail.outbox
    assert message.subject == f"[{incident.number}] Printer on fire"
    assert message.to == [rita.email]
    assert f"/portal/tickets/{incident.number}/" in message.body
    assert f"/portal/tickets/{incident.number}/" in html_of(message)
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"


def test_an_agent_gets_the_desk_link(db, rita, alice, mailed):
    incident = make_incident(requester=rita)
    mail.outbox.clear()
    mailed(services.comment, incident, actor=rita, body="Still broken")
    services.assign(incident, actor=alice, assignee=alice)
    mail.outbox.clear()
    mailed(services.comment, incident, actor=rita, body="Any news?")
    [message] = mail.outbox
    assert message.to == [alice.email]
    assert f"/desk/incidents/{incident.number}/" in message.body


def test_every_message_of_a_ticket_threads_on_one_root(db, rita, alice, mailed):
    incident = mailed(make_incident, requester=rita)
    mailed(services.comment, incident, actor=alice, body="Looking into it")
    mailed(services.change_state, incident, "in_progress", actor=alice)
    root = thread_id(incident.number)
    ids = set()
    for message in mail.outbox:
        headers = message.extra_headers
        assert headers["In-Reply-To"] == root
        assert headers["References"] == root
        assert message.subject == f"[{incident.number}] {incident.title}"
        ids.add(headers["Message-ID"])
        assert our_message(headers["Message-ID"]).ticket == incident.number
    # the acknowledgement, the team's assignment, the reply and the state change
    assert len(ids) == len(mail.outbox) == 4
    assert our_message(root).notification is None


def test_a_message_id_is_stable_across_attempts_and_cannot_be_forged(db, rita):
    from itsm.mail import message_id

    incident = make_incident(requester=rita)
    row = Notification.objects.filter(ticket=incident.number).first()
    assert message_id(row) == message_id(row)
    forged = message_id(row).replace(f".n{row.pk}.", f".n{row.pk + 1}.")
    assert our_message(forged) is None
    assert our_message("<CAF=abc@mail.gmail.com>") is None


def test_a_french_recipient_reads_french(db, rita, alice, mailed):
    rita.language = "fr"
    rita.save()
    incident = make_incident(requester=rita)
    mail.outbox.clear()
    mailed(services.comment, incident, actor=alice, body="**Redémarrez** le poste")
    [message] = mail.outbox
    assert "a écrit" in message.body
    assert "Choisissez les notifications que vous recevez" in message.body
    html = html_of(message)
    assert '<html lang="fr">' in html
    assert "<strong>Redémarrez</strong>" in html  # the comment's Markdown, sanitised


def test_a_comment_cannot_inject_html_into_the_email(db, rita, alice, mailed):
    incident = make_incident(requester=rita)
    mail.outbox.clear()
    mailed(
        services.comment,
        incident,
        actor=alice,
        body="<script>alert(1)</script><img src=x onerror=alert(1)>",
    )
    html = html_of(mail.outbox[0])
    assert "<script" not in html  # dropped, or escaped as text
    assert re.search(r"<[^>]*\son\w+=", html) is None  # no event handler on any tag


def test_replies_are_invited_above_a_marker_when_mail_comes_back_to_us(db, rita, mailed, settings):
    settings.EMAIL_REPLIES = True
    mailed(make_incident, requester=rita)
    body = mail.outbox[0].body
    assert body.startswith("##- Please type your reply above this line -##")
    assert "Reply to this email to add a comment" in body


def test_an_internal_note_is_never_emailed_to_an_end_user(db, rita, alice, bob, mailed):
    incident = make_incident(requester=rita)
    services.watch(incident, actor=bob)
    services.assign(incident, actor=alice, assignee=alice)
    mail.outbox.clear()
    mailed(services.comment, incident, actor=alice, body="Vendor says 3 weeks", internal=True)
    assert [message.to for message in mail.outbox] == [[bob.email]]
    assert not Notification.objects.filter(recipient=rita, kind="comment").exists()


def test_a_queued_internal_note_is_not_mailed_to_someone_who_left_the_staff(db, rita, alice, bob):
    from accounts.services import update_user

    incident = make_incident(requester=rita)
    services.watch(incident, actor=bob)
    services.comment(incident, actor=alice, body="Vendor case 42", internal=True)
    [row] = Notification.objects.filter(recipient=bob, kind="comment")
    update_user(bob, {}, actor=None, roles=[])  # no longer an agent when the task runs
    mail.outbox.clear()
    notify.deliver([row.pk])
    assert mail.outbox == []
    row.refresh_from_db()
    assert row.email_state == "skipped"


# --- Preferences


def test_someone_who_turned_email_off_gets_the_notification_in_the_app_only(db, rita, mailed):
    notify.set_preferences(rita, {"created": {"email": False}}, actor=rita)
    mailed(make_incident, requester=rita)
    assert mail.outbox == []
    [row] = Notification.objects.filter(recipient=rita)
    assert row.in_app and row.email_state == "skipped"


def test_someone_who_turned_the_app_off_gets_the_email_only(db, rita, mailed):
    notify.set_preferences(rita, {"created": {"in_app": False}}, actor=rita)
    mailed(make_incident, requester=rita)
    assert len(mail.outbox) == 1
    assert Notification.objects.inbox(rita).count() == 0
    assert Notification.objects.unread_count(rita) == 0


def test_someone_who_turned_both_off_gets_nothing(db, rita, mailed):
    notify.set_preferences(rita, {"created": {"in_app": False, "email": False}}, actor=rita)
    mailed(make_incident, requester=rita)
    assert mail.outbox == []
    assert not Notification.objects.filter(recipient=rita).exists()


def test_preferences_are_ones_own(db, rita, eve):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        notify.set_preferences(rita, {"created": {"email": False}}, actor=eve)


def test_an_unknown_kind_is_refused_by_name(db, rita):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        notify.set_preferences(rita, {"gossip": {"email": False}}, actor=rita)
    assert "gossip" in str(refused.value)


def test_back_to_the_default_leaves_no_row(db, rita):
    from itsm.models import NotificationPreference

    notify.set_preferences(rita, {"state": {"email": False}}, actor=rita)
    assert NotificationPreference.objects.filter(user=rita).count() == 1
    notify.set_preferences(rita, {"state": {"email": True}}, actor=rita)
    assert NotificationPreference.objects.filter(user=rita).count() == 0


# --- Batching


def inserts(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith('INSERT INTO "itsm_notification"'))


def test_one_notify_for_many_recipients_is_one_insert_and_one_task(
    db, rita, django_capture_on_commit_callbacks
):
    incident = make_incident(requester=rita)
    people = [make_user(f"watcher{n}") for n in range(25)]
    with (
        django_capture_on_commit_callbacks() as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        rows = notify.notify(
            people, kind="state", ticket=incident, subject="%(number)s moved", message="moved"
        )
    assert len(rows) == 25
    assert inserts(queries) == 1
    assert len(queries) <= 3  # who is staff, preferences, the INSERT
    assert len(callbacks) == 1


def test_a_batch_of_notify_calls_for_many_tickets_is_one_insert_and_one_task(
    db, rita, alice, django_capture_on_commit_callbacks
):
    incidents = [make_incident(requester=rita) for _ in range(10)]
    with (
        django_capture_on_commit_callbacks() as callbacks,
        CaptureQueriesContext(connection) as queries,
        notify.batched(),
    ):
        for incident in incidents:
            written = notify.notify(
                [alice], kind="sla_warning", ticket=incident, subject="%(number)s", message="m"
            )
            assert written == []
    assert inserts(queries) == 1
    assert len(queries) <= 3
    assert len(callbacks) == 1
    assert Notification.objects.filter(recipient=alice, kind="sla_warning").count() == 10


def test_a_batch_keeps_each_calls_rules(db, rita, alice, bob):
    incident = make_incident(requester=rita)
    with notify.batched():
        notify.notify(
            [rita, alice],
            kind="comment",
            ticket=incident,
            subject="s",
            message="m",
            actor=alice,
            internal=True,
        )
        with notify.without_mail():
            notify.notify([rita], kind="state", ticket=incident, subject="s", message="m")
    rows = Notification.objects.filter(kind__in=["comment", "state"])
    assert [(r.recipient.username, r.kind, r.email_state) for r in rows.order_by("id")] == [
        ("rita", "state", "skipped")
    ]
