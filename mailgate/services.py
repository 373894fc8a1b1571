"""The mail gateway's verb: a message in, through the process apps' verbs, its outcome
recorded (SPEC §9).

``ingest(raw, source=...)`` parses and decides (``mailgate.inbound``), then opens an incident
(``incidents.services.open_incident``), comments on a ticket (the reply verb its type
registered), rejects with a reply, or ignores, and records the message once
(``InboundMessage``, unique on its Message-ID): a message delivered twice is handled once.
A refusal by a verb (a field it does not take, a file it refuses) is recorded as ``failed``
with the reason, and nothing else of that message is written.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from itsm.attachments import UploadRefused
from itsm.extensions import mail_replies
from itsm.workflow import Conflict

from . import inbound
from .models import InboundMessage

log = logging.getLogger(__name__)
Outcome = InboundMessage.Outcome
# At most this many rejection replies to one address per hour: a broken auto-responder that
# answers without saying so does not start a mail loop with us.
REJECTIONS_PER_HOUR = 3


@transaction.atomic
def ingest(raw: bytes, *, source: str) -> InboundMessage:
    """Handle one RFC 5322 message; return its record (not saved for a duplicate)."""
    message = inbound.parse(raw)
    record = InboundMessage(
        message_id=message.key,
        sender=message.sender[:254],
        subject=message.subject[:255],
        source=source,
        outcome=Outcome.IGNORED,
        reason="received",
    )
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:  # the same message, ingested before (or right now, elsewhere)
        record.reason = "duplicate"
        return record
    decision = inbound.decide(message)
    record.user = decision.sender
    try:
        with transaction.atomic():
            _carry_out(decision, message, record)
    except (ValidationError, PermissionDenied, Conflict, UploadRefused) as exc:
        log.warning("inbound %s from %s not handled: %s", message.key, message.sender, exc)
        record.outcome, record.reason = Outcome.FAILED, "refused"
        record.detail = _describe(exc)
        record.ticket = ""
    record.save()
    return record


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)[:2000]
    return str(exc)[:2000]


def _carry_out(decision, message, record: InboundMessage) -> None:
    record.reason = decision.reason
    if decision.action == inbound.IGNORE:
        record.outcome = Outcome.IGNORED
        return
    if decision.action == inbound.REJECT:
        record.outcome = Outcome.REJECTED
        _reject(message, decision.reason)
        return
    sender = decision.sender
    if decision.create_sender:
        sender = _create_sender(message)
        record.user = sender
    uploads, dropped = _uploads(message)
    if decision.action == inbound.REPLY:
        body = message.reply_text
        with translation.override(sender.language or settings.LANGUAGE_CODE):
            if dropped:
                body = "\n\n".join(filter(None, [body, *dropped]))
            if not body and uploads:
                body = _("Files sent by email: %(names)s") % {
                    "names": ", ".join(upload.name for upload in uploads)
                }
        if not body:
            record.outcome, record.reason = Outcome.IGNORED, "empty_reply"
            return
        verb = mail_replies()[decision.ticket._meta.label_lower]
        try:
            with transaction.atomic():
                verb(decision.ticket, actor=sender, body=body, attachments=uploads)
        except (PermissionDenied, Conflict) as exc:
            # the ticket's own rule refused (closed meanwhile, no right to comment): the
            # mail opens an incident instead, as for a ticket the sender cannot see
            log.info("reply to %s refused (%s): a new incident", decision.ticket.number, exc)
            decision.reason = record.reason = "refused_reply"
        else:
            record.outcome, record.ticket = Outcome.COMMENTED, decision.ticket.number
            return
    _open(message, sender, decision, uploads, dropped, record)


def _open(message, sender, decision, uploads, dropped, record) -> None:
    from incidents.services import open_incident

    with translation.override(sender.language or settings.LANGUAGE_CODE):
        notes = [*decision.notes, *dropped]
        description = "\n\n".join(filter(None, [message.text, *notes]))
        title = inbound.title_of(message, drop_number=decision.reason != "new")
    incident = open_incident(
        actor=sender,
        requester=sender,
        title=title,
        description=description[:50_000],
        attachments=uploads,
    )
    record.outcome, record.ticket = Outcome.OPENED, incident.number


def _uploads(message) -> tuple[list, list[str]]:
    """The message's files as uploads for the verbs, and a line for each file too large to
    keep (the mail is kept; an agent can ask for the file another way)."""
    limit = settings.ATTACHMENT_MAX_BYTES
    uploads, dropped = [], []
    for part in message.attachments:
        if len(part.content) > limit:
            dropped.append(
                _("The file %(name)s (%(size)s) was larger than the %(limit)s limit: not kept.")
                % {
                    "name": part.name,
                    "size": filesizeformat(len(part.content)),
                    "limit": filesizeformat(limit),
                }
            )
            continue
        uploads.append(SimpleUploadedFile(part.name, part.content, part.content_type))
    return uploads, dropped


def _create_sender(message) -> User:
    """An end-user account for an unknown sender (``INBOUND_UNKNOWN_SENDERS=create``): no
    usable password (they sign in after a password reset, or through SSO)."""
    from accounts.services import create_user

    username = base = message.sender[:150]
    suffix = 1
    while User.objects.filter(username__iexact=username).exists():
        suffix += 1
        username = f"{base[: 150 - len(str(suffix)) - 1]}-{suffix}"
    first, _space, last = (message.sender_name or "").strip().partition(" ")
    return create_user(
        actor=None,
        username=username,
        email=message.sender,
        first_name=first[:150],
        last_name=last[:150],
    )


def _reject(message, reason: str) -> None:
    """Tell the sender why nothing was opened (at most a few an hour): the reply is written
    into the outbox with the message's record and mailed once it commits."""
    recent = InboundMessage.objects.filter(
        sender=message.sender,
        outcome=Outcome.REJECTED,
        received_at__gte=timezone.now() - timedelta(hours=1),
    ).count()
    if not message.sender or recent >= REJECTIONS_PER_HOUR:
        return
    from .mail import send_rejection

    send_rejection(message.sender, message.subject, message.message_id, reason)
