from celery import shared_task
from django.core.mail import send_mail


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def send_account_notice(to: str, subject: str, body: str) -> None:
    """A security notice to an address that is no longer (or not yet) the account's own."""
    send_mail(subject, body, None, [to], fail_silently=False)
