"""The problem state table of SPEC §5, move by move, through the verb and the API."""

import itertools

import pytest

from problems.workflow import LINKABLE_STATES, WORKFLOW, State

from .conftest import REQUIRED, problem_in

TABLE = {
    "new": {"assess", "canceled"},
    "assess": {"root_cause_analysis", "canceled"},
    "root_cause_analysis": {"fix_in_progress", "resolved", "canceled"},
    "fix_in_progress": {"root_cause_analysis", "resolved", "canceled"},
    "resolved": {"closed", "root_cause_analysis"},
    "closed": set(),
    "canceled": set(),
}


def test_the_table_is_the_one_the_spec_writes():
    assert {state: set(WORKFLOW.allowed(state)) for state in State.values} == TABLE


def test_closed_and_canceled_are_terminal_and_take_no_incidents():
    assert [s for s in State.values if WORKFLOW.is_terminal(s)] == ["closed", "canceled"]
    assert set(State.values) - {"closed", "canceled"} == LINKABLE_STATES


@pytest.mark.parametrize(("source", "target"), list(itertools.product(State.values, repeat=2)))
def test_every_state_pair_through_the_api(db, api, paula, source, target):
    problem = problem_in(source, paula)
    response = api.as_(paula).post(
        f"/api/v1/problems/{problem.number}/transition/",
        {"state": target, **REQUIRED.get(target, {})},
        format="json",
    )
    if target in TABLE[source]:
        assert response.status_code == 200, response.content
        assert response.json()["state"] == target
    else:
        assert response.status_code == 409, response.content
        assert response.json()["allowed"] == WORKFLOW.allowed(source)


def test_entering_resolved_without_a_root_cause_is_a_400_naming_it(db, api, paula):
    problem = problem_in(State.ROOT_CAUSE_ANALYSIS, paula)
    response = api.as_(paula).post(
        f"/api/v1/problems/{problem.number}/transition/", {"state": "resolved"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["root_cause"]
    problem.refresh_from_db()
    assert problem.state == "root_cause_analysis"


def test_resolving_and_closing_set_their_milestones(db, paula):
    problem = problem_in(State.CLOSED, paula)
    assert problem.resolved_at is not None
    assert problem.closed_at >= problem.resolved_at


def test_a_reopened_problem_goes_back_to_root_cause_analysis_with_its_history(db, api, paula):
    problem = problem_in(State.RESOLVED, paula)
    response = api.as_(paula).post(
        f"/api/v1/problems/{problem.number}/transition/",
        {"state": "root_cause_analysis"},
        format="json",
    )
    assert response.status_code == 200
    moves = [
        (e["old"], e["new"])
        for e in api.get(f"/api/v1/problems/{problem.number}/history/").json()
        if e["field"] == "state"
    ]
    assert moves[-2:] == [("root_cause_analysis", "resolved"), ("resolved", "root_cause_analysis")]
