from celery import shared_task


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_rejection(address: str, subject: str, message_id: str, reason: str) -> None:
    """Tell the sender of a message the gateway turned down why (no account...).

    Only for messages queued before the reply went through the outbox: it writes the reply
    there (``mail.send_rejection``), which mails it and retries it."""
    from .mail import send_rejection as send

    send(address, subject, message_id, reason)


@shared_task
def poll_imap() -> int:
    """Ingest the new messages of the ``IMAP_URL`` mailbox (beat runs it when it is set)."""
    from django.conf import settings

    from .imap import poll

    if not settings.IMAP_URL:
        return 0
    return poll(settings.IMAP_URL)
