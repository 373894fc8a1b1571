"""Problem states, the transition table of SPEC §5, and the fields each move needs."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.workflow import Workflow


class State(models.TextChoices):
    NEW = "new", _("New")
    ASSESS = "assess", _("Assess")
    ROOT_CAUSE_ANALYSIS = "root_cause_analysis", _("Root cause analysis")
    FIX_IN_PROGRESS = "fix_in_progress", _("Fix in progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELED = "canceled", _("Canceled")


class Priority(models.IntegerChoices):
    CRITICAL = 1, _("1 - Critical")
    HIGH = 2, _("2 - High")
    MODERATE = 3, _("3 - Moderate")
    LOW = 4, _("4 - Low")
    PLANNING = 5, _("5 - Planning")


WORKFLOW = Workflow(
    states=State,
    initial=State.NEW,
    transitions={
        State.NEW: frozenset({State.ASSESS, State.CANCELED}),
        State.ASSESS: frozenset({State.ROOT_CAUSE_ANALYSIS, State.CANCELED}),
        State.ROOT_CAUSE_ANALYSIS: frozenset(
            {State.FIX_IN_PROGRESS, State.RESOLVED, State.CANCELED}
        ),
        State.FIX_IN_PROGRESS: frozenset(
            {State.ROOT_CAUSE_ANALYSIS, State.RESOLVED, State.CANCELED}
        ),
        State.RESOLVED: frozenset({State.CLOSED, State.ROOT_CAUSE_ANALYSIS}),
        State.CLOSED: frozenset(),
        State.CANCELED: frozenset(),
    },
    required={State.RESOLVED: ("root_cause",)},
    milestones={State.RESOLVED: "resolved_at", State.CLOSED: "closed_at"},
    colours={
        State.NEW: "primary",
        State.ASSESS: "info",
        State.ROOT_CAUSE_ANALYSIS: "warning",
        State.FIX_IN_PROGRESS: "info",
        State.RESOLVED: "success",
        State.CLOSED: "secondary",
        State.CANCELED: "dark",
    },
    open_states=frozenset(
        {State.NEW, State.ASSESS, State.ROOT_CAUSE_ANALYSIS, State.FIX_IN_PROGRESS}
    ),
)
# Problems still taking incidents: every state but the terminal ones (a resolved problem may
# see its incidents come back, which is how a premature resolution is noticed).
LINKABLE_STATES = frozenset(WORKFLOW.open_states | {State.RESOLVED})
