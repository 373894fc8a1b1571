"""A corpus of real-shaped messages, each ingested with its expected outcome (SPEC §9):
new mail opens an incident, a reply (by header or by number in the subject) becomes a public
comment without the quoted history, automatic mail is ignored, strangers are turned away, and
nobody reaches someone else's ticket by quoting its number."""

from pathlib import Path

import pytest
from django.core import mail

from incidents.models import Incident
from itsm.mail import message_id, thread_id
from itsm.models import Notification
from itsm.testing import make_incident
from mailgate.models import InboundMessage
from mailgate.services import ingest

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture
def ticket(db, rita, alice):
    """Rita's incident, and the acknowledgement we mailed her about it."""
    incident = make_incident(requester=rita)
    acknowledgement = Notification.objects.get(recipient=rita, ticket=incident.number)
    return incident, acknowledgement


def raw(name: str, ticket=None) -> bytes:
    text = (CORPUS / name).read_text(encoding="utf-8")
    if ticket is not None:
        incident, row = ticket
        for key, value in {
            "{{number}}": incident.number,
            "{{title}}": incident.title,
            "{{title_qp}}": incident.title.replace(" ", "_"),
            "{{message_id}}": message_id(row),
            "{{root_id}}": thread_id(incident.number),
        }.items():
            text = text.replace(key, value)
    return text.encode("utf-8")


def opened(record) -> Incident:
    assert record.outcome == "opened", (record.reason, record.detail)
    return Incident.objects.get(number=record.ticket)


def comments(incident, author=None):
    rows = incident.comments.all()
    if author is not None:
        rows = rows.filter(author=author)
    return list(rows.values_list("body", flat=True))


# --- New mail


def test_a_plain_text_mail_opens_an_incident_for_its_sender(db, rita):
    incident = opened(ingest(raw("new_plain.eml"), source="stdin"))
    assert incident.requester == rita
    assert incident.title == "Printer on floor 3 prints blank pages"
    assert "only prints blank pages" in incident.description
    assert incident.state == "new"


def test_quoted_printable_alternative_with_a_french_encoded_subject(db, rita):
    incident = opened(ingest(raw("alternative_qp_french.eml"), source="stdin"))
    assert incident.title == "Le VPN se déconnecte sans arrêt depuis la mise à jour"
    assert "depuis la mise à jour d’hier" in incident.description  # the text part
    assert "<b>" not in incident.description


def test_an_html_only_base64_mail_becomes_text_without_its_scripts(db, rita):
    incident = opened(ingest(raw("html_only_base64.eml"), source="stdin"))
    assert incident.requester == rita  # RITA@Example.com: addresses compare without case
    description = incident.description
    assert "CRM login page (https://crm.example.com/login)" in description
    assert "502 Bad Gateway" in description
    assert "- since 09:40" in description
    assert "alert" not in description and "display:none" not in description
    assert "<" not in description


def test_a_latin1_base64_body_with_a_b_encoded_subject(db, rita):
    incident = opened(ingest(raw("base64_latin1_subject_b.eml"), source="stdin"))
    assert incident.title == "Écran noir après la veille"
    assert "Mon écran reste noir" in incident.description


def test_a_forwarded_mail_keeps_what_was_forwarded(db, rita):
    incident = opened(ingest(raw("forwarded.eml"), source="stdin"))
    assert incident.title == "Your mailbox is almost full"
    assert incident.description.startswith("Is this genuine?")
    assert "Click here to keep your messages" in incident.description


def test_attachments_and_inline_images_are_kept_through_the_incident_verbs(db, rita):
    incident = opened(ingest(raw("attachments_inline_image.eml"), source="stdin"))
    files = {a.name: a for a in incident.attachments.all()}
    assert set(files) == {"error.png", "note de frais décembre.pdf"}
    assert files["note de frais décembre.pdf"].file.read().startswith(b"%PDF-1.4")
    assert all(f.uploaded_by == rita and not f.internal for f in files.values())
    assert "[image: error.png]" in incident.description


def test_a_file_over_the_limit_is_left_out_and_said_so(db, rita, settings):
    settings.ATTACHMENT_MAX_BYTES = 50  # the PDF (45 bytes) fits, the image (73) does not
    incident = opened(ingest(raw("attachments_inline_image.eml"), source="stdin"))
    assert [a.name for a in incident.attachments.all()] == ["note de frais décembre.pdf"]
    assert "The file error.png (73" in incident.description
    assert "not kept" in incident.description


def test_the_sender_is_told_the_number_they_can_reply_to(
    db, rita, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = opened(ingest(raw("new_plain.eml"), source="stdin"))
    [acknowledgement] = [m for m in mail.outbox if m.to == [rita.email]]
    assert acknowledgement.subject == f"[{incident.number}] {incident.title}"


# --- Replies


def test_a_gmail_reply_threads_by_header_and_loses_its_quote(ticket, rita):
    incident, _row = ticket
    record = ingest(raw("gmail_reply.eml", ticket), source="stdin")
    assert (record.outcome, record.reason, record.ticket) == ("commented", "reply", incident.number)
    assert comments(incident, rita) == ["It works again after the restart, thank you!"]
    assert Incident.objects.count() == 1


def test_an_outlook_reply_threads_by_the_number_in_its_subject(ticket, rita):
    incident, _row = ticket
    record = ingest(raw("outlook_reply_by_subject.eml", ticket), source="stdin")
    assert record.outcome == "commented" and record.ticket == incident.number
    [body] = comments(incident, rita)
    assert body.startswith("Hi,\n\nYes, it is the HP on floor 3, asset tag PR-0042.")
    assert "From: Service Desk" not in body and "Which printer" not in body


def test_a_french_outlook_html_only_reply_loses_its_quoted_header(ticket, rita):
    incident, _row = ticket
    record = ingest(raw("outlook_reply_french_html_only.eml", ticket), source="stdin")
    assert record.outcome == "commented"
    assert comments(incident, rita) == ["Toujours pareil ce matin, même après redémarrage."]


def test_a_thunderbird_reply_loses_its_quotes_and_its_signature(ticket, rita):
    incident, _row = ticket
    ingest(raw("thunderbird_reply_signature.eml", ticket), source="stdin")
    assert comments(incident, rita) == ["The toner was empty. Replaced it, all good now."]


def test_a_reply_to_the_mail_that_opened_a_ticket_threads_onto_it(db, rita):
    incident = opened(ingest(raw("new_plain.eml"), source="stdin"))
    follow = (
        b"Message-ID: <plain-2@mail.example.com>\nFrom: rita@example.com\n"
        b"To: servicedesk@localhost\nSubject: Re: Printer on floor 3 prints blank pages\n"
        b"In-Reply-To: <plain-1@mail.example.com>\n\nIt is floor 3, room 301.\n"
    )
    record = ingest(follow, source="stdin")
    assert (record.outcome, record.ticket) == ("commented", incident.number)


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(ticket, rita, alice):
    from incidents import services

    incident, _row = ticket
    services.resolve(incident, actor=alice, code="fixed", notes="Restarted")
    services.confirm(incident, actor=rita)
    record = ingest(raw("gmail_reply.eml", ticket), source="stdin")
    follow_up = opened(record)
    assert record.reason == "follow_up"
    assert f"Follow-up of {incident.number}" in follow_up.description
    assert comments(incident, rita) == []


def test_a_reply_with_files_only_adds_them_with_a_line_saying_so(ticket, rita):
    incident, _row = ticket
    message = (
        f"Message-ID: <files-only@example.com>\nFrom: rita@example.com\n"
        f"To: servicedesk@localhost\nSubject: Re: [{incident.number}] x\n"
        f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n'
        f"--B\nContent-Type: text/plain\n\n\n--B\nContent-Type: text/plain; name=log.txt\n"
        f"Content-Disposition: attachment; filename=log.txt\n\nboot failed\n--B--\n"
    ).encode()
    assert ingest(message, source="stdin").outcome == "commented"
    assert comments(incident, rita) == ["Files sent by email: log.txt"]
    assert [a.name for a in incident.attachments.all()] == ["log.txt"]


def test_an_agents_reply_by_mail_is_a_public_comment_the_requester_hears_of(
    ticket, alice, rita, django_capture_on_commit_callbacks
):
    incident, _row = ticket
    agent_row = Notification.objects.filter(recipient=alice, ticket=incident.number).first()
    message = (
        f"Message-ID: <agent-1@example.com>\nFrom: alice@example.com\nTo: desk@localhost\n"
        f"Subject: Re: [{incident.number}] x\nIn-Reply-To: {message_id(agent_row)}\n\n"
        f"We are on it.\n"
    ).encode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ingest(message, source="stdin")
    note = incident.comments.get(author=alice)
    assert note.body == "We are on it." and not note.internal
    assert any(m.to == [rita.email] for m in mail.outbox)


# --- The cross-ticket attack


def test_someone_replying_to_another_persons_ticket_reaches_nothing_of_it(ticket, eve, rita):
    incident, _row = ticket
    record = ingest(raw("cross_ticket_reply.eml", ticket), source="stdin")
    theirs = opened(record)
    assert record.reason == "no_access"
    assert theirs.requester == eve and theirs.pk != incident.pk
    assert theirs.title == incident.title  # the number is gone from the title
    assert incident.number not in theirs.title
    assert comments(incident) == []
    assert incident.attachments.count() == 0
    assert not incident.watchers.filter(pk=eve.pk).exists()


def test_quoting_a_number_in_the_subject_gets_no_further(ticket, eve):
    incident, _row = ticket
    message = (
        f"Message-ID: <cross-2@example.com>\nFrom: eve@example.com\nTo: desk@localhost\n"
        f"Subject: [{incident.number}] please add me\n\nAdd me as a watcher.\n"
    ).encode()
    record = ingest(message, source="stdin")
    assert record.reason == "no_access" and record.ticket != incident.number
    assert comments(incident) == []


def test_a_forged_reference_to_one_of_our_messages_is_not_believed(ticket, eve):
    incident, row = ticket
    forged = message_id(row).replace(".n", ".n9")
    message = (
        f"Message-ID: <cross-3@example.com>\nFrom: rita@example.com\nTo: desk@localhost\n"
        f"Subject: hello\nIn-Reply-To: {forged}\n\nHi\n"
    ).encode()
    assert ingest(message, source="stdin").reason == "new"


# --- Automatic mail, loops, strangers


@pytest.mark.parametrize(
    "name, reason",
    [
        ("auto_reply.eml", "auto_reply"),
        ("auto_reply_exchange_no_auto_submitted.eml", "auto_reply"),
        ("bounce.eml", "bounce"),
        ("mailing_list.eml", "bulk"),
        ("loop_own_message.eml", "loop"),
        ("from_our_own_address.eml", "loop"),
    ],
)
def test_automatic_mail_and_loops_are_ignored(ticket, name, reason):
    incident, _row = ticket
    before = Incident.objects.count()
    record = ingest(raw(name, ticket), source="stdin")
    assert (record.outcome, record.reason) == ("ignored", reason)
    assert Incident.objects.count() == before
    assert comments(incident) == []


def test_an_unknown_sender_is_turned_away_with_a_reply(
    db, settings, django_capture_on_commit_callbacks
):
    settings.INBOUND_UNKNOWN_SENDERS = "reject"
    with django_capture_on_commit_callbacks(execute=True):
        record = ingest(raw("unknown_sender.eml"), source="stdin")
    assert (record.outcome, record.reason) == ("rejected", "unknown_sender")
    assert not Incident.objects.exists()
    [reply] = mail.outbox
    assert reply.to == ["paul.partner@partner.example.org"]
    assert reply.subject == "Re: Cannot reach your SFTP server"
    assert reply.extra_headers["Auto-Submitted"] == "auto-replied"
    assert reply.extra_headers["In-Reply-To"] == "<unknown-1@partner.example.org>"
    assert "knows no account with your email address" in reply.body


def test_a_stranger_who_keeps_writing_is_answered_a_few_times_an_hour_only(
    db, settings, django_capture_on_commit_callbacks
):
    settings.INBOUND_UNKNOWN_SENDERS = "reject"
    template = raw("unknown_sender.eml")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(6):
            ingest(template.replace(b"<unknown-1@", f"<unknown-{n}x@".encode()), source="stdin")
    assert len(mail.outbox) == 3


def test_an_unknown_sender_gets_an_account_without_a_password_when_so_configured(db, settings):
    from accounts.models import User

    settings.INBOUND_UNKNOWN_SENDERS = "create"
    incident = opened(ingest(raw("unknown_sender.eml"), source="stdin"))
    paul = User.objects.get(email="paul.partner@partner.example.org")
    assert incident.requester == paul
    assert (paul.first_name, paul.last_name) == ("Paul", "Partner")
    assert not paul.has_usable_password()
    assert paul.roles == []  # an end user


def test_a_deactivated_account_does_not_open_tickets(db, rita):
    from accounts.services import deactivate_user

    deactivate_user(rita, actor=None)
    record = ingest(raw("new_plain.eml"), source="stdin")
    assert (record.outcome, record.reason) == ("rejected", "inactive_sender")


def test_an_address_two_accounts_share_is_not_guessed(db, rita):
    from itsm.testing import make_user

    make_user("rita2", email="rita@example.com")
    record = ingest(raw("new_plain.eml"), source="stdin")
    assert (record.outcome, record.reason) == ("rejected", "ambiguous_sender")


# --- Once only


def test_the_same_message_delivered_twice_is_handled_once(db, rita):
    first = ingest(raw("new_plain.eml"), source="stdin")
    again = ingest(raw("new_plain.eml"), source="imap")
    assert first.outcome == "opened"
    assert again.reason == "duplicate" and again.pk is None
    assert Incident.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_a_message_without_message_id_is_known_by_its_bytes(db, rita):
    message = b"From: rita@example.com\nTo: desk@localhost\nSubject: No id\n\nHello\n"
    assert ingest(message, source="stdin").outcome == "opened"
    assert ingest(message, source="stdin").reason == "duplicate"
    assert Incident.objects.count() == 1


def test_a_refusal_by_the_verb_is_recorded_as_failed_and_writes_nothing(db, rita, monkeypatch):
    from django.core.exceptions import ValidationError

    import incidents.services

    def refuse(**kwargs):
        raise ValidationError({"title": ["Refused for the test."]})

    monkeypatch.setattr(incidents.services, "open_incident", refuse)
    record = ingest(raw("new_plain.eml"), source="stdin")
    assert (record.outcome, record.reason) == ("failed", "refused")
    assert "Refused for the test." in record.detail
    assert not Incident.objects.exists()
    assert InboundMessage.objects.get().outcome == "failed"
