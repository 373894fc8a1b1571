"""The scanner: claims due timers and runs their warning and breach escalations exactly once.

``scan_due(now)`` takes up to one batch of timers whose ``next_check_at`` has come, through the
partial index on it, with ``SELECT … FOR UPDATE SKIP LOCKED``: a second scanner takes other
rows or none. In the claiming transaction it records a breach at its true crossing instant,
inserts the ``Escalation`` row of the highest level crossed (``UNIQUE(timer, level)``: a
redelivered task or a racing scanner that got past the lock inserts nothing and notifies
nobody), writes the notifications, and moves ``next_check_at`` to the next threshold. A worker
killed mid-batch rolls all of it back; the next scan does it again, once. After downtime the
same query catches up, and only the highest level each timer reached escalates.

One timer that cannot be processed (an exception, not a dead worker) does not hold the batch
back: the batch is processed again one timer per savepoint, and that timer alone is logged and
checked again ``SLA_RETRY_SECONDS`` later.

Ticket changes an escalation asks for (raise priority, reassign) run after commit, in their
own transaction (``apply_escalation_actions``), marked done on the escalation row.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm import broker
from itsm.db import insert_rows, json_rows, recordset
from itsm.models import Notification
from itsm.notify import batched, notify
from itsm.permissions import MANAGER, users_with_role

from . import engine
from .engine import BREACH, floor_second
from .models import Escalation, EventKind, Metric, Recipient, SlaEvent, Timer
from .services import clock_of
from .tickets import kind_of

log = logging.getLogger(__name__)

BATCH = 500
ACTIONS_GRACE = timedelta(seconds=30)

WARNING_SUBJECT = _("SLA warning on %(number)s: %(level)s%% of the %(metric)s target used")
WARNING_MESSAGE = _(
    '%(number)s "%(title)s" has used %(level)s%% of its %(metric)s target (%(policy)s). '
    "It is due at %(due)s."
)
BREACH_SUBJECT = _("SLA breached on %(number)s: %(metric)s target missed")
BREACH_MESSAGE = _(
    '%(number)s "%(title)s" missed its %(metric)s target (%(policy)s): it was due at %(due)s.'
)


def scan_due(now: datetime | None = None, *, batch: int | None = None) -> int:
    """Process one batch of due timers at ``now``; return how many timers are still due."""
    now = floor_second(now or timezone.now())
    claim_batch(now, batch=batch)
    return Timer.objects.filter(next_check_at__lte=now).count()


def claim_batch(now: datetime, *, batch: int | None = None) -> int:
    """Claim and process up to ``batch`` due timers in one transaction; return how many.

    Per batch: one claim, one ticket fetch, one escalation insert, one timer update, one event
    insert — plus, when escalations notify someone, one notification insert (with the
    recipients' roles and preferences, two reads) and one mail task for the whole batch.

    When processing the batch raises (one timer's policy, calendar or notification that
    cannot be handled), nothing of it is kept and the same timers are processed again one at
    a time, each in its own savepoint (``_claim_one_by_one``): the failing timer is logged and
    checked again after ``SLA_RETRY_SECONDS``, the others go through. A ``BaseException``
    (the worker killed) still rolls the whole batch back."""
    now = floor_second(now)
    ids: list[int] = []
    try:
        with transaction.atomic():
            timers = _lock_due(Timer.objects.filter(next_check_at__lte=now), batch)
            ids = [timer.pk for timer in timers]
            if timers:
                _process(timers, now)
    except Exception:
        if not ids:  # the claim itself failed (the database): nothing to isolate
            raise
        log.warning(
            "SLA scan: a batch of %d timer(s) failed; processing them one at a time",
            len(ids),
            exc_info=True,
        )
    else:
        return len(timers)
    return _claim_one_by_one(ids, now)


def _lock_due(timers, batch: int | None = None) -> list[Timer]:
    return list(
        timers.order_by("next_check_at", "id")
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("policy")[: batch or BATCH]
    )


def _process(timers: list[Timer], now: datetime) -> None:
    """Escalate, notify and reschedule ``timers`` (locked, in the caller's transaction)."""
    _load_tickets(timers)
    context = _Context()
    due = [(timer, _check(timer, now, context)) for timer in timers]
    plans = [_plan(timer, *level, context) for timer, level in due if level]
    claimed = _claim(plans)
    with batched():  # one INSERT and one mail task for the batch's notifications
        for plan in plans:
            timer, level = plan["timer"], plan["level"]
            if (timer.pk, level) in claimed:
                _notify(plan)
                kind = EventKind.BREACH if level >= BREACH else EventKind.WARNING
                context.event(timer, now, kind, level=level, notified=len(plan["people"]))
            timer.notified_level = level
    for timer in timers:
        _schedule(timer, now, context)
    _write_timers(timers)
    context.events_write()


def retry_delay() -> timedelta:
    """How long a timer whose processing failed waits before it is checked again."""
    return timedelta(seconds=getattr(settings, "SLA_RETRY_SECONDS", 300))


def _claim_one_by_one(ids: list[int], now: datetime) -> int:
    """Process the timers ``ids`` (a batch that failed as a whole) each in its own savepoint.

    A timer that raises is rolled back alone, logged with its id and the exception, and
    rescheduled ``SLA_RETRY_SECONDS`` later: it neither blocks the others nor is retried at
    once in a loop. Returns how many timers were claimed."""
    with transaction.atomic():
        timers = _lock_due(Timer.objects.filter(pk__in=ids, next_check_at__lte=now), len(ids))
        for timer in timers:
            try:
                with transaction.atomic():
                    _process([timer], now)
            except Exception:
                retry_at = now + retry_delay()
                log.exception(
                    "SLA scan: timer %s failed; checked again at %s",
                    timer.pk,
                    retry_at.isoformat(),
                )
                Timer.objects.filter(pk=timer.pk).update(
                    next_check_at=retry_at, version=F("version") + 1, updated_at=timezone.now()
                )
    return len(timers)


TIMER_FIELDS = [
    "state",
    "breached_at",
    "due_at",
    "notified_level",
    "next_check_at",
    "version",
    "updated_at",
]


class _Context:
    """What one batch shares: managers (one query, if needed), each timer's clock (read
    once), events written together."""

    def __init__(self):
        self._managers = None
        self._clocks: dict[int, engine.Clock] = {}
        self.events: list[dict] = []

    def clock(self, timer: Timer) -> engine.Clock:
        """``clock_of(timer)``: the scan changes no field it is made of."""
        clock = self._clocks.get(timer.pk)
        if clock is None:
            clock = self._clocks[timer.pk] = clock_of(timer)
        return clock

    @property
    def managers(self):
        if self._managers is None:
            self._managers = list(users_with_role(MANAGER))
        return self._managers

    def event(self, timer, at, kind, **data) -> None:
        data = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}
        self.events.append({"timer_id": timer.pk, "at": at, "kind": kind, "data": data})

    def events_write(self) -> None:
        insert_rows(SlaEvent, self.events, returning=False)


def _load_tickets(timers: list[Timer]) -> None:
    """Fetch the tickets (with assignee, team and lead) of a batch in one query per type."""
    from .tickets import KINDS

    for kind in KINDS:
        ids = {getattr(t, f"{kind.timer_field}_id") for t in timers} - {None}
        if not ids:
            continue
        tickets = kind.model.objects.select_related("assignee", "assignment_group__lead").in_bulk(
            ids
        )
        for timer in timers:
            ticket_id = getattr(timer, f"{kind.timer_field}_id")
            if ticket_id in tickets:
                setattr(timer, kind.timer_field, tickets[ticket_id])


def _check(timer: Timer, now: datetime, context: _Context):
    """Record a breach the clock has reached; return ``(level, crossed_at)`` to escalate, or
    None. Only the highest level crossed escalates (catch-up never replays lower ones)."""
    stopped = timer.clock == Timer.Clock.STOPPED
    if timer.breached_at is None and timer.state != Timer.State.CANCELED:
        crossed = engine.breached_at(context.clock(timer), now)
        if crossed is not None:
            timer.breached_at = timer.due_at = crossed
            timer.state = Timer.State.BREACHED
            context.event(timer, crossed, EventKind.BREACH, target=timer.target_seconds)
    if timer.breached_at is not None:
        level, crossed_at = BREACH, timer.breached_at
    elif stopped:
        return None  # warnings are for acting in time: none once stopped
    else:
        level, crossed_at = engine.reached(context.clock(timer), now)
    return (level, crossed_at) if level > timer.notified_level else None


def _schedule(timer: Timer, now: datetime, context: _Context) -> None:
    if timer.clock == Timer.Clock.STOPPED:
        timer.next_check_at = None
    else:
        timer.next_check_at = engine.next_check(context.clock(timer), now, timer.notified_level)
    timer.version += 1
    timer.updated_at = timezone.now()


def _plan(timer: Timer, level: int, crossed_at, context: _Context) -> dict:
    """Who to notify and what to change for ``level`` (nothing is done yet)."""
    config = timer.policy.escalation(level)
    ticket = timer.ticket
    people, seen = [], set()
    for user in recipients(timer, config["notify"], lambda: context.managers):
        if user is not None and user.is_active and user.pk not in seen:
            seen.add(user.pk)
            people.append(user)
    actions = {}
    if timer.clock != Timer.Clock.STOPPED and ticket.is_open:
        # one level above the priority the timer was measured at: two timers breaching
        # together raise it once
        if config["raise_priority"] and timer.priority and timer.priority > 1:
            actions["priority"] = timer.priority - 1
        if config["reassign_to"]:
            actions["reassign_to"] = config["reassign_to"]
    return {
        "timer": timer,
        "level": level,
        "crossed_at": crossed_at,
        "people": people,
        "actions": actions,
    }


CLAIM_CHUNK = 200  # rows per INSERT where the batch is not one parameter (SQLite)
ESCALATION_COLUMNS = {
    "timer_id": "bigint",
    "level": "smallint",
    "crossed_at": "timestamptz",
    "created_at": "timestamptz",
    "notified": "jsonb",
    "actions": "jsonb",
    "actions_done_at": "timestamptz",
}


def _claim(plans: list[dict]) -> set[tuple[int, int]]:
    """Insert the escalation rows; return the ``(timer, level)`` pairs this scan inserted.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING``: a pair another scan inserted (committed, or
    still in flight — the insert waits for it) comes back missing, and is not escalated
    again. No error, no savepoint. On PostgreSQL one statement for the batch."""
    now = timezone.now()
    rows = [
        [
            plan["timer"].pk,
            plan["level"],
            plan["crossed_at"],
            now,
            sorted(p.pk for p in plan["people"]),
            plan["actions"],
            None if plan["actions"] else now,
        ]
        for plan in plans
    ]
    columns = ", ".join(ESCALATION_COLUMNS)
    inserted = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO sla_escalation ({columns}) "  # noqa: S608 - no values interpolated
                f"SELECT {columns} FROM {recordset(ESCALATION_COLUMNS)} AS v ORDER BY v.n "
                "ON CONFLICT (timer_id, level) DO NOTHING RETURNING id, timer_id, level",
                [json_rows(rows)],
            )
            inserted = cursor.fetchall()
        else:
            adapt = connection.ops.adapt_datetimefield_value
            for index in range(0, len(rows), CLAIM_CHUNK):
                chunk = rows[index : index + CLAIM_CHUNK]
                params = []
                for timer_id, level, crossed_at, created_at, notified, actions, done in chunk:
                    params += [timer_id, level, adapt(crossed_at), adapt(created_at)]
                    params += [json.dumps(notified), json.dumps(actions), adapt(done)]
                values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO sla_escalation ({columns}) "  # noqa: S608 - placeholders only
                    f"VALUES {values} "
                    "ON CONFLICT (timer_id, level) DO NOTHING RETURNING id, timer_id, level",
                    params,
                )
                inserted += cursor.fetchall()
    ids = {(timer_id, level): pk for pk, timer_id, level in inserted}
    for plan in plans:
        plan["escalation"] = ids.get((plan["timer"].pk, plan["level"]))
    skipped = len(plans) - len(ids)
    if skipped:
        log.info("SLA scan: %d level(s) already escalated by another scan", skipped)
    return set(ids)


def _notify(plan: dict) -> None:
    timer, level = plan["timer"], plan["level"]
    breach = level >= BREACH
    due = timer.due_at or timer.breached_at
    notify(
        plan["people"],
        kind=Notification.Kind.SLA_BREACH if breach else Notification.Kind.SLA_WARNING,
        ticket=timer.ticket,
        subject=BREACH_SUBJECT if breach else WARNING_SUBJECT,
        message=BREACH_MESSAGE if breach else WARNING_MESSAGE,
        params={
            "level": level,
            "metric": Metric(timer.metric).label,
            "policy": timer.policy.name,
            "due": _local(due, timer.calendar_spec.get("timezone", "UTC")) if due else "-",
        },
    )
    if plan["actions"]:
        escalation_id = plan["escalation"]
        transaction.on_commit(lambda: _enqueue_actions(escalation_id))


TIMER_COLUMNS = {
    "id": "bigint",
    "state": "varchar",
    "breached_at": "timestamptz",
    "due_at": "timestamptz",
    "notified_level": "smallint",
    "next_check_at": "timestamptz",
    "version": "integer",
    "updated_at": "timestamptz",
}


def _write_timers(timers: list[Timer]) -> None:
    """One UPDATE for the batch (PostgreSQL: ``UPDATE … FROM`` the rows of one parameter)."""
    if connection.vendor != "postgresql":
        Timer.objects.bulk_update(timers, TIMER_FIELDS)
        return
    rows = [
        [
            timer.pk,
            timer.state,
            timer.breached_at,
            timer.due_at,
            timer.notified_level,
            timer.next_check_at,
            timer.version,
            timer.updated_at,
        ]
        for timer in timers
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sla_timer AS t SET "  # noqa: S608 - no values interpolated
            + ", ".join(f"{name} = v.{name}" for name in TIMER_FIELDS)
            + f" FROM {recordset(TIMER_COLUMNS)} AS v WHERE t.id = v.id",
            [json_rows(rows)],
        )


def recipients(timer: Timer, who: list[str], managers=()) -> list:
    """The people a level notifies: ``managers`` may be a callable (fetched only if needed)."""
    ticket = timer.ticket
    people = []
    group = ticket.assignment_group if ticket.assignment_group_id else None
    if Recipient.ASSIGNEE in who:
        if ticket.assignee_id:
            people.append(ticket.assignee)
        elif group is not None:
            people.extend(group.members.filter(is_active=True))
    if Recipient.TEAM_LEAD in who and group is not None and group.lead_id:
        people.append(group.lead)
    if Recipient.MANAGERS in who:
        people.extend(managers() if callable(managers) else managers)
    return people


def _local(instant: datetime, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return f"{instant.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"


def _enqueue_actions(escalation_id: int) -> None:
    from .tasks import apply_escalation_actions as task

    broker.send(task, escalation_id)  # or the next scan's sweep applies them


def apply_escalation_actions(escalation_id: int) -> bool:
    """Raise the priority and/or reassign as the escalation says, once. Returns whether it
    acted."""
    from accounts.models import Team

    with transaction.atomic():
        escalation = (
            Escalation.objects.select_for_update(skip_locked=True)
            .filter(pk=escalation_id, actions_done_at__isnull=True)
            .select_related("timer")
            .first()
        )
        if escalation is None:
            return False
        ticket = escalation.timer.ticket
        team_id = escalation.actions.get("reassign_to")
        changes = kind_of(ticket).escalate(
            ticket,
            priority=escalation.actions.get("priority") or None,
            team=Team.objects.filter(pk=team_id).first() if team_id else None,
        )
        escalation.actions_done_at = timezone.now()
        escalation.save(update_fields=["actions_done_at"])
    return bool(changes)


def sweep_escalation_actions(now: datetime | None = None) -> int:
    """Apply actions of escalations whose task never ran (broker down at commit). One that
    fails is logged and left for the next sweep; the others are applied."""
    now = now or timezone.now()
    ids = list(
        Escalation.objects.filter(actions_done_at__isnull=True, created_at__lte=now - ACTIONS_GRACE)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    applied = 0
    for pk in ids:
        try:
            applied += apply_escalation_actions(pk)
        except Exception:
            log.exception("escalation %s: actions failed; the next sweep tries again", pk)
    return applied
