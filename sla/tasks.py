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
    try:
        while time.monotonic() - started < TIME_BUDGET:
            claimed = scanner.claim_batch(timezone.now())
            total += claimed
            if claimed < scanner.BATCH:
                break
    except Exception:  # a batch that fails rolls back alone; the sweeps below still run
        log.exception("SLA scan: a batch failed; the next scan tries it again")
    # Each sweep isolates its own rows; one sweep failing as a whole never stops the other.
    try:
        scanner.sweep_escalation_actions()
    except Exception:
        log.exception("SLA scan: the escalation actions sweep failed")
    try:
        services.sweep_recompute_jobs(budget=max(5.0, TIME_BUDGET - (time.monotonic() - started)))
    except Exception:
        log.exception("SLA scan: the recompute sweep failed")
    if total:
        log.info("SLA scan: %d timer(s) processed", total)
    return total


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def apply_escalation_actions(escalation_id: int) -> bool:
    return scanner.apply_escalation_actions(escalation_id)


@shared_task(ignore_result=True)
def recompute(job_id: int) -> bool:
    """Do one owed recompute (``RecomputeJob``) within the time budget; re-queue the rest.
    Returns whether the job is finished."""
    finished = services.work_recompute_job(job_id, budget=TIME_BUDGET)
    if not finished:
        recompute.apply_async(args=[job_id])
    return finished
