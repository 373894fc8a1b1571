"""Who may do what with incidents, and which fields each caller may send and read (SPEC §1).

The service verbs (``incidents.services``) call these rules; views, the API and the portal never
repeat them. Visibility itself is ``Incident.objects.visible_to(user)``.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from itsm.permissions import (
    AGENT,
    MANAGER,
    PROBLEM_MANAGER,
    check_fields,
    has_role,
    is_staff_member,
)

from .workflow import State

# Roles that work incidents (assign, change fields and states). Problem and change managers
# read every incident and comment on them; they link them from their own processes.
WORK_ROLES = (AGENT, MANAGER)
# Roles that link incidents to problems (SPEC §1): agents from the desk, problem managers from
# their problems; everyone else who reads both only reads the link.
PROBLEM_LINK_ROLES = (AGENT, PROBLEM_MANAGER)

# --- What a caller may send

# Fields an agent sets on an incident (``priority`` is computed, ``state`` moves by transition).
WORKER_FIELDS = frozenset(
    {
        "title",
        "description",
        "impact",
        "urgency",
        "assignee",
        "assignment_group",
        "service",
        "ci",
        "major",
        "parent",
        "problem",  # through ``link_problem`` and its own rule
        "caused_by_change",
    }
)
# An agent may log an incident already being worked or waiting (a call taken, a caller to
# call back): these come on top at creation.
WORKER_CREATE_FIELDS = WORKER_FIELDS | {"state", "hold_reason", "awaited_change", "watchers"}
# Fields a requester sets on their own open incident: what they report, and how urgent it is
# for them; never its handling (impact, priority, assignment, state).
REQUESTER_FIELDS = frozenset({"title", "description", "urgency", "service"})
# The fields a move carries, for those who may make it.
TRANSITION_FIELDS = {
    State.ON_HOLD: frozenset({"hold_reason", "awaited_change"}),
    State.RESOLVED: frozenset({"resolution_code", "resolution_notes"}),
}
# Moves a requester may make on their own incident; they carry no fields.
REQUESTER_TRANSITIONS = {
    State.NEW: {State.CANCELED},
    State.RESOLVED: {State.CLOSED, State.IN_PROGRESS},
}

# --- What a caller may read

# The incident as its requester sees it, in the API and on the portal alike: what they
# reported, where it stands and how it was solved; not who works it, the CI or the watchers.
REQUESTER_READABLE = frozenset(
    {
        "id",
        "number",
        "title",
        "description",
        "state",
        "state_display",
        "hold_reason",
        "urgency",
        "service",
        "service_display",
        "requester",
        "requester_display",
        "resolution_code",
        "resolution_notes",
        "csat_score",
        "csat_comment",
        "created_at",
        "updated_at",
        "resolved_at",
        "closed_at",
        "version",
    }
)
# Audit entries the requester may read (public ones only): the fields above and the
# conversation, never assignment, priority, CI or watcher changes.
REQUESTER_HISTORY = REQUESTER_READABLE | {"created", "comment", "attachment"}


def can_work(user) -> bool:
    return has_role(user, *WORK_ROLES)


def is_requester(user, incident) -> bool:
    return incident.requester_id == user.pk


def can_transition(user, incident, to: str) -> bool:
    if can_work(user):
        return True
    return is_requester(user, incident) and to in REQUESTER_TRANSITIONS.get(incident.state, ())


def may_edit(user, incident) -> bool:
    """Whether ``user`` edits ``incident`` in some state: who works incidents, and its
    requester (``editable_states``)."""
    return can_work(user) or is_requester(user, incident)


def editable_states(user, incident) -> frozenset[str] | None:
    """The states in which ``incident`` takes ``user``'s edits: its requester's while it is
    open; ``None`` for who works it (every state but the finished ones)."""
    if user is None or can_work(user):
        return None
    return incident.workflow.open_states


def can_link_problem(user) -> bool:
    return has_role(user, *PROBLEM_LINK_ROLES)


def can_rate(user, incident) -> bool:
    return is_requester(user, incident) and incident.can_be_rated


def can_comment(user, incident) -> bool:
    """Whoever may see the incident: staff, its requester, its watchers."""
    return (
        is_staff_member(user)
        or is_requester(user, incident)
        or incident.watchers.filter(pk=user.pk).exists()
    )


def can_watch(user) -> bool:
    """Staff follow incidents they do not work; end users follow their own already."""
    return is_staff_member(user)


def readable_fields(user) -> frozenset[str] | None:
    """The fields of an incident ``user`` may read (``None``: all of them)."""
    return None if is_staff_member(user) else REQUESTER_READABLE


def readable_history(user) -> frozenset[str] | None:
    return None if is_staff_member(user) else REQUESTER_HISTORY


# --- Checks the verbs make (403 for a move or edit the caller may not make, 400 per field)


def check_create(user, fields, requester) -> None:
    if can_work(user):
        check_fields(fields, WORKER_CREATE_FIELDS)
        return
    check_fields(fields, REQUESTER_FIELDS)
    if requester is not None and requester.pk != user.pk:
        check_fields({"requester"}, (), message=_("You can only report incidents for yourself."))


def check_update(user, incident, fields) -> None:
    """Who may edit and which fields; in which states is the verb's next check
    (``itsm.services.check_editable`` with ``editable_states``: 409 naming them)."""
    if not may_edit(user, incident):
        raise PermissionDenied(_("You may not change this incident."))
    check_fields(fields, WORKER_FIELDS if can_work(user) else REQUESTER_FIELDS)


def check_link_problem(user) -> None:
    if not can_link_problem(user):
        raise PermissionDenied(_("Only agents and problem managers link incidents to problems."))


def check_transition(user, incident, to: str, fields) -> None:
    if not can_transition(user, incident, to):
        raise PermissionDenied(_("You may not make this state change."))
    allowed = TRANSITION_FIELDS.get(to, frozenset()) if can_work(user) else frozenset()
    check_fields(fields, allowed, message=_("This field is not accepted with this move."))
