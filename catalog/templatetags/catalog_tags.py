"""Requests in the words of the people who ordered them, and catalog texts in the reader's
language."""

from dataclasses import dataclass

from django import template
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..formdef import answer_rows
from ..workflow import PROGRESS_STEPS, STEP_OF_STATE, RequestState

register = template.Library()


@dataclass(frozen=True)
class PlainStatus:
    key: str  # CSS modifier shared with the portal's tickets: received, working, waiting...
    label: str
    icon: str
    headline: str
    hint: str
    step: int  # submitted (1) → approved (2) → in fulfilment (3) → done (4); 0: ended


R = RequestState
STATUSES = {
    R.SUBMITTED: PlainStatus(
        "received",
        _("Received"),
        "bi-inbox",
        _("We have your request"),
        _("It is on its way to the right people."),
        1,
    ),
    R.AWAITING_APPROVAL: PlainStatus(
        "waiting",
        _("Waiting for approval"),
        "bi-hourglass-split",
        _("Waiting for approval"),
        _("Your request needs an approval before we prepare it. We will tell you the answer."),
        1,
    ),
    R.APPROVED: PlainStatus(
        "working",
        _("Approved"),
        "bi-check2-circle",
        _("Approved: we are getting ready"),
        _("The team has it and will start soon."),
        2,
    ),
    R.IN_FULFILLMENT: PlainStatus(
        "working",
        _("We're working on it"),
        "bi-tools",
        _("We're working on it"),
        _("The team is preparing what you asked for. We will tell you when it is done."),
        3,
    ),
    R.FULFILLED: PlainStatus(
        "solved",
        _("Done"),
        "bi-check2-all",
        _("All done"),
        _("Everything you asked for is ready. Something missing? Tell us in a new ticket."),
        4,
    ),
    R.REJECTED: PlainStatus(
        "canceled",
        _("Not approved"),
        "bi-x-octagon",
        _("Not approved"),
        _("Your request was not approved; the approver's reason is below."),
        0,
    ),
    R.CANCELED: PlainStatus(
        "canceled",
        _("Canceled"),
        "bi-x-circle",
        _("Canceled"),
        _("This request was canceled: nobody is working on it."),
        0,
    ),
}


@register.filter
def request_status(request) -> PlainStatus:
    """``{% with status=request|request_status %}{{ status.label }}…``"""
    return STATUSES.get(request.state, STATUSES[R.SUBMITTED])


@register.filter
def status_of_state(state: str) -> PlainStatus:
    return STATUSES.get(state, STATUSES[R.SUBMITTED])


@register.simple_tag
def progress_steps(request) -> list[dict]:
    """The four steps of a request with where it stands: ``[{"label", "done", "current"}]``."""
    step = STEP_OF_STATE.get(request.state, 0)
    return [
        {"label": label, "done": index < step or step == 4, "current": index == step}
        for index, (_state, label) in enumerate(PROGRESS_STEPS, start=1)
    ]


@register.filter
def answers_of(request) -> list[dict]:
    """The request's answers as people read them, in the reader's language."""
    return answer_rows(request.form, request.answers or {})


@register.filter
def bi(icon: str) -> str:
    """A Bootstrap icon class from a stored icon name (``laptop`` or ``bi-laptop``)."""
    icon = (icon or "box-seam").strip()
    return icon if icon.startswith("bi-") else f"bi-{icon}"


@register.simple_tag
def recent_requests(user, limit: int = 5) -> list:
    """The requests ``user`` ordered or that are for them, latest activity first (the portal
    home's "My requests")."""
    from ..models import Request

    return list(
        Request.objects.filter(Q(requester=user) | Q(requested_for=user))
        .select_related("item")
        .only("number", "state", "updated_at", "item__name", "item__translations", "item__icon")
        .order_by("-updated_at")[:limit]
    )


@register.simple_tag
def pending_approvals(user) -> int:
    """How many approvals wait for ``user``'s decision."""
    from ..models import Approval

    return (
        Approval.objects.pending()
        .assigned_to(user)
        .exclude(Q(request__requester=user) | Q(request__requested_for=user))
        .count()
    )
