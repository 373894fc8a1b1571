"""The writes every ticket type shares: building blocks for the process apps' service verbs.

Only an app's ``services.py`` calls these (``open_incident``, ``resolve``... wrap them and hold
the rules: who may, which fields, in which states); views, the API, the portal, commands and
other apps call those verbs, never these (``tests/itsm/test_one_door.py`` checks it). Each
writer runs in one transaction, writes its audit events and sends the kernel's signals; side
effects run after commit.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .attachments import check_upload
from .models import TicketBase, next_number
from .permissions import is_staff_member
from .signals import comment_added, ticket_changed
from .workflow import Conflict, StaleVersion

Changes = dict[str, tuple[Any, Any]]


def audit_value(value):
    """A JSON-friendly form of a field value for the audit trail."""
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def field_value(ticket: TicketBase, name: str):
    """The stored value of ``name``: the id for foreign keys (no query)."""
    field = ticket._meta.get_field(name)
    return getattr(ticket, field.attname)


def record_events(owner, changes: Changes, *, actor, internal: bool = False) -> None:
    """One audit row per change in ``owner.events`` (a ticket's, a CI's...): the rows point
    at ``owner`` through whatever foreign key that trail declares."""
    now = timezone.now()
    trail = owner.events
    trail.model.objects.bulk_create(
        trail.model(
            **{trail.field.name: owner},
            at=now,
            actor=actor,
            field=name,
            old=audit_value(old),
            new=audit_value(new),
            internal=internal,
        )
        for name, (old, new) in changes.items()
    )


@transaction.atomic(savepoint=False)
def create_ticket(model: type[TicketBase], *, actor, **fields) -> TicketBase:
    """Create a ticket with the next number of its type in its workflow's initial state.

    Called inside the process app's verb (its transaction): no savepoint of its own, since any
    failure here fails the verb."""
    fields.setdefault("state", model.workflow.initial)
    fields = {name: normalize_text(value) for name, value in fields.items()}
    watchers = fields.pop("watchers", ())
    ticket = model(number=next_number(model.NUMBER_PREFIX), **fields)
    ticket.full_clean(exclude=["number"])
    ticket.save(force_insert=True)
    if watchers:
        ticket.watchers.set(watchers)
    record_events(ticket, {"created": (None, ticket.number)}, actor=actor)
    ticket_changed.send(
        sender=model,
        ticket=ticket,
        actor=actor,
        changes={"state": (None, ticket.state)},
        created=True,
    )
    return ticket


def write_versioned(
    ticket: TicketBase, values: Mapping[str, Any], *, expected_version: int
) -> None:
    """Compare-and-set on ``(pk, version)``: a stale version changes nothing (409)."""
    now = timezone.now()
    updated = (
        type(ticket)
        .objects.filter(pk=ticket.pk, version=expected_version)
        .update(**values, version=F("version") + 1, updated_at=now)
    )
    if not updated:
        raise StaleVersion()
    for name, value in values.items():
        setattr(ticket, name, value)
    ticket.updated_at = now
    ticket.version = expected_version + 1


def normalize_text(value):
    """Text as stored: one kind of line ending (browsers send CRLF, API clients LF)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _same_text(old, new) -> bool:
    """A form that sends back the stored text unchanged (other line endings, the surrounding
    blanks a form field strips) changes nothing: nothing unchanged is ever recorded."""
    return (
        isinstance(old, str)
        and isinstance(new, str)
        and normalize_text(old).strip() == normalize_text(new).strip()
    )


def diff_fields(ticket: TicketBase, values: Mapping[str, Any]) -> Changes:
    """``{field: (old, new)}`` for the values that differ from the instance (ids for FKs;
    text with its line endings normalised)."""
    changes: Changes = {}
    for name, new in values.items():
        field = ticket._meta.get_field(name)
        old = getattr(ticket, field.attname)
        new_raw = new.pk if isinstance(new, models.Model) else normalize_text(new)
        if old != new_raw and not _same_text(old, new_raw):
            changes[name] = (old, new_raw)
    return changes


def _validate(ticket: TicketBase, values: Mapping[str, Any]) -> None:
    errors = {}
    for name, value in values.items():
        field = ticket._meta.get_field(name)
        try:
            field.clean(value.pk if isinstance(value, models.Model) else value, ticket)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)


def lock(ticket: TicketBase, *, version: int | None = None) -> TicketBase:
    """Lock the ticket's row until the transaction ends and bring ``ticket`` up to it.

    ``version`` is the version the caller read; if the ticket moved on since, ``StaleVersion``
    (409) is raised and nothing is written. Verbs lock first, then check their rules against
    the row as it is now.
    """
    locked = type(ticket).objects.select_for_update().get(pk=ticket.pk)
    if version is not None and locked.version != version:
        raise StaleVersion()
    refresh_from_locked(ticket, locked)
    return ticket


@transaction.atomic
def update_ticket(
    ticket: TicketBase, values: Mapping[str, Any], *, actor, version: int | None = None
) -> Changes:
    """Change plain fields (never ``state``: use ``transition``); return what changed."""
    if "state" in values:
        raise ValueError("state changes go through transition()")
    lock(ticket, version=version)
    _validate(ticket, values)
    changes = diff_fields(ticket, values)
    if not changes:
        return {}
    write_versioned(
        ticket,
        {ticket._meta.get_field(n).attname: new for n, (_o, new) in changes.items()},
        expected_version=ticket.version,
    )
    record_events(ticket, changes, actor=actor)
    ticket_changed.send(
        sender=type(ticket), ticket=ticket, actor=actor, changes=changes, created=False
    )
    return changes


@transaction.atomic
def transition(
    ticket: TicketBase,
    to: str,
    *,
    actor,
    version: int | None = None,
    **fields,
) -> Changes:
    """Move ``ticket`` to state ``to``, setting ``fields`` with it.

    Refuses a move not in the workflow's table (``TransitionNotAllowed``, 409 with the allowed
    states) and a move whose required fields are empty after it (``ValidationError``, 400).
    Sets the milestone timestamp of the target state.
    """
    workflow = ticket.workflow
    lock(ticket, version=version)
    workflow.check(ticket.state, to)
    missing = {
        name: [_("This field is required to move to %(state)s.") % {"state": to}]
        for name in workflow.required.get(to, ())
        if _blank(fields.get(name, getattr(ticket, name, None)))
    }
    if missing:
        raise ValidationError(missing)
    values = dict(fields)
    milestone = workflow.milestones.get(to)
    if milestone:
        values[milestone] = timezone.now()
    _validate(ticket, values)
    changes = {"state": (ticket.state, to), **diff_fields(ticket, values)}
    attnames = {ticket._meta.get_field(n).attname: new for n, (_o, new) in changes.items()}
    write_versioned(ticket, attnames, expected_version=ticket.version)
    record_events(ticket, changes, actor=actor)
    ticket_changed.send(
        sender=type(ticket), ticket=ticket, actor=actor, changes=changes, created=False
    )
    return changes


def _blank(value) -> bool:
    """Nothing given: no value, an empty list, or text of blanks only (spaces are no
    resolution note, no outcome, no root cause)."""
    if isinstance(value, str):
        return not value.strip()
    return value in (None, [])


def refresh_from_locked(ticket: TicketBase, locked: TicketBase) -> None:
    """Bring the caller's instance up to the locked row (someone may have written since)."""
    for field in ticket._meta.concrete_fields:
        setattr(ticket, field.attname, getattr(locked, field.attname))
    ticket._state.fields_cache.clear()


def check_editable(ticket: TicketBase, *, states=None) -> None:
    """A closed or canceled ticket keeps the fields it ended with: an edit is a 409 naming the
    states that take edits, and nothing is written. Reopening, where the workflow allows it,
    is a move of its own, not an edit. Update verbs call this after ``lock``.

    ``states``: the states that take this caller's edits, when fewer than every unfinished one
    (a requester edits their ticket while it is open): an edit in another is a 409 naming them.
    """
    workflow = ticket.workflow
    if workflow.is_terminal(ticket.state):
        raise Conflict(
            _("%(number)s is %(state)s: its fields can no longer change.")
            % {"number": ticket.number, "state": ticket.state_label.lower()},
            allowed=[
                s
                for s in workflow.states.values
                if not workflow.is_terminal(s) and (states is None or s in states)
            ],
        )
    if states is not None and ticket.state not in states:
        raise Conflict(
            _("%(number)s is %(state)s: reopen it to change its fields.")
            % {"number": ticket.number, "state": ticket.state_label.lower()},
            allowed=[s for s in workflow.states.values if s in states],
        )


def check_accepts_updates(ticket: TicketBase) -> None:
    """A closed or canceled ticket takes no more comments or files (409), whatever the
    channel: reopen it, or open a new one."""
    if ticket.workflow.is_terminal(ticket.state):
        raise Conflict(
            _("%(number)s is %(state)s: it takes no more comments or files.")
            % {"number": ticket.number, "state": ticket.state_label.lower()}
        )


@transaction.atomic
def add_comment(ticket: TicketBase, *, actor, body: str, internal: bool = False):
    """A public reply or, for staff only, an internal work note; never on a finished ticket."""
    check_accepts_updates(ticket)
    body = normalize_text(body or "").strip()
    if not body:
        raise ValidationError({"body": [_("A comment cannot be empty.")]})
    if internal and not is_staff_member(actor):
        raise PermissionDenied(_("Only agents can write internal notes."))
    comment = ticket.comments.create(author=actor, body=body, internal=internal)
    record_events(ticket, {"comment": (None, comment.pk)}, actor=actor, internal=internal)
    if not internal:  # an internal note must not show end users that something happened
        type(ticket).objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    comment_added.send(sender=type(ticket), ticket=ticket, comment=comment, actor=actor)
    return comment


def _check_internal(actor, internal: bool) -> None:
    if internal and not is_staff_member(actor):
        raise ValidationError({"internal": [_("Only agents can add internal files.")]})


@transaction.atomic
def add_attachment(ticket: TicketBase, *, actor, upload, internal: bool = False):
    """Store an uploaded file (size-checked, name sanitised) on ``ticket``; staff may keep it
    internal (end users never see it, nor that it was added)."""
    check_accepts_updates(ticket)
    _check_internal(actor, internal)
    name, content_type = check_upload(upload)
    attachment = ticket.attachments.model(
        ticket=ticket,
        name=name,
        size=upload.size,
        content_type=content_type,
        uploaded_by=actor,
        internal=internal,
    )
    attachment.file.save(name, upload, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    record_events(ticket, {"attachment": (None, name)}, actor=actor, internal=internal)
    return attachment


def add_attachments(ticket: TicketBase, *, actor, uploads, internal: bool = False) -> list:
    """Store several uploads on ``ticket``, all or none: if one is refused, the files already
    written are removed with the rows the transaction rolls back."""
    uploads = list(uploads)
    if not uploads:
        return []
    with transaction.atomic():
        return _add_all(ticket, actor=actor, uploads=uploads, internal=internal)


def _add_all(ticket: TicketBase, *, actor, uploads, internal: bool) -> list:
    stored = []
    try:
        for upload in uploads:
            stored.append(add_attachment(ticket, actor=actor, upload=upload, internal=internal))
    except BaseException:
        for attachment in stored:
            attachment.file.delete(save=False)
        raise
    return stored


@transaction.atomic
def set_attachment_internal(ticket: TicketBase, attachment, *, actor, internal: bool) -> bool:
    """Turn a file internal or public (staff; audited as internal work). An end user's own
    upload stays public: they have it already. Returns whether anything changed."""
    if not is_staff_member(actor):
        raise PermissionDenied(_("Only agents change who sees a file."))
    if internal and not is_staff_member(attachment.uploaded_by):
        raise ValidationError(
            {"internal": [_("The requester sent this file: it stays visible to them.")]}
        )
    if attachment.internal == internal:
        return False
    type(attachment).objects.filter(pk=attachment.pk).update(internal=internal)
    attachment.internal = internal
    record_events(
        ticket,
        {"attachment_internal": (None, {"name": attachment.name, "internal": internal})},
        actor=actor,
        internal=True,
    )
    return True


@transaction.atomic
def watch(ticket: TicketBase, user, *, actor) -> None:
    if not ticket.watchers.filter(pk=user.pk).exists():
        ticket.watchers.add(user)
        record_events(ticket, {"watchers": (None, user.pk)}, actor=actor)


@transaction.atomic
def unwatch(ticket: TicketBase, user, *, actor) -> None:
    if ticket.watchers.filter(pk=user.pk).exists():
        ticket.watchers.remove(user)
        record_events(ticket, {"watchers": (user.pk, None)}, actor=actor)
