"""The CAB's votes (SPEC §6): approvals asked on entering authorize, the policies, rejection,
and who may vote on what."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from changes import services
from changes.models import Approval, ChangeEvent
from changes.workflow import State
from itsm.models import Notification
from itsm.testing import make_persona, make_team
from itsm.workflow import Conflict

from .builders import cab_members, make_cab, submitted


def decisions(change):
    return sorted(
        Approval.objects.filter(change=change, round=change.approval_round).values_list(
            "approver__username", "decision"
        )
    )


def test_entering_authorize_asks_each_cab_member_and_notifies_them(db, chris, members):
    change = submitted(actor=chris)
    assert decisions(change) == [("carol", "pending"), ("dina", "pending"), ("omar", "pending")]
    asked = Notification.objects.filter(kind="approval_requested", ticket=change.number)
    assert sorted(asked.values_list("recipient__username", flat=True)) == ["carol", "dina", "omar"]


def test_with_policy_all_the_change_is_scheduled_on_the_last_approval(db, chris, members):
    change = submitted(actor=chris)
    carol, dina, omar = members
    services.vote(change, actor=carol, decision="approve")
    services.vote(change, actor=dina, decision="approve", comment="Backout looks sound.")
    change.refresh_from_db()
    assert change.state == State.AUTHORIZE
    services.vote(change, actor=omar, decision="approve")
    change.refresh_from_db()
    assert change.state == State.SCHEDULED


def test_with_policy_majority_two_of_three_schedule_it_and_the_third_vote_closes(db, chris):
    change = submitted(actor=chris, cab=make_cab("Majority CAB", policy="majority"))
    assert change.approval_policy == "majority"
    carol, dina, omar = cab_members()
    services.vote(change, actor=carol, decision="approve")
    change.refresh_from_db()
    assert change.state == State.AUTHORIZE
    services.vote(change, actor=dina, decision="approve")
    change.refresh_from_db()
    assert change.state == State.SCHEDULED
    assert dict(decisions(change))["omar"] == "void"
    with pytest.raises(Conflict):
        services.vote(change, actor=omar, decision="approve")


def test_with_policy_any_one_approval_schedules_it(db, chris, members):
    change = submitted(actor=chris, approval_policy="any")
    services.vote(change, actor=members[2], decision="approve")
    change.refresh_from_db()
    assert change.state == State.SCHEDULED


def test_a_rejection_returns_the_change_to_new_with_the_comment(db, chris, members):
    change = submitted(actor=chris, approval_policy="majority")
    carol, dina, _omar = members
    services.vote(change, actor=carol, decision="approve")
    services.vote(change, actor=dina, decision="reject", comment="No rollback for the schema.")
    change.refresh_from_db()
    assert change.state == State.NEW
    rejected = Approval.objects.get(change=change, approver=dina)
    assert (rejected.decision, rejected.comment) == ("rejected", "No rollback for the schema.")
    assert dict(decisions(change))["omar"] == "void"
    told = Notification.objects.get(recipient=chris, ticket=change.number, kind="state")
    assert "No rollback for the schema." in told.message


def test_a_rejection_needs_a_comment(db, chris, members):
    change = submitted(actor=chris)
    with pytest.raises(ValidationError) as refused:
        services.vote(change, actor=members[0], decision="reject", comment="  ")
    assert "comment" in refused.value.message_dict
    assert dict(decisions(change))["carol"] == "pending"


def test_a_member_cannot_vote_twice(db, chris, members):
    change = submitted(actor=chris)
    services.vote(change, actor=members[0], decision="approve")
    with pytest.raises(Conflict) as refused:
        services.vote(change, actor=members[0], decision="reject", comment="Changed my mind")
    assert "already voted" in str(refused.value.detail)
    assert dict(decisions(change))["carol"] == "approved"


def test_someone_without_an_approval_cannot_vote(db, chris, members):
    change = submitted(actor=chris)
    outsider = make_persona("alice")
    for person in (chris, outsider):
        with pytest.raises(PermissionDenied):
            services.vote(change, actor=person, decision="approve")
    assert {d for _u, d in decisions(change)} == {"pending"}


def test_a_resubmitted_change_asks_again_in_a_new_round(db, chris, members):
    change = submitted(actor=chris)
    services.vote(change, actor=members[0], decision="reject", comment="Wrong window.")
    change.refresh_from_db()
    services.change_state(change, "assess", actor=chris)
    services.change_state(change, "authorize", actor=chris)
    assert change.approval_round == 2
    assert {d for _u, d in decisions(change)} == {"pending"}
    assert Approval.objects.filter(change=change).count() == 6


def test_every_vote_is_on_the_audit_trail(db, chris, members):
    change = submitted(actor=chris)
    services.vote(change, actor=members[0], decision="approve", comment="Fine by me.")
    event = ChangeEvent.objects.get(ticket=change, field="vote")
    assert event.actor == members[0]
    assert event.new == {"by": members[0].pk, "decision": "approved", "comment": "Fine by me."}


def test_only_cab_members_who_may_read_changes_are_asked(db, chris):
    end_user = make_persona("rita")
    carol = make_persona("carol")
    team = make_team("Mixed CAB", members=[carol, end_user])
    change = submitted(actor=chris, cab=team)
    assert [a.approver for a in Approval.objects.filter(change=change)] == [carol]


def test_a_cab_nobody_may_vote_in_is_refused(db, chris):
    team = make_team("Empty CAB")
    with pytest.raises(ValidationError) as refused:
        submitted(actor=chris, cab=team)
    assert "cab" in refused.value.message_dict


def test_an_agent_cannot_schedule_an_authorized_change_by_hand(db, chris, members):
    change = submitted(actor=chris, approval_policy="any")
    with pytest.raises(PermissionDenied):
        services.change_state(change, "scheduled", actor=make_persona("alice"))


def test_a_change_manager_cannot_schedule_before_the_votes_are_in(db, chris, members):
    change = submitted(actor=chris)
    with pytest.raises(Conflict) as refused:
        services.change_state(change, "scheduled", actor=chris)
    assert "scheduled" not in refused.value.allowed
