"""Who may do what with problems and known errors, and which fields each caller may send
(SPEC §1, §5).

Agents see problems, link incidents to them and comment; problem managers create problems,
move them through their states and publish known errors; managers read them. Everyone else
(end users, CAB members, change managers) gets a 403 for the whole area, and reads only the
published known errors through the knowledge search. The service verbs
(``problems.services``) call these rules; views and the API never repeat them.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from incidents.permissions import PROBLEM_LINK_ROLES
from itsm.permissions import AGENT, MANAGER, PROBLEM_MANAGER, check_fields, has_role

from .workflow import State

READ_ROLES = (AGENT, PROBLEM_MANAGER, MANAGER)  # admins hold every role
MANAGE_ROLES = (PROBLEM_MANAGER,)
LINK_ROLES = PROBLEM_LINK_ROLES
# Who may be given a problem to work: problem managers, and the agents who analyse with them.
ASSIGNEE_ROLES = (PROBLEM_MANAGER, AGENT)

# --- What a caller may send

MANAGER_FIELDS = frozenset(
    {
        "title",
        "description",
        "priority",
        "assignee",
        "assignment_group",
        "root_cause",
        "workaround",
        "known_error",
        "publish_workaround",
        "services",
        "cis",
    }
)
MANAGER_CREATE_FIELDS = MANAGER_FIELDS | {"watchers"}
# The fields a move carries. ``resolve_incidents`` and its resolution are not the problem's
# own: they resolve the linked open incidents with it (SPEC §5).
RESOLVE_INCIDENT_FIELDS = frozenset({"resolve_incidents", "resolution_code", "resolution_notes"})
TRANSITION_FIELDS = {
    State.ROOT_CAUSE_ANALYSIS: frozenset({"root_cause"}),
    State.FIX_IN_PROGRESS: frozenset({"root_cause", "workaround"}),
    State.RESOLVED: frozenset({"root_cause", "workaround"}) | RESOLVE_INCIDENT_FIELDS,
}


def can_read(user) -> bool:
    return has_role(user, *READ_ROLES)


def can_manage(user) -> bool:
    """Create problems, edit them, move them, publish their known errors."""
    return has_role(user, *MANAGE_ROLES)


def can_link(user) -> bool:
    return has_role(user, *LINK_ROLES)


def can_comment(user) -> bool:
    return can_read(user)


def sees_every_known_error(user) -> bool:
    """Staff of problem management read every known error, published or not; everyone else
    only the published ones."""
    return can_read(user)


# --- Checks the verbs make (403 for an action the caller may not take, 400 per field)


def check_create(user, fields) -> None:
    if not can_manage(user):
        raise PermissionDenied(_("Only problem managers create problems."))
    check_fields(fields, MANAGER_CREATE_FIELDS)


def check_update(user, fields) -> None:
    if not can_manage(user):
        raise PermissionDenied(_("Only problem managers change problems."))
    check_fields(fields, MANAGER_FIELDS)


def check_transition(user, to: str, fields) -> None:
    if not can_manage(user):
        raise PermissionDenied(_("Only problem managers move problems through their states."))
    check_fields(
        fields,
        TRANSITION_FIELDS.get(to, frozenset()),
        message=_("This field is not accepted with this move."),
    )


def check_link(user) -> None:
    if not can_link(user):
        raise PermissionDenied(_("Only agents and problem managers link incidents to problems."))


def check_comment(user) -> None:
    if not can_comment(user):
        raise PermissionDenied(_("You cannot comment on this problem."))
