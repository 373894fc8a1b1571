"""The notice a former email address gets goes through the outbox (issue 17, durable work):
written with the change, kept while the mail server is down, mailed on a retry, once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.services import update_profile
from itsm import notify
from itsm.models import OutboundMail
from itsm.testing import PASSWORD
from tests.itsm.smtp_server import SMTPServer


def change_email(user, new="rita.new@example.com"):
    return update_profile(user, {"email": new}, actor=user, current_password=PASSWORD)


def later(minutes):
    return timezone.now() + timedelta(minutes=minutes)


def test_with_the_mail_server_down_the_notice_waits_in_the_outbox_and_goes_on_a_retry(
    db, rita, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.itsm.failing_backend.Backend"  # connection refused
    with django_capture_on_commit_callbacks(execute=True):  # the task runs after commit
        change_email(rita)
    row = OutboundMail.objects.get()
    assert (row.kind, row.to, row.email_state) == ("account", "rita@example.com", "pending")
    assert row.email_attempts == 1 and "connection refused" in row.last_error
    assert row.next_attempt_at > timezone.now()  # backoff, not at once
    assert "rita.new@example.com" in row.body

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # back up
    assert notify.sweep(now=later(1)) == 0  # the backoff has not run out yet
    assert notify.sweep(now=later(5)) == 1
    [notice] = mail.outbox
    assert notice.to == ["rita@example.com"]
    assert "rita.new@example.com" in notice.body
    assert notice.extra_headers["Message-ID"] == row.headers["Message-ID"]
    row.refresh_from_db()
    assert row.email_state == "sent" and row.emailed_at is not None
    assert notify.sweep(now=later(120)) == 0  # nothing sent twice
    assert len(mail.outbox) == 1


def test_the_notice_is_written_with_the_change_or_not_at_all(db, rita, monkeypatch):
    """Rolled back with a change that fails after it: no notice of a change that did not
    happen."""
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        change_email(rita)
        assert OutboundMail.objects.count() == 1
        raise RuntimeError("the request failed later")
    assert OutboundMail.objects.count() == 0
    rita.refresh_from_db()
    assert rita.email == "rita@example.com"


@pytest.mark.django_db(transaction=True)
def test_a_busy_smtp_server_gets_the_notice_once_on_the_retry(settings, caplog):
    from itsm.testing import make_persona

    caplog.set_level("WARNING", logger="mail.log")
    rita = make_persona("rita")
    with SMTPServer() as server:
        server.settings(settings)
        server.handler.script = ["temporary"]  # 451: try again later
        change_email(rita)  # committed at once: its task runs (eagerly) and is refused
        row = OutboundMail.objects.get()
        assert row.email_state == "pending" and "451" in row.last_error
        assert server.handler.received == []
        assert notify.sweep(now=later(5)) == 1
        assert notify.sweep(now=later(120)) == 0
        [message] = server.handler.received
    assert message["To"] == "rita@example.com"
    assert message["Message-ID"] == row.headers["Message-ID"]
    assert server.handler.transactions == 2  # refused once, taken once, never again
