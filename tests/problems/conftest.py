"""Builders for problem tests: paula (problem manager), a problem in any state, incidents
linked to it."""

import pytest

from itsm.testing import make_incident, make_persona
from problems import services
from problems.workflow import State

# The shortest path from new to each state, and what each step needs.
PATH = {
    State.NEW: [],
    State.ASSESS: [State.ASSESS],
    State.ROOT_CAUSE_ANALYSIS: [State.ASSESS, State.ROOT_CAUSE_ANALYSIS],
    State.FIX_IN_PROGRESS: [State.ASSESS, State.ROOT_CAUSE_ANALYSIS, State.FIX_IN_PROGRESS],
    State.RESOLVED: [State.ASSESS, State.ROOT_CAUSE_ANALYSIS, State.RESOLVED],
    State.CLOSED: [State.ASSESS, State.ROOT_CAUSE_ANALYSIS, State.RESOLVED, State.CLOSED],
    State.CANCELED: [State.CANCELED],
}
REQUIRED = {State.RESOLVED: {"root_cause": "An expired certificate on the VPN gateway."}}


@pytest.fixture
def paula(db):
    return make_persona("paula")


def make_problem(actor=None, **fields):
    fields.setdefault("title", "VPN drops every ten minutes")
    fields.setdefault("description", "Many users, since the gateway upgrade.")
    return services.open_problem(actor=actor, **fields)


def problem_in(state, actor, **fields):
    problem = make_problem(actor, **fields)
    for step in PATH[state]:
        services.change_state(problem, step, actor=actor, **REQUIRED.get(step, {}))
    return problem


def linked_incidents(problem, count, *, actor, **fields):
    incidents = []
    for index in range(count):
        fields.setdefault("title", "VPN disconnects")
        incident = make_incident(**{**fields, "title": f"{fields['title']} ({index + 1})"})
        services.link(problem, incident, actor=actor)
        incidents.append(incident)
    return incidents
