from celery import shared_task

from . import services


@shared_task
def auto_close_resolved() -> int:
    """Close incidents resolved more than INCIDENT_AUTO_CLOSE_DAYS ago (beat, hourly)."""
    return services.auto_close()
