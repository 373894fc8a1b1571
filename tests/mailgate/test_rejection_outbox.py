"""The reply to mail the gateway turns down goes through the outbox (issue 17, durable work):
written with the message's record, kept while the mail server is down, mailed on a retry,
once, and still threaded on the message it answers."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from itsm import notify
from itsm.models import OutboundMail
from mailgate.models import InboundMessage
from mailgate.services import ingest
from tests.itsm.smtp_server import SMTPServer

STRANGER = (Path(__file__).parent / "corpus" / "unknown_sender.eml").read_bytes()


def later(minutes):
    return timezone.now() + timedelta(minutes=minutes)


@pytest.fixture
def rejecting(settings):
    settings.INBOUND_UNKNOWN_SENDERS = "reject"


def test_with_the_mail_server_down_the_reply_waits_in_the_outbox_and_goes_on_a_retry(
    db, rejecting, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.itsm.failing_backend.Backend"  # connection refused
    with django_capture_on_commit_callbacks(execute=True):
        record = ingest(STRANGER, source="stdin")
    assert (record.outcome, record.reason) == ("rejected", "unknown_sender")
    row = OutboundMail.objects.get()
    assert (row.kind, row.to, row.email_state) == (
        "rejection",
        "paul.partner@partner.example.org",
        "pending",
    )
    assert row.email_attempts == 1 and "connection refused" in row.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notify.sweep(now=later(5)) == 1
    [reply] = mail.outbox
    assert reply.to == ["paul.partner@partner.example.org"]
    assert reply.subject == "Re: Cannot reach your SFTP server"
    assert reply.extra_headers["Auto-Submitted"] == "auto-replied"
    assert reply.extra_headers["In-Reply-To"] == "<unknown-1@partner.example.org>"
    assert "knows no account with your email address" in reply.body
    assert notify.sweep(now=later(120)) == 0  # nothing sent twice
    assert len(mail.outbox) == 1


def test_the_same_message_delivered_twice_is_answered_once(
    db, rejecting, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ingest(STRANGER, source="stdin")
        assert ingest(STRANGER, source="stdin").reason == "duplicate"
    assert OutboundMail.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_busy_smtp_server_gets_the_reply_once_on_the_retry(rejecting, settings, caplog):
    caplog.set_level("WARNING", logger="mail.log")
    with SMTPServer() as server:
        server.settings(settings)
        server.handler.script = ["temporary"]  # 451: try again later
        ingest(STRANGER, source="stdin")
        row = OutboundMail.objects.get()
        assert row.email_state == "pending" and "451" in row.last_error
        assert notify.sweep(now=later(5)) == 1
        assert notify.sweep(now=later(120)) == 0
        [message] = server.handler.received
    assert InboundMessage.objects.get().outcome == "rejected"
    assert message["To"] == "paul.partner@partner.example.org"
    assert message["In-Reply-To"] == "<unknown-1@partner.example.org>"
    assert message["Message-ID"] == row.headers["Message-ID"]
    assert server.handler.transactions == 2
