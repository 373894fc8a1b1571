"""The roll-up follows incidents through the kernel's ``ticket_changed`` signal: a change to
an incident marks the days it counts on dirty (``reports.services.mark_days_dirty``), so those
days are read live until the next roll-up."""

from datetime import datetime

from django.dispatch import receiver
from django.utils import timezone

from incidents.models import Incident
from itsm.signals import ticket_changed

from . import rollup, services

# The instants an incident counts on: opened, resolved, rated.
INSTANTS = ("created_at", "resolved_at", "rated_at")


def days_of(ticket, changes) -> set:
    """The days the incident counts on now and, for an instant that changed (a reopen clears
    ``resolved_at``), the day it counted on before."""
    instants = [getattr(ticket, name, None) for name in INSTANTS]
    instants += [changes[name][0] for name in INSTANTS if name in changes]
    return {
        rollup.local_day(instant)
        for instant in instants
        if isinstance(instant, datetime) and timezone.is_aware(instant)
    }


@receiver(ticket_changed, sender=Incident, dispatch_uid="reports.mark_days_dirty")
def on_incident_changed(sender, ticket, changes=None, created=False, **kwargs):
    services.mark_days_dirty(days_of(ticket, changes or {}))
