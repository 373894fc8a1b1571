"""Random sequences of what people do to changes, through the change verbs, keep the invariants.

Hypothesis drives a ``RuleBasedStateMachine`` over ``changes.services``: agents and change
managers (and people who may not: a CAB member, a manager, an end user) raise standard, normal
and emergency changes before CABs of each approval policy, edit them, move them to any state
(legal or not, with or without the review's outcome), and CAB members, change managers and
others vote on them. What each attempt must do is worked out here, from the SPEC's tables
(``TABLES`` of ``test_workflow``) and the test's own count of votes, not from the service's
helpers. After every step:

- every change is in a state of the table and got there only by legal moves: an illegal move
  is refused with the allowed states of its type, a refused attempt writes nothing (version,
  trail, approvals);
- the trail is complete: one ``created`` row, one ``state`` row per move that went through
  (votes' moves included), one ``vote`` row per vote, one ``approvals`` row per request for
  approvals, one row per edited field, and nothing else for refused attempts;
- the approvals follow the policy: a change in ``authorize`` has one pending approval per CAB
  member (one ECAB approval for an emergency), no rejection and its policy not met yet; no
  approval waits outside ``authorize`` or outside the current round; whoever decided an
  approval may (its approver, or a change manager for the ECAB's);
- no change is scheduled, implemented, reviewed or closed without the approvals its policy
  needs (a standard change has none at all); a closed change has its outcome.
"""

from itertools import count

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from changes import services
from changes.models import Approval, Change, ChangeEvent
from changes.workflow import Decision, Outcome, Policy, State, Type
from itsm.testing import make_persona, make_user
from itsm.workflow import Conflict, TransitionNotAllowed

from .builders import PLANS, cab_members, make_cab, make_ci, window
from .test_workflow import TABLES

WORKERS = {"chris", "cora", "alice"}  # agents and change managers work changes
CHANGE_MANAGERS = {"chris", "cora"}
KINDS = [Type.NORMAL, Type.EMERGENCY, Type.STANDARD]
VOTERS = ["carol", "dina", "omar", "chris", "cora", "alice"]
EVERYONE = ["chris", "cora", "alice", "carol", "max", "rita"]
PEOPLE = [*EVERYONE, "chris", "alice"]  # workers more often than not
# The CABs: name -> (policy, members)
CABS = {
    "CAB": (Policy.ALL, ("carol", "dina", "omar")),
    "CAB majority": (Policy.MAJORITY, ("carol", "dina", "omar")),
    "CAB any": (Policy.ANY, ("carol", "dina")),
}
# Which fields a worker may still edit in each state (SPEC §6: the plan until the CAB)
PLAN_STATES = {State.NEW, State.ASSESS}
TITLE_STATES = {State.NEW, State.ASSESS, State.AUTHORIZE, State.SCHEDULED}
APPROVED_STATES = {State.SCHEDULED, State.IMPLEMENT, State.REVIEW, State.CLOSED}
COUNTED = ("created", "state", "vote", "approvals", "title", "type", "cab", "approval_policy")


def allowed(kind: str, state: str) -> list[str]:
    return [s for s in State.values if s in TABLES[kind][state]]


def needed(policy: str, total: int) -> int:
    """Approvals a policy needs out of ``total`` (SPEC §6)."""
    return {Policy.ALL: total, Policy.MAJORITY: total // 2 + 1, Policy.ANY: 1}[policy]


def met(change: Change, decisions: list[str]) -> bool:
    """The current round's decisions meet the change's policy (the ECAB's one for an
    emergency)."""
    approved = decisions.count(Decision.APPROVED)
    if change.type == Type.EMERGENCY:
        return len(decisions) == 1 and approved == 1
    return bool(decisions) and approved >= needed(change.approval_policy, len(decisions))


def current(change: Change):
    return change.approvals.filter(round=change.approval_round).order_by("pk")


def fresh(number: str) -> Change:
    """The verbs get their own copy: the test keeps the change as it was before."""
    return Change.objects.get(number=number)


def snapshot(number: str):
    change = Change.objects.get(number=number)
    return (
        change.state,
        change.version,
        change.events.count(),
        sorted(change.approvals.values_list("pk", "decision", "decided_by")),
    )


class ChangeDesk(RuleBasedStateMachine):
    changes = Bundle("changes")

    world: dict = {}  # the people, CABs, CI and template every run shares (``build``)

    @classmethod
    def build(cls):
        """Once per test: what every run works with; each run's own writes are undone."""
        carol, dina, omar = cab_members()
        people = {
            "carol": carol,
            "dina": dina,
            "omar": omar,
            **{name: make_persona(name) for name in ("chris", "alice", "max", "rita")},
            "cora": make_user("cora", roles=("change_manager",)),
        }
        ci = make_ci("srv-mail-01")
        cls.world = {
            "people": people,
            "cabs": {
                name: make_cab(name, [people[m] for m in members], policy=policy)
                for name, (policy, members) in CABS.items()
            },
            "ci": ci,
            "template": services.save_template(
                None, {"name": "Restart the mail relay", "cis": [ci], **PLANS}, actor=None
            ),
        }

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()  # each run starts from the same empty desk (a savepoint)
        self.people, self.cabs = self.world["people"], self.world["cabs"]
        self.ci, self.template = self.world["ci"], self.world["template"]
        self.titles = count(1)
        self.moves: dict[str, list[tuple[str, str]]] = {}  # the moves that went through
        self.events: dict[str, dict[str, int]] = {}  # expected trail rows per field

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def moved(self, number, source, target):
        self.moves[number].append((source, target))
        self.events[number]["state"] += 1
        if target == State.AUTHORIZE:
            self.events[number]["approvals"] += 1  # the request for approvals

    def refused(self, number, before, exc):
        assert snapshot(number) == before, exc  # nothing written

    # --- Rules

    @initialize(
        target=changes,
        who=st.sampled_from(sorted(WORKERS)),
        kind=st.sampled_from(KINDS),
        cab=st.sampled_from(["CAB majority", "CAB", "CAB any"]),
        policy=st.sampled_from([None, *Policy.values]),
    )
    def first_change(self, who, kind, cab, policy):
        return self.raise_change(who, kind, cab, policy)

    @precondition(lambda self: len(self.moves) < 3)  # a few changes, each worked on longer
    @rule(
        target=changes,
        who=st.sampled_from(PEOPLE),
        kind=st.sampled_from(KINDS),
        cab=st.sampled_from([*CABS, None]),
        policy=st.sampled_from([None, *Policy.values]),
    )
    def raise_change(self, who, kind, cab, policy):
        start, end = window()
        fields = {"title": "Patch the mail relay", "planned_start": start, "planned_end": end}
        if kind == Type.STANDARD:
            fields["template"] = self.template
        else:
            fields.update(type=kind, cis=[self.ci], **PLANS)
            if cab is not None:
                fields["cab"] = self.cabs[cab]
            if policy is not None:
                fields["approval_policy"] = policy
        try:
            change = services.raise_change(actor=self.people[who], **fields)
        except PermissionDenied:
            assert who not in WORKERS
            return multiple()  # nothing to work on
        assert who in WORKERS, who
        assert (change.state, change.type, change.approval_round) == (State.NEW, kind, 0)
        if kind == Type.STANDARD:
            assert change.approval_policy == Policy.ALL  # no CAB: the default
        else:
            assert change.approval_policy == (policy or (CABS[cab][0] if cab else Policy.ALL))
        self.moves[change.number] = []
        self.events[change.number] = dict.fromkeys(COUNTED, 0) | {"created": 1}
        return change.number

    @rule(number=changes, data=st.data())
    def work(self, number, data):
        """One thing done to a change: a move or a vote two times in five each, an edit one.
        (One rule, so that Hypothesis never leaves one of them out of a whole run.)"""
        action = data.draw(st.sampled_from(["move", "vote", "move", "vote", "update"]))
        getattr(self, action)(number, data)

    def update(self, number, data):
        who = data.draw(st.sampled_from(PEOPLE))
        field = data.draw(st.sampled_from(["title", "type", "cab", "approval_policy"]))
        change = Change.objects.get(number=number)
        before = snapshot(number)
        valid = True
        if field == "title":
            value = f"Patch the mail relay, take {next(self.titles)}"
            editable = change.state in TITLE_STATES
        elif field == "type":
            value = data.draw(st.sampled_from([Type.NORMAL, Type.EMERGENCY]))
            editable = change.state == State.NEW
            valid = change.type != Type.STANDARD  # a standard change keeps its template
        elif field == "cab":
            value = self.cabs[data.draw(st.sampled_from(list(CABS)))]
            editable = change.state in PLAN_STATES
        else:
            value = data.draw(st.sampled_from(Policy.values))
            editable = change.state in PLAN_STATES
        old = getattr(change, f"{field}_id" if field == "cab" else field)
        old_policy = change.approval_policy
        try:
            services.update_change(fresh(number), {field: value}, actor=self.people[who])
        except (PermissionDenied, Conflict, ValidationError) as exc:
            self.refused(number, before, exc)
            if who not in WORKERS:
                assert isinstance(exc, PermissionDenied), exc
            elif not editable:
                assert isinstance(exc, Conflict), exc
            else:
                assert not valid and isinstance(exc, ValidationError), exc
            return
        assert who in WORKERS and editable and valid, (who, change.state, field)
        after = Change.objects.get(number=number)
        new = getattr(after, f"{field}_id" if field == "cab" else field)
        assert new == (value.pk if field == "cab" else value)
        if new != old:
            self.events[number][field] += 1
        if field == "cab" and change.state == State.NEW:
            # a new change takes its board's policy with its board
            assert after.approval_policy == value.board.policy
            if after.approval_policy != old_policy:
                self.events[number]["approval_policy"] += 1
        elif field != "approval_policy":
            assert after.approval_policy == old_policy

    def move(self, number, data):
        who = data.draw(st.sampled_from(PEOPLE))
        outcome = data.draw(st.sampled_from([Outcome.SUCCESSFUL, None, *Outcome.values, None]))
        change = Change.objects.get(number=number)
        source, kind = change.state, change.type
        # three attempts in four go forward in the table (else few changes would get far)
        onward = [s for s in allowed(kind, source) if s not in (State.NEW, State.CANCELED)]
        choices = onward if onward and data.draw(st.integers(0, 3)) < 3 else State.values
        to = data.draw(st.sampled_from(choices))
        fields = {"outcome": outcome} if outcome and to in (State.REVIEW, State.CLOSED) else {}
        before = snapshot(number)
        decisions = list(current(change).values_list("decision", flat=True))
        legal = to in TABLES[kind][source]
        try:
            services.change_state(fresh(number), to, actor=self.people[who], **fields)
        except (PermissionDenied, Conflict, ValidationError) as exc:
            self.refused(number, before, exc)
            if not legal:
                assert isinstance(exc, TransitionNotAllowed), exc
                assert exc.allowed == allowed(kind, source)
            elif who not in WORKERS:
                assert isinstance(exc, PermissionDenied), exc
            elif source == State.AUTHORIZE and to == State.SCHEDULED:
                # by hand: a change manager only, and only once the policy is met
                if who in CHANGE_MANAGERS:
                    assert isinstance(exc, Conflict), exc
                    assert State.SCHEDULED not in exc.allowed
                    assert not met(change, decisions)
                else:
                    assert isinstance(exc, PermissionDenied), exc
            elif to == State.AUTHORIZE and kind == Type.NORMAL and change.cab_id is None:
                assert isinstance(exc, ValidationError) and "cab" in exc.message_dict, exc
            elif to == State.CLOSED and not (outcome or change.outcome):
                assert isinstance(exc, ValidationError) and "outcome" in exc.message_dict, exc
            else:
                raise AssertionError(f"{who}: {source} -> {to} refused: {exc!r}") from exc
            return
        assert legal and who in WORKERS, (who, kind, source, to)
        after = Change.objects.get(number=number)
        assert after.state == to
        self.moved(number, source, to)
        if to == State.AUTHORIZE:
            # a new round: one pending approval per voter (the ECAB's one for an emergency)
            assert after.approval_round == change.approval_round + 1
            voters = len(CABS[after.cab.name][1]) if kind == Type.NORMAL else 1
            decisions = list(current(after).values_list("decision", flat=True))
            assert decisions == [Decision.PENDING] * voters
        if to == State.SCHEDULED and source == State.AUTHORIZE:
            assert who in CHANGE_MANAGERS and met(change, decisions)  # by hand
        if outcome and fields:
            assert after.outcome == outcome
        if to == State.CLOSED:
            assert after.outcome

    def vote(self, number, data):
        decision = data.draw(st.sampled_from(["approve", "approve", "reject"]))
        comment = data.draw(st.sampled_from(["Looks fine.", "", "Not during the month-end close."]))
        change = Change.objects.get(number=number)
        # mostly by someone asked for it (else few rounds would end)
        waiting = list(current(change).filter(decision=Decision.PENDING))
        asked = [
            name
            for name in VOTERS
            if any(
                a.approver_id == self.people[name].pk
                or (a.approver_id is None and name in CHANGE_MANAGERS)
                for a in waiting
            )
        ]
        deciders = set(current(change).values_list("decided_by", flat=True))
        voted = [name for name in VOTERS if self.people[name].pk in deciders]  # (refused again)
        pool = data.draw(st.integers(0, 3))  # mostly those asked; some who voted; anyone
        who = data.draw(
            st.sampled_from(
                asked if asked and pool < 2 else voted if voted and pool == 2 else VOTERS
            )
        )
        user = self.people[who]

        def mine(approval):
            if approval.approver_id is not None:
                return approval.approver_id == user.pk
            return who in CHANGE_MANAGERS

        rights = [a for a in change.approvals.all() if mine(a)]
        open_ = [
            a for a in rights if a.round == change.approval_round and a.decision == Decision.PENDING
        ]
        before = snapshot(number)
        try:
            services.vote(fresh(number), actor=user, decision=decision, comment=comment)
        except (PermissionDenied, Conflict, ValidationError) as exc:
            self.refused(number, before, exc)
            if decision == "reject" and not comment:
                assert isinstance(exc, ValidationError) and "comment" in exc.message_dict, exc
            elif not rights:
                assert isinstance(exc, PermissionDenied), exc
            else:
                assert isinstance(exc, Conflict), exc
                assert change.state != State.AUTHORIZE or not open_
            return
        assert change.state == State.AUTHORIZE and open_, (who, change.state)
        assert decision == "approve" or comment
        self.events[number]["vote"] += 1
        after = Change.objects.get(number=number)
        decided = Approval.objects.get(pk=open_[0].pk)
        assert decided.decided_by_id == user.pk
        assert decided.decision == (
            Decision.APPROVED if decision == "approve" else Decision.REJECTED
        )
        decisions = [
            decided.decision if a.pk == decided.pk else a.decision
            for a in current(change).order_by("pk")
        ]
        if decision == "reject":
            assert after.state == State.NEW  # any rejection sends it back
            self.moved(number, State.AUTHORIZE, State.NEW)
        elif met(change, decisions):
            assert after.state == State.SCHEDULED
            self.moved(number, State.AUTHORIZE, State.SCHEDULED)
        else:
            assert after.state == State.AUTHORIZE
            assert after.version == change.version  # the vote writes the approval only

    # --- Invariants

    @invariant()
    def states_are_legal_and_the_trail_is_complete(self):
        trails: dict[str, list] = {number: [] for number in self.moves}
        rows = ChangeEvent.objects.order_by("pk").values_list(
            "ticket__number", "field", "old", "new"
        )
        for number, field, old, new in rows:
            trails[number].append((field, old, new))
        for number, state in Change.objects.values_list("number", "state"):
            assert state in State.values
            trail = trails[number]
            moves = [(old, new) for field, old, new in trail if field == "state"]
            assert moves == self.moves[number], (number, moves, self.moves[number])
            assert state == (moves[-1][1] if moves else State.NEW)
            for field, wanted in self.events[number].items():
                found = sum(1 for name, _old, _new in trail if name == field)
                assert found == wanted, (number, field, found, wanted)

    @invariant()
    def approvals_follow_the_policy(self):
        changes = {change.pk: change for change in Change.objects.all()}
        rounds: dict[int, list[str]] = {pk: [] for pk in changes}  # the current round's
        managers = {self.people[name].pk for name in CHANGE_MANAGERS}
        for approval in Approval.objects.order_by("pk"):
            change = changes[approval.change_id]
            assert change.type != Type.STANDARD  # its template is its approval
            if approval.round == change.approval_round:
                rounds[change.pk].append(approval.decision)
            if approval.decision == Decision.PENDING:
                # votes wait only on a change in authorization, in its current round
                assert change.state == State.AUTHORIZE, change.number
                assert approval.round == change.approval_round, change.number
            if approval.decided_by_id is None:
                continue
            if approval.approver_id is None:
                assert approval.decided_by_id in managers  # the ECAB
            else:
                assert approval.decided_by_id == approval.approver_id
        for change in changes.values():
            decisions, voted = rounds[change.pk], change.type != Type.STANDARD
            if voted and change.state == State.AUTHORIZE:
                assert Decision.REJECTED not in decisions
                assert Decision.PENDING in decisions
                assert not met(change, decisions), (change.number, decisions)
            elif voted and change.state in APPROVED_STATES:
                assert met(change, decisions), (change.number, change.state, decisions)
            if change.state in APPROVED_STATES - {State.SCHEDULED}:
                assert change.actual_start is not None
            if change.state == State.CLOSED:
                assert change.outcome and change.closed_at is not None


SETTINGS = settings(
    max_examples=20,
    stateful_step_count=30,
    deadline=None,
    database=None,  # every run draws afresh: no replay of another run's failure
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: the log is enough
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.django_db
def test_random_work_on_changes_keeps_the_invariants():
    from hypothesis.stateful import run_state_machine_as_test

    ChangeDesk.build()
    run_state_machine_as_test(ChangeDesk, settings=SETTINGS)
