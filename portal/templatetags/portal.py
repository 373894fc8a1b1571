"""Ticket states and urgencies in the words of the people who reported them."""

from dataclasses import dataclass
from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from incidents.workflow import HoldReason, State

register = template.Library()


@dataclass(frozen=True)
class PlainState:
    key: str  # CSS modifier: received, working, waiting, solved, closed, canceled
    label: str
    icon: str  # bootstrap-icons name
    headline: str
    hint: str
    short: str  # in the conversation: "Status changed to <short>"
    step: int  # on the way received (1) → working (2) → solved (3) → closed (4); 0: canceled
    needs_you: bool = False


RECEIVED = PlainState(
    "received",
    _("Received"),
    "bi-inbox",
    _("We have your ticket"),
    _("Someone from the service desk will pick it up soon."),
    _("Received"),
    1,
)
WORKING = PlainState(
    "working",
    _("We're working on it"),
    "bi-tools",
    _("We're on it"),
    _("Someone is working on your ticket. We will post here when there is news."),
    _("In progress"),
    2,
)
WAITING = PlainState(
    "waiting",
    _("Waiting for your reply"),
    "bi-chat-dots",
    _("We need your reply"),
    _("We need more information from you before we can go on. Please reply below."),
    _("Waiting for your reply"),
    2,
    needs_you=True,
)
SOLVED = PlainState(
    "solved",
    _("Solved — please confirm"),
    "bi-check2-circle",
    _("Is it working again?"),
    _("We think this is fixed. Please tell us whether it works for you again."),
    _("Solved"),
    3,
    needs_you=True,
)
CLOSED = PlainState(
    "closed",
    _("Closed"),
    "bi-check2-all",
    _("All done"),
    _("This ticket is closed. Thank you for your patience."),
    _("Closed"),
    4,
)
CANCELED = PlainState(
    "canceled",
    _("Canceled"),
    "bi-x-circle",
    _("Canceled"),
    _("This ticket was canceled: nobody is working on it."),
    _("Canceled"),
    0,
)

BY_STATE = {
    State.NEW: RECEIVED,
    State.IN_PROGRESS: WORKING,
    State.ON_HOLD: WORKING,
    State.RESOLVED: SOLVED,
    State.CLOSED: CLOSED,
    State.CANCELED: CANCELED,
}


def plain_state(state: str, hold_reason: str = "") -> PlainState:
    if state == State.ON_HOLD and hold_reason == HoldReason.AWAITING_CALLER:
        return WAITING
    return BY_STATE.get(state, WORKING)


@register.filter
def portal_state(ticket) -> PlainState:
    """``{% with status=ticket|portal_state %}{{ status.label }}…``"""
    return plain_state(ticket.state, getattr(ticket, "hold_reason", ""))


@register.filter
def ago(moment) -> str:
    """``5 minutes ago``; ``just now`` under a minute."""
    if moment is None:
        return ""
    if timezone.now() - moment < timedelta(minutes=1):
        return str(_("just now"))
    return _("%(since)s ago") % {"since": timesince(moment)}


@register.filter
def urgency_words(value: int) -> str:
    from portal.forms import URGENCY_LABELS

    return URGENCY_LABELS.get(value, "")


@register.filter
def display_name(user) -> str:
    """How a person is named in a conversation: their first name, else their username."""
    if user is None:
        return str(_("Service desk"))
    return user.get_full_name() or user.username
