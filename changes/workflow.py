"""Change states, the transition table of each change type (SPEC §6), and the choices a change
carries: type, risk, approval policy, review outcome, vote decision."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.workflow import Workflow


class State(models.TextChoices):
    NEW = "new", _("New")
    ASSESS = "assess", _("Assess")
    AUTHORIZE = "authorize", _("Authorize")
    SCHEDULED = "scheduled", _("Scheduled")
    IMPLEMENT = "implement", _("Implement")
    REVIEW = "review", _("Review")
    CLOSED = "closed", _("Closed")
    CANCELED = "canceled", _("Canceled")


class Type(models.TextChoices):
    STANDARD = "standard", _("Standard")
    NORMAL = "normal", _("Normal")
    EMERGENCY = "emergency", _("Emergency")


class Risk(models.TextChoices):
    LOW = "low", _("Low")
    MODERATE = "moderate", _("Moderate")
    HIGH = "high", _("High")


class Policy(models.TextChoices):
    ALL = "all", _("All members")
    MAJORITY = "majority", _("Majority")
    ANY = "any", _("Any member")


class Outcome(models.TextChoices):
    SUCCESSFUL = "successful", _("Successful")
    SUCCESSFUL_WITH_ISSUES = "successful_with_issues", _("Successful with issues")
    FAILED = "failed", _("Failed")
    BACKED_OUT = "backed_out", _("Backed out")


# Outcomes that count as a success in the change success rate (a KPI, SPEC §6).
SUCCESSFUL_OUTCOMES = frozenset({Outcome.SUCCESSFUL, Outcome.SUCCESSFUL_WITH_ISSUES})


class Decision(models.TextChoices):
    PENDING = "pending", _("Awaiting vote")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    # The vote closed without this approver: the policy was met (or a rejection sent the
    # change back) before they answered, or the change left authorization.
    VOID = "void", _("Not needed")


COLOURS = {
    State.NEW: "primary",
    State.ASSESS: "info",
    State.AUTHORIZE: "warning",
    State.SCHEDULED: "success",
    State.IMPLEMENT: "danger",
    State.REVIEW: "secondary",
    State.CLOSED: "secondary",
    State.CANCELED: "dark",
}
RISK_COLOURS = {Risk.LOW: "success", Risk.MODERATE: "warning", Risk.HIGH: "danger"}
TYPE_COLOURS = {Type.STANDARD: "secondary", Type.NORMAL: "primary", Type.EMERGENCY: "danger"}
OPEN_STATES = frozenset(
    {
        State.NEW,
        State.ASSESS,
        State.AUTHORIZE,
        State.SCHEDULED,
        State.IMPLEMENT,
        State.REVIEW,
    }
)
# Changes whose planned window still matters to others: they can conflict.
ACTIVE_STATES = frozenset(
    {State.NEW, State.ASSESS, State.AUTHORIZE, State.SCHEDULED, State.IMPLEMENT}
)
# Moves that carry fields, and which (for those who may make them).
TRANSITION_FIELDS = {
    State.REVIEW: frozenset({"outcome", "review_notes"}),
    State.CLOSED: frozenset({"outcome", "review_notes"}),
}
# Fields every change needs before it goes before the CAB (SPEC §6), and before a standard
# change is scheduled (its template fills the plans).
PLAN_FIELDS = (
    "planned_start",
    "planned_end",
    "implementation_plan",
    "backout_plan",
    "test_plan",
    "cis",
)
MILESTONES = {
    State.IMPLEMENT: "actual_start",
    State.REVIEW: "actual_end",
    State.CLOSED: "closed_at",
}
REQUIRED = {State.CLOSED: ("outcome",)}


def _table(**moves):
    return {state: frozenset(moves.get(state, ())) for state in State.values}


# A normal change is assessed, authorized by its CAB, scheduled, implemented and reviewed.
NORMAL = Workflow(
    states=State,
    initial=State.NEW,
    transitions=_table(
        new={State.ASSESS, State.CANCELED},
        assess={State.AUTHORIZE, State.NEW, State.CANCELED},
        authorize={State.SCHEDULED, State.NEW, State.CANCELED},
        scheduled={State.IMPLEMENT, State.NEW, State.CANCELED},
        implement={State.REVIEW},
        review={State.CLOSED},
    ),
    required=REQUIRED,
    milestones=MILESTONES,
    colours=COLOURS,
    open_states=OPEN_STATES,
)

# A standard change is pre-approved (its template): no assessment, no CAB.
STANDARD = Workflow(
    states=State,
    initial=State.NEW,
    transitions=_table(
        new={State.SCHEDULED, State.CANCELED},
        # never reached by a standard change; a way out all the same
        assess={State.CANCELED},
        authorize={State.CANCELED},
        scheduled={State.IMPLEMENT, State.NEW, State.CANCELED},
        implement={State.REVIEW},
        review={State.CLOSED},
    ),
    required=REQUIRED,
    milestones=MILESTONES,
    colours=COLOURS,
    open_states=OPEN_STATES,
)

# An emergency change may go straight to authorization (one change manager: the ECAB).
EMERGENCY = Workflow(
    states=State,
    initial=State.NEW,
    transitions=_table(
        new={State.ASSESS, State.AUTHORIZE, State.CANCELED},
        assess={State.AUTHORIZE, State.NEW, State.CANCELED},
        authorize={State.SCHEDULED, State.NEW, State.CANCELED},
        scheduled={State.IMPLEMENT, State.NEW, State.CANCELED},
        implement={State.REVIEW},
        review={State.CLOSED},
    ),
    required=REQUIRED,
    milestones=MILESTONES,
    colours=COLOURS,
    open_states=OPEN_STATES,
)

WORKFLOWS = {Type.STANDARD: STANDARD, Type.NORMAL: NORMAL, Type.EMERGENCY: EMERGENCY}


class TypedWorkflow:
    """``Change.workflow``: the table of the change's own type when read on a change, the
    normal table when read on the class (its states, labels and open states are the same for
    every type, which is all the class-level readers use)."""

    def __get__(self, obj, owner=None) -> Workflow:
        if obj is None:
            return NORMAL
        return WORKFLOWS.get(obj.type, NORMAL)
