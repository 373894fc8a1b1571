"""Changes, their CAB approvals, conflicts and blackout windows, standard-change templates and
the boards that authorize changes (SPEC §6)."""

import functools

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from itsm.models import AttachmentBase, CommentBase, TicketBase, TicketEventBase, TimestampedModel
from itsm.permissions import AGENT, CAB_MEMBER, CHANGE_MANAGER, MANAGER, PROBLEM_MANAGER

from .workflow import (
    RISK_COLOURS,
    TYPE_COLOURS,
    Decision,
    Outcome,
    Policy,
    Risk,
    State,
    Type,
    TypedWorkflow,
)


class Board(models.Model):
    """A team that sits as a Change Advisory Board, and the approval policy its changes get
    unless they say otherwise. Change managers name its members (SPEC §1)."""

    team = models.OneToOneField(
        "accounts.Team", verbose_name=_("team"), on_delete=models.CASCADE, related_name="board"
    )
    policy = models.CharField(
        _("approval policy"), max_length=16, choices=Policy.choices, default=Policy.ALL
    )

    class Meta:
        verbose_name = _("change advisory board")
        verbose_name_plural = _("change advisory boards")
        ordering = ["team__name"]

    def __str__(self) -> str:
        return str(self.team)


class ChangeTemplate(TimestampedModel):
    """A pre-approved standard change: what it does, how, how to back it out, on which CIs."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    implementation_plan = models.TextField(_("implementation plan"), blank=True)
    backout_plan = models.TextField(_("backout plan"), blank=True)
    test_plan = models.TextField(_("test plan"), blank=True)
    duration_minutes = models.PositiveIntegerField(_("usual duration (minutes)"), default=60)
    cis = models.ManyToManyField(
        "cmdb.CI", verbose_name=_("configuration items"), blank=True, related_name="+"
    )
    assignment_group = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("assignment group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("standard change template")
        verbose_name_plural = _("standard change templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Blackout(TimestampedModel):
    """A window in which no change may be scheduled (a freeze): global when it names no CI,
    else on those CIs and what depends on them. Emergency changes may override it."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    cis = models.ManyToManyField(
        "cmdb.CI", verbose_name=_("configuration items"), blank=True, related_name="blackouts"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("blackout window")
        verbose_name_plural = _("blackout windows")
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="chg_blackout_window"),
        ]
        indexes = [
            models.Index(fields=["end", "start"], name="chg_blackout_end_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Change(TicketBase):
    """A planned change to the estate (SPEC §6)."""

    NUMBER_PREFIX = "CHG"
    workflow = TypedWorkflow()
    STAFF_ROLES = (AGENT, CAB_MEMBER, CHANGE_MANAGER, PROBLEM_MANAGER, MANAGER)

    state = models.CharField(_("state"), max_length=32, choices=State.choices, default=State.NEW)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.NORMAL)
    template = models.ForeignKey(
        ChangeTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
    )
    cab = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("CAB"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cab_changes",
    )
    approval_policy = models.CharField(
        _("approval policy"), max_length=16, choices=Policy.choices, default=Policy.ALL
    )
    approval_round = models.PositiveSmallIntegerField(_("approval round"), default=0)
    cis = models.ManyToManyField(
        "cmdb.CI", verbose_name=_("affected CIs"), blank=True, related_name="changes"
    )
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    implementation_plan = models.TextField(_("implementation plan"), blank=True)
    backout_plan = models.TextField(_("backout plan"), blank=True)
    test_plan = models.TextField(_("test plan"), blank=True)
    risk_answers = models.JSONField(_("risk questionnaire"), default=dict, blank=True)
    risk = models.CharField(
        _("risk"), max_length=16, choices=Risk.choices, default=Risk.LOW, editable=False
    )
    risk_score = models.PositiveSmallIntegerField(_("risk score"), default=0, editable=False)
    # What made the risk: [{"code", "points", "params"}], rendered in the reader's language.
    risk_reasons = models.JSONField(_("risk explanation"), default=list, editable=False)
    outcome = models.CharField(_("outcome"), max_length=32, choices=Outcome.choices, blank=True)
    review_notes = models.TextField(_("review notes"), blank=True)

    class Meta(TicketBase.Meta):
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        # List orderings end on the primary key (the keyset tie-breaker), so the indexes do too.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="chg_created_id_idx"),
            models.Index(fields=["state", "-created_at", "-id"], name="chg_state_created_id_idx"),
            models.Index(fields=["-updated_at", "-id"], name="chg_updated_id_idx"),
            models.Index(fields=["type", "state"], name="chg_type_state_idx"),
            models.Index(fields=["risk", "state"], name="chg_risk_state_idx"),
            models.Index(fields=["cab", "state"], name="chg_cab_state_idx"),
            models.Index(fields=["assignee", "state"], name="chg_assignee_state_idx"),
            models.Index(fields=["assignment_group", "state"], name="chg_group_state_idx"),
            models.Index(fields=["requester", "-created_at"], name="chg_requester_idx"),
            # The calendar's window (a change shows when it starts before the range ends and
            # ends after it starts) and the CAB agenda's order.
            models.Index(fields=["planned_end", "planned_start"], name="chg_window_end_idx"),
            models.Index(fields=["planned_start", "id"], name="chg_window_start_idx"),
            models.Index(fields=["state", "planned_start", "id"], name="chg_state_start_idx"),
            # The success rate: closed changes by month.
            models.Index(fields=["closed_at"], name="chg_closed_idx", condition=Q(state="closed")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__gt=F("planned_start"))
                | Q(planned_start__isnull=True)
                | Q(planned_end__isnull=True),
                name="chg_planned_window",
            ),
        ]

    def get_absolute_url(self) -> str:
        return _detail_prefix() + self.number + "/"

    @property
    def risk_colour(self) -> str:
        return RISK_COLOURS.get(self.risk, "secondary")

    @property
    def type_colour(self) -> str:
        return TYPE_COLOURS.get(self.type, "secondary")

    @property
    def is_emergency(self) -> bool:
        return self.type == Type.EMERGENCY

    @property
    def has_window(self) -> bool:
        return self.planned_start is not None and self.planned_end is not None


@functools.cache
def _detail_prefix() -> str:
    return reverse("changes:change_detail", args=["CHG0"])[: -len("CHG0/")]


class ChangeEvent(TicketEventBase):
    ticket = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="events")

    class Meta(TicketEventBase.Meta):
        verbose_name = _("change event")
        indexes = [models.Index(fields=["ticket", "at"], name="chg_event_ticket_idx")]


class ChangeComment(CommentBase):
    ticket = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="comments")

    class Meta(CommentBase.Meta):
        verbose_name = _("change comment")
        indexes = [models.Index(fields=["ticket", "created_at"], name="chg_comment_ticket_idx")]


class ChangeAttachment(AttachmentBase):
    ticket = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="attachments")

    class Meta(AttachmentBase.Meta):
        verbose_name = _("change attachment")


class Approval(models.Model):
    """One vote a change needs in one authorization round: a CAB member's, or, for an
    emergency change, any change manager's (``approver`` empty: the ECAB)."""

    change = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="approvals")
    round = models.PositiveSmallIntegerField(_("round"))
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_approvals",
    )
    decision = models.CharField(
        _("decision"), max_length=16, choices=Decision.choices, default=Decision.PENDING
    )
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["round", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["change", "round", "approver"],
                name="chg_one_approval_per_round",
                condition=Q(approver__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["approver", "decision"], name="chg_approval_mine_idx"),
            models.Index(fields=["change", "round"], name="chg_approval_round_idx"),
            models.Index(
                fields=["decision"],
                name="chg_approval_ecab_idx",
                condition=Q(approver__isnull=True, decision="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.change_id} #{self.round}: {self.approver or 'ECAB'} {self.decision}"

    @property
    def is_ecab(self) -> bool:
        return self.approver_id is None

    @property
    def is_pending(self) -> bool:
        return self.decision == Decision.PENDING


class ChangeConflict(models.Model):
    """Another active change in an overlapping window on the same or a dependent CI, or a
    blackout window the change falls in. Refreshed by every write that moves a window or the
    CIs; ``accepted`` when an emergency change was scheduled into it anyway."""

    class Kind(models.TextChoices):
        CHANGE = "change", _("Overlapping change")
        BLACKOUT = "blackout", _("Blackout window")

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="conflicts")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    other = models.ForeignKey(
        Change, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    blackout = models.ForeignKey(
        Blackout, null=True, blank=True, on_delete=models.CASCADE, related_name="conflicts"
    )
    # The CIs where the two meet: [{"ci", "ci_name", "other_ci", "other_ci_name"}]; the same
    # CI on both sides, or one that depends on the other (``dependent``).
    via = models.JSONField(_("through"), default=list, blank=True)
    dependent = models.BooleanField(_("through a dependency"), default=False)
    accepted = models.BooleanField(_("accepted"), default=False)
    detected_at = models.DateTimeField(_("detected"), auto_now_add=True)

    class Meta:
        verbose_name = _("change conflict")
        verbose_name_plural = _("change conflicts")
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["change", "other"],
                name="chg_conflict_change_unique",
                condition=Q(other__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["change", "blackout"],
                name="chg_conflict_blackout_unique",
                condition=Q(blackout__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["other"], name="chg_conflict_other_idx")]

    def __str__(self) -> str:
        return f"{self.change_id} × {self.other_id or self.blackout_id}"
