from celery import shared_task

from . import notify


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def deliver_notifications(ids: list[int]) -> int:
    return notify.deliver(ids)


@shared_task
def sweep_notifications() -> int:
    return notify.sweep()
