"""Random sequences of what people do to incidents, through the API, keep the invariants.

Hypothesis drives a ``RuleBasedStateMachine``: end users open incidents and comment; agents of
the incident's team and of another team assign, take, comment and move incidents to any state
(legal or not), end users try moves too. After every step:

- every incident is in a state of the table, and got there only by legal moves: an illegal
  move answers 409 with the allowed states and changes nothing;
- every change is audited: one ``state`` event per move that went through, one ``assignee``
  event per change of assignee, nothing for refused attempts;
- the SLA timers follow the state: the resolution clock runs while the incident is open,
  pauses on hold for a reason the policy pauses on, stops once resolved, closed or canceled
  (and runs again on reopening); a stopped response clock never runs again.
"""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from rest_framework.test import APIClient

from incidents.models import Incident
from incidents.workflow import WORKFLOW, HoldReason, State
from itsm.testing import make_persona, make_team
from sla.models import Timer
from tests.sla.conftest import ALWAYS_HOURS, make_calendar, make_policy

PAUSE_ON = ["awaiting_caller", "awaiting_vendor"]
FIELDS = {
    State.ON_HOLD: lambda data: {"hold_reason": data.draw(st.sampled_from(NOT_CHANGE))},
    State.RESOLVED: lambda data: {"resolution_code": "fixed", "resolution_notes": "Done."},
}
NOT_CHANGE = [r for r in HoldReason.values if r != HoldReason.AWAITING_CHANGE]
DONE = {State.RESOLVED, State.CLOSED, State.CANCELED}


class IncidentDesk(RuleBasedStateMachine):
    incidents = Bundle("incidents")

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()  # each run starts from the same empty desk
        calendar = make_calendar("Always", "UTC", ALWAYS_HOURS)
        make_policy(calendar, pause_on=PAUSE_ON)
        self.people = {name: make_persona(name) for name in ("rita", "eve", "alice", "bob")}
        self.team = make_team("Service Desk", members=[self.people["alice"]])
        make_team("Network", members=[self.people["bob"]])
        self.moves: dict[str, int] = {}  # successful state moves per incident
        self.assignees: dict[str, int] = {}  # assignee changes per incident
        self.stopped_response: set[str] = set()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def api(self, name: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(self.people[name])
        return client

    # --- Rules

    @rule(target=incidents, urgency=st.sampled_from([1, 2, 3]))
    def open(self, urgency):
        response = self.api("rita").post(
            "/api/v1/incidents/",
            {"title": "Something broke", "description": "Details.", "urgency": urgency},
            format="json",
        )
        assert response.status_code == 201, response.content
        number = response.json()["number"]
        self.moves[number] = 0
        self.assignees[number] = 0
        return number

    @rule(number=incidents, who=st.sampled_from(["alice", "bob", "rita"]), data=st.data())
    def move(self, number, who, data):
        target = data.draw(st.sampled_from(State.values))
        before = Incident.objects.get(number=number)
        body = {"state": target, **FIELDS.get(target, lambda d: {})(data)}
        response = self.api(who).post(
            f"/api/v1/incidents/{number}/transition/", body, format="json"
        )
        after = Incident.objects.get(number=number)
        if response.status_code == 200:
            assert WORKFLOW.can(before.state, target), (before.state, target)
            assert after.state == target
            self.moves[number] += 1
            if target == State.RESOLVED and before.assignee_id is None and after.assignee_id:
                self.assignees[number] += 1
            if target == State.IN_PROGRESS and before.assignee_id != after.assignee_id:
                self.assignees[number] += 1
        else:
            assert response.status_code in (400, 403, 404, 409), response.content
            if not WORKFLOW.can(before.state, target) and response.status_code == 409:
                assert response.json()["allowed"] == WORKFLOW.allowed(before.state)
            if who == "alice" and target != State.ON_HOLD:
                # the team's agent is refused only for an illegal move (the form is complete)
                assert not WORKFLOW.can(before.state, target), response.content
            assert (after.state, after.version) == (before.state, before.version)

    @rule(
        number=incidents,
        who=st.sampled_from(["alice", "bob"]),
        to=st.sampled_from(["alice", "bob", None]),
    )
    def assign(self, number, who, to):
        before = Incident.objects.get(number=number)
        assignee = self.people[to].pk if to else None
        response = self.api(who).patch(
            f"/api/v1/incidents/{number}/", {"assignee": assignee}, format="json"
        )
        after = Incident.objects.get(number=number)
        if response.status_code == 200:
            # (a closed or canceled incident still takes a new assignee: the SPEC freezes
            # only its comments and files; audited all the same)
            if before.assignee_id != after.assignee_id:
                self.assignees[number] += 1
            if after.state != before.state:
                self.moves[number] += 1
        else:
            assert response.status_code in (400, 403, 404, 409), response.content
            assert after.version == before.version

    @rule(number=incidents, who=st.sampled_from(["alice", "bob", "rita", "eve"]))
    def comment(self, number, who):
        before = Incident.objects.get(number=number)
        response = self.api(who).post(
            f"/api/v1/incidents/{number}/comments/", {"body": "Any news?"}, format="json"
        )
        if who == "eve":
            assert response.status_code == 404  # not hers: not even its existence
        else:
            assert response.status_code in (201, 409), response.content
        after = Incident.objects.get(number=number)
        if after.state != before.state:  # e.g. a requester's reply takes it off hold
            self.moves[number] += 1

    # --- Invariants

    @invariant()
    def states_are_legal_and_every_change_is_audited(self):
        for incident in Incident.objects.all():
            assert incident.state in State.values
            number = incident.number
            moves = incident.events.filter(field="state").count()
            assert moves == self.moves[number], (number, moves, self.moves[number])
            changes = incident.events.filter(field="assignee").count()
            assert changes == self.assignees[number], (number, changes, self.assignees[number])
            if incident.state in (State.RESOLVED, State.CLOSED):
                assert incident.resolved_at is not None

    @invariant()
    def timers_follow_the_state(self):
        for timer in Timer.objects.select_related("incident"):
            incident = timer.incident
            if timer.metric == "resolution":
                if incident.state in DONE:
                    expected = Timer.Clock.STOPPED
                elif incident.state == State.ON_HOLD and incident.hold_reason in PAUSE_ON:
                    expected = Timer.Clock.PAUSED
                else:
                    expected = Timer.Clock.RUNNING
                assert timer.clock == expected, (incident.number, incident.state, timer.clock)
            else:
                key = incident.number
                if key in self.stopped_response:
                    assert timer.clock == Timer.Clock.STOPPED, (key, incident.state)
                if timer.clock == Timer.Clock.STOPPED:
                    self.stopped_response.add(key)
                if incident.state in DONE:
                    assert timer.clock == Timer.Clock.STOPPED, (key, incident.state)


IncidentDesk.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.django_db
def test_random_work_on_incidents_keeps_the_invariants():
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(IncidentDesk, settings=IncidentDesk.TestCase.settings)
