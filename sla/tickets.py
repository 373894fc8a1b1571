"""What the SLA engine needs to know about each ticket type it measures.

The engine is written against ``TicketKind``, never against a process app: incidents today,
catalog requests when they land (add a kind, a nullable ``Timer.request`` foreign key and a
``requests/{number}/sla/`` route — nothing else changes).
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

KINDS = (INCIDENT,)


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
