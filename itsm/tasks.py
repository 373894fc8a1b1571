from celery import shared_task

from . import notify


@shared_task
def deliver_notifications(ids: list[int]) -> int:
    """Mail the rows ``notify`` just wrote. Each row carries its own retry schedule
    (``next_attempt_at``), which the sweep follows: the task itself is never retried, so a
    redelivered task finds the rows already claimed or sent and does nothing."""
    return notify.deliver(ids)


@shared_task
def deliver_mail(ids: list[int]) -> int:
    """Mail the ``OutboundMail`` rows ``notify.mail_to`` just wrote (never retried itself:
    the rows carry their retries, as notifications do)."""
    from .models import OutboundMail

    return notify.deliver(ids, model=OutboundMail)


@shared_task
def sweep_notifications() -> int:
    return notify.sweep()
