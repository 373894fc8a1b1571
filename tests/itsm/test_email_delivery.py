"""Outbound mail against a real SMTP server in the test process that fails, stalls and drops
connections: every message arrives, none twice, except the one a server took without saying
so (or that a worker sent and died before recording), which comes again with the same
Message-ID."""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from itsm import notify
from itsm.models import Notification
from itsm.testing import make_incident, make_persona, make_user

from .smtp_server import SMTPServer


@pytest.fixture(autouse=True)
def queued_only(monkeypatch):
    """Rows are queued, not sent at commit: each test runs the worker's part itself."""
    monkeypatch.setattr(notify, "enqueue", lambda ids: True)


@pytest.fixture
def smtp(settings, caplog):
    caplog.set_level("WARNING", logger="mail.log")
    with SMTPServer() as server:
        server.settings(settings)
        yield server


def write_rows(count: int, *, ticket=None):
    """``count`` pending notifications for as many people, committed."""
    ticket = ticket or make_incident(requester=make_persona("rita"))
    people = [make_user(f"person{n}") for n in range(count)]
    Notification.objects.update(email_state=Notification.Email.SKIPPED, next_attempt_at=None)
    rows = notify.notify(
        people,
        kind=Notification.Kind.STATE,
        ticket=ticket,
        subject="%(number)s moved",
        message="It moved.",
    )
    return sorted(row.pk for row in rows)


def states(pks):
    return list(
        Notification.objects.filter(pk__in=pks).order_by("pk").values_list("email_state", flat=True)
    )


def later(minutes=120):
    return timezone.now() + timedelta(minutes=minutes)


@pytest.mark.django_db(transaction=True)
class TestDelivery:
    def test_every_message_reaches_the_server_once_and_is_marked_sent(self, smtp):
        pks = write_rows(3)
        assert notify.deliver(pks) == 3
        assert states(pks) == ["sent"] * 3
        assert len(smtp.handler.received) == 3
        assert len(set(smtp.handler.ids())) == 3
        assert notify.deliver(pks) == 0  # a redelivered task finds nothing to send
        assert notify.sweep(now=later()) == 0
        assert len(smtp.handler.received) == 3

    def test_a_temporary_refusal_is_retried_with_backoff_then_sent_once(self, smtp):
        [pk] = write_rows(1)
        smtp.handler.script = ["temporary"]
        assert notify.deliver([pk]) == 0
        row = Notification.objects.get(pk=pk)
        assert row.email_state == "pending" and row.email_attempts == 1
        assert "451" in row.last_error
        assert row.next_attempt_at > timezone.now() + timedelta(seconds=50)
        assert notify.sweep() == 0  # not due yet
        assert notify.sweep(now=later()) == 1
        assert states([pk]) == ["sent"]
        assert len(smtp.handler.received) == 1

    def test_backoff_doubles_up_to_an_hour(self):
        assert [notify.backoff(n).total_seconds() for n in (1, 2, 3, 7, 12)] == [
            60,
            120,
            240,
            3600,
            3600,
        ]

    def test_a_permanent_refusal_fails_visibly_and_is_not_retried(self, smtp):
        [pk] = write_rows(1)
        smtp.handler.script = ["permanent"]
        assert notify.deliver([pk]) == 0
        row = Notification.objects.get(pk=pk)
        assert row.email_state == "failed"
        assert "554" in row.last_error
        assert notify.sweep(now=later(24 * 60)) == 0
        assert smtp.handler.received == []

    def test_an_unknown_recipient_fails_while_the_others_of_the_batch_are_sent(self, smtp):
        pks = write_rows(3)
        smtp.handler.refuse["person1@example.com"] = "550 5.1.1 No such user"
        assert notify.deliver(pks) == 2
        assert states(pks) == ["sent", "failed", "sent"]
        assert "550" in Notification.objects.get(pk=pks[1]).last_error

    def test_a_full_mailbox_is_tried_again(self, smtp):
        [pk] = write_rows(1)
        smtp.handler.refuse["person0@example.com"] = "452 4.2.2 Mailbox full"
        notify.deliver([pk])
        assert states([pk]) == ["pending"]
        del smtp.handler.refuse["person0@example.com"]
        assert notify.sweep(now=later()) == 1

    def test_a_dropped_connection_gives_the_rest_of_the_batch_back_unsent(self, smtp):
        pks = write_rows(3)
        smtp.handler.script = ["ok", "drop"]
        assert notify.deliver(pks) == 1
        assert states(pks) == ["sent", "pending", "pending"]
        rows = Notification.objects.filter(pk__in=pks[1:]).order_by("pk")
        # the one that met the dropped connection counts an attempt; the one never tried not
        assert [row.email_attempts for row in rows] == [1, 0]
        assert notify.sweep(now=later()) == 2
        assert states(pks) == ["sent"] * 3
        assert sorted(smtp.handler.ids()) == sorted(set(smtp.handler.ids()))  # none twice
        assert len(smtp.handler.received) == 3

    def test_a_stalled_server_times_out_and_the_message_is_sent_later(self, smtp, settings):
        smtp.settings(settings, timeout=0.5)
        smtp.handler.stall_seconds = 1.5
        pks = write_rows(2)
        smtp.handler.script = ["stall"]
        assert notify.deliver(pks) == 0
        assert states(pks) == ["pending", "pending"]
        assert notify.sweep(now=later()) == 2
        assert len(smtp.handler.received) == 2
        assert len(set(smtp.handler.ids())) == 2

    def test_an_unreachable_server_keeps_every_message_pending(self, settings):
        SMTPServer().settings(settings)  # a port where nothing listens
        pks = write_rows(2)
        assert notify.deliver(pks) == 0
        assert states(pks) == ["pending", "pending"]

    def test_no_row_is_locked_while_the_server_takes_its_time(self, smtp):
        pks = write_rows(1)
        seen = []

        def lock_it(message):
            # another worker (another connection) can lock the row while the SMTP
            # conversation is going on: the claim was committed, no lock is held
            try:
                with transaction.atomic():
                    row = (
                        Notification.objects.select_for_update(nowait=True)
                        .filter(pk=pks[0])
                        .values_list("email_state", flat=True)
                    )
                    seen.append(list(row))
            finally:
                connections.close_all()

        smtp.handler.on_data = lock_it
        assert notify.deliver(pks) == 1
        assert seen == [["sending"]]

    def test_each_message_is_marked_sent_as_soon_as_the_server_took_it(self, smtp, monkeypatch):
        """A worker that dies after the server took the second of three messages, before
        recording it: the first stays sent; after the lease the second and third are due
        again. Only the second, which was in flight, reaches the server twice (same id)."""
        pks = write_rows(3)
        real_mark = notify.mark_sent
        calls = []

        def dies_on_the_second(row):
            calls.append(row.pk)
            if len(calls) == 2:
                raise SystemExit("worker killed")
            real_mark(row)

        monkeypatch.setattr(notify, "mark_sent", dies_on_the_second)
        with pytest.raises(SystemExit):
            notify.deliver(pks)
        monkeypatch.setattr(notify, "mark_sent", real_mark)
        assert states(pks) == ["sent", "sending", "sending"]
        assert notify.sweep(now=timezone.now() + timedelta(minutes=5)) == 0  # lease running
        assert notify.sweep(now=later(15)) == 2
        assert states(pks) == ["sent"] * 3
        ids = smtp.handler.ids()
        assert len(ids) == 4
        twice = {message_id for message_id in ids if ids.count(message_id) == 2}
        assert len(twice) == 1  # the in-flight one, with the same Message-ID both times

    def test_a_message_the_server_took_without_answering_comes_again_with_the_same_id(
        self, smtp, settings
    ):
        """The limit of any SMTP client: an answer lost after the data leaves no way to know
        the message arrived. It is sent again; the Message-ID lets clients drop the copy."""
        smtp.settings(settings, timeout=0.5)
        smtp.handler.stall_seconds = 1.5
        [pk] = write_rows(1)
        smtp.handler.script = ["stall_after_data"]
        notify.deliver([pk])
        assert states([pk]) == ["pending"]
        notify.sweep(now=later())
        ids = smtp.handler.ids()
        assert len(ids) == 2 and ids[0] == ids[1]

    def test_after_the_last_attempt_a_temporary_refusal_fails(self, smtp, settings):
        [pk] = write_rows(1)
        smtp.handler.script = ["temporary"] * notify.MAX_ATTEMPTS
        for attempt in range(notify.MAX_ATTEMPTS):
            notify.sweep(now=later(60 * 24 * (attempt + 1)))
        row = Notification.objects.get(pk=pk)
        assert row.email_state == "failed" and row.email_attempts == notify.MAX_ATTEMPTS

    def test_two_workers_sending_at_once_send_each_message_once(self, smtp):
        pks = write_rows(12)
        sent = []

        def worker():
            try:
                sent.append(notify.deliver(pks, limit=3))
                sent.append(notify.deliver(pks, limit=3))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(sent) == 12
        assert len(smtp.handler.received) == 12
        assert len(set(smtp.handler.ids())) == 12


@pytest.mark.django_db(transaction=True)
def test_a_task_out_of_time_gives_back_what_it_did_not_send(smtp, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    pks = write_rows(3)
    real = notify.mark_sent
    calls = []

    def slow(row):
        real(row)
        calls.append(row.pk)
        if len(calls) == 1:  # the time limit strikes during the second message
            monkeypatch.setattr(
                "django.core.mail.backends.smtp.EmailBackend.send_messages",
                lambda self, messages: (_ for _ in ()).throw(SoftTimeLimitExceeded()),
            )

    monkeypatch.setattr(notify, "mark_sent", slow)
    with pytest.raises(SoftTimeLimitExceeded):
        notify.deliver(pks)
    assert states(pks) == ["sent", "pending", "pending"]
    assert Notification.objects.get(pk=pks[2]).email_attempts == 0
