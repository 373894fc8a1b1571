"""In-app and email notifications (SPEC §9).

``notify`` writes one row per recipient inside the caller's transaction, as each recipient
chose (``NotificationPreference``: by email, in the app, both or neither), and once the
transaction commits hands the ids of the rows to mail to one Celery task. Inside ``batched()``
the rows of every ``notify`` call are written together when the block ends: one INSERT and one
task for a whole SLA scan.

Delivery (``deliver``) neither loses nor repeats a message:

1. claim: due ``pending`` rows become ``sending`` (``FOR UPDATE SKIP LOCKED``), and that is
   committed before the mail server is contacted, so no row lock is held while it answers;
2. send each message, and mark it ``sent`` in its own transaction as soon as the server has
   taken it: a worker that dies afterwards does not send it again;
3. a temporary refusal (4xx, a dropped or stalled connection) puts the row back to
   ``pending`` with ``next_attempt_at`` later (exponential backoff); a permanent one (5xx)
   leaves it ``failed`` with the server's answer; after ``MAX_ATTEMPTS`` it fails too.

A row left ``sending`` by a worker that died (after ``NOTIFICATION_LEASE_SECONDS``) is due
again: only the message that was in flight at that instant may reach its recipient twice (with
the same Message-ID, which mail clients use to drop duplicates). If the broker cannot take the
task the rows stay ``pending`` and the periodic sweep mails them.

Mail to an address rather than to a user (a former address told of its change, the reply to
mail the gateway turned down) goes through the same outbox: ``mail_to`` writes an
``OutboundMail`` row in the caller's transaction, delivered, retried and swept like the
notifications.
"""

import logging
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from . import broker, mail
from .db import insert_rows
from .models import Notification, NotificationPreference, OutboundMail
from .permissions import ADMIN, has_role, is_staff_member, staff_user_ids

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BATCH = 200
KINDS = [kind for kind, _label in Notification.Kind.choices]
# The outbox's tables: each row one email, delivered the same way.
OUTBOXES = (Notification, OutboundMail)
_mail_off: ContextVar[bool] = ContextVar("itsm_mail_off", default=False)
_batch: ContextVar[list | None] = ContextVar("itsm_notify_batch", default=None)


@contextmanager
def without_mail():
    """In-app notifications only, no email (demo data: nobody should be mailed about it)."""
    token = _mail_off.set(True)
    try:
        yield
    finally:
        _mail_off.reset(token)


@contextmanager
def batched():
    """Collect the ``notify`` calls of the block and write their rows together at its end:
    one preferences query, one INSERT and one task for all of them (the SLA scanner)."""
    if _batch.get() is not None:  # already collecting: the outer block writes
        yield
        return
    calls: list[_Call] = []
    token = _batch.set(calls)
    try:
        yield
    finally:
        _batch.reset(token)
    _write(calls, instances=False)


@dataclass
class _Call:
    recipients: list
    kind: str
    ticket: Any
    subject: Any
    message: Any
    params: dict
    actor: Any
    internal: bool
    approval: Any
    mail_off: bool


def notify(
    recipients: Iterable,
    *,
    kind: str,
    ticket,
    subject,
    message,
    params: dict | None = None,
    actor=None,
    internal: bool = False,
    approval=None,
) -> list[Notification]:
    """Notify each of ``recipients`` (users; duplicates and ``None`` ignored).

    ``subject`` and ``message`` are lazy translatable strings formatted with ``params`` in each
    recipient's language. Nobody is notified of their own action; when ``internal`` is set
    (an internal note) only staff receive it. Each recipient's preferences for ``kind`` say
    whether the row shows in the app, goes by email, or is not written at all.

    ``approval`` (a model instance registered with ``itsm.extensions.approval_action``, or a
    mapping ``{user or user id: instance}``) puts approve and reject links in the email.

    Returns the rows written; inside ``batched()`` they are written when the block ends and
    this returns ``[]``.
    """
    call = _Call(
        recipients=list(recipients),
        kind=kind,
        ticket=ticket,
        subject=subject,
        message=message,
        params=params or {},
        actor=actor,
        internal=internal,
        approval=approval,
        mail_off=_mail_off.get(),
    )
    pending = _batch.get()
    if pending is not None:
        pending.append(call)
        return []
    return _write([call])


def _approval_ref(approval, user) -> str:
    if approval is None:
        return ""
    if isinstance(approval, Mapping):
        approval = approval.get(user) or approval.get(user.pk)
        if approval is None:
            return ""
    return f"{approval._meta.label_lower}:{approval.pk}"


def _write(calls: list[_Call], *, instances: bool = True) -> list[Notification]:
    """The rows of ``calls``: one query for who is staff (when it matters), one for the
    preferences, one INSERT; one task after commit for the rows to mail. Returns the rows
    as instances, or ``[]`` when not ``instances`` (a batch: the rows are inserted from their
    values, without an instance each)."""
    wanted: list[tuple[_Call, Any]] = []
    for call in calls:
        seen: set[int] = set()
        for user in call.recipients:
            if user is None or user.pk in seen or not user.is_active:
                continue
            seen.add(user.pk)
            if call.actor is not None and user.pk == call.actor.pk:
                continue
            wanted.append((call, user))
    if not wanted:
        return []
    staff = _staff_ids([user for _call, user in wanted])
    choices = _preferences({user.pk for _c, user in wanted}, {call.kind for call in calls})
    chosen = []
    for call, user in wanted:
        is_staff = user.pk in staff
        if call.internal and not is_staff:
            continue
        by_email, in_app = choices.get((user.pk, call.kind), (True, True))
        by_email = by_email and bool(user.email) and not call.mail_off
        if not (by_email or in_app):
            continue
        language = user.language or settings.LANGUAGE_CODE
        chosen.append((call, user, is_staff, by_email, in_app, language))
    if not chosen:
        return []
    texts = _texts_by_language({(id(call), language): call for call, *_r, language in chosen})
    urls: dict[tuple[int, bool], str] = {}
    now = timezone.now()
    rows = []
    for call, user, is_staff, by_email, in_app, language in chosen:
        subject, message, params = texts[id(call), language]
        link_key = (id(call), is_staff)
        if link_key not in urls:
            urls[link_key] = ticket_url(call.ticket, staff=is_staff)
        rows.append(
            {
                "recipient_id": user.pk,
                "kind": call.kind,
                "ticket": getattr(call.ticket, "number", "") or "",
                "url": urls[link_key],
                "subject": subject,
                "message": message,
                "params": params,
                "internal": call.internal,
                "approval": _approval_ref(call.approval, user) if by_email else "",
                "in_app": in_app,
                "created_at": now,
                "email_state": (
                    Notification.Email.PENDING if by_email else Notification.Email.SKIPPED
                ),
                "next_attempt_at": now if by_email else None,
            }
        )
    if instances:
        users = {user.pk: user for _call, user, *_rest in chosen}
        created = Notification.objects.bulk_create(
            [Notification(recipient=users[row.pop("recipient_id")], **row) for row in rows]
        )
        ids = [row.pk for row in created if row.email_state == Notification.Email.PENDING]
    else:
        created = []
        ids = [
            pk
            for pk, row in zip(insert_rows(Notification, rows), rows, strict=True)
            if row["email_state"] == Notification.Email.PENDING
        ]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))
    return created


def _staff_ids(users) -> set[int]:
    """Which of ``users`` are staff: from the roles already read for the request, else one
    query for all the others."""
    known, unknown = set(), []
    for user in users:
        roles = getattr(user, "_itsm_roles", None)
        if roles is None:
            unknown.append(user.pk)
        elif is_staff_member(user):
            known.add(user.pk)
    return known | staff_user_ids(unknown)


def _preferences(user_ids, kinds) -> dict[tuple[int, str], tuple[bool, bool]]:
    rows = NotificationPreference.objects.filter(user_id__in=user_ids, kind__in=kinds)
    return {
        (user_id, kind): (email, in_app)
        for user_id, kind, email, in_app in rows.values_list("user_id", "kind", "email", "in_app")
    }


def _texts_by_language(wanted: dict) -> dict[tuple[int, str], tuple[str, str, dict]]:
    """``{(id(call), language): (subject, message, params)}`` for each call of ``wanted``
    (``{(id(call), language): call}``): one switch of language for all the calls read in it."""
    by_language: dict[str, list[tuple[Any, _Call]]] = {}
    for key, call in wanted.items():
        by_language.setdefault(key[1], []).append((key, call))
    texts = {}
    for language, keyed in by_language.items():
        with translation.override(language):
            translated: dict[int, str] = {}  # each lazy subject or message translated once
            for key, call in keyed:
                texts[key] = _texts(call, translated)
    return texts


def _texts(call: _Call, translated: dict[int, str]) -> tuple[str, str, dict]:
    """Subject, message and parameters of ``call`` as text in the active language."""
    ticket = call.ticket
    params = {"number": ticket.number, "title": ticket.title, **call.params}
    values = {name: _plain(value) for name, value in params.items()}
    subject = (_translated(call.subject, translated) % params)[:255]
    message = _translated(call.message, translated) % params
    return subject, message, values


def _translated(text, translated: dict[int, str]) -> str:
    key = id(text)
    if key not in translated:
        translated[key] = str(text)
    return translated[key]


def _plain(value):
    return value if isinstance(value, bool | int | float) or value is None else str(value)


def ticket_url(ticket, user=None, *, staff: bool | None = None) -> str:
    """Staff follow the desk page; end users the portal page (``get_portal_url``)."""
    if staff is None:
        staff = is_staff_member(user)
    if not staff and hasattr(ticket, "get_portal_url"):
        return ticket.get_portal_url()
    if hasattr(ticket, "desk_url"):  # the same link without a URL reversal per ticket
        return ticket.desk_url()
    return ticket.get_absolute_url() if hasattr(ticket, "get_absolute_url") else ""


# --- The notification centre


def mark_read(notification: Notification, *, actor) -> None:
    """The recipient has seen one notification (someone else's is not theirs to mark)."""
    if notification.recipient_id != actor.pk:
        raise PermissionDenied
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )


def mark_all_read(*, actor) -> int:
    """Mark every unread notification of ``actor`` read; return how many."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def preferences_of(user) -> list[dict]:
    """Every kind with how ``user`` hears of it: ``[{"kind", "label", "email", "in_app"}]``."""
    chosen = _preferences({user.pk}, KINDS)
    return [
        {
            "kind": kind,
            "label": label,
            "email": chosen.get((user.pk, kind), (True, True))[0],
            "in_app": chosen.get((user.pk, kind), (True, True))[1],
        }
        for kind, label in Notification.Kind.choices
    ]


@transaction.atomic
def set_preferences(user, choices: Mapping[str, Mapping[str, bool]], *, actor) -> list[dict]:
    """``user`` chooses, per kind, ``{"email": bool, "in_app": bool}`` (either may be left
    out: it keeps its value). Only for oneself. Returns the preferences after the change."""
    if actor is None or actor.pk != user.pk:
        raise PermissionDenied(_("You can only change your own notification preferences."))
    unknown = sorted(set(choices) - set(KINDS))
    if unknown:
        raise ValidationError({"kind": [_("Unknown kind: %(kind)s.") % {"kind": unknown[0]}]})
    current = {item["kind"]: item for item in preferences_of(user)}
    for kind, values in choices.items():
        email = bool(values.get("email", current[kind]["email"]))
        in_app = bool(values.get("in_app", current[kind]["in_app"]))
        if email and in_app:  # the default: no row
            NotificationPreference.objects.filter(user=user, kind=kind).delete()
        else:
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"email": email, "in_app": in_app}
            )
    return preferences_of(user)


# --- Mail to an address


def mail_to(address: str, *, kind: str, subject: str, body: str, headers=None) -> OutboundMail:
    """Email ``address`` (no user's notification: a former address, a stranger) through the
    outbox: the row is written in the caller's transaction and mailed once it commits, by a
    task or, if the broker cannot take it, by the sweep; refusals are retried like any
    notification's. ``subject`` and ``body`` are final text (already in the reader's
    language); the Message-ID is fixed now, so every attempt sends the same message."""
    now = timezone.now()
    row = OutboundMail.objects.create(
        kind=kind,
        to=address,
        subject=subject[:255],
        body=body,
        headers={"Message-ID": make_msgid(domain=mail.mail_domain()), **(headers or {})},
        created_at=now,
        next_attempt_at=now,
    )
    transaction.on_commit(lambda: enqueue_mail([row.pk]))
    return row


def enqueue_mail(ids: list[int]) -> bool:
    """Hand ``OutboundMail`` ids to a worker; on a broker failure the sweep mails them."""
    from .tasks import deliver_mail

    return broker.send(deliver_mail, ids)


# --- Delivery


def enqueue(ids: list[int]) -> bool:
    """Hand ``ids`` to a worker; on a broker failure the rows stay pending for the sweep."""
    from .tasks import deliver_notifications

    return broker.send(deliver_notifications, ids)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th temporary refusal: 1, 2, 4... minutes,
    at most an hour."""
    base = getattr(settings, "NOTIFICATION_RETRY_SECONDS", 60)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def sweep_grace() -> timedelta:
    """How long the sweep leaves a fresh row to the task its commit queued."""
    return timedelta(seconds=getattr(settings, "NOTIFICATION_SWEEP_GRACE_SECONDS", 20))


def lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "NOTIFICATION_LEASE_SECONDS", 600))


def deliver(
    ids: Iterable[int] | None = None, *, now=None, limit: int = BATCH, model=Notification
) -> int:
    """Mail the due pending rows of ``model`` (one of ``OUTBOXES``; among ``ids`` when
    given); return how many were sent. Call it outside a transaction: each claim and each mark
    commits on its own."""
    return _deliver_batch(model, ids, now=now or timezone.now(), limit=limit)[1]


def _deliver_batch(model, ids, *, now, limit: int) -> tuple[int, int]:
    """Claim one batch, send it; return ``(claimed, sent)``."""
    claimed = _claim(model, ids, now=now, limit=limit)
    if not claimed:
        return 0, 0
    return len(claimed), _send_claimed(claimed)


def _claim(model, ids, *, now, limit: int) -> list:
    with transaction.atomic():
        due = model.objects.filter(email_state=Notification.Email.PENDING, next_attempt_at__lte=now)
        if ids is not None:
            due = due.filter(pk__in=list(ids))
        pks = list(
            due.order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not pks:
            return []
        model.objects.filter(pk__in=pks).update(
            email_state=Notification.Email.SENDING, claimed_at=timezone.now()
        )
    rows = model.objects.filter(pk__in=pks, email_state=Notification.Email.SENDING)
    if model is Notification:
        rows = rows.select_related("recipient")
    return list(rows.order_by("next_attempt_at", "id"))


def _send_claimed(rows: list[Notification]) -> int:
    """Send claimed rows over one connection, marking each as it goes; a connection-level
    failure gives the rest back (not counted as attempts) for a later try."""
    connection = get_connection(fail_silently=False)
    sent = 0
    try:
        for index, row in enumerate(rows):
            try:
                email = _email(row, connection)
            except Exception as exc:  # a template or an address that cannot be mailed
                log.exception("%s %s cannot be composed", row._meta.model_name, row.pk)
                _failed(row, mail.Refusal(mail.PERMANENT, False, f"{exc}"[:2000]))
                continue
            if email is None:
                _skip(row)
                continue
            try:
                connection.send_messages([email])
            except SoftTimeLimitExceeded as exc:  # the task's time is up: give the rest back
                _retry_later(row, mail.Refusal(mail.TEMPORARY, True, "Time limit reached."))
                _release(rows[index + 1 :], timedelta(0))
                raise exc
            except Exception as exc:
                refusal = mail.classify(exc)
                log.warning(
                    "%s %s not mailed (%s): %s", row._meta.model_name, row.pk, refusal.kind, exc
                )
                if refusal.kind == mail.PERMANENT:
                    _failed(row, refusal)
                else:
                    _retry_later(row, refusal)
                if refusal.connection:
                    _release(rows[index + 1 :], backoff(row.email_attempts + 1))
                    return sent
                continue
            mark_sent(row)
            sent += 1
    finally:
        try:
            connection.close()
        except Exception:  # a connection the server already dropped
            log.debug("closing the mail connection failed", exc_info=True)
    return sent


def _email(row, connection):
    """The message for ``row``, or None when it must not be mailed any more (the recipient
    lost their address, or the staff role an internal note needs)."""
    if isinstance(row, OutboundMail):
        return mail.compose_addressed(row, connection=connection)
    recipient = row.recipient
    if not recipient.email or not recipient.is_active:
        return None
    if row.internal:
        recipient.__dict__.pop("_itsm_roles", None)
        if not is_staff_member(recipient):
            return None
    links = _approval_links(row) if row.approval else None
    return mail.compose(row, approval_links=links, connection=connection)


def _approval_links(row: Notification) -> dict | None:
    from . import approvals

    try:
        return approvals.links_for(row.approval, row.recipient)
    except LookupError:
        return None


def mark_sent(row) -> None:
    """The server took the message: record it at once, in its own transaction."""
    with transaction.atomic():
        type(row).objects.filter(pk=row.pk, email_state=Notification.Email.SENDING).update(
            email_state=Notification.Email.SENT,
            emailed_at=timezone.now(),
            email_attempts=F("email_attempts") + 1,
            claimed_at=None,
            last_error="",
        )


def _retry_later(row, refusal) -> None:
    attempts = row.email_attempts + 1
    if attempts >= MAX_ATTEMPTS:
        _failed(row, refusal)
        return
    with transaction.atomic():
        type(row).objects.filter(pk=row.pk, email_state=Notification.Email.SENDING).update(
            email_state=Notification.Email.PENDING,
            email_attempts=attempts,
            next_attempt_at=timezone.now() + backoff(attempts),
            claimed_at=None,
            last_error=refusal.text,
        )


def _failed(row, refusal) -> None:
    with transaction.atomic():
        type(row).objects.filter(pk=row.pk, email_state=Notification.Email.SENDING).update(
            email_state=Notification.Email.FAILED,
            email_attempts=F("email_attempts") + 1,
            claimed_at=None,
            last_error=refusal.text,
        )


def _skip(row) -> None:
    with transaction.atomic():
        type(row).objects.filter(pk=row.pk, email_state=Notification.Email.SENDING).update(
            email_state=Notification.Email.SKIPPED, claimed_at=None
        )


def _release(rows: list, delay: timedelta) -> None:
    """Claimed rows not tried (the connection failed before them): pending again, after
    ``delay``, with no attempt counted."""
    if not rows:
        return
    with transaction.atomic():
        type(rows[0]).objects.filter(
            pk__in=[row.pk for row in rows], email_state=Notification.Email.SENDING
        ).update(
            email_state=Notification.Email.PENDING,
            next_attempt_at=timezone.now() + delay,
            claimed_at=None,
        )


def recover(now=None) -> int:
    """Rows a dead worker left ``sending`` past the lease: due again (the attempt counted,
    since the message may have gone out). Returns how many."""
    return sum(_recover(model, now or timezone.now()) for model in OUTBOXES)


def _recover(model, now) -> int:
    with transaction.atomic():
        stale = model.objects.filter(
            email_state=Notification.Email.SENDING, claimed_at__lte=now - lease()
        )
        failed = stale.filter(email_attempts__gte=MAX_ATTEMPTS - 1).update(
            email_state=Notification.Email.FAILED,
            email_attempts=F("email_attempts") + 1,
            claimed_at=None,
            last_error="The worker stopped while sending; too many attempts.",
        )
        again = stale.update(
            email_state=Notification.Email.PENDING,
            email_attempts=F("email_attempts") + 1,
            next_attempt_at=F("claimed_at"),  # due at once
            claimed_at=None,
            last_error="The worker stopped while sending.",
        )
    if again or failed:
        log.warning(
            "%d %s(s) left sending by a stopped worker: due again", again, model._meta.model_name
        )
    return again


def sweep(now=None) -> int:
    """Mail every notification due for a while (the broker missed it, or a retry is due),
    after taking back rows a dead worker left; return how many were sent."""
    now = now or timezone.now()
    recover(now)
    total = 0
    for model in OUTBOXES:
        while True:
            claimed, sent = _deliver_batch(model, None, now=now - sweep_grace(), limit=BATCH)
            total += sent
            if claimed < BATCH:
                break
    return total


@transaction.atomic
def retry_failed(rows, *, actor) -> int:
    """An administrator sends failed emails again (after fixing an address or the mail
    server's configuration); returns how many are due again."""
    if actor is not None and not has_role(actor, ADMIN):
        raise PermissionDenied
    return rows.filter(email_state=Notification.Email.FAILED).update(
        email_state=Notification.Email.PENDING,
        email_attempts=0,
        next_attempt_at=timezone.now(),
        last_error="",
    )
