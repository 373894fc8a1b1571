"""The IMAP poll: ``IMAP_URL=imaps://user:password@host[:port]/Folder`` (``imap://…`` for a
plain connection, ``?starttls=1`` to upgrade it). Each unread message is fetched without
marking it (``BODY.PEEK``), ingested, then flagged ``\\Seen``: a worker that dies in between
leaves it unread, and the next poll finds it already ingested (same Message-ID) and only
flags it."""

import imaplib
import logging
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlparse

log = logging.getLogger(__name__)
BATCH = 100


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    user: str
    password: str
    folder: str
    secure: bool
    starttls: bool


def mailbox(url: str) -> Mailbox:
    parsed = urlparse(url)
    if parsed.scheme not in ("imap", "imaps"):
        raise ValueError(f"IMAP_URL: unsupported scheme {parsed.scheme!r}")
    query = parse_qs(parsed.query)
    secure = parsed.scheme == "imaps"
    return Mailbox(
        host=parsed.hostname or "localhost",
        port=parsed.port or (993 if secure else 143),
        user=unquote(parsed.username or ""),
        password=unquote(parsed.password or ""),
        folder=unquote(parsed.path.lstrip("/")) or "INBOX",
        secure=secure,
        starttls=query.get("starttls", ["0"])[0] in ("1", "true"),
    )


def connect(box: Mailbox):
    if box.secure:
        return imaplib.IMAP4_SSL(box.host, box.port, ssl_context=ssl.create_default_context())
    client = imaplib.IMAP4(box.host, box.port)
    if box.starttls:
        client.starttls(ssl_context=ssl.create_default_context())
    return client


def poll(url: str, *, limit: int = BATCH) -> int:
    """Ingest up to ``limit`` unread messages; return how many were ingested."""
    from .services import ingest

    box = mailbox(url)
    client = connect(box)
    done = 0
    try:
        client.login(box.user, box.password)
        client.select(f'"{box.folder}"')
        _status, data = client.uid("SEARCH", None, "UNSEEN")
        uids = (data[0] or b"").split()[:limit]
        for uid in uids:
            _status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in parts if isinstance(part, tuple)), None)
            if raw is None:
                continue
            try:
                ingest(raw, source="imap")
            except Exception:  # left unread: the next poll tries it again
                log.exception("IMAP message %s not ingested", uid.decode())
                continue
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            done += 1
    finally:
        try:
            client.logout()
        except Exception:  # the server already closed the connection
            log.debug("IMAP logout failed", exc_info=True)
    return done
