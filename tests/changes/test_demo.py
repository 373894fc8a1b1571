"""The demo changes: templates, the CAB of three, every state, votes waiting for the ``cab``
login, conflicts, the year-end freeze."""

import pytest

from changes import demo
from changes.models import Approval, Blackout, Change, ChangeConflict, ChangeTemplate
from changes.workflow import State
from cmdb.demo import seed_demo as seed_cmdb
from itsm.management.commands.seed_demo import Command as SeedDemo
from itsm.notify import without_mail


@pytest.fixture
def seeded(db):
    seed = SeedDemo()
    users = seed.seed_people()
    seed.seed_teams(users)
    seed_cmdb()
    with without_mail():
        demo.seed_demo()
    return users


def test_the_demo_has_changes_in_every_state(seeded):
    assert set(Change.objects.values_list("state", flat=True)) == set(State.values)
    assert set(Change.objects.values_list("type", flat=True)) == {"standard", "normal", "emergency"}
    assert ChangeTemplate.objects.count() >= 3


def test_the_cab_of_three_has_votes_waiting_for_the_cab_login(seeded):
    from accounts.models import Team

    members = set(Team.objects.get(name="CAB").members.values_list("username", flat=True))
    assert members == {"cab", "changemgr", "security"}
    assert Approval.objects.filter(approver__username="cab", decision="pending").count() >= 2


def test_the_demo_shows_a_freeze_a_blocked_change_an_override_and_a_rejection(seeded):
    assert Blackout.objects.filter(name="Year-end freeze", cis__isnull=True).exists()
    assert ChangeConflict.objects.filter(kind="blackout", accepted=True).exists()
    assert ChangeConflict.objects.filter(kind="change", dependent=True).exists()
    blocked = Change.objects.get(title="Re-index the online shop search")
    assert blocked.state == "authorize"
    rejected = Change.objects.get(title="Upgrade Exchange to CU15")
    assert rejected.state == "new"
    assert rejected.approvals.filter(decision="rejected").exclude(comment="").exists()
    closed = Change.objects.filter(state="closed")
    assert set(closed.values_list("outcome", flat=True)) >= {"successful", "failed"}


def test_seeding_again_adds_nothing(seeded):
    count = Change.objects.count()
    with without_mail():
        demo.seed_demo()
    assert Change.objects.count() == count
