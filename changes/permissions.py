"""Who may do what with changes, and which fields each caller may send in which state
(SPEC §1, §6).

Agents and change managers work changes; CAB members, problem managers and managers read
them; CAB members vote on the approvals assigned to them, any change manager on an emergency
change's (the ECAB). Change managers alone manage boards, blackout windows and standard-change
templates, and schedule an authorized change by hand. End users get a 403 for the whole area.
The service verbs (``changes.services``) call these rules; views and the API never repeat them.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from itsm.permissions import (
    AGENT,
    CAB_MEMBER,
    CHANGE_MANAGER,
    MANAGER,
    PROBLEM_MANAGER,
    check_fields,
    has_role,
)
from itsm.workflow import Conflict

from .workflow import TRANSITION_FIELDS, State

READ_ROLES = (AGENT, CAB_MEMBER, CHANGE_MANAGER, PROBLEM_MANAGER, MANAGER)
WORK_ROLES = (AGENT, CHANGE_MANAGER)
MANAGE_ROLES = (CHANGE_MANAGER,)
REPORT_ROLES = (CHANGE_MANAGER, MANAGER)

# --- What a caller may send

PLAN = frozenset(
    {
        "title",
        "description",
        "type",
        "template",
        "cab",
        "approval_policy",
        "cis",
        "planned_start",
        "planned_end",
        "implementation_plan",
        "backout_plan",
        "test_plan",
        "risk_answers",
        "assignee",
        "assignment_group",
    }
)
CREATE_FIELDS = PLAN | {"requester"}
WORKER_FIELDS = PLAN | {"outcome", "review_notes"}
WINDOW = frozenset({"planned_start", "planned_end"})
# What may still change in each state once the plan went before the CAB: the plan is what
# was approved (move it back to new to change it); a change manager may move the window of
# an authorized change, e.g. out of a blackout.
EDITABLE = {
    State.NEW: PLAN,
    State.ASSESS: PLAN - {"type"},
    State.AUTHORIZE: frozenset({"title", "description", "assignee", "assignment_group"}),
    State.SCHEDULED: frozenset({"title", "description", "assignee", "assignment_group"}),
    State.IMPLEMENT: frozenset({"description", "assignee", "assignment_group"}),
    State.REVIEW: frozenset({"description", "assignee", "assignment_group"})
    | {"outcome", "review_notes"},
}
MANAGER_EDITABLE = {State.AUTHORIZE: WINDOW, State.SCHEDULED: WINDOW}


def can_read(user) -> bool:
    return has_role(user, *READ_ROLES)


def can_work(user) -> bool:
    return has_role(user, *WORK_ROLES)


def can_manage(user) -> bool:
    """Boards and their members, blackout windows, standard-change templates."""
    return has_role(user, *MANAGE_ROLES)


def can_report(user) -> bool:
    return has_role(user, *REPORT_ROLES)


def can_comment(user) -> bool:
    return can_read(user)


def can_vote(user, approval) -> bool:
    """The approver named on it, or, on an emergency change's approval, any change manager."""
    if approval.approver_id is not None:
        return approval.approver_id == user.pk
    return has_role(user, CHANGE_MANAGER)


def editable_fields(user, change) -> frozenset[str]:
    fields = EDITABLE.get(change.state, frozenset())
    if has_role(user, CHANGE_MANAGER):
        fields |= MANAGER_EDITABLE.get(change.state, frozenset())
    return fields


# --- Checks the verbs make (403 for what the caller may not do, 400 per field, 409 per state)


def check_read(user) -> None:
    if not can_read(user):
        raise PermissionDenied(_("You may not see changes."))


def check_create(user, fields) -> None:
    if not can_work(user):
        raise PermissionDenied(_("Only agents and change managers raise changes."))
    check_fields(fields, CREATE_FIELDS)


def check_update(user, change, fields) -> None:
    if not can_work(user):
        raise PermissionDenied(_("You may not change this change."))
    check_fields(fields, WORKER_FIELDS)
    frozen = sorted(set(fields) - editable_fields(user, change))
    if frozen:
        allowed = [s for s in State.values if set(fields) <= EDITABLE.get(s, frozenset())]
        raise Conflict(
            _("In state %(state)s these fields cannot change: %(fields)s.")
            % {"state": change.state_label.lower(), "fields": ", ".join(frozen)},
            allowed=allowed,
        )


def check_transition(user, change, to: str, fields) -> None:
    if not can_work(user):
        raise PermissionDenied(_("You may not make this state change."))
    by_hand = change.state == State.AUTHORIZE and to == State.SCHEDULED
    if by_hand and not has_role(user, CHANGE_MANAGER):
        raise PermissionDenied(
            _("An authorized change is scheduled by its approvals or by a change manager.")
        )
    check_fields(
        fields,
        TRANSITION_FIELDS.get(to, frozenset()),
        message=_("This field is not accepted with this move."),
    )


def check_manage(user) -> None:
    if user is not None and not can_manage(user):
        raise PermissionDenied(_("Only change managers manage this."))
