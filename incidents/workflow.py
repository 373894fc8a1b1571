"""Incident states, the transition table of SPEC §3, and the fields each move needs."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.workflow import Workflow


class State(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELED = "canceled", _("Canceled")


class HoldReason(models.TextChoices):
    AWAITING_CALLER = "awaiting_caller", _("Awaiting caller")
    AWAITING_VENDOR = "awaiting_vendor", _("Awaiting vendor")
    AWAITING_CHANGE = "awaiting_change", _("Awaiting change")
    AWAITING_PROBLEM = "awaiting_problem", _("Awaiting problem")


class ResolutionCode(models.TextChoices):
    FIXED = "fixed", _("Fixed")
    WORKAROUND = "workaround", _("Workaround provided")
    DUPLICATE = "duplicate", _("Duplicate")
    NOT_REPRODUCIBLE = "not_reproducible", _("Not reproducible")
    USER_ERROR = "user_error", _("User error")
    OTHER = "other", _("Other")


class Level(models.IntegerChoices):
    HIGH = 1, _("High")
    MEDIUM = 2, _("Medium")
    LOW = 3, _("Low")


class Priority(models.IntegerChoices):
    CRITICAL = 1, _("1 - Critical")
    HIGH = 2, _("2 - High")
    MODERATE = 3, _("3 - Moderate")
    LOW = 4, _("4 - Low")
    PLANNING = 5, _("5 - Planning")


def compute_priority(impact: int, urgency: int) -> int:
    """The ITIL matrix: (1,1)=1; (1,2),(2,1)=2; (1,3),(2,2),(3,1)=3; (2,3),(3,2)=4; (3,3)=5."""
    return impact + urgency - 1


def raise_priority(impact: int, urgency: int, target: int) -> tuple[int, int]:
    """The impact and urgency, raised as little as needed (impact first: the business side),
    whose priority is ``target`` or higher; the matrix above stays the only source of it."""
    impact = max(1, min(impact, target + 1 - urgency))
    urgency = max(1, min(urgency, target + 1 - impact))
    return impact, urgency


WORKFLOW = Workflow(
    states=State,
    initial=State.NEW,
    transitions={
        State.NEW: frozenset({State.IN_PROGRESS, State.ON_HOLD, State.RESOLVED, State.CANCELED}),
        State.IN_PROGRESS: frozenset({State.ON_HOLD, State.RESOLVED, State.CANCELED}),
        State.ON_HOLD: frozenset({State.IN_PROGRESS, State.RESOLVED, State.CANCELED}),
        State.RESOLVED: frozenset({State.CLOSED, State.IN_PROGRESS}),
        State.CLOSED: frozenset(),
        State.CANCELED: frozenset(),
    },
    required={
        State.ON_HOLD: ("hold_reason",),
        State.RESOLVED: ("resolution_code", "resolution_notes"),
    },
    milestones={State.RESOLVED: "resolved_at", State.CLOSED: "closed_at"},
    colours={
        State.NEW: "primary",
        State.IN_PROGRESS: "info",
        State.ON_HOLD: "warning",
        State.RESOLVED: "success",
        State.CLOSED: "secondary",
        State.CANCELED: "dark",
    },
    open_states=frozenset({State.NEW, State.IN_PROGRESS, State.ON_HOLD}),
)
