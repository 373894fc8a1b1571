"""Signals the kernel sends after ticket writes (inside the writing transaction).

Observers (the SLA engine, notifications of process apps) listen here so that process apps never
import them. ``changes`` maps a field name to ``(old, new)``.
"""

from django.dispatch import Signal

# sender=ticket model; kwargs: ticket, actor, changes, created (bool)
ticket_changed = Signal()
# sender=ticket model; kwargs: ticket, comment, actor
comment_added = Signal()
