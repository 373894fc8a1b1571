"""Celery tasks of the SLA engine. Each is idempotent: the database is the truth."""

import logging
import time

from celery import shared_task
from django.utils import timezone

from . import scanner, services

log = logging.getLogger(__name__)

# Stay well inside CELERY_TASK_SOFT_TIME_LIMIT; beat or a follow-up task does the rest.
TIME_BUDGET = 60.0


@shared_task(ignore_result=True)
def scan() -> int:
    """Beat's SLA scanner (every ``SLA_SCAN_SECONDS``): claim due timers batch after batch,
    then apply escalation actions a lost task left pending. Returns the timers processed."""
    started = time.monotonic()
    total = 0
    while time.monotonic() - started < TIME_BUDGET:
        claimed = scanner.claim_batch(timezone.now())
        total += claimed
        if claimed < scanner.BATCH:
            break
    scanner.sweep_escalation_actions()
    if total:
        log.info("SLA scan: %d timer(s) processed", total)
    return total


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def apply_escalation_actions(escalation_id: int) -> bool:
    return scanner.apply_escalation_actions(escalation_id)


@shared_task(ignore_result=True)
def recompute(
    calendar_id: int | None = None, applies_to: str | None = None, after_id: int = 0
) -> int:
    """Re-measure running and paused timers after a calendar or policy edit, in chunks; a
    policy edit also attaches timers to open tickets that now match. Re-queues itself with
    where it stopped when the time budget runs out."""
    started = time.monotonic()
    changed = 0
    cursor: int | None = after_id
    while cursor is not None:
        if time.monotonic() - started > TIME_BUDGET:
            recompute.apply_async(
                kwargs={"calendar_id": calendar_id, "applies_to": applies_to, "after_id": cursor}
            )
            return changed
        done, cursor = services.recompute_batch(
            calendar_id=calendar_id, applies_to=applies_to, after_id=cursor
        )
        changed += done
    if calendar_id is None:
        services.attach_missing(applies_to=applies_to)
    log.info("SLA recompute: %d timer(s) changed", changed)
    return changed
