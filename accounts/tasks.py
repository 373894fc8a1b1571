from celery import shared_task


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def send_account_notice(to: str, subject: str, body: str) -> None:
    """A security notice to an address that is no longer (or not yet) the account's own.

    Only for messages queued before the notice went through the outbox: it writes the notice
    there (``notify.mail_to``), which mails it and retries it like any notification."""
    from itsm import notify
    from itsm.models import OutboundMail

    notify.mail_to(to, kind=OutboundMail.Kind.ACCOUNT, subject=subject, body=body)
