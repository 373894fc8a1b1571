"""What logging an incident costs the database: a create runs inside one transaction, with its
timers, audit, title cluster, search vector and notifications in as few round trips as the work
needs (the benchmark's ``incident_create`` scenario rests on this)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services
from itsm.testing import make_team
from sla.models import Timer

from .conftest import make_policy

SAVEPOINT_WORDS = ("SAVEPOINT", "RELEASE SAVEPOINT")


@pytest.mark.django_db(transaction=True)
def test_a_create_with_timers_takes_one_transaction_without_savepoints(always, alice, rita):
    make_policy(always, name="Everything")
    team = make_team("Service Desk", members=[alice])
    services.open_incident(actor=alice, requester=rita, title="warm up", assignment_group=team)
    with CaptureQueriesContext(connection) as captured:
        incident = services.open_incident(
            actor=alice,
            requester=rita,
            title="VPN drops every 20 minutes",
            description="Since this morning, on Wi-Fi only.",
            impact=2,
            urgency=2,
            assignment_group=team,
        )
    statements = [q["sql"] for q in captured.captured_queries]
    # the create's own transaction (what runs after its COMMIT is the mail, off the request)
    statements = statements[: statements.index("COMMIT") + 1]
    assert Timer.objects.filter(incident=incident).count() == 2
    savepoints = [s for s in statements if s.lstrip().upper().startswith(SAVEPOINT_WORDS)]
    assert savepoints == []  # nested verbs ride on the create's transaction
    timer_inserts = [s for s in statements if s.startswith('INSERT INTO "sla_timer"')]
    assert len(timer_inserts) == 1  # both timers in one statement
    assert len(statements) <= 19, "\n".join(statements)  # 31 with the savepoints
