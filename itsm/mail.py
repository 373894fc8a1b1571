"""Outgoing mail: the message each notification becomes, its identifiers, and what a mail
server's refusal means.

- ``compose(row)``: the email of a notification, text and HTML from the templates of its kind
  (``templates/email/<kind>.txt|html``) in the recipient's language; the subject carries the
  ticket number (``[INC0000123] title``) and stays the same for every message of a ticket, and
  the threading headers point at one root id per ticket, so mail clients group a ticket's
  messages (Gmail needs both).
- Message-IDs are derived from the row (``<INC0000123.n42.<mac>@domain>``): a retried message
  keeps its id, and ``our_message`` recognises, without a table, an id we made (a reply to it,
  or our own mail coming back).
- ``classify(exc)``: temporary (retry later), permanent (give up) or connection-level.
- ``FileBackend``: ``EMAIL_URL=file:///DIR`` writes each message as its own ``.eml`` file.
"""

import re
import smtplib
import socket
import uuid
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac

# --- Identifiers


def mail_domain() -> str:
    """The right-hand side of our Message-IDs: ``EMAIL_DOMAIN``, else the domain of the
    sender address, else the site's host."""
    configured = getattr(settings, "EMAIL_DOMAIN", "")
    if configured:
        return configured
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if "@" in address:
        return address.rsplit("@", 1)[1].lower()
    return urlparse(settings.SITE_URL).hostname or "localhost"


def _mac(text: str) -> str:
    return salted_hmac("itsm.mail.message-id", text).hexdigest()[:12]


def message_id(row) -> str:
    """The Message-ID of a notification's email: the same on every attempt."""
    ticket = row.ticket or "notice"
    return f"<{ticket}.n{row.pk}.{_mac(f'{ticket}:{row.pk}')}@{mail_domain()}>"


def thread_id(number: str) -> str:
    """The root every message about ticket ``number`` refers to (never sent itself)."""
    return f"<{number}.{_mac(number)}@{mail_domain()}>"


@dataclass(frozen=True)
class OurMessage:
    ticket: str  # the ticket number, "" for a message about no ticket
    notification: int | None  # the row's id; None for a ticket's thread root


_OURS = re.compile(r"^<?([A-Za-z0-9]+)(?:\.n([0-9]+))?\.([0-9a-f]{12})@([^>]+)>?$")


def our_message(identifier: str) -> OurMessage | None:
    """The ticket (and notification) of a Message-ID we made, or None for any other id,
    including a forged one (the MAC does not match)."""
    match = _OURS.match((identifier or "").strip())
    if not match or match.group(4).lower() != mail_domain():
        return None
    ticket, pk, mac = match.group(1), match.group(2), match.group(3)
    expected = _mac(f"{ticket}:{pk}") if pk else _mac(ticket)
    if not constant_time_compare(mac, expected):
        return None
    return OurMessage(
        ticket="" if ticket == "notice" else ticket, notification=int(pk) if pk else None
    )


# --- Composition

# Replies are cut at this line (the inbound gateway looks for it), whatever the mail client
# quotes below it.
REPLY_MARKER = "##- Please type your reply above this line -##"


def subject_of(row) -> str:
    """``[INC0000123] <ticket title>`` for every message of a ticket (mail clients that
    thread by subject group them), the notification's own subject otherwise."""
    title = (row.params or {}).get("title")
    if row.ticket and title:
        return f"[{row.ticket}] {title}"
    if row.ticket:
        return f"[{row.ticket}] {row.subject}"
    return row.subject


def absolute(url: str) -> str:
    if not url:
        return settings.SITE_URL
    return url if "://" in url else f"{settings.SITE_URL}{url}"


def _render(kind: str, extension: str, context: dict) -> str:
    try:
        template = get_template(f"email/{kind}.{extension}")
    except TemplateDoesNotExist:
        template = get_template(f"email/notification.{extension}")
    return template.render(context)


def replies_accepted() -> bool:
    """Whether mail sent back to us becomes a comment (an inbound channel is set up)."""
    return bool(getattr(settings, "EMAIL_REPLIES", False))


def compose(row, *, approval_links=None, connection=None) -> EmailMultiAlternatives:
    """The email of notification ``row`` (its recipient loaded), in the recipient's language.

    ``approval_links`` (``{"approve": url, "reject": url}``) adds the decision buttons of an
    approval request."""
    recipient = row.recipient
    language = recipient.language or settings.LANGUAGE_CODE
    context = {
        "notification": row,
        "params": row.params or {},
        "recipient": recipient,
        "link": absolute(row.url),
        "site_url": settings.SITE_URL,
        "preferences_url": absolute(reverse("notifications:preferences")),
        "approval_links": approval_links or {},
        "reply_marker": REPLY_MARKER if row.ticket and replies_accepted() else "",
        "language": language,
    }
    with translation.override(language):
        text = _render(row.kind, "txt", context)
        html = _render(row.kind, "html", context)
    headers = {
        "Message-ID": message_id(row),
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if row.ticket:
        root = thread_id(row.ticket)
        headers.update({"In-Reply-To": root, "References": root, "X-ITSM-Ticket": row.ticket})
    reply_to = getattr(settings, "EMAIL_REPLY_TO", "")
    email = EmailMultiAlternatives(
        subject=subject_of(row),
        body=text,
        to=[recipient.email],
        headers=headers,
        reply_to=[reply_to] if reply_to else None,
        connection=connection,
    )
    email.attach_alternative(html, "text/html")
    return email


def compose_addressed(row, *, connection=None) -> EmailMultiAlternatives:
    """The email of an ``OutboundMail`` row: its text and headers as they were written."""
    headers = {"Auto-Submitted": "auto-generated", **(row.headers or {})}
    return EmailMultiAlternatives(
        subject=row.subject,
        body=row.body,
        to=[row.to],
        headers=headers,
        connection=connection,
    )


# --- What a refusal means

TEMPORARY = "temporary"
PERMANENT = "permanent"


@dataclass(frozen=True)
class Refusal:
    kind: str  # TEMPORARY or PERMANENT
    connection: bool  # the connection is gone or unusable: stop the batch
    text: str


def classify(exc: BaseException) -> Refusal:
    """A mail server's 4xx, a dropped or stalled connection: try again later. A 5xx about this
    message or its recipient: give up. Our own login or greeting refused is the server's
    configuration, not the message's: temporary, and nothing more is sent on that connection."""
    text = f"{type(exc).__name__}: {exc}"[:2000]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return Refusal(PERMANENT if permanent else TEMPORARY, False, text)
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPHeloError):
        return Refusal(TEMPORARY, True, text)
    if isinstance(exc, smtplib.SMTPConnectError):
        return Refusal(TEMPORARY, True, text)
    if isinstance(exc, smtplib.SMTPResponseException):  # sender refused, data refused
        permanent = 500 <= exc.smtp_code < 600
        # 421: the server is closing the connection
        return Refusal(PERMANENT if permanent else TEMPORARY, exc.smtp_code == 421, text)
    if isinstance(exc, smtplib.SMTPServerDisconnected | socket.timeout | ConnectionError):
        return Refusal(TEMPORARY, True, text)
    if isinstance(exc, UnicodeError | ValueError | smtplib.SMTPNotSupportedError):
        return Refusal(PERMANENT, False, text)  # this message cannot be sent, ever
    if isinstance(exc, OSError):
        return Refusal(TEMPORARY, True, text)
    return Refusal(TEMPORARY, False, text)


# --- EMAIL_URL=file:///DIR


class FileBackend(BaseEmailBackend):
    def __init__(self, file_path=None, **kwargs):
        super().__init__(**kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)
        self.directory.mkdir(parents=True, exist_ok=True)

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
            temporary = self.directory / f".{name}.tmp"
            temporary.write_bytes(message.message().as_bytes(linesep="\n"))
            temporary.rename(self.directory / name)
            sent += 1
        return sent
