"""One chronological story of a problem: comments, notes, state and field changes, incidents
linked, unlinked and resolved with it."""

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from accounts.models import Team, User
from cmdb.models import CI
from incidents.timeline import Entry
from itsm.markdown import render_markdown_many

from .models import Problem

NAMED = {"assignee": User, "requester": User, "assignment_group": Team}
NAMED_LISTS = {"services": CI, "cis": CI}
# Milestones repeat their state change; long texts are read on the page, not in the story.
HIDDEN_FIELDS = {"comment", "created", "version", "resolved_at", "closed_at"}
TEXT_FIELDS = {"description", "root_cause", "workaround"}


def timeline(problem: Problem) -> list[Entry]:
    """Entries oldest first, internal notes included (every reader of problems is staff).

    Kinds beyond the incident's: ``linked`` / ``unlinked`` (the incidents' numbers in ``new``),
    ``resolved_incidents`` (their numbers in ``new``) and ``text`` (a long text changed).
    """
    comments = problem.comments.select_related("author")
    events = list(problem.events.select_related("actor"))
    entries = [
        Entry(
            at=c.created_at, kind="note" if c.internal else "comment", actor=c.author, body=c.body
        )
        for c in comments
    ]
    names = _names(events)
    for event in events:
        if event.field == "created":
            entries.append(Entry(at=event.at, kind="created", actor=event.actor))
        elif event.field == "incident":
            kind = "linked" if event.new else "unlinked"
            entries.append(
                Entry(at=event.at, kind=kind, actor=event.actor, new=event.new or event.old)
            )
        elif event.field == "resolved_incidents":
            entries.append(
                Entry(at=event.at, kind="resolved_incidents", actor=event.actor, new=event.new)
            )
        elif event.field in TEXT_FIELDS:
            entries.append(
                Entry(at=event.at, kind="text", actor=event.actor, label=_label(event.field))
            )
        elif event.field not in HIDDEN_FIELDS:
            entries.append(
                Entry(
                    at=event.at,
                    kind={"state": "state", "attachment": "attachment"}.get(event.field, "field"),
                    actor=event.actor,
                    field=event.field,
                    label=_label(event.field),
                    old=_display(event.field, event.old, names),
                    new=_display(event.field, event.new, names),
                )
            )
    entries.sort(key=lambda e: e.at)
    entries = _grouped(entries)
    written = [entry for entry in entries if entry.body]
    for entry, html in zip(written, render_markdown_many([e.body for e in written]), strict=True):
        entry.html = html
    return entries


def _grouped(entries: list[Entry]) -> list[Entry]:
    """Incidents linked (or unlinked) one after another by the same person read as one line:
    ``new`` holds their numbers, ``at`` the last one's time."""
    grouped: list[Entry] = []
    for entry in entries:
        if entry.kind in ("linked", "unlinked"):
            last = grouped[-1] if grouped else None
            if last is not None and last.kind == entry.kind and last.actor == entry.actor:
                last.new.append(entry.new)
                last.at = entry.at
                continue
            entry.new = [entry.new]
        grouped.append(entry)
    return grouped


def _names(events) -> dict:
    wanted: dict[type, set] = {}
    for event in events:
        model = NAMED.get(event.field) or NAMED_LISTS.get(event.field)
        if not model:
            continue
        for value in (event.old, event.new):
            values = value if isinstance(value, list) else [value]
            wanted.setdefault(model, set()).update(v for v in values if isinstance(v, int))
    return {
        model: {obj.pk: str(obj) for obj in model.objects.filter(pk__in=ids)}
        for model, ids in wanted.items()
        if ids
    }


def _label(field: str) -> str:
    try:
        return str(Problem._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field


def _display(field: str, value, names: dict):
    if value in (None, "", []):
        return None
    if field in NAMED:
        return names.get(NAMED[field], {}).get(value, f"#{value}")
    if field in NAMED_LISTS:
        known = names.get(NAMED_LISTS[field], {})
        return ", ".join(known.get(v, f"#{v}") for v in value)
    try:
        model_field = Problem._meta.get_field(field)
    except FieldDoesNotExist:
        return value
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value
