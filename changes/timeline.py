"""One chronological story of a change: comments, moves, votes, field changes."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist

from accounts.models import Team, User
from itsm.markdown import render_markdown_many

from .models import Change
from .workflow import Decision

NAMED = {"assignee": User, "requester": User, "assignment_group": Team, "cab": Team}
# Bookkeeping the page shows elsewhere (the risk card, the approvals card) or with its move.
HIDDEN_FIELDS = {
    "comment",
    "version",
    "approval_round",
    "risk_score",
    "risk_reasons",
    "actual_start",
    "actual_end",
    "closed_at",
}
EVENTS = {"state", "attachment", "vote", "approvals", "blocked", "conflicts_accepted", "cis"}


@dataclass
class Entry:
    at: datetime
    kind: str  # comment, note, created, state, vote, approvals, blocked, accepted, attachment,
    # cis, field
    actor: object
    label: str = ""
    old: object = None
    new: object = None
    body: str = ""
    html: str = ""


def timeline(change: Change, *, internal: bool = True) -> list[Entry]:
    comments = change.comments.select_related("author")
    events = change.events.select_related("actor")
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
    decisions = dict(Decision.choices)
    for event in events:
        field = event.field
        if field in HIDDEN_FIELDS:
            continue
        if field == "created":
            entries.append(Entry(at=event.at, kind="created", actor=event.actor))
        elif field == "vote":
            vote = event.new or {}
            entries.append(
                Entry(
                    at=event.at,
                    kind="vote",
                    actor=event.actor,
                    new=vote.get("decision"),
                    label=str(decisions.get(vote.get("decision"), "")),
                    body=vote.get("comment", ""),
                )
            )
        elif field == "approvals":
            asked = event.new
            entries.append(
                Entry(
                    at=event.at,
                    kind="approvals",
                    actor=event.actor,
                    new="ECAB" if asked == "ECAB" else len(asked or []),
                )
            )
        elif field == "blocked":
            entries.append(Entry(at=event.at, kind="blocked", actor=event.actor, new=event.new))
        elif field == "conflicts_accepted":
            entries.append(
                Entry(at=event.at, kind="accepted", actor=event.actor, new=", ".join(event.new))
            )
        else:
            kind = field if field in EVENTS else "field"
            entries.append(
                Entry(
                    at=event.at,
                    kind=kind,
                    actor=event.actor,
                    label=_label(field),
                    old=_display(field, event.old, names),
                    new=_display(field, event.new, names),
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
        return str(Change._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field


def _display(field: str, value, names: dict):
    if value in (None, "", []):
        return None
    if field == "cis":
        return len(value)
    model = NAMED.get(field)
    if model:
        return names.get(model, {}).get(value, f"#{value}")
    try:
        model_field = Change._meta.get_field(field)
    except FieldDoesNotExist:
        return value
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "…"
    return value
