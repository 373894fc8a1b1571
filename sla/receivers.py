"""The SLA engine follows tickets through the kernel's signals (process apps never import it)."""

from django.dispatch import receiver

from itsm.permissions import is_staff_member
from itsm.signals import comment_added, ticket_changed

from . import services
from .tickets import kind_for_model


@receiver(ticket_changed, dispatch_uid="sla.ticket_changed")
def on_ticket_changed(sender, ticket, actor=None, changes=None, created=False, **kwargs):
    if kind_for_model(sender) is None:
        return
    services.ticket_changed(ticket, changes=changes or {}, created=created, actor=actor)


@receiver(comment_added, dispatch_uid="sla.comment_added")
def on_comment_added(sender, ticket, comment, actor=None, **kwargs):
    """A public reply by an agent is a response; an internal note never is."""
    if kind_for_model(sender) is None or comment.internal or not is_staff_member(actor):
        return
    services.responded(ticket, at=comment.created_at, actor=actor)
