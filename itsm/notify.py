"""In-app and email notifications (SPEC §9).

``notify`` writes one row per recipient inside the caller's transaction and, once it commits,
hands the row ids to a Celery task. If the broker cannot take the task the rows simply stay
``pending`` and the periodic sweep mails them: nothing is lost.
"""

import logging
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation

from .models import Notification
from .permissions import is_staff_member

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
SWEEP_GRACE = timedelta(seconds=20)
BATCH = 200
_mail_off: ContextVar[bool] = ContextVar("itsm_mail_off", default=False)


@contextmanager
def without_mail():
    """In-app notifications only, no email (demo data: nobody should be mailed about it)."""
    token = _mail_off.set(True)
    try:
        yield
    finally:
        _mail_off.reset(token)


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
) -> list[Notification]:
    """Notify each of ``recipients`` (users; duplicates and ``None`` ignored).

    ``subject`` and ``message`` are lazy translatable strings formatted with ``params`` in each
    recipient's language. Nobody is notified of their own action; when ``internal`` is set
    (an internal note) only staff receive it.
    """
    params = {"number": ticket.number, "title": ticket.title, **(params or {})}
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        if actor is not None and user.pk == actor.pk:
            continue
        if internal and not is_staff_member(user):
            continue
        with translation.override(user.language or settings.LANGUAGE_CODE):
            rows.append(
                Notification(
                    recipient=user,
                    kind=kind,
                    ticket=ticket.number,
                    url=ticket_url(ticket, user),
                    subject=(str(subject) % params)[:255],
                    message=str(message) % params,
                    email_state=(
                        Notification.Email.PENDING
                        if user.email and not _mail_off.get()
                        else Notification.Email.SKIPPED
                    ),
                )
            )
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.email_state == Notification.Email.PENDING]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))
    return created


def mark_read(notification: Notification, *, actor) -> None:
    """The recipient has seen one notification (someone else's is not theirs to mark)."""
    if notification.recipient_id != actor.pk:
        raise PermissionDenied
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])


def mark_all_read(*, actor) -> int:
    """Mark every unread notification of ``actor`` read; return how many."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def ticket_url(ticket, user) -> str:
    """Staff follow the desk page; end users the portal page (``get_portal_url``)."""
    if not is_staff_member(user) and hasattr(ticket, "get_portal_url"):
        return ticket.get_portal_url()
    return ticket.get_absolute_url() if hasattr(ticket, "get_absolute_url") else ""


def enqueue(ids: list[int]) -> bool:
    """Hand ``ids`` to a worker; on a broker failure leave them to the sweep."""
    from .tasks import deliver_notifications

    try:
        deliver_notifications.apply_async(args=[ids], retry=False)
    except Exception:  # the broker is down: the rows stay pending for the sweep
        log.warning("broker unreachable; %d notification(s) left for the sweep", len(ids))
        return False
    return True


def deliver(ids: Iterable[int] | None = None, *, older_than=None, limit: int = 200) -> int:
    """Mail pending notifications; return how many were sent."""
    return _deliver_batch(ids, older_than=older_than, limit=limit)[1]


def _deliver_batch(ids, *, older_than, limit: int) -> tuple[int, int]:
    """Claim and mail one batch; return ``(claimed, sent)``.

    Rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` so two workers never mail the same
    row; a row is marked sent in the same transaction that claimed it.
    """
    sent = 0
    with transaction.atomic():
        pending = Notification.objects.filter(email_state=Notification.Email.PENDING)
        if ids is not None:
            pending = pending.filter(pk__in=list(ids))
        if older_than is not None:
            pending = pending.filter(created_at__lte=older_than)
        claimed = list(
            pending.select_related("recipient")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("created_at")[:limit]
        )
        for row in claimed:
            row.email_attempts += 1
            try:
                _send(row)
            except Exception as exc:  # SMTP trouble: keep the row, retry on the next sweep
                log.warning("notification %s not mailed: %s", row.pk, exc)
                row.last_error = str(exc)[:2000]
                if row.email_attempts >= MAX_ATTEMPTS:
                    row.email_state = Notification.Email.FAILED
            else:
                row.email_state = Notification.Email.SENT
                row.emailed_at = timezone.now()
                row.last_error = ""
                sent += 1
            row.save(update_fields=["email_state", "email_attempts", "emailed_at", "last_error"])
    return len(claimed), sent


def sweep(now=None) -> int:
    """Mail every notification still pending after a grace period (the broker missed it)."""
    now = now or timezone.now()
    total = 0
    while True:
        claimed, sent = _deliver_batch(None, older_than=now - SWEEP_GRACE, limit=BATCH)
        total += sent
        if claimed < BATCH:
            return total


def _send(row: Notification) -> None:
    recipient = row.recipient
    link = f"{settings.SITE_URL}{row.url}" if row.url else settings.SITE_URL
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        body = f"{row.message}\n\n{link}\n"
    email = EmailMessage(
        subject=f"[{row.ticket}] {row.subject}" if row.ticket else row.subject,
        body=body,
        to=[recipient.email],
        headers={
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            **({"References": f"<{row.ticket}@itsm>"} if row.ticket else {}),
        },
    )
    email.send(fail_silently=False)
