"""SLA configuration (calendars, policies) and the timers that measure tickets against it (SPEC §4).

A timer keeps a snapshot of what it is measured against — target, warning levels, pause reasons
and the calendar's definition — so that scanning never depends on configuration being edited
meanwhile. Its clock is the list of wall-clock periods during which it ran (``periods``, epoch
seconds, the last one open while running): elapsed business time, the due instant and the
instant each threshold was crossed are pure functions of that list and the calendar
(``sla.engine``), which is what makes a priority change "recompute from the original start".
"""

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from itsm.models import AppendOnlyQuerySet, TimestampedModel

from .calendar import WorkingCalendar

DEFAULT_WARN_AT = [50, 75, 90]
BREACH = 100  # the escalation level of a breach; warning levels are percentages below it


def default_warn_at() -> list[int]:
    return list(DEFAULT_WARN_AT)


def default_warning_notify() -> list[str]:
    return ["assignee", "team_lead"]


def default_breach_notify() -> list[str]:
    return ["assignee", "team_lead"]


class Metric(models.TextChoices):
    RESPONSE = "response", _("Response")
    RESOLUTION = "resolution", _("Resolution")


class AppliesTo(models.TextChoices):
    INCIDENT = "incident", _("Incidents")
    REQUEST = "request", _("Requests")


class Recipient(models.TextChoices):
    ASSIGNEE = "assignee", _("Assignee (or the team's members when unassigned)")
    TEAM_LEAD = "team_lead", _("Team lead")
    MANAGERS = "managers", _("Managers")


# --- Calendars ------------------------------------------------------------------------------


class Calendar(TimestampedModel):
    """Working hours in an IANA time zone, minus holidays. ``hours`` is the API shape:
    ``[{"weekday": 0-6 (Mon=0), "start": "09:00", "end": "18:00"}, ...]``."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    hours = models.JSONField(_("working hours"), default=list)
    is_default = models.BooleanField(_("default calendar"), default=False, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("SLA calendar")
        verbose_name_plural = _("SLA calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sla:calendar_detail", args=[self.pk])

    def spec(self, holidays: list[date] | None = None) -> dict:
        """The snapshot a timer keeps: ``{"timezone", "hours", "holidays": ["YYYY-MM-DD"]}``."""
        if holidays is None:
            holidays = [h.date for h in self.holidays.all()]
        return {
            "timezone": self.timezone,
            "hours": [dict(item) for item in self.hours],
            "holidays": sorted(day.isoformat() for day in holidays),
        }

    def working_calendar(self) -> WorkingCalendar:
        return working_calendar(self.spec())


def working_calendar(spec: dict) -> WorkingCalendar:
    return _working_calendar(
        spec["timezone"],
        tuple((h["weekday"], h["start"], h["end"]) for h in spec["hours"]),
        tuple(spec.get("holidays", ())),
    )


_CALENDARS: dict[tuple, WorkingCalendar] = {}


def _working_calendar(timezone: str, hours: tuple, holidays: tuple) -> WorkingCalendar:
    """Equal specs share one ``WorkingCalendar`` (its per-day intervals are cached)."""
    key = (timezone, hours, holidays)
    cal = _CALENDARS.get(key)
    if cal is None:
        if len(_CALENDARS) > 256:
            _CALENDARS.clear()
        cal = WorkingCalendar.from_spec(
            timezone,
            [{"weekday": w, "start": s, "end": e} for w, s, e in hours],
            holidays,
        )
        _CALENDARS[key] = cal
    return cal


class Holiday(models.Model):
    calendar = models.ForeignKey(
        Calendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_holiday_unique_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


# --- Policies -------------------------------------------------------------------------------


class PolicyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def in_order(self):
        return self.order_by("order", "id")


class Policy(TimestampedModel):
    """Targets for tickets matching ``priorities`` (empty = any) and ``service`` (empty = any);
    the first active policy by ``order`` wins."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    applies_to = models.CharField(
        _("applies to"), max_length=16, choices=AppliesTo.choices, default=AppliesTo.INCIDENT
    )
    priorities = models.JSONField(
        _("priorities"), default=list, blank=True, help_text=_("Empty matches every priority.")
    )
    service = models.ForeignKey(
        "cmdb.CI",
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_policies",
        limit_choices_to={"ci_class__name": "business_service"},
        help_text=_("Empty matches every service."),
    )
    calendar = models.ForeignKey(
        Calendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="policies"
    )
    order = models.IntegerField(_("order"), default=100)
    response_seconds = models.PositiveIntegerField(
        _("response target"), validators=[MinValueValidator(1)]
    )
    resolution_seconds = models.PositiveIntegerField(
        _("resolution target"), validators=[MinValueValidator(1)]
    )
    pause_on = models.JSONField(_("pause on"), default=list, blank=True)
    warn_at = models.JSONField(_("warn at (%)"), default=default_warn_at, blank=True)
    warning_notify = models.JSONField(
        _("notify at a warning"), default=default_warning_notify, blank=True
    )
    warning_raise_priority = models.BooleanField(_("raise priority at a warning"), default=False)
    warning_reassign_to = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("reassign at a warning to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    breach_notify = models.JSONField(
        _("notify at a breach"), default=default_breach_notify, blank=True
    )
    breach_raise_priority = models.BooleanField(_("raise priority at a breach"), default=False)
    breach_reassign_to = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("reassign at a breach to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sla:policy_detail", args=[self.pk])

    def matches(self, priority, service_id) -> bool:
        if self.priorities and priority not in self.priorities:
            return False
        return self.service_id is None or self.service_id == service_id

    def target(self, metric: str) -> int:
        return self.response_seconds if metric == Metric.RESPONSE else self.resolution_seconds

    def escalation(self, level: int) -> dict:
        """What to do when ``level`` (a warning percentage, or ``BREACH``) is reached."""
        if level >= BREACH:
            return {
                "notify": list(self.breach_notify),
                "raise_priority": self.breach_raise_priority,
                "reassign_to": self.breach_reassign_to_id,
            }
        return {
            "notify": list(self.warning_notify),
            "raise_priority": self.warning_raise_priority,
            "reassign_to": self.warning_reassign_to_id,
        }


# --- Timers ---------------------------------------------------------------------------------


class TimerQuerySet(models.QuerySet):
    def for_ticket(self, ticket):
        from .tickets import kind_of

        return self.filter(**{kind_of(ticket).timer_field: ticket})

    def live(self):
        """Timers whose clock has not stopped (running or paused; breached ones included)."""
        return self.exclude(clock=Timer.Clock.STOPPED)

    def at_risk(self, now, within):
        """Running timers that have not breached, due within ``within`` of ``now``: the
        dashboard's "at risk" and the desk's "Breaching soon" are this one set."""
        return self.filter(
            state=Timer.State.RUNNING,
            clock=Timer.Clock.RUNNING,
            due_at__gte=now,
            due_at__lte=now + within,
        )

    def overdue(self, now):
        """Breached and not achieved (running or paused), and running timers past due that no
        scanner has recorded yet: the dashboard's "breached now" and the desk's "Breached"."""
        return self.filter(
            Q(state=Timer.State.BREACHED) & ~Q(clock=Timer.Clock.STOPPED)
            | Q(state=Timer.State.RUNNING, clock=Timer.Clock.RUNNING, due_at__lt=now)
        )

    def unfrozen(self):
        """Running or paused timers that have not breached: the ones edits recompute."""
        return self.filter(state__in=(Timer.State.RUNNING, Timer.State.PAUSED))


class Timer(TimestampedModel):
    """One metric of one ticket. ``state`` is what people see; ``clock`` what the engine runs.

    - clock ``running``: state ``running`` or ``breached`` (the overrun is still measured);
    - clock ``paused``: state ``paused`` or ``breached``;
    - clock ``stopped``: state ``met``, ``breached`` or ``canceled``.

    Once breached a timer is *frozen*: its target, policy and ``due_at`` never change again
    (its clock still pauses and stops). ``met_at`` is when the metric was achieved, in time
    (``met``) or late (``breached``).
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        MET = "met", _("Met")
        BREACHED = "breached", _("Breached")
        CANCELED = "canceled", _("Canceled")

    class Clock(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        STOPPED = "stopped", _("Stopped")

    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_timers",
    )
    request = models.ForeignKey(
        "catalog.Request",
        verbose_name=_("request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_timers",
    )
    metric = models.CharField(_("metric"), max_length=16, choices=Metric.choices)
    policy = models.ForeignKey(
        Policy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="timers"
    )
    # Snapshot of what the timer is measured against (see the module docstring).
    policy_version = models.PositiveIntegerField(default=1)
    calendar = models.ForeignKey(
        Calendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="timers"
    )
    calendar_version = models.PositiveIntegerField(default=1)
    calendar_spec = models.JSONField(default=dict)
    target_seconds = models.PositiveIntegerField(_("target (business seconds)"))
    warn_at = models.JSONField(default=default_warn_at)
    pause_on = models.JSONField(default=list)
    priority = models.PositiveSmallIntegerField(_("priority"), null=True, blank=True)

    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    clock = models.CharField(_("clock"), max_length=16, choices=Clock.choices)
    started_at = models.DateTimeField(_("started"))
    periods = models.JSONField(default=list)
    elapsed_seconds = models.PositiveIntegerField(_("business seconds elapsed"), default=0)
    last_change_at = models.DateTimeField(_("last change"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    next_check_at = models.DateTimeField(_("next check"), null=True, blank=True)
    notified_level = models.PositiveSmallIntegerField(_("highest level escalated"), default=0)
    version = models.PositiveIntegerField(default=1)

    objects = TimerQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA timer")
        verbose_name_plural = _("SLA timers")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "metric"],
                condition=Q(incident__isnull=False),
                name="sla_timer_one_per_incident_metric",
            ),
            models.UniqueConstraint(
                fields=["request", "metric"],
                condition=Q(request__isnull=False),
                name="sla_timer_one_per_request_metric",
            ),
            models.CheckConstraint(
                condition=Q(
                    Q(clock="running", state__in=["running", "breached"])
                    | Q(clock="paused", state__in=["paused", "breached"])
                    | Q(clock="stopped", state__in=["met", "breached", "canceled"])
                ),
                name="sla_timer_state_matches_clock",
            ),
        ]
        indexes = [
            # The scanner's only access path: timers with work due.
            models.Index(
                fields=["next_check_at"],
                name="sla_timer_due_idx",
                condition=Q(next_check_at__isnull=False),
            ),
            # "Breaching soon" and "at risk": running timers by deadline.
            models.Index(
                fields=["due_at"], name="sla_timer_running_due_idx", condition=Q(clock="running")
            ),
            # Compliance reports: when timers became met or breached.
            models.Index(fields=["met_at"], name="sla_timer_met_idx", condition=Q(state="met")),
            models.Index(
                fields=["breached_at"],
                name="sla_timer_breached_idx",
                condition=Q(breached_at__isnull=False),
            ),
            models.Index(fields=["policy", "state"], name="sla_timer_policy_idx"),
            models.Index(fields=["calendar", "state"], name="sla_timer_calendar_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_number} {self.get_metric_display()}"

    @property
    def ticket(self):
        """The measured ticket, whatever its type (an incident or a request)."""
        if self.incident_id is not None:
            return self.incident
        if self.request_id is not None:
            return self.request
        return None

    @property
    def ticket_number(self) -> str:
        ticket = self.ticket
        return ticket.number if ticket is not None else ""

    @property
    def is_frozen(self) -> bool:
        return self.breached_at is not None or self.clock == self.Clock.STOPPED

    @property
    def is_paused(self) -> bool:
        return self.clock == self.Clock.PAUSED


class EventKind(models.TextChoices):
    START = "start", _("Started")
    PAUSE = "pause", _("Paused")
    RESUME = "resume", _("Resumed")
    MET = "met", _("Met")
    STOP = "stop", _("Stopped late")
    BREACH = "breach", _("Breached")
    WARNING = "warning", _("Warning")
    REOPEN = "reopen", _("Reopened")
    CANCEL = "cancel", _("Canceled")
    RECOMPUTE = "recompute", _("Recomputed")


class SlaEvent(models.Model):
    """What happened to a timer, append-only (a database trigger refuses UPDATE and DELETE)."""

    timer = models.ForeignKey(
        Timer, verbose_name=_("timer"), on_delete=models.PROTECT, related_name="events"
    )
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    data = models.JSONField(_("details"), default=dict, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["timer", "at"], name="sla_event_timer_idx")]

    def __str__(self) -> str:
        return f"{self.timer_id} {self.kind} {self.at.isoformat()}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("SLA events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("SLA events are append-only.")


class Escalation(models.Model):
    """A warning or breach level handled for a timer: the row that makes it happen once.

    Inserted by the scanner in the transaction that claimed the timer; ``UNIQUE(timer, level)``
    turns a racing scanner or a redelivered task into a no-op. Notifications are written in
    that same transaction; ticket changes (raise priority, reassign) are applied afterwards by
    ``apply_escalation_actions`` and marked done here.
    """

    timer = models.ForeignKey(
        Timer, verbose_name=_("timer"), on_delete=models.PROTECT, related_name="escalations"
    )
    level = models.PositiveSmallIntegerField(
        _("level"), validators=[MinValueValidator(1), MaxValueValidator(BREACH)]
    )
    crossed_at = models.DateTimeField(_("threshold crossed"))
    created_at = models.DateTimeField(_("handled"), auto_now_add=True)
    notified = models.JSONField(_("notified user ids"), default=list, blank=True)
    actions = models.JSONField(_("ticket actions"), default=dict, blank=True)
    actions_done_at = models.DateTimeField(_("actions done"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA escalation")
        verbose_name_plural = _("SLA escalations")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["timer", "level"], name="sla_escalation_once")
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="sla_escalation_pending_idx",
                condition=Q(actions_done_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.timer_id}@{self.level}"

    @property
    def is_breach(self) -> bool:
        return self.level >= BREACH


class RecomputeJob(models.Model):
    """Timers owed a recompute after a calendar or policy edit.

    Written in the edit's own transaction, so the work survives a broker that was down at
    commit: the task does it at once, the scanner's sweep does it if the task never came. The
    cursor moves chunk by chunk, so a worker that dies resumes where it stopped.
    """

    calendar_id = models.BigIntegerField(_("calendar"), null=True, blank=True)
    applies_to = models.CharField(_("applies to"), max_length=16, blank=True)
    after_id = models.BigIntegerField(_("done up to timer"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Whoever works the job holds it until this instant (then another worker may take it).
    leased_until = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA recompute job")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="sla_recompute_pending_idx",
                condition=Q(done_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"recompute {self.calendar_id or self.applies_to or 'all'}"
