"""Random sequences of what people do to problems and known errors, through the problem verbs,
keep the invariants.

Hypothesis drives a ``RuleBasedStateMachine`` over ``problems.services``: problem managers
(and people who may not: an agent, a manager, an end user) open problems, edit their root
cause, workaround and known-error flags, publish and withdraw workarounds, move problems to any
state (legal or not, with or without a root cause or workaround, resolving their incidents or
not), and agents and problem managers link and unlink incidents. What each attempt must do is
worked out here from the SPEC's table (``TABLE`` below) and the publication rule, not from the
service's helpers. After every step:

- every problem is in a state of the table and got there only by legal moves: an illegal move
  is refused with the allowed states, a refused attempt writes nothing (problem and incidents);
- the trail is complete: one ``created`` row, one ``state`` row per move, one ``incident`` row
  per link or unlink, one ``resolved_incidents`` row per resolution that resolved incidents,
  one row per edited field, nothing for refused attempts;
- the publication rule holds: a problem whose workaround is published is a known error with a
  workaround (the portal's query and the model agree on which are published);
- a resolved or closed problem has its root cause and its resolution date; each incident is
  linked where the test linked it, and those a resolution took along are resolved.
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

from incidents.models import Incident
from itsm.testing import make_incident, make_persona, make_user
from itsm.workflow import Conflict, TransitionNotAllowed
from problems import services
from problems.models import Problem, ProblemEvent
from problems.workflow import State

# SPEC §5
TABLE = {
    "new": {"assess", "canceled"},
    "assess": {"root_cause_analysis", "canceled"},
    "root_cause_analysis": {"fix_in_progress", "resolved", "canceled"},
    "fix_in_progress": {"root_cause_analysis", "resolved", "canceled"},
    "resolved": {"closed", "root_cause_analysis"},
    "closed": set(),
    "canceled": set(),
}
TERMINAL = {State.CLOSED, State.CANCELED}
MANAGERS = {"paula", "pia"}  # problem managers write problems
LINKERS = MANAGERS | {"alice"}  # agents link incidents too
EVERYONE = ["paula", "pia", "alice", "max", "rita"]
PEOPLE = [*EVERYONE, "paula", "pia"]  # managers more often than not
INCIDENTS = 4
# What a move may carry, per target (anything else is a 400 naming it)
ROOT_CAUSE_TO = {State.ROOT_CAUSE_ANALYSIS, State.FIX_IN_PROGRESS, State.RESOLVED}
WORKAROUND_TO = {State.FIX_IN_PROGRESS, State.RESOLVED}
ROOT_CAUSE = "An expired certificate on the VPN gateway."
WORKAROUND = "Reconnect the VPN client; it holds for an hour."
CAUSES = [ROOT_CAUSE, None, "", "   ", ROOT_CAUSE]  # written, absent, blank, blanks
WORKAROUNDS = [None, "", "   ", WORKAROUND]
COUNTED = (
    "created",
    "state",
    "incident",
    "resolved_incidents",
    "title",
    "root_cause",
    "workaround",
    "known_error",
    "publish_workaround",
)
EDITABLE = ("root_cause", "workaround", "title", "known_error", "publish_workaround")


def allowed(state: str) -> list[str]:
    return [s for s in State.values if s in TABLE[state]]


def blank(text) -> bool:
    return not (text or "").strip()


def same_text(old, new) -> bool:
    return old == new or (
        isinstance(old, str) and isinstance(new, str) and old.strip() == new.strip()
    )


def publication_errors(values: dict) -> set[str]:
    """The fields the publication rule names (SPEC §5: a published known error is flagged
    and has a workaround)."""
    if not values["publish_workaround"]:
        return set()
    errors = set()
    if not values["known_error"]:
        errors.add("known_error")
    if blank(values["workaround"]):
        errors.add("workaround")
    return errors


def snapshot(number: str):
    problem = Problem.objects.get(number=number)
    incidents = Incident.objects.order_by("pk").values_list("pk", "version", "problem", "state")
    return problem.state, problem.version, problem.events.count(), list(incidents)


def fresh(number: str) -> Problem:
    """The verbs get their own copy: the test keeps the problem as it was before."""
    return Problem.objects.get(number=number)


class ProblemDesk(RuleBasedStateMachine):
    problems = Bundle("problems")

    world: dict = {}  # the people and incidents every run shares (``build``)

    @classmethod
    def build(cls):
        """Once per test: what every run works with; each run's own writes are undone."""
        people = {name: make_persona(name) for name in ("paula", "alice", "max", "rita")}
        people["pia"] = make_user("pia", roles=("problem_manager",))
        incidents = [make_incident(title=f"VPN disconnects ({i})") for i in range(INCIDENTS)]
        cls.world = {"people": people, "incidents": [incident.pk for incident in incidents]}

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()  # each run starts from the same empty desk (a savepoint)
        self.people, self.incidents = self.world["people"], self.world["incidents"]
        self.titles = count(1)
        self.moves: dict[str, list[tuple[str, str]]] = {}  # the moves that went through
        self.events: dict[str, dict[str, int]] = {}  # expected trail rows per field
        self.linked: dict[int, str | None] = dict.fromkeys(range(INCIDENTS))  # -> problem
        self.resolved: set[int] = set()  # incidents resolved with their problem

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def refused(self, number, before, exc):
        assert snapshot(number) == before, exc  # nothing written, here or on the incidents

    # --- Rules

    @initialize(target=problems, published=st.booleans())
    def first_problem(self, published):
        return self.open("paula", "published" if published else "plain")

    @precondition(lambda self: len(self.moves) < 3)  # a few problems, each worked on longer
    @rule(
        target=problems,
        who=st.sampled_from(PEOPLE),
        kind=st.sampled_from(["plain", "known", "published", "no workaround", "not known"]),
    )
    def open_problem(self, who, kind):
        return self.open(who, kind)

    def open(self, who, kind):
        values = {
            "known_error": kind in ("known", "published", "no workaround"),
            "publish_workaround": kind in ("published", "no workaround", "not known"),
            "workaround": "" if kind in ("plain", "no workaround") else WORKAROUND,
        }
        wrong = publication_errors(values)
        try:
            problem = services.open_problem(
                actor=self.people[who],
                title="VPN drops every ten minutes",
                description="Many users, since the gateway upgrade.",
                **{name: value for name, value in values.items() if value},
            )
        except (PermissionDenied, ValidationError) as exc:
            if who not in MANAGERS:
                assert isinstance(exc, PermissionDenied), exc
            else:
                assert isinstance(exc, ValidationError), exc
                assert set(exc.message_dict) == wrong
            return multiple()
        assert who in MANAGERS and not wrong, (who, kind)
        assert problem.state == State.NEW
        assert problem.is_published == (kind == "published")
        self.moves[problem.number] = []
        self.events[problem.number] = dict.fromkeys(COUNTED, 0) | {"created": 1}
        return problem.number

    @rule(number=problems, data=st.data())
    def work(self, number, data):
        """One thing done to a problem: a move (three times in seven), an edit, a publication
        or withdrawal, a link or unlink (two). One rule, so that Hypothesis never leaves one of
        them out of a whole run."""
        action = data.draw(
            st.sampled_from(["move", "move", "move", "edit", "publish_or_withdraw", "link", "link"])
        )
        getattr(self, action)(number, data)

    def edit(self, number, data):
        who = data.draw(st.sampled_from(PEOPLE))
        field = data.draw(st.sampled_from(EDITABLE))
        if field == "title":
            value = f"VPN drops, take {next(self.titles)}"
        elif field in ("known_error", "publish_workaround"):
            value = data.draw(st.booleans())
        else:
            value = data.draw(
                st.sampled_from(["", ROOT_CAUSE if field == "root_cause" else WORKAROUND])
            )
        self.write(
            number,
            who,
            {field: value},
            lambda p: services.update_problem(p, {field: value}, actor=self.people[who]),
        )

    def publish_or_withdraw(self, number, data):
        who = data.draw(st.sampled_from(PEOPLE))
        publish = data.draw(st.booleans())
        values = (
            {"known_error": True, "publish_workaround": True}
            if publish
            else {"publish_workaround": False}
        )
        verb = services.publish if publish else services.withdraw
        self.write(number, who, values, lambda p: verb(p, actor=self.people[who]))

    def write(self, number, who, values, call):
        """An edit through ``call``: allowed to problem managers, within the publication rule."""
        problem = Problem.objects.get(number=number)
        merged = {name: getattr(problem, name) for name in EDITABLE} | values
        wrong = publication_errors(merged)
        if problem.state in (State.RESOLVED, State.CLOSED) and blank(merged["root_cause"]):
            wrong.add("root_cause")  # a resolved problem keeps the cause it was resolved with
        # A closed or canceled problem takes no edits but the withdrawal of its workaround.
        finished = problem.state in TERMINAL and values != {"publish_workaround": False}
        before = snapshot(number)
        try:
            call(fresh(number))
        except (PermissionDenied, Conflict, ValidationError) as exc:
            self.refused(number, before, exc)
            if who not in MANAGERS:
                assert isinstance(exc, PermissionDenied), exc
            elif finished:
                assert isinstance(exc, Conflict), exc
                assert set(exc.allowed) == set(State.values) - TERMINAL, exc.allowed
            else:
                assert isinstance(exc, ValidationError), exc
                assert set(exc.message_dict) <= wrong and exc.message_dict, (exc, wrong)
            return
        assert who in MANAGERS and not wrong and not finished, (who, values, wrong)
        after = Problem.objects.get(number=number)
        for name, value in values.items():
            if same_text(getattr(problem, name), value):
                continue  # the surrounding blanks a form strips change nothing, and log nothing
            assert getattr(after, name) == value
            self.events[number][name] += 1

    def move(self, number, data):
        who = data.draw(st.sampled_from([*PEOPLE, "paula", "pia"]))
        root_cause = data.draw(st.sampled_from(CAUSES))
        workaround = data.draw(st.sampled_from(WORKAROUNDS))
        resolve_incidents = data.draw(st.booleans())
        problem = Problem.objects.get(number=number)
        source = problem.state
        # three attempts in four go forward in the table (else few problems would get far)
        onward = [s for s in allowed(source) if s != State.CANCELED]
        choices = onward if onward and data.draw(st.integers(0, 3)) < 3 else State.values
        to = data.draw(st.sampled_from(choices))
        fields = {}
        if root_cause is not None and to in ROOT_CAUSE_TO:
            fields["root_cause"] = root_cause
        if workaround is not None and to in WORKAROUND_TO:
            fields["workaround"] = workaround
        if resolve_incidents and to == State.RESOLVED:
            fields.update(
                resolve_incidents=True,
                resolution_code="fixed",
                resolution_notes="Renewed the gateway certificate; reconnect once.",
            )
        merged = {name: getattr(problem, name) for name in EDITABLE} | {
            name: value for name, value in fields.items() if name in EDITABLE
        }
        wrong = publication_errors(merged)
        if to == State.RESOLVED and blank(merged["root_cause"]):
            wrong.add("root_cause")
        legal = to in TABLE[source]
        open_linked = [
            index
            for index, linked in self.linked.items()
            if linked == number and index not in self.resolved
        ]
        before = snapshot(number)
        try:
            services.change_state(fresh(number), to, actor=self.people[who], **fields)
        except (PermissionDenied, Conflict, ValidationError) as exc:
            self.refused(number, before, exc)
            if not legal:
                assert isinstance(exc, TransitionNotAllowed), exc
                assert exc.allowed == allowed(source)
            elif who not in MANAGERS:
                assert isinstance(exc, PermissionDenied), exc
            else:
                assert isinstance(exc, ValidationError), exc
                assert set(exc.message_dict) <= wrong and exc.message_dict, (exc, wrong)
            return
        assert legal and who in MANAGERS and not wrong, (who, source, to, fields, wrong)
        after = Problem.objects.get(number=number)
        assert after.state == to
        self.moves[number].append((source, to))
        self.events[number]["state"] += 1
        for name in ("root_cause", "workaround"):
            if name in fields and (getattr(problem, name) or "").strip() != fields[name].strip():
                self.events[number][name] += 1
        if fields.get("resolve_incidents") and open_linked:
            self.resolved.update(open_linked)
            self.events[number]["resolved_incidents"] += 1

    def link(self, number, data):
        who = data.draw(st.sampled_from([*EVERYONE, "alice"]))
        index = data.draw(st.integers(0, INCIDENTS - 1))
        unlink = data.draw(st.booleans())
        problem = Problem.objects.get(number=number)
        incident = Incident.objects.get(pk=self.incidents[index])
        current = self.linked[index]
        before = snapshot(number)
        verb = services.unlink if unlink else services.link
        try:
            verb(fresh(number), incident, actor=self.people[who])
        except (PermissionDenied, Conflict) as exc:
            self.refused(number, before, exc)
            if who not in LINKERS:
                assert isinstance(exc, PermissionDenied), exc
            elif unlink:
                assert isinstance(exc, Conflict) and current != number, exc
            else:
                assert isinstance(exc, Conflict), exc
                assert problem.state in TERMINAL or current not in (None, number), exc
            return
        assert who in LINKERS, who
        if unlink:
            assert current == number
            self.linked[index] = None
            self.events[number]["incident"] += 1
        else:
            assert problem.state not in TERMINAL and current in (None, number)
            if current is None:
                self.linked[index] = number
                self.events[number]["incident"] += 1

    # --- Invariants

    @invariant()
    def states_are_legal_and_the_trail_is_complete(self):
        trails: dict[str, list] = {number: [] for number in self.moves}
        rows = ProblemEvent.objects.order_by("pk").values_list(
            "ticket__number", "field", "old", "new"
        )
        for number, field, old, new in rows:
            trails[number].append((field, old, new))
        for problem in Problem.objects.all():
            number = problem.number
            assert problem.state in State.values
            trail = trails[number]
            moves = [(old, new) for field, old, new in trail if field == "state"]
            assert moves == self.moves[number], (number, moves, self.moves[number])
            assert problem.state == (moves[-1][1] if moves else State.NEW)
            for field, wanted in self.events[number].items():
                found = sum(1 for name, _old, _new in trail if name == field)
                assert found == wanted, (number, field, found, wanted)
            if problem.state in (State.RESOLVED, State.CLOSED):
                assert not blank(problem.root_cause) and problem.resolved_at is not None
            if problem.state == State.CLOSED:
                assert problem.closed_at is not None
            if problem.publish_workaround:  # the publication rule
                assert problem.known_error and not blank(problem.workaround), number

    @invariant()
    def the_portal_publishes_what_the_desk_calls_published(self):
        published = set(Problem.objects.published().values_list("number", flat=True))
        assert published == {p.number for p in Problem.objects.all() if p.is_published}

    @invariant()
    def incidents_are_linked_where_they_were_put(self):
        rows = Incident.objects.filter(pk__in=self.incidents).values_list(
            "pk", "problem__number", "state"
        )
        found = {pk: (number, state) for pk, number, state in rows}
        for index, pk in enumerate(self.incidents):
            number, state = found[pk]
            assert number == self.linked[index], (index, number, self.linked[index])
            assert (state == "resolved") == (index in self.resolved), (index, state)


SETTINGS = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    database=None,  # every run draws afresh: no replay of another run's failure
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: the log is enough
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.django_db
def test_random_work_on_problems_keeps_the_invariants():
    from hypothesis.stateful import run_state_machine_as_test

    ProblemDesk.build()
    run_state_machine_as_test(ProblemDesk, settings=SETTINGS)
