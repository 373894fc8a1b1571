"""One chronological story of an incident: comments, notes, state and field changes."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist

from accounts.models import Team, User
from changes.models import Change
from cmdb.models import CI
from itsm.markdown import render_markdown_many

from .models import Incident

# Foreign keys whose audited ids are shown by name.
NAMED = {
    "assignee": User,
    "requester": User,
    "assignment_group": Team,
    "service": CI,
    "ci": CI,
    "caused_by_change": Change,
    "awaited_change": Change,
}
# Milestone timestamps repeat the state change they belong to.
HIDDEN_FIELDS = {"comment", "created", "version", "resolved_at", "closed_at", "rated_at"}


@dataclass
class Entry:
    at: datetime
    kind: str  # "comment", "note", "state", "field", "attachment", "visibility", "created"
    actor: object
    field: str = ""
    label: str = ""
    old: object = None
    new: object = None
    body: str = ""
    html: str = ""  # the body rendered (Markdown, sanitised)
    internal: bool = False  # an internal file (staff only)


def timeline(incident: Incident, *, internal: bool) -> list[Entry]:
    """Entries oldest first. ``internal`` includes internal notes (staff only)."""
    comments = incident.comments.select_related("author")
    events = incident.events.select_related("actor")
    if not internal:
        comments = comments.filter(internal=False)
        events = events.filter(internal=False)
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
            continue
        if event.field in HIDDEN_FIELDS:
            continue
        kind = {
            "state": "state",
            "attachment": "attachment",
            "attachment_internal": "visibility",
        }.get(event.field, "field")
        entries.append(
            Entry(
                at=event.at,
                kind=kind,
                actor=event.actor,
                field=event.field,
                label=_label(event.field),
                old=_display(event.field, event.old, names),
                new=_display(event.field, event.new, names),
                internal=event.internal,
            )
        )
    entries.sort(key=lambda e: e.at)
    written = [entry for entry in entries if entry.body]
    for entry, html in zip(written, render_markdown_many([e.body for e in written]), strict=True):
        entry.html = html
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


def _label(field: str) -> str:
    try:
        return str(Incident._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:  # audited names that are not model fields (watchers...)
        return field


def _display(field: str, value, names: dict):
    if value in (None, ""):
        return None
    model = NAMED.get(field)
    if model:
        return names.get(model, {}).get(value, f"#{value}")
    try:
        model_field = Incident._meta.get_field(field)
    except FieldDoesNotExist:
        return value
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    return value
