"""Who may do what with incidents (SPEC §1). Visibility itself is
``Incident.objects.visible_to(user)``."""

from itsm.permissions import AGENT, MANAGER, has_role

from .workflow import State

# Roles that work incidents (assign, change fields and states). Problem and change managers
# read every incident and comment on them; they link them from their own processes.
WORK_ROLES = (AGENT, MANAGER)
# Moves a requester may make on their own incident.
REQUESTER_TRANSITIONS = {
    State.NEW: {State.CANCELED},
    State.RESOLVED: {State.CLOSED, State.IN_PROGRESS},
}
# Fields a requester may set on their own open incident.
REQUESTER_FIELDS = frozenset({"title", "description", "urgency", "service"})


def can_work(user) -> bool:
    return has_role(user, *WORK_ROLES)


def is_requester(user, incident) -> bool:
    return incident.requester_id == user.pk


def can_transition(user, incident, to: str) -> bool:
    if can_work(user):
        return True
    return is_requester(user, incident) and to in REQUESTER_TRANSITIONS.get(incident.state, ())


def can_edit(user, incident) -> bool:
    return can_work(user) or (is_requester(user, incident) and incident.is_open)


def can_rate(user, incident) -> bool:
    return is_requester(user, incident) and incident.can_be_rated
