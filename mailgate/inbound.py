"""Inbound mail: what a message says (``parse``) and what to do with it (``decide``).

Both read only. ``mailgate.services.ingest`` carries the decision out through the verbs of
the process apps (``incidents.services.open_incident``, the reply verb each ticket type
registers with ``itsm.extensions.mail_reply``) and records the outcome.

The decision, in order:

1. a message already ingested (same Message-ID) is ignored (``ingest`` finds it);
2. automatic mail is ignored: auto-replies and out-of-office (``Auto-Submitted``,
   ``X-Autoreply``, ``X-Autorespond``, ``X-Auto-Response-Suppress``), bulk and list mail
   (``Precedence: bulk/junk/list``), bounces (``Return-Path: <>``, ``multipart/report``, a
   mailer-daemon sender) and loops (one of our own Message-IDs, or our own address as sender);
3. the sender is the active user with that address; none: per ``INBOUND_UNKNOWN_SENDERS``,
   rejected with a reply (``reject``, the default) or given an end-user account without a
   usable password (``create``); an address that several accounts share, or only a
   deactivated account, is rejected (never guessed);
4. a reply names its ticket by header (``In-Reply-To``/``References``: a message we sent
   about it, or the mail that opened it) or by number in the subject (``[INC0000123]``). If
   the sender may see that ticket and it is still open, the mail becomes a public comment.
   If they may not (someone else's ticket: the same answer as for a number that does not
   exist), or it is closed, the mail opens a new incident instead: nothing about the other
   ticket is revealed or touched, and what they wrote is not lost;
5. anything else opens an incident.
"""

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from itsm.extensions import mail_replies
from itsm.mail import our_message

from . import text
from .models import InboundMessage

OPEN, REPLY, IGNORE, REJECT = "open", "reply", "ignore", "reject"
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
TICKET_NUMBER = re.compile(r"\b([A-Z]{2,6}[0-9]{7})\b")
SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|tr|aw|wg|sv|vs|antw|réf|ref)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
DAEMONS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|noreply|bounces?)([+\-.].*)?@", re.I)


@dataclass
class Part:
    name: str
    content_type: str
    content: bytes
    inline: bool = False


@dataclass
class Inbound:
    """A parsed message: headers decoded, body as text, files as bytes."""

    message_id: str  # "<…>", or "" when the message has none
    sender: str  # the address, lower case
    sender_name: str
    subject: str
    in_reply_to: list[str]
    references: list[str]
    text: str  # the whole body as text (HTML converted)
    reply_text: str  # the body without quoted history and signature
    attachments: list[Part]
    headers: dict[str, str]
    content_type: str
    raw_digest: str

    @property
    def key(self) -> str:
        """What identifies the message across deliveries."""
        return self.message_id[:255] if self.message_id else f"sha256:{self.raw_digest}"


@dataclass
class Decision:
    action: str  # OPEN, REPLY, IGNORE or REJECT
    reason: str  # a short code for the log: "new", "reply", "auto_reply", "no_access"...
    sender: object = None  # the user, when known
    ticket: object = None  # the ticket a reply goes to
    create_sender: bool = False
    notes: list[str] = field(default_factory=list)  # lines added to a new incident


# --- Parsing


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (IndexError, ValueError, TypeError):  # a header the parser cannot model
        value = message.get_all(name, [""])[0] if message.get_all(name) else ""
    return str(value or "").strip()


def _ids(value: str) -> list[str]:
    return MESSAGE_ID.findall(value or "")


def _sender(message: EmailMessage) -> tuple[str, str]:
    raw = _header(message, "From")
    try:
        addresses = message["From"].addresses if message["From"] is not None else ()
    except (AttributeError, IndexError, ValueError, TypeError):
        addresses = ()
    if addresses:
        first: Address = addresses[0]
        return (first.addr_spec or "").lower(), first.display_name or ""
    name, address = parseaddr(raw)
    return address.lower(), name


def _content(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def _body_parts(message: EmailMessage):
    """The text part and the HTML part that make the body (either may be None)."""
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return plain, html


def _files(message: EmailMessage, body_parts) -> list[Part]:
    """Every attached file and inline image, a forwarded message as a ``.eml`` file."""
    files: list[Part] = []
    body_ids = {id(part) for part in body_parts if part is not None}

    def visit(part) -> None:
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            data = inner.as_bytes() if hasattr(inner, "as_bytes") else b""
            subject = _header(inner, "Subject") if hasattr(inner, "get") else ""
            name = part.get_filename() or f"{subject or 'message'}.eml"
            files.append(Part(name=name, content_type="message/rfc822", content=data))
            return
        if part.is_multipart():
            for child in part.iter_parts():
                visit(child)
            return
        if id(part) in body_ids:
            return
        disposition = part.get_content_disposition()
        name = part.get_filename()
        if content_type in ("text/plain", "text/html") and not name and disposition != "attachment":
            return  # another rendering of the body
        if content_type.startswith("multipart/") or content_type == "message/delivery-status":
            return
        data = part.get_payload(decode=True) or b""
        if not data:
            return
        if not name:
            extension = mimetypes.guess_extension(content_type) or ".bin"
            stem = "image" if content_type.startswith("image/") else "file"
            name = f"{stem}-{len(files) + 1}{extension}"
        files.append(
            Part(
                name=name,
                content_type=content_type,
                content=data,
                inline=disposition == "inline" or bool(part.get("Content-ID")),
            )
        )

    visit(message)
    return files


def parse(raw: bytes) -> Inbound:
    """Decode an RFC 5322 message: encoded-word headers, quoted-printable and base64 bodies
    in any charset, the plain text preferred to the HTML (converted to text when it is the
    only one)."""
    message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    plain, html = _body_parts(message)
    if plain is not None:
        body = _content(plain).replace("\r\n", "\n")
        reply = text.strip_reply(body)
    elif html is not None:
        markup = _content(html)
        body = text.html_to_text(markup)
        reply = text.strip_reply(text.html_to_text(markup, drop_quotes=True))
    else:
        body = reply = ""
    sender, name = _sender(message)
    headers = {
        name.lower(): _header(message, name)
        for name in (
            "Auto-Submitted",
            "Precedence",
            "X-Autoreply",
            "X-Autorespond",
            "X-Auto-Response-Suppress",
            "Return-Path",
            "List-Id",
            "X-Loop",
        )
        if message.get(name) is not None
    }
    subject = re.sub(r"\s+", " ", _header(message, "Subject"))
    return Inbound(
        message_id=(_ids(_header(message, "Message-ID")) or [""])[0],
        sender=sender,
        sender_name=name,
        subject=subject,
        in_reply_to=_ids(_header(message, "In-Reply-To")),
        references=_ids(_header(message, "References")),
        text=body.strip(),
        reply_text=reply,
        attachments=_files(message, (plain, html)),
        headers=headers,
        content_type=message.get_content_type(),
        raw_digest=hashlib.sha256(raw).hexdigest(),
    )


# --- Deciding


def automatic(message: Inbound) -> str | None:
    """Why ``message`` was sent by a machine (a reason code), or None for a person's mail."""
    headers = message.headers
    if message.content_type == "multipart/report":
        return "bounce"
    if "return-path" in headers and headers["return-path"].strip() in ("<>", ""):
        return "bounce"
    if DAEMONS.match(message.sender or ""):
        return "bounce"
    if headers.get("auto-submitted", "no").lower() not in ("", "no"):
        return "auto_reply"
    if headers.get("x-autoreply") or headers.get("x-autorespond"):
        return "auto_reply"
    if headers.get("x-auto-response-suppress"):
        return "auto_reply"
    if headers.get("precedence", "").lower() in ("bulk", "junk", "list"):
        return "bulk"
    if message.message_id and our_message(message.message_id):
        return "loop"
    if message.sender in our_addresses():
        return "loop"
    return None


def our_addresses() -> set[str]:
    addresses = {settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL}
    addresses.add(getattr(settings, "EMAIL_REPLY_TO", ""))
    addresses.update(getattr(settings, "INBOUND_ADDRESSES", ()))
    return {address.lower() for _name, address in getaddresses(list(addresses)) if address}


def ticket_types() -> dict[str, type]:
    """Number prefix → model, for the ticket types that take replies by email."""
    types = {}
    for label in mail_replies():
        model = apps.get_model(label)
        types[model.NUMBER_PREFIX] = model
    return types


def referenced_number(message: Inbound) -> tuple[str, str] | None:
    """``(number, how)`` of the ticket the message answers: by header first (a message of
    ours it replies to, or the mail that opened a ticket), then by number in the subject."""
    for identifier in [*message.in_reply_to, *reversed(message.references)]:
        ours = our_message(identifier)
        if ours is not None and ours.ticket:
            return ours.ticket, "header"
        opened = (
            InboundMessage.objects.filter(message_id=identifier)
            .exclude(ticket="")
            .values_list("ticket", flat=True)
            .first()
        )
        if opened:
            return opened, "header"
    prefixes = ticket_types()
    for number in TICKET_NUMBER.findall(message.subject or ""):
        if number[:-7] in prefixes:
            return number, "subject"
    return None


def find_sender(address: str):
    """``(user, reason)``: the one active account with ``address``; else None and why."""
    if not address or "@" not in address:
        return None, "no_sender"
    people = list(get_user_model().objects.filter(email__iexact=address)[:3])
    active = [person for person in people if person.is_active]
    if len(active) == 1:
        return active[0], ""
    if len(active) > 1:
        return None, "ambiguous_sender"
    if people:
        return None, "inactive_sender"
    return None, "unknown_sender"


def decide(message: Inbound) -> Decision:
    """What to do with ``message`` (see the module's docstring). Reads, never writes; a
    message seen before is caught by its record (unique Message-ID) before this is asked."""
    reason = automatic(message)
    if reason:
        return Decision(IGNORE, reason)
    sender, problem = find_sender(message.sender)
    if problem == "no_sender":
        return Decision(IGNORE, problem)
    if problem == "unknown_sender" and settings.INBOUND_UNKNOWN_SENDERS == "create":
        return Decision(OPEN, "new_sender", create_sender=True)
    if problem:
        return Decision(REJECT, problem)
    found = referenced_number(message)
    if found is None:
        return Decision(OPEN, "new", sender=sender)
    number, _how = found
    model = ticket_types().get(number[:-7])
    ticket = None
    if model is not None:
        ticket = model.objects.visible_to(sender).filter(number=number).first()
    if ticket is None:
        # someone else's ticket, or none: the same answer, and what they wrote is kept
        return Decision(OPEN, "no_access", sender=sender)
    if ticket.workflow.is_terminal(ticket.state):
        return Decision(
            OPEN,
            "follow_up",
            sender=sender,
            notes=[
                str(_("Follow-up of %(number)s, which was %(state)s."))
                % {"number": number, "state": ticket.state_label.lower()}
            ],
        )
    return Decision(REPLY, "reply", sender=sender, ticket=ticket)


def title_of(message: Inbound, *, drop_number: bool = False) -> str:
    """A new incident's title: the subject without ``Re:``/``Fwd:`` (and without a ticket
    number the sender has no access to), else the first line of the text."""
    subject = SUBJECT_PREFIX.sub("", message.subject or "")
    if drop_number:
        subject = re.sub(r"\[?\b[A-Z]{2,6}[0-9]{7}\b\]?\s*", "", subject)
        subject = SUBJECT_PREFIX.sub("", subject)
    subject = subject.strip(" -:")
    if not subject:
        first = next((line for line in message.text.splitlines() if line.strip()), "")
        subject = first.strip() or str(_("Email without a subject"))
    return subject[:200]
