"""Every write to SLA timers: attach, follow ticket changes, recompute, scan (SPEC §4).

Ticket changes arrive through the kernel's signals, inside the transaction that changed the
ticket (``sla.receivers``). Each handler locks the ticket's timers, moves their clocks
(``_reconcile``), derives due/breach/next check from the clock (``_settle``) and appends
``SlaEvent`` rows. Escalations never run here: a handler only sets ``next_check_at`` and the
scanner (``scan_due``, in ``sla.scanner``) claims the timer, which is what makes each warning
and breach happen exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import groupby
from types import SimpleNamespace

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from itsm import broker
from itsm.permissions import is_staff_member

from . import engine
from .engine import floor_second
from .models import EventKind, Metric, Policy, SlaEvent, Timer, working_calendar
from .tickets import TicketKind, kind_of

log = logging.getLogger(__name__)

State = Timer.State
Clock = Timer.Clock


# --- Reading ----------------------------------------------------------------------------------


def clock_of(timer: Timer) -> engine.Clock:
    return engine.Clock(
        calendar=working_calendar(timer.calendar_spec),
        target=timer.target_seconds,
        periods=tuple(tuple(p) for p in timer.periods),
        warn_at=tuple(timer.warn_at or ()),
    )


def reading(timer: Timer, now: datetime | None = None) -> dict:
    """The timer as people see it at ``now``: SPEC §11 fields plus display helpers.

    A running timer past its due instant reads ``breached`` even before a scanner records it.
    """
    now = floor_second(now or timezone.now())
    clock = clock_of(timer)
    spent = engine.elapsed(clock, now)
    state, due_at, breached_at = timer.state, timer.due_at, timer.breached_at
    if breached_at is None and timer.clock != Clock.STOPPED:
        breached_at = engine.breached_at(clock, now)
        if breached_at is not None:
            state = State.BREACHED
    return {
        "metric": timer.metric,
        "state": state,
        "paused": timer.clock == Clock.PAUSED,
        "running": timer.clock == Clock.RUNNING,
        "started_at": timer.started_at,
        "due_at": due_at,
        "elapsed_seconds": spent,
        "remaining_seconds": timer.target_seconds - spent,
        "target_seconds": timer.target_seconds,
        "percent": round(100.0 * spent / timer.target_seconds, 1) if timer.target_seconds else 100,
        "breached_at": breached_at,
        "met_at": timer.met_at,
        "timezone": timer.calendar_spec.get("timezone", "UTC"),
    }


# --- Policy selection -------------------------------------------------------------------------


def active_policies(kind: TicketKind) -> list[Policy]:
    return list(
        Policy.objects.active()
        .filter(applies_to=kind.key)
        .in_order()
        .select_related("calendar")
        .prefetch_related("calendar__holidays")
    )


def select_policy(ticket, policies: Iterable[Policy] | None = None) -> Policy | None:
    """The policy chosen for the ticket (a catalog item's) when it is active, else the first
    active policy, by ``order``, whose conditions the ticket meets."""
    kind = kind_of(ticket)
    if policies is None:
        policies = active_policies(kind)
    policies = list(policies)
    chosen = kind.chosen_policy_id(ticket)
    if chosen is not None:
        for policy in policies:
            if policy.pk == chosen and policy.applies_to == kind.key:
                return policy
    for policy in policies:
        if policy.applies_to == kind.key and policy.matches(
            kind.priority(ticket), kind.service_id(ticket)
        ):
            return policy
    return None


def _snapshot_differs(timer: Timer, policy: Policy) -> bool:
    return (
        timer.policy_id != policy.pk
        or timer.policy_version != policy.version
        or timer.calendar_id != policy.calendar_id
        or timer.calendar_version != policy.calendar.version
    )


def _take_snapshot(timer: Timer, policy: Policy, priority) -> None:
    calendar = policy.calendar
    timer.policy = policy
    timer.policy_version = policy.version
    timer.calendar = calendar
    timer.calendar_version = calendar.version
    timer.calendar_spec = calendar.spec()
    timer.target_seconds = policy.target(timer.metric)
    timer.warn_at = sorted(int(p) for p in policy.warn_at or ())
    timer.pause_on = list(policy.pause_on or ())
    timer.priority = priority


# --- The clock --------------------------------------------------------------------------------


class _Log:
    """Events of one timer during one change, written together."""

    def __init__(self, actor=None):
        self.actor = actor
        self.rows: list[tuple[Timer, datetime, str, dict]] = []

    def add(self, timer: Timer, at: datetime, kind: str, **data) -> None:
        self.rows.append((timer, at, kind, data))

    def write(self) -> None:
        if self.rows:
            SlaEvent.objects.bulk_create(
                SlaEvent(
                    timer=timer,
                    at=at,
                    kind=kind,
                    actor=self.actor if getattr(self.actor, "pk", None) else None,
                    data=_jsonable(data),
                )
                for timer, at, kind, data in self.rows
            )
            self.rows.clear()


def _jsonable(data: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}


def _set_clock(timer: Timer, clock: engine.Clock) -> None:
    timer.periods = [list(p) for p in clock.periods]


def _run(timer: Timer, at: datetime) -> None:
    _set_clock(timer, clock_of(timer).run(at))
    timer.clock = Clock.RUNNING
    if timer.breached_at is None:
        timer.state = State.RUNNING


def _pause(timer: Timer, at: datetime) -> None:
    _set_clock(timer, clock_of(timer).halt(at))
    timer.clock = Clock.PAUSED
    if timer.breached_at is None:
        timer.state = State.PAUSED


def _detect_breach(timer: Timer, at: datetime, log_: _Log) -> None:
    """Record the breach if the clock ran past the due instant by ``at`` (once: frozen after)."""
    if timer.breached_at is not None or timer.state == State.CANCELED:
        return
    crossed = engine.breached_at(clock_of(timer), at)
    if crossed is not None:
        timer.breached_at = crossed
        timer.due_at = crossed
        timer.state = State.BREACHED
        log_.add(timer, crossed, EventKind.BREACH, target=timer.target_seconds)


def _stop(timer: Timer, at: datetime, log_: _Log, *, cancel: bool = False) -> None:
    """Stop the clock at ``at``: met (at or before due), breached (later) or canceled."""
    _set_clock(timer, clock_of(timer).halt(at))
    _detect_breach(timer, at, log_)
    timer.clock = Clock.STOPPED
    timer.stopped_at = at
    if cancel:
        if timer.breached_at is None:
            timer.state = State.CANCELED
        log_.add(timer, at, EventKind.CANCEL)
        return
    timer.met_at = at
    if timer.breached_at is None:
        timer.state = State.MET
        log_.add(timer, at, EventKind.MET, elapsed=engine.elapsed(clock_of(timer), at))
    else:
        log_.add(timer, at, EventKind.STOP, elapsed=engine.elapsed(clock_of(timer), at))


def _desired(timer: Timer, ticket, kind: TicketKind) -> str:
    if kind.is_canceled(ticket):
        return "cancel"
    if timer.metric == Metric.RESPONSE and kind.responded(ticket):
        return "done"
    if timer.metric == Metric.RESOLUTION and kind.is_done(ticket):
        return "done"
    return "paused" if kind.is_paused(ticket, timer.pause_on) else "running"


def _reconcile(timer: Timer, ticket, kind: TicketKind, at: datetime, log_: _Log) -> None:
    """Bring the timer's clock in line with the ticket's current state, at instant ``at``."""
    desired = _desired(timer, ticket, kind)
    if timer.clock == Clock.STOPPED:
        reopenable = timer.metric == Metric.RESOLUTION and timer.met_at is not None
        if reopenable and desired in ("running", "paused"):
            timer.met_at = timer.stopped_at = None
            _run(timer, at)
            log_.add(timer, at, EventKind.REOPEN)
            if desired == "paused":
                _pause(timer, at)
                log_.add(timer, at, EventKind.PAUSE)
        return
    if desired in ("cancel", "done"):
        _stop(timer, at, log_, cancel=desired == "cancel")
    elif desired == "paused" and timer.clock == Clock.RUNNING:
        _detect_breach(timer, at, log_)
        _pause(timer, at)
        log_.add(timer, at, EventKind.PAUSE, elapsed=engine.elapsed(clock_of(timer), at))
    elif desired == "running" and timer.clock == Clock.PAUSED:
        _run(timer, at)
        log_.add(timer, at, EventKind.RESUME)


def _settle(timer: Timer, at: datetime, log_: _Log) -> None:
    """Derive what follows from the clock: breach, due instant, elapsed time, next check."""
    if timer.clock != Clock.STOPPED:
        _detect_breach(timer, at, log_)
    clock = clock_of(timer)
    if timer.breached_at is None and timer.clock == Clock.RUNNING:
        timer.due_at = engine.due(clock)
    elif timer.breached_at is None and timer.clock == Clock.PAUSED:
        timer.due_at = None
    timer.elapsed_seconds = engine.elapsed(clock, at)
    timer.last_change_at = at
    if timer.clock == Clock.STOPPED:
        pending = timer.breached_at is not None and timer.notified_level < engine.BREACH
        timer.next_check_at = at if pending else None
    else:
        timer.next_check_at = engine.next_check(clock, at, timer.notified_level)


def _reselect(timer: Timer, policy: Policy | None, ticket, kind, at, log_: _Log) -> bool:
    """Measure an unfrozen timer against ``policy`` from its original start (SPEC §4).

    With no matching policy the timer keeps measuring against the one it has. A frozen timer
    (met, breached, canceled) never changes."""
    if timer.state not in (State.RUNNING, State.PAUSED) or policy is None:
        return False
    if not _snapshot_differs(timer, policy):
        return False
    before = (timer.policy_id, timer.target_seconds)
    _take_snapshot(timer, policy, kind.priority(ticket))
    log_.add(
        timer,
        at,
        EventKind.RECOMPUTE,
        policy=policy.pk,
        previous_policy=before[0],
        target=timer.target_seconds,
        previous_target=before[1],
    )
    return True


def _save(timer: Timer) -> None:
    timer.version += 1
    timer.save()


# --- Following tickets --------------------------------------------------------------------------


def _instant(at: datetime | None) -> datetime:
    return floor_second(at or timezone.now())


def _locked_timers(ticket) -> list[Timer]:
    kind = kind_of(ticket)
    return list(
        Timer.objects.filter(**{kind.timer_field: ticket})
        .select_for_update(of=("self",))
        .select_related("policy")
        .order_by("id")
    )


@transaction.atomic(savepoint=False)
def attach(
    ticket,
    *,
    at: datetime | None = None,
    actor=None,
    replay: bool = True,
    notify_past: bool = True,
    fresh: bool = False,
) -> list[Timer]:
    """Create the ticket's response and resolution timers, started at ``at`` (default: when
    the ticket was created), under the policy that matches it now.

    With ``replay`` the ticket's audit trail since ``at`` is replayed (holds, agent replies,
    resolution, reopen), so a ticket back-dated or matched late gets the timers it would have
    had. With ``notify_past=False`` levels already crossed are marked handled (no escalation
    storm when loading history). Returns the timers, or ``[]`` when no policy matches, the
    ticket was already solved or canceled at ``at``, or it has timers already.

    ``fresh``: the ticket was inserted in this transaction (no one else sees it yet, it has no
    timers), so neither its lock nor the check for existing timers is needed. No savepoint of
    its own: it runs inside the ticket's write, whose failure it must fail.
    """
    kind = kind_of(ticket)
    if not fresh:
        # the ticket's row lock serializes attaching with the ticket's own changes (the kernel
        # takes it first) and with a concurrent repair
        type(ticket).objects.select_for_update().filter(pk=ticket.pk).values_list("pk").first()
        if Timer.objects.filter(**{kind.timer_field: ticket}).exists():
            return []
    policy = select_policy(ticket)
    if policy is None:
        return []
    start = _instant(at or ticket.created_at)
    if replay:
        view, replied, steps = _history(ticket, kind, since=start)
    else:
        view, replied, steps = ticket, False, []
    if kind.is_done(view) or kind.is_canceled(view):
        return []
    log_ = _Log(actor)
    timers = []
    for metric in (Metric.RESPONSE, Metric.RESOLUTION):
        timer = Timer(
            metric=metric,
            started_at=start,
            last_change_at=start,
            clock=Clock.PAUSED,
            state=State.PAUSED,
            periods=[],
            **{kind.timer_field: ticket},
        )
        _take_snapshot(timer, policy, kind.priority(ticket))
        log_.add(timer, start, EventKind.START, policy=policy.pk, target=timer.target_seconds)
        if _desired(timer, view, kind) != "paused":
            _run(timer, start)
        else:
            log_.add(timer, start, EventKind.PAUSE, elapsed=0)
        timers.append(timer)
    steps = [(start, view, replied), *steps]
    for instant, view_, replied_ in steps:
        for timer in timers:
            if replied_ and timer.metric == Metric.RESPONSE and timer.clock != Clock.STOPPED:
                _stop(timer, instant, log_)
            _reconcile(timer, view_, kind, instant, log_)
    now = max(_instant(None), steps[-1][0]) if replay else start
    for timer in timers:
        if not notify_past:
            timer.notified_level, _crossed = engine.reached(clock_of(timer), now)
        _settle(timer, now, log_)
    Timer.objects.bulk_create(timers)  # one INSERT; PostgreSQL returns their ids
    log_.write()
    _kick_if_due(timers, now)
    return timers


def _history(ticket, kind: TicketKind, *, since: datetime):
    """``(view, replied, steps)``: the ticket as it stood at ``since`` (and whether an agent had
    replied publicly by then), then ``[(instant, view, replied)]`` for each later instant at
    which it changed — rebuilt from its audit trail."""
    fields = ("state", kind.hold_field) if kind.hold_field else ("state",)
    events = list(ticket.events.filter(field__in=(*fields, "comment")).order_by("at", "id"))
    values = {name: getattr(ticket, name) for name in fields}
    for name in fields:
        first = next((e for e in events if e.field == name), None)
        if first is not None:
            values[name] = first.old if first.old is not None else ""
    replies = _agent_replies(
        ticket, [e.new for e in events if e.field == "comment" and not e.internal]
    )
    start_view, start_replied, steps = None, False, []
    for instant, group in groupby(events, key=lambda e: floor_second(e.at)):
        group = list(group)
        if instant > since and start_view is None:
            start_view = SimpleNamespace(**values)
        for event in group:
            if event.field in fields:
                values[event.field] = event.new if event.new is not None else ""
        replied = any(e.field == "comment" and e.new in replies for e in group)
        if instant > since:
            steps.append((instant, SimpleNamespace(**values), replied))
        else:
            start_replied = start_replied or replied
    if start_view is None:
        start_view = SimpleNamespace(**values)
    return start_view, start_replied, steps


def _agent_replies(ticket, comment_ids) -> set:
    if not comment_ids:
        return set()
    comments = ticket.comments.filter(pk__in=comment_ids, internal=False).select_related("author")
    return {c.pk for c in comments if is_staff_member(c.author)}


@transaction.atomic(savepoint=False)
def ticket_changed(ticket, *, changes: dict, created: bool, actor=None, at=None) -> list[Timer]:
    """Follow one ticket change (the kernel's ``ticket_changed`` signal, sent inside the
    ticket's write: no savepoint of its own)."""
    kind = kind_of(ticket)
    if created:
        return attach(ticket, at=at or ticket.created_at, actor=actor, replay=False, fresh=True)
    at = _instant(at or getattr(ticket, "updated_at", None))
    timers = _locked_timers(ticket)
    if not timers:
        return attach(ticket, actor=actor) if ticket.is_open else []
    reselect = any(name in changes for name in kind.match_fields)
    policy = select_policy(ticket) if reselect else None
    log_ = _Log(actor)
    for timer in timers:
        at_ = max(at, timer.last_change_at)
        changed = _reselect(timer, policy, ticket, kind, at_, log_)
        before = (timer.clock, timer.state, timer.breached_at, timer.periods)
        _reconcile(timer, ticket, kind, at_, log_)
        if changed or before != (timer.clock, timer.state, timer.breached_at, timer.periods):
            _settle(timer, at_, log_)
            _save(timer)
    log_.write()
    _kick_if_due(timers, at)
    return timers


@transaction.atomic
def responded(ticket, *, at=None, actor=None) -> Timer | None:
    """A public reply by an agent meets the response metric (if it still runs)."""
    at = _instant(at)
    for timer in _locked_timers(ticket):
        if timer.metric == Metric.RESPONSE and timer.clock != Clock.STOPPED:
            log_ = _Log(actor)
            at_ = max(at, timer.last_change_at)
            _stop(timer, at_, log_)
            _settle(timer, at_, log_)
            _save(timer)
            log_.write()
            _kick_if_due([timer], at_)
            return timer
    return None


def recompute(timer: Timer, *, policies=None, at=None, actor=None) -> bool:
    """Re-measure one unfrozen timer against the policy and calendar that apply now (after a
    configuration edit). Call inside a transaction holding the timer's lock. Idempotent:
    returns False when the timer already is up to date."""
    if timer.state not in (State.RUNNING, State.PAUSED):
        return False
    ticket = timer.ticket
    kind = kind_of(ticket)
    at = max(_instant(at), timer.last_change_at)
    policy = select_policy(ticket, policies)
    if policy is None:
        # nothing matches any more: keep measuring against the current policy, refreshed
        policy = Policy.objects.select_related("calendar").get(pk=timer.policy_id)
    log_ = _Log(actor)
    changed = _reselect(timer, policy, ticket, kind, at, log_)
    if not changed:
        return False
    _reconcile(timer, ticket, kind, at, log_)
    _settle(timer, at, log_)
    _save(timer)
    log_.write()
    return True


def recompute_batch(
    *,
    calendar_id=None,
    applies_to=None,
    after_id: int = 0,
    limit: int = 200,
    now=None,
    progress=None,
) -> tuple[int, int | None]:
    """Recompute one chunk of unfrozen timers (id above ``after_id``), in one transaction.

    Returns ``(changed, cursor)``; ``cursor`` is None when there is nothing after this chunk.
    """
    from .tickets import KINDS

    with transaction.atomic():
        timers = Timer.objects.unfrozen().filter(pk__gt=after_id).order_by("pk")
        if calendar_id is not None:
            timers = timers.filter(Q(calendar_id=calendar_id) | Q(policy__calendar_id=calendar_id))
        if applies_to is not None:
            timers = timers.filter(policy__applies_to=applies_to)
        timers = list(
            timers.select_for_update(of=("self",)).select_related(
                *(kind.timer_field for kind in KINDS)
            )[:limit]
        )
        policies = {kind.key: active_policies(kind) for kind in KINDS}
        changed = 0
        for timer in timers:
            kind = kind_of(timer.ticket)
            changed += recompute(timer, policies=policies[kind.key], at=now)
    if progress is not None:
        progress.update(len(timers))
    cursor = timers[-1].pk if len(timers) == limit else None
    return changed, cursor


# An owed recompute left this long is the sweep's (its task was lost, or its worker died).
RECOMPUTE_GRACE = timedelta(seconds=60)


def work_recompute_job(job_id: int, *, budget: float, now=None) -> bool:
    """Recompute the timers a ``RecomputeJob`` owes, chunk after chunk, moving its cursor after
    each one (a worker that dies resumes there). Returns whether the job is finished; ``False``
    when the budget ran out or another worker holds it."""
    import time

    from .models import RecomputeJob

    started = time.monotonic()
    lease = timedelta(seconds=budget + 60)
    now = now or timezone.now()
    claimed = (
        RecomputeJob.objects.filter(pk=job_id, done_at__isnull=True)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + lease)
    )
    if not claimed:
        return not RecomputeJob.objects.filter(pk=job_id, done_at__isnull=True).exists()
    job = RecomputeJob.objects.get(pk=job_id)
    scope = {"calendar_id": job.calendar_id, "applies_to": job.applies_to or None}
    cursor: int | None = job.after_id
    while cursor is not None:
        if time.monotonic() - started > budget:
            RecomputeJob.objects.filter(pk=job.pk).update(leased_until=None)
            return False
        _done, cursor = recompute_batch(**scope, after_id=cursor)
        if cursor is not None:
            RecomputeJob.objects.filter(pk=job.pk).update(
                after_id=cursor, leased_until=timezone.now() + lease
            )
    if job.calendar_id is None:
        attach_missing(applies_to=scope["applies_to"])
    RecomputeJob.objects.filter(pk=job.pk).update(done_at=timezone.now(), leased_until=None)
    return True


def sweep_recompute_jobs(*, budget: float, now=None) -> int:
    """Do the owed recomputes whose task never ran (broker down at commit) or whose worker
    died; returns how many finished."""
    from .models import RecomputeJob

    now = now or timezone.now()
    pending = (
        RecomputeJob.objects.filter(done_at__isnull=True, created_at__lte=now - RECOMPUTE_GRACE)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .values_list("pk", flat=True)[:20]
    )
    finished = 0
    for pk in list(pending):
        try:  # one job that fails is logged and tried again later; the others go on
            finished += work_recompute_job(pk, budget=budget, now=now)
        except Exception:
            log.exception("SLA recompute job %s failed; it is tried again after its lease", pk)
    return finished


def attach_missing(*, applies_to=None, notify_past: bool = False, progress=None) -> int:
    """Attach timers to open tickets that have none but match a policy now (after a policy
    was added or widened). Levels already crossed are not escalated unless ``notify_past``."""
    from .tickets import KINDS

    attached = 0
    for kind in KINDS:
        if applies_to not in (None, kind.key) or not active_policies(kind):
            continue
        tickets = kind.model.objects.open().filter(sla_timers__isnull=True).order_by("pk")
        for ticket in tickets.iterator(chunk_size=200):
            attached += bool(attach(ticket, notify_past=notify_past))
            if progress is not None:
                progress.update(1)
    return attached


def quiet_past_levels(now=None, *, chunk: int = 500) -> int:
    """Mark every level already crossed as handled without escalating it (loading history,
    e.g. demo data). Not for production catch-up: there, the scanner escalates."""
    now = _instant(now)
    done = 0
    while True:
        with transaction.atomic():
            timers = list(
                Timer.objects.filter(next_check_at__lte=now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:chunk]
            )
            for timer in timers:
                clock = clock_of(timer)
                if timer.breached_at is None and timer.state != State.CANCELED:
                    _detect_breach(timer, now, _Log())
                level = engine.BREACH if timer.breached_at else engine.reached(clock, now)[0]
                timer.notified_level = max(timer.notified_level, level)
                timer.next_check_at = (
                    None
                    if timer.clock == Clock.STOPPED
                    else engine.next_check(clock, now, timer.notified_level)
                )
            Timer.objects.bulk_update(
                timers, ["notified_level", "next_check_at", "breached_at", "due_at", "state"]
            )
        done += len(timers)
        if len(timers) < chunk:
            return done


def _kick_if_due(timers: Iterable[Timer], at: datetime) -> None:
    """Have a scanner look at once when a level is already due (e.g. a breach on a priority
    change); beat would find it within ``SLA_SCAN_SECONDS`` anyway."""
    if any(t.next_check_at is not None and t.next_check_at <= at for t in timers):
        transaction.on_commit(_enqueue_scan)


def _enqueue_scan() -> None:
    from .tasks import scan

    broker.send(scan)  # or beat's next scan finds the timer


def scan_due(now: datetime | None = None, *, batch: int | None = None) -> int:
    """Claim due timers and escalate them exactly once; return how many are still due."""
    from .scanner import scan_due as scan

    return scan(now, batch=batch)
