from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone, translation

from itsm import notify
from itsm.models import Notification, NotificationPreference
from itsm.testing import make_incident


def send(ticket, recipients, actor=None, internal=False):
    return notify.notify(
        recipients,
        kind=Notification.Kind.COMMENT,
        ticket=ticket,
        subject="New comment on %(number)s",
        message="%(actor)s commented on %(title)s",
        params={"actor": "Alice"},
        actor=actor,
        internal=internal,
    )


def test_each_recipient_gets_one_row_and_the_actor_none(db, rita, alice, bob):
    incident = make_incident(requester=rita)
    rows = send(incident, [rita, bob, bob, alice, None], actor=alice)
    assert sorted(r.recipient.username for r in rows) == ["bob", "rita"]
    assert rows[0].subject == f"New comment on {incident.number}"


def test_an_internal_note_notifies_agents_only(db, rita, alice, bob):
    incident = make_incident(requester=rita)
    rows = send(incident, [rita, bob], actor=alice, internal=True)
    assert [r.recipient for r in rows] == [bob]


def test_the_message_is_written_in_the_recipients_language(db, rita, alice):
    rita.language = "fr"
    rita.save()
    incident = make_incident(requester=rita)
    row = notify.notify(
        [rita],
        kind=Notification.Kind.STATE,
        ticket=incident,
        subject=Notification.Kind.STATE.label,
        message="%(number)s",
    )[0]
    with translation.override("fr"):
        french = str(Notification.Kind.STATE.label)
    assert french != "State changed"
    assert row.subject == french


def test_a_batch_writes_each_row_as_one_notify_call_would(
    db, rita, alice, bob, monkeypatch, django_capture_on_commit_callbacks
):
    """Inside ``batched()`` the rows are inserted from their values: each recipient still
    gets their language and their link, and only the rows to mail reach the task."""
    rita.language = "fr"
    rita.save()
    NotificationPreference.objects.create(user=bob, kind="state", email=False, in_app=True)
    first, second = make_incident(requester=rita), make_incident(requester=rita)
    queued = []
    monkeypatch.setattr(notify, "enqueue", queued.append)
    with django_capture_on_commit_callbacks(execute=True), notify.batched():
        for incident in (first, second):
            notify.notify(
                [rita, alice, bob],
                kind=Notification.Kind.STATE,
                ticket=incident,
                subject=Notification.Kind.STATE.label,
                message="%(number)s: %(title)s",
                params={"level": 50},
            )
    rows = list(Notification.objects.filter(kind="state").order_by("id"))
    with translation.override("fr"):
        french = str(Notification.Kind.STATE.label)
    assert [(r.recipient.username, r.ticket, r.subject, r.email_state) for r in rows] == [
        (user.username, incident.number, subject, state)
        for incident in (first, second)
        for user, subject, state in (
            (rita, french, "pending"),
            (alice, "State changed", "pending"),
            (bob, "State changed", "skipped"),
        )
    ]
    assert [r.url for r in rows[:3]] == [
        first.get_portal_url(),
        first.get_absolute_url(),
        first.get_absolute_url(),
    ]
    assert rows[0].message == f"{first.number}: {first.title}"
    assert rows[0].params == {"number": first.number, "title": first.title, "level": 50}
    assert queued == [[r.pk for r in rows if r.email_state == "pending"]]


def test_mail_goes_out_after_commit(db, rita, alice, django_capture_on_commit_callbacks):
    incident = make_incident(requester=rita)
    with django_capture_on_commit_callbacks(execute=True):
        row = send(incident, [rita], actor=alice)[0]
        assert mail.outbox == []
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [rita.email]
    assert incident.number in mail.outbox[0].subject
    row.refresh_from_db()
    assert row.email_state == Notification.Email.SENT


@pytest.fixture
def unreachable_broker(monkeypatch):
    """Tasks go to a broker port where nothing listens, as when Redis is down (a second
    Celery app, so the project's app and its connection pools stay untouched)."""
    from celery import Celery

    from itsm import tasks

    down = Celery("down", broker="redis://127.0.0.1:1/0", set_as_current=False)
    down.conf.broker_connection_timeout = 1
    down.conf.broker_connection_retry = False

    def send(args=None, kwargs=None, **options):
        return down.send_task(tasks.deliver_notifications.name, args=args, kwargs=kwargs, **options)

    monkeypatch.setattr(tasks.deliver_notifications, "apply_async", send)
    yield
    down.close()


def test_a_row_queued_while_the_broker_is_down_is_mailed_by_the_sweep(
    db, rita, alice, django_capture_on_commit_callbacks, unreachable_broker
):
    incident = make_incident(requester=rita)
    Notification.objects.update(email_state=Notification.Email.SKIPPED)  # only ours below
    with django_capture_on_commit_callbacks(execute=True):
        row = send(incident, [rita], actor=alice)[0]
    row.refresh_from_db()
    assert row.email_state == Notification.Email.PENDING
    assert mail.outbox == []

    assert notify.sweep(now=timezone.now() + timedelta(minutes=1)) == 1
    row.refresh_from_db()
    assert row.email_state == Notification.Email.SENT
    assert len(mail.outbox) == 1
    # A second sweep finds nothing left to send.
    assert notify.sweep(now=timezone.now() + timedelta(minutes=2)) == 0
    assert len(mail.outbox) == 1


def test_the_sweep_leaves_fresh_rows_to_their_task(db, rita, alice):
    incident = make_incident(requester=rita)
    send(incident, [rita], actor=alice)
    assert notify.sweep() == 0


def test_a_failing_smtp_server_keeps_the_row_for_a_retry(db, rita, alice, settings):
    settings.EMAIL_BACKEND = "tests.itsm.failing_backend.Backend"
    incident = make_incident(requester=rita)
    row = send(incident, [rita], actor=alice)[0]
    assert notify.deliver([row.pk]) == 0
    row.refresh_from_db()
    assert row.email_state == Notification.Email.PENDING
    assert row.email_attempts == 1
    assert "refused" in row.last_error


def test_users_without_email_get_the_in_app_notification_only(db, rita, alice):
    rita.email = ""
    rita.save()
    incident = make_incident(requester=rita)
    row = send(incident, [rita], actor=alice)[0]
    assert row.email_state == Notification.Email.SKIPPED


@pytest.mark.parametrize("kind", [k for k, _label in Notification.Kind.choices])
def test_notification_kinds_match_the_spec(kind):
    assert kind in {
        "created",
        "assigned",
        "comment",
        "state",
        "approval_requested",
        "sla_warning",
        "sla_breach",
    }


def test_without_mail_keeps_the_in_app_notification_only(db, rita, alice):
    incident = make_incident(requester=rita)
    with notify.without_mail():
        row = send(incident, [rita], actor=alice)[0]
    assert row.email_state == Notification.Email.SKIPPED
    assert send(incident, [rita], actor=alice)[0].email_state == Notification.Email.PENDING
