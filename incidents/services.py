"""Every write to an incident, as a verb (SPEC §3)."""

from django.db import transaction

from itsm import services as kernel

from .models import Incident
from .workflow import compute_priority


@transaction.atomic
def open_incident(*, actor, requester=None, **fields) -> Incident:
    """Log a new incident; its priority follows from impact and urgency."""
    fields.setdefault("impact", 3)
    fields.setdefault("urgency", 3)
    fields["priority"] = compute_priority(fields["impact"], fields["urgency"])
    return kernel.create_ticket(Incident, actor=actor, requester=requester or actor, **fields)


@transaction.atomic
def update_incident(incident: Incident, values: dict, *, actor, version=None):
    """Change fields; a new impact or urgency recomputes the priority."""
    values = dict(values)
    if "impact" in values or "urgency" in values:
        values["priority"] = compute_priority(
            values.get("impact", incident.impact), values.get("urgency", incident.urgency)
        )
    return kernel.update_ticket(incident, values, actor=actor, version=version)


@transaction.atomic
def change_state(incident: Incident, to: str, *, actor, version=None, **fields):
    return kernel.transition(incident, to, actor=actor, version=version, **fields)
