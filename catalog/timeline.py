"""One chronological story of a request or a task: comments, notes, approvals, state and field
changes. The desk reads all of it; the portal the public part only (``internal=False``)."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist

from accounts.models import Team, User
from itsm.markdown import render_markdown_many
from itsm.permissions import staff_user_ids

from .models import Approval
from .workflow import ApprovalState

# Foreign keys whose audited ids are shown by name.
NAMED = {"assignee": User, "requester": User, "requested_for": User, "assignment_group": Team}
# Milestones repeat the state change they belong to; approvals are told from their own rows.
HIDDEN_FIELDS = {
    *("comment", "created", "version", "approval"),
    *("approved_at", "fulfilled_at", "closed_at", "done_at"),
}
PUBLIC_FIELDS = {"state", "attachment"}


@dataclass
class Entry:
    at: datetime
    kind: str  # comment, note, state, field, attachment, created, asked, decided
    actor: object
    field: str = ""
    label: str = ""
    old: object = None
    new: object = None
    raw: str = ""  # the stored value (a state's key)
    body: str = ""
    html: str = ""  # the body rendered (Markdown, sanitised)
    by_staff: bool = False
    by_you: bool = False


def timeline(ticket, *, internal: bool, viewer=None) -> list:
    """Entries oldest first. ``internal`` includes internal notes and every field change
    (staff); otherwise the public replies, state changes, files and approvals."""
    model = type(ticket)
    comments = ticket.comments.select_related("author")
    events = ticket.events.select_related("actor")
    if not internal:
        comments = comments.filter(internal=False)
        events = events.filter(internal=False, field__in=PUBLIC_FIELDS | {"created"})
    entries = [
        Entry(
            at=c.created_at, kind="note" if c.internal else "comment", actor=c.author, body=c.body
        )
        for c in comments
    ]
    events = list(events)
    names = _names(events)
    for event in events:
        if event.field == "created":
            entries.append(Entry(at=event.at, kind="created", actor=event.actor))
        elif event.field not in HIDDEN_FIELDS:
            entries.append(
                Entry(
                    at=event.at,
                    kind={"state": "state", "attachment": "attachment"}.get(event.field, "field"),
                    actor=event.actor,
                    field=event.field,
                    label=_label(model, event.field),
                    old=_display(model, event.field, event.old, names),
                    new=_display(model, event.field, event.new, names),
                    raw=event.new if isinstance(event.new, str) else "",
                )
            )
    if hasattr(ticket, "approvals"):
        entries += _approvals(ticket)
    entries.sort(key=lambda e: e.at)
    if viewer is not None:
        staff = staff_user_ids({getattr(e.actor, "pk", None) for e in entries} - {None})
        for entry in entries:
            pk = getattr(entry.actor, "pk", None)
            entry.by_staff = pk in staff and entry.kind in ("comment", "note")
            entry.by_you = pk is not None and pk == viewer.pk
    written = [entry for entry in entries if entry.body]
    for entry, html in zip(written, render_markdown_many([e.body for e in written]), strict=True):
        entry.html = html
    return entries


def _approvals(request) -> list:
    entries = []
    approvals = Approval.objects.filter(request=request).select_related(
        "approver", "team", "decided_by"
    )
    for approval in approvals:
        entries.append(
            Entry(at=approval.created_at, kind="asked", actor=None, new=approval.approvers_label)
        )
        if approval.state in (ApprovalState.APPROVED, ApprovalState.REJECTED):
            entries.append(
                Entry(
                    at=approval.decided_at,
                    kind="decided",
                    actor=approval.decided_by,
                    raw=approval.state,
                    new=approval.get_state_display(),
                    body=approval.comment,
                )
            )
    return entries


def _names(events) -> dict:
    wanted: dict[type, set] = {}
    for event in events:
        model = NAMED.get(event.field)
        if model:
            wanted.setdefault(model, set()).update(
                v for v in (event.old, event.new) if isinstance(v, int)
            )
    return {
        model: {obj.pk: str(obj) for obj in model.objects.filter(pk__in=ids)}
        for model, ids in wanted.items()
        if ids
    }


def _label(model, field: str) -> str:
    try:
        return str(model._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:  # audited names that are not model fields (watchers...)
        return field


def _display(model, field: str, value, names: dict):
    if value in (None, ""):
        return None
    named = NAMED.get(field)
    if named:
        return names.get(named, {}).get(value, f"#{value}")
    try:
        model_field = model._meta.get_field(field)
    except FieldDoesNotExist:
        return value
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    return value
