"""The reply the gateway sends when it turns a message down."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from itsm import notify
from itsm.models import OutboundMail


def send_rejection(address: str, subject: str, message_id: str, reason: str) -> OutboundMail:
    """Write the reply into the outbox, in the caller's transaction: mailed after commit, or
    by the sweep when the broker or the mail server is down, and retried like any
    notification."""
    with translation.override(settings.LANGUAGE_CODE):
        body = render_to_string(
            "email/rejected.txt",
            {"reason": reason, "subject": subject, "site_url": settings.SITE_URL},
        )
    headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if message_id:
        headers.update({"In-Reply-To": message_id, "References": message_id})
    return notify.mail_to(
        address,
        kind=OutboundMail.Kind.REJECTION,
        subject=f"Re: {subject}" if subject else "Re:",
        body=body,
        headers=headers,
    )
