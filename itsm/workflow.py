"""Declarative state machines: a table of allowed moves and the fields each move requires."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Conflict(Exception):
    """The request conflicts with the current state of the object (HTTP 409)."""

    default_detail = _("The object changed state; reload it and try again.")

    def __init__(self, detail=None, allowed: Iterable[str] | None = None):
        self.detail = detail or self.default_detail
        self.allowed = list(allowed) if allowed is not None else None
        super().__init__(str(self.detail))


class TransitionNotAllowed(Conflict):
    default_detail = _("This state change is not allowed.")


class StaleVersion(Conflict):
    default_detail = _(
        "Someone else changed this ticket since you loaded it; "
        "reload it and apply your change again."
    )


def parse_version(value) -> int | None:
    """The ``version`` a client read (optimistic locking), from a form or a JSON body:
    absent or empty means "don't check"; anything else must be a whole number (400)."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValidationError({"version": [_("A whole number.")]})


@dataclass(frozen=True)
class Workflow:
    """The states of one ticket type, its transition table and the fields each target needs.

    ``transitions`` maps each state to the states it may move to (terminal states map to an
    empty set). ``required`` maps a target state to the fields that must be non-empty after the
    move. ``milestones`` maps a target state to the timestamp field set when it is entered.
    """

    states: type[models.TextChoices]
    initial: str
    transitions: Mapping[str, frozenset[str]]
    required: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    milestones: Mapping[str, str] = field(default_factory=dict)
    colours: Mapping[str, str] = field(default_factory=dict)
    open_states: frozenset[str] = frozenset()

    def __post_init__(self):
        values = set(self.states.values)
        if set(self.transitions) != values:
            missing = values - set(self.transitions)
            extra = set(self.transitions) - values
            raise ValueError(f"transition table: missing {missing or '-'}, unknown {extra or '-'}")
        for source, targets in self.transitions.items():
            if source in targets:
                raise ValueError(f"{source} → {source}: a transition to the current state")
            if not targets <= values:
                raise ValueError(f"{source} → unknown states {targets - values}")
        if self.initial not in values:
            raise ValueError(f"unknown initial state {self.initial}")

    def allowed(self, source: str) -> list[str]:
        """Targets reachable from ``source``, in the order the states are declared."""
        targets = self.transitions.get(source, frozenset())
        return [value for value in self.states.values if value in targets]

    def can(self, source: str, target: str) -> bool:
        return target in self.transitions.get(source, frozenset())

    def check(self, source: str, target: str) -> None:
        if not self.can(source, target):
            raise TransitionNotAllowed(
                _("Cannot move from %(source)s to %(target)s.")
                % {"source": self.readable(source), "target": self.readable(target)},
                allowed=self.allowed(source),
            )

    def is_terminal(self, state: str) -> bool:
        return not self.transitions.get(state)

    def label(self, state: str) -> str:
        return str(self.states(state).label)

    def readable(self, state: str) -> str:
        """The state's label in the reader's language; an unknown value as it came."""
        return self.label(state) if state in self.states.values else str(state)

    def colour(self, state: str) -> str:
        return self.colours.get(state, "secondary")
