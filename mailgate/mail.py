"""The reply the gateway sends when it turns a message down."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation


def send_rejection(address: str, subject: str, message_id: str, reason: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        body = render_to_string(
            "email/rejected.txt",
            {"reason": reason, "subject": subject, "site_url": settings.SITE_URL},
        )
    headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if message_id:
        headers.update({"In-Reply-To": message_id, "References": message_id})
    EmailMessage(
        subject=f"Re: {subject}" if subject else "Re:",
        body=body,
        to=[address],
        headers=headers,
    ).send()
