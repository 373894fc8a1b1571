"""Problem management follows incidents through the kernel's signals: a new or retitled
incident is filed in its title cluster (the "similar titles" candidates)."""

from django.dispatch import receiver

from incidents.models import Incident
from itsm.signals import ticket_changed

from . import services


@receiver(ticket_changed, sender=Incident, dispatch_uid="problems.cluster_incident")
def on_incident_changed(sender, ticket, changes=None, created=False, **kwargs):
    if created or "title" in (changes or {}):
        services.cluster_incident(ticket, created=created)
