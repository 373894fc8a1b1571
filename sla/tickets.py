"""What the SLA engine needs to know about each ticket type it measures.

The engine is written against ``TicketKind``, never against a process app: incidents and
catalog requests, each a kind with its own ``Timer`` foreign key and ``{type}/{number}/sla/``
route.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class TicketKind:
    key: str  # Policy.applies_to
    model_label: str  # "incidents.Incident"
    timer_field: str  # the Timer foreign key
    # Entering one of these states meets the response metric (a public agent reply does too).
    response_states: frozenset[str]
    # In these states the resolution metric is achieved (met, or breached if late).
    done_states: frozenset[str]
    # Entering these states cancels whatever still runs (a recorded breach stays).
    cancel_states: frozenset[str]
    # A ticket in ``hold_state`` with ``hold_field`` in the policy's ``pause_on`` pauses.
    hold_state: str = ""
    hold_field: str = ""
    # Ticket fields that select the policy.
    match_fields: tuple[str, ...] = ("priority", "service")
    # The process app's verb an escalation calls: ``(ticket, *, actor, priority, team)``.
    escalate_verb: str = ""
    # The values of ``hold_field`` a policy may pause on (empty: the field's choices).
    pause_values: tuple[str, ...] = ()
    # A ticket attribute naming the policy chosen for it (e.g. by its catalog item), tried
    # before the policies that match by order.
    policy_field: str = ""

    @property
    def model(self):
        return apps.get_model(self.model_label)

    def is_paused(self, ticket, pause_on) -> bool:
        if not self.hold_state or ticket.state != self.hold_state:
            return False
        return getattr(ticket, self.hold_field, "") in set(pause_on or ())

    def is_done(self, ticket) -> bool:
        return ticket.state in self.done_states

    def is_canceled(self, ticket) -> bool:
        return ticket.state in self.cancel_states

    def responded(self, ticket) -> bool:
        return ticket.state in self.response_states or ticket.state in self.done_states

    def escalate(self, ticket, *, priority=None, team=None):
        """Raise the priority and/or reassign through the ticket type's own verb (which
        notifies and audits as any change does); the engine never writes a ticket itself."""
        if not self.escalate_verb:
            return {}
        return import_string(self.escalate_verb)(ticket, actor=None, priority=priority, team=team)

    def priority(self, ticket):
        return getattr(ticket, "priority", None)

    def service_id(self, ticket):
        return getattr(ticket, "service_id", None)

    def chosen_policy_id(self, ticket):
        return getattr(ticket, self.policy_field, None) if self.policy_field else None

    def pause_choices(self) -> list[str]:
        """The values a policy of this kind may pause on."""
        if self.pause_values:
            return list(self.pause_values)
        if not self.hold_field:
            return []
        return [value for value, _label in self.model._meta.get_field(self.hold_field).choices]


INCIDENT = TicketKind(
    key="incident",
    model_label="incidents.Incident",
    timer_field="incident",
    response_states=frozenset({"in_progress"}),
    done_states=frozenset({"resolved", "closed"}),
    cancel_states=frozenset({"canceled"}),
    hold_state="on_hold",
    hold_field="hold_reason",
    escalate_verb="incidents.services.escalate",
)

# A request waits for its approvers in ``awaiting_approval``: a policy may pause on it (the desk
# cannot act meanwhile). Requests have no priority: their policies match by service or are
# chosen by their catalog item.
REQUEST = TicketKind(
    key="request",
    model_label="catalog.Request",
    timer_field="request",
    response_states=frozenset({"in_fulfillment"}),
    done_states=frozenset({"fulfilled"}),
    cancel_states=frozenset({"rejected", "canceled"}),
    hold_state="awaiting_approval",
    hold_field="state",
    escalate_verb="catalog.services.escalate",
    pause_values=("awaiting_approval",),
    policy_field="sla_policy_id",
)

KINDS = (INCIDENT, REQUEST)


def kind_for_model(model) -> TicketKind | None:
    label = model._meta.label
    for kind in KINDS:
        if kind.model_label == label:
            return kind
    return None


def kind_of(ticket) -> TicketKind:
    kind = kind_for_model(type(ticket))
    if kind is None:
        raise LookupError(f"the SLA engine does not measure {type(ticket).__name__}")
    return kind


def kind_by_key(key: str) -> TicketKind:
    for kind in KINDS:
        if kind.key == key:
            return kind
    raise LookupError(key)
