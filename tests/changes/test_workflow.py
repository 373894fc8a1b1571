"""The state table of each change type (SPEC §6), and what each move requires."""

import pytest
from django.core.exceptions import ValidationError

from changes import services
from changes.models import Approval
from changes.workflow import EMERGENCY, NORMAL, STANDARD, WORKFLOWS, State, Type
from itsm.workflow import TransitionNotAllowed

from .builders import make_change, make_ci, submitted

TABLES = {
    Type.NORMAL: {
        "new": {"assess", "canceled"},
        "assess": {"authorize", "new", "canceled"},
        "authorize": {"scheduled", "new", "canceled"},
        "scheduled": {"implement", "new", "canceled"},
        "implement": {"review"},
        "review": {"closed"},
        "closed": set(),
        "canceled": set(),
    },
    Type.STANDARD: {
        "new": {"scheduled", "canceled"},
        "assess": {"canceled"},
        "authorize": {"canceled"},
        "scheduled": {"implement", "new", "canceled"},
        "implement": {"review"},
        "review": {"closed"},
        "closed": set(),
        "canceled": set(),
    },
    Type.EMERGENCY: {
        "new": {"assess", "authorize", "canceled"},
        "assess": {"authorize", "new", "canceled"},
        "authorize": {"scheduled", "new", "canceled"},
        "scheduled": {"implement", "new", "canceled"},
        "implement": {"review"},
        "review": {"closed"},
        "closed": set(),
        "canceled": set(),
    },
}


@pytest.mark.parametrize("kind", list(TABLES))
def test_each_type_has_its_table_covering_every_state(kind):
    table = {state: set(targets) for state, targets in WORKFLOWS[kind].transitions.items()}
    assert table == TABLES[kind]


def test_a_change_reads_the_table_of_its_own_type(db, chris):
    change = make_change(actor=chris)
    assert change.workflow is NORMAL
    change.type = Type.EMERGENCY
    assert change.workflow is EMERGENCY
    change.type = Type.STANDARD
    assert change.workflow is STANDARD


@pytest.mark.parametrize(
    ("kind", "target", "allowed"),
    [
        (Type.NORMAL, "scheduled", ["assess", "canceled"]),
        (Type.NORMAL, "authorize", ["assess", "canceled"]),
        (Type.EMERGENCY, "scheduled", ["assess", "authorize", "canceled"]),
    ],
)
def test_a_move_outside_the_types_table_is_refused_with_the_allowed_states(
    db, chris, kind, target, allowed
):
    change = make_change(actor=chris, type=kind)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.change_state(change, target, actor=chris)
    assert refused.value.allowed == allowed


def test_a_normal_change_goes_through_cab_schedule_implementation_and_review(db, chris, members):
    change = submitted(actor=chris)
    assert change.state == State.AUTHORIZE
    for member in members:
        services.vote(change, actor=member, decision="approve")
    change.refresh_from_db()
    assert change.state == State.SCHEDULED
    services.change_state(change, "implement", actor=chris)
    services.change_state(change, "review", actor=chris, outcome="successful")
    services.change_state(change, "closed", actor=chris)
    change.refresh_from_db()
    assert change.state == State.CLOSED
    assert change.outcome == "successful"
    assert change.actual_start and change.actual_end and change.closed_at


def test_the_plans_window_and_cis_are_required_before_authorize(db, chris, cab):
    change = services.raise_change(actor=chris, title="Upgrade the firewall")
    services.change_state(change, "assess", actor=chris)
    with pytest.raises(ValidationError) as refused:
        services.change_state(change, "authorize", actor=chris)
    assert set(refused.value.message_dict) == {
        "planned_start",
        "planned_end",
        "implementation_plan",
        "backout_plan",
        "test_plan",
        "cis",
        "cab",
    }
    change.refresh_from_db()
    assert change.state == State.ASSESS


def test_closing_from_review_needs_the_outcome(db, chris):
    template = services.save_template(
        None,
        {
            "name": "Renew a TLS certificate",
            "implementation_plan": "a",
            "backout_plan": "b",
            "test_plan": "c",
        },
        actor=chris,
    )
    change = make_change(actor=chris, type="standard", template=template)
    for state in ("scheduled", "implement", "review"):
        services.change_state(change, state, actor=chris)
    with pytest.raises(ValidationError) as refused:
        services.change_state(change, "closed", actor=chris)
    assert "outcome" in refused.value.message_dict
    services.change_state(change, "closed", actor=chris, outcome="backed_out")
    assert change.state == State.CLOSED


def test_a_standard_change_from_its_template_goes_from_new_to_scheduled(db, chris):
    web = make_ci("web-01")
    template = services.save_template(
        None,
        {
            "name": "Rotate web server logs",
            "implementation_plan": "logrotate -f",
            "backout_plan": "nothing to back out",
            "test_plan": "tail the new log",
            "cis": [web],
        },
        actor=chris,
    )
    change = make_change(actor=chris, template=template, cis=[], implementation_plan="")
    assert change.type == Type.STANDARD
    assert change.implementation_plan == "logrotate -f"
    assert list(change.cis.all()) == [web]
    services.change_state(change, "scheduled", actor=chris)
    assert change.state == State.SCHEDULED
    assert not Approval.objects.filter(change=change).exists()


def test_a_standard_change_needs_a_template(db, chris):
    with pytest.raises(ValidationError) as refused:
        make_change(actor=chris, type="standard")
    assert "template" in refused.value.message_dict


def test_an_emergency_change_gets_one_ecab_approval_and_no_cab_votes(db, chris, cab, members):
    change = make_change(actor=chris, type="emergency", cab=cab)
    services.change_state(change, "authorize", actor=chris)
    approvals = list(Approval.objects.filter(change=change))
    assert len(approvals) == 1 and approvals[0].approver is None
    with pytest.raises(Exception) as refused:
        services.vote(change, actor=members[0], decision="approve")
    assert refused.type.__name__ == "PermissionDenied"
    services.vote(change, actor=chris, decision="approve", comment="Go: outage in progress.")
    change.refresh_from_db()
    assert change.state == State.SCHEDULED
    assert Approval.objects.get(change=change).decided_by == chris


def test_cancelling_an_authorization_closes_its_pending_votes(db, chris, members):
    change = submitted(actor=chris)
    services.change_state(change, "canceled", actor=chris)
    assert set(Approval.objects.filter(change=change).values_list("decision", flat=True)) == {
        "void"
    }


def test_a_standard_change_without_a_window_is_done_from_now_for_its_usual_duration(db, chris):
    from django.utils import timezone

    template = services.save_template(
        None, {"name": "Restart the print spooler", "duration_minutes": 20}, actor=chris
    )
    change = services.raise_change(actor=chris, template=template)
    services.change_state(change, "scheduled", actor=chris)
    assert change.state == State.SCHEDULED
    assert timezone.now() < change.planned_start < timezone.now() + timezone.timedelta(minutes=2)
    assert (change.planned_end - change.planned_start).total_seconds() == 20 * 60
