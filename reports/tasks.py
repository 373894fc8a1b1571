"""Celery tasks of the reports app. Idempotent: the incidents are the truth."""

import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)

# Stay well inside CELERY_TASK_SOFT_TIME_LIMIT; the next run rolls what is left.
TIME_BUDGET = 60.0


@shared_task(ignore_result=True)
def roll_up_days() -> int:
    """Beat's roll-up (every ``REPORT_ROLLUP_SECONDS``): roll the days marked dirty and the days
    never rolled, the most recent first. Returns the days rolled."""
    rolled = services.roll_up_pending(budget=TIME_BUDGET)
    if rolled:
        log.info("report roll-up: %s day(s) rolled", rolled)
    return rolled
