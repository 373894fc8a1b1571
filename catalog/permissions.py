"""Who may do what with the catalog, requests, approvals and tasks (SPEC §1, §8).

The service verbs (``catalog.services``) call these rules; views, the API and the portal never
repeat them. Visibility itself is ``Request.objects.visible_to(user)`` (the requester, the
person it is for, watchers, approvers and staff) and ``Task.objects.visible_to(user)`` (staff).
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from itsm.permissions import ADMIN, AGENT, MANAGER, check_fields, has_role, is_staff_member

from .workflow import ApprovalState, RequestState, TaskState

# Roles that work requests and tasks (assign, fulfil, cancel); the other staff roles read them.
WORK_ROLES = (AGENT, MANAGER)
# Roles that edit the catalog: its categories, items and their forms.
EDIT_ROLES = (MANAGER, ADMIN)

# --- What a caller may send

# Fields sent with an order: the item, the answers to its form, who it is for and a note.
ORDER_FIELDS = frozenset({"item", "answers", "requested_for", "description"})
# Fields an agent changes on a request.
WORKER_FIELDS = frozenset({"description", "assignee", "assignment_group"})
# Fields a requester changes on their own open request: the note, never the answers (what
# was approved is what is fulfilled).
REQUESTER_FIELDS = frozenset({"description"})
# Fields of a task an agent sets.
TASK_FIELDS = frozenset({"title", "description", "assignee", "assignment_group"})
TASK_CREATE_FIELDS = TASK_FIELDS | {"request"}
# Moves made by hand: the rest follow from approvals and tasks.
REQUESTER_TRANSITIONS = {
    RequestState.SUBMITTED: {RequestState.CANCELED},
    RequestState.AWAITING_APPROVAL: {RequestState.CANCELED},
    RequestState.APPROVED: {RequestState.CANCELED},
}
WORKER_TRANSITIONS = {RequestState.CANCELED, RequestState.IN_FULFILLMENT}

# --- What a caller may read

# The request as the requester (and the person it is for, and an approver) sees it, in the
# API and on the portal alike: what was ordered and where it stands; not who works it.
REQUESTER_READABLE = frozenset(
    {
        "id",
        "number",
        "title",
        "description",
        "state",
        "state_display",
        "item",
        "item_display",
        "requester",
        "requester_display",
        "requested_for",
        "requested_for_display",
        "answers",
        "approval",
        "created_at",
        "updated_at",
        "approved_at",
        "fulfilled_at",
        "closed_at",
        "version",
    }
)
REQUESTER_HISTORY = REQUESTER_READABLE | {"created", "comment", "attachment", "approval"}


def can_work(user) -> bool:
    return has_role(user, *WORK_ROLES)


def can_edit_catalog(user) -> bool:
    return has_role(user, *EDIT_ROLES)


def is_party(user, request) -> bool:
    """The person who ordered the request, or the person it is for."""
    return user.pk in (request.requester_id, request.requested_for_id)


def readable_fields(user) -> frozenset[str] | None:
    return None if is_staff_member(user) else REQUESTER_READABLE


def readable_history(user) -> frozenset[str] | None:
    return None if is_staff_member(user) else REQUESTER_HISTORY


# --- Ordering


def can_order_for(user, person) -> bool:
    """Anyone orders for themself; agents and managers for anyone; a line manager for the
    people who report to them."""
    return person.pk == user.pk or can_work(user) or person.manager_id == user.pk


def check_order(user, requested_for) -> None:
    if requested_for is not None and not can_order_for(user, requested_for):
        check_fields(
            {"requested_for"},
            (),
            message=_("You can order for yourself and for the people who report to you."),
        )


# --- Approvals


def is_approver(user, approval) -> bool:
    """An approval is the approver's, or any member's of its team, or (no approver, no team)
    any manager's; nobody answers one about their own request (SPEC §1)."""
    if user is None or is_party(user, approval.request):
        return False
    if approval.approver_id is not None:
        return approval.approver_id == user.pk
    if approval.team_id is not None:
        return approval.team.members.filter(pk=user.pk).exists()
    return has_role(user, MANAGER)


def may_answer(user, approval) -> bool:
    return approval.state == ApprovalState.PENDING and is_approver(user, approval)


def check_decide(user, request, approvals) -> None:
    """403 unless ``user`` is one of the request's approvers (whatever the state: an approver
    who comes too late hears that it was decided, 409)."""
    if is_party(user, request):
        raise PermissionDenied(_("Nobody approves their own request."))
    if not any(is_approver(user, approval) for approval in approvals):
        raise PermissionDenied(_("This request does not wait for your approval."))


# --- Requests


def can_comment(user, request) -> bool:
    """Whoever may see the request replies on it: staff, the requester, the person it is for,
    watchers, approvers."""
    return type(request).objects.visible_to(user).filter(pk=request.pk).exists()


def check_update(user, request, fields) -> None:
    if can_work(user):
        check_fields(fields, WORKER_FIELDS)
        return
    if not is_party(user, request) or not request.is_open:
        raise PermissionDenied(_("You may not change this request."))
    check_fields(fields, REQUESTER_FIELDS)


def can_transition(user, request, to: str) -> bool:
    if can_work(user):
        return to in WORKER_TRANSITIONS
    return is_party(user, request) and to in REQUESTER_TRANSITIONS.get(request.state, ())


def check_transition(user, request, to: str, fields) -> None:
    if not can_transition(user, request, to):
        if to in (RequestState.APPROVED, RequestState.REJECTED):
            raise PermissionDenied(_("Approvers decide this move: POST …/approvals/."))
        if to in (RequestState.FULFILLED, RequestState.AWAITING_APPROVAL, RequestState.SUBMITTED):
            raise PermissionDenied(_("This move follows from the request's approvals and tasks."))
        raise PermissionDenied(_("You may not make this state change."))
    check_fields(fields, (), message=_("This field is not accepted with this move."))


def can_cancel(user, request) -> bool:
    return request.state in REQUESTER_TRANSITIONS or (can_work(user) and request.is_open)


# --- Tasks


def check_work(user) -> None:
    if not can_work(user):
        raise PermissionDenied(_("Only agents and managers work tasks."))


def check_task_update(user, fields) -> None:
    check_work(user)
    check_fields(fields, TASK_FIELDS)


def check_task_create(user, fields) -> None:
    check_work(user)
    check_fields(fields, TASK_CREATE_FIELDS)


def check_task_transition(user, to: str, fields) -> None:
    check_work(user)
    if to not in TaskState.values:
        raise PermissionDenied(_("You may not make this state change."))
    check_fields(fields, (), message=_("This field is not accepted with this move."))


# --- The catalog


def check_edit_catalog(actor) -> None:
    """``actor=None`` is the system (demo data)."""
    if actor is not None and not can_edit_catalog(actor):
        raise PermissionDenied(_("Only managers and administrators edit the catalog."))
