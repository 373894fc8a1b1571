"""The scanner's notifications are written per batch: however many timers escalate, one
INSERT and one mail task (SPEC §4, §9)."""

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.models import Notification
from itsm.testing import make_incident, make_persona, make_team
from sla.scanner import claim_batch

from .conftest import HOUR, make_policy, utc


@pytest.mark.django_db
def test_a_batch_of_escalations_notifies_in_one_insert_and_one_task(
    always, django_capture_on_commit_callbacks
):
    agent = make_persona("alice")
    team = make_team("Service Desk", members=[agent])
    make_policy(
        always, response=10 * HOUR, resolution=HOUR, warning_notify=["assignee"], breach_notify=[]
    )
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        for _ in range(50):
            make_incident(actor=agent, assignee=agent, assignment_group=team)
    with (
        django_capture_on_commit_callbacks() as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        assert claim_batch(utc(2026, 3, 2, 9, 31)) == 50  # the resolution timers at 50 %
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "itsm_notification"')]
    assert len(inserts) == 1
    assert len(callbacks) == 1
    # the batch's 7, plus who is staff, their preferences, the INSERT (was 107 for 50 timers:
    # a roles query and an INSERT per timer, and a task each)
    assert len(queries) <= 10
    assert Notification.objects.filter(kind="sla_warning", recipient=agent).count() == 50
