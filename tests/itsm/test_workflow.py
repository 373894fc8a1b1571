import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from incidents.workflow import WORKFLOW, State
from itsm import services
from itsm.testing import make_incident
from itsm.workflow import TransitionNotAllowed, Workflow

# Fields a move needs, so that every allowed pair can actually be made.
REQUIRED = {
    State.ON_HOLD: {"hold_reason": "awaiting_caller"},
    State.RESOLVED: {"resolution_code": "fixed", "resolution_notes": "Restarted the service."},
}
# A path from "new" to each state, to put a ticket in it.
PATH = {
    State.NEW: [],
    State.IN_PROGRESS: [State.IN_PROGRESS],
    State.ON_HOLD: [State.ON_HOLD],
    State.RESOLVED: [State.RESOLVED],
    State.CLOSED: [State.RESOLVED, State.CLOSED],
    State.CANCELED: [State.CANCELED],
}


def put_in(state, actor):
    incident = make_incident()
    for step in PATH[state]:
        services.transition(incident, step, actor=actor, **REQUIRED.get(step, {}))
    assert incident.state == state
    return incident


def test_the_table_covers_every_state():
    assert set(WORKFLOW.transitions) == set(State.values)


@pytest.mark.parametrize(("source", "target"), list(itertools.product(State.values, repeat=2)))
def test_every_pair_is_allowed_exactly_when_the_table_says_so(db, alice, source, target):
    incident = put_in(source, alice)
    if WORKFLOW.can(source, target):
        services.transition(incident, target, actor=alice, **REQUIRED.get(target, {}))
        incident.refresh_from_db()
        assert incident.state == target
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            services.transition(incident, target, actor=alice, **REQUIRED.get(target, {}))
        assert refused.value.allowed == WORKFLOW.allowed(source)
        incident.refresh_from_db()
        assert incident.state == source


def test_a_move_without_its_required_fields_is_refused_and_changes_nothing(db, alice):
    incident = make_incident()
    with pytest.raises(ValidationError) as refused:
        services.transition(incident, State.RESOLVED, actor=alice, resolution_code="fixed")
    assert set(refused.value.message_dict) == {"resolution_notes"}
    incident.refresh_from_db()
    assert incident.state == State.NEW
    assert incident.resolved_at is None
    assert not incident.events.filter(field="state").exists()


def test_blanks_are_no_value_for_a_required_field(db, alice):
    incident = make_incident()
    with pytest.raises(ValidationError) as refused:
        services.transition(
            incident,
            State.RESOLVED,
            actor=alice,
            resolution_code="fixed",
            resolution_notes=" \r\n\t ",
        )
    assert set(refused.value.message_dict) == {"resolution_notes"}
    incident.refresh_from_db()
    assert (incident.state, incident.resolution_notes) == (State.NEW, "")


def test_an_invalid_choice_for_a_required_field_is_refused(db, alice):
    incident = make_incident()
    with pytest.raises(ValidationError) as refused:
        services.transition(incident, State.ON_HOLD, actor=alice, hold_reason="lunch")
    assert "hold_reason" in refused.value.message_dict


def test_entering_a_state_sets_its_milestone_and_records_the_change(db, alice):
    incident = put_in(State.RESOLVED, alice)
    assert incident.resolved_at is not None
    changes = {(e.field, e.old, e.new) for e in incident.events.all()}
    assert ("state", "new", "resolved") in changes
    assert ("resolution_code", "", "fixed") in changes


def test_a_table_that_forgets_a_state_is_refused():
    class Door(models.TextChoices):
        OPEN = "open"
        SHUT = "shut"

    with pytest.raises(ValueError, match="missing"):
        Workflow(states=Door, initial="open", transitions={"open": frozenset({"shut"})})


def test_a_transition_to_the_current_state_is_not_a_valid_table():
    class Door(models.TextChoices):
        OPEN = "open"
        SHUT = "shut"

    with pytest.raises(ValueError, match="current state"):
        Workflow(
            states=Door,
            initial="open",
            transitions={"open": frozenset({"open"}), "shut": frozenset()},
        )
