"""What the change pages share: reading a change the user may see, and errors as messages."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from itsm.permissions import CAB_MEMBER, CHANGE_MANAGER, get_visible_or_404, has_role
from itsm.workflow import Conflict

from ..approvals import pending_for
from ..models import Change
from ..permissions import READ_ROLES, can_manage, can_report, can_work
from ..workflow import State

__all__ = ["READ_ROLES", "area", "get_change", "reason"]


def get_change(request, number) -> Change:
    return get_visible_or_404(
        Change.objects.select_related("requester", "assignee", "assignment_group", "cab"),
        request.user,
        number=number,
    )


def reason(exc) -> str:
    """A refused write as one readable sentence."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return " ".join(exc.messages)
    text = str(getattr(exc, "detail", exc))
    if isinstance(exc, Conflict) and exc.allowed is not None:
        allowed = ", ".join(str(State(s).label) for s in exc.allowed if s in State.values)
        text += " " + _("Allowed: %(states)s.") % {"states": allowed or "—"}
    return text


def area(request, active: str) -> dict:
    """The change area's own navigation: which tabs this user has, which one is open."""
    user = request.user
    waiting = pending_for(user).count()
    return {
        "area_active": active,
        # "My approvals" for those who vote (CAB members, change managers) or have a vote
        "area_votes": waiting > 0 or has_role(user, CAB_MEMBER, CHANGE_MANAGER),
        "area_can_work": can_work(user),
        "area_can_manage": can_manage(user),
        "area_can_report": can_report(user),
        "area_waiting": waiting,
    }
