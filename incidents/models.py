import functools

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from itsm.models import AttachmentBase, CommentBase, TicketBase, TicketEventBase
from itsm.search import SearchVectorField

from .workflow import WORKFLOW, HoldReason, Level, Priority, ResolutionCode, State


class Incident(TicketBase):
    """An unplanned interruption or degradation of a service (SPEC §3)."""

    NUMBER_PREFIX = "INC"
    workflow = WORKFLOW

    state = models.CharField(_("state"), max_length=32, choices=State.choices, default=State.NEW)
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Level.choices, default=3)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Level.choices, default=3)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=5, editable=False
    )
    hold_reason = models.CharField(
        _("hold reason"), max_length=32, choices=HoldReason.choices, blank=True
    )
    resolution_code = models.CharField(
        _("resolution code"), max_length=32, choices=ResolutionCode.choices, blank=True
    )
    resolution_notes = models.TextField(_("resolution notes"), blank=True)
    service = models.ForeignKey(
        "cmdb.CI",
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_incidents",
        limit_choices_to={"ci_class__name": "business_service"},
    )
    ci = models.ForeignKey(
        "cmdb.CI",
        verbose_name=_("configuration item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    major = models.BooleanField(_("major incident"), default=False)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent incident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    problem = models.ForeignKey(
        "problems.Problem",
        verbose_name=_("problem"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        db_index=False,  # the (problem, state) index below serves it
    )
    caused_by_change = models.ForeignKey(
        "changes.Change",
        verbose_name=_("caused by change"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="caused_incidents",
    )
    # The change an incident on hold "awaiting change" waits for.
    awaited_change = models.ForeignKey(
        "changes.Change",
        verbose_name=_("awaited change"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awaiting_incidents",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    csat_score = models.PositiveSmallIntegerField(
        _("satisfaction"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    csat_comment = models.TextField(_("satisfaction comment"), blank=True)
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)
    search_public = SearchVectorField()
    search_internal = SearchVectorField()

    class Meta(TicketBase.Meta):
        # List orderings end on the primary key (the keyset tie-breaker), so the indexes do too.
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            models.Index(fields=["state", "-created_at", "-id"], name="inc_state_created_id_idx"),
            models.Index(
                fields=["priority", "-created_at", "-id"], name="inc_priority_created_id_idx"
            ),
            models.Index(fields=["assignee", "state"], name="inc_assignee_state_idx"),
            models.Index(fields=["assignment_group", "state"], name="inc_group_state_idx"),
            models.Index(fields=["requester", "-created_at"], name="inc_requester_idx"),
            models.Index(fields=["service", "state"], name="inc_service_state_idx"),
            models.Index(fields=["ci", "state"], name="inc_ci_state_idx"),
            models.Index(fields=["-updated_at", "-id"], name="inc_updated_id_idx"),
            models.Index(fields=["-created_at", "-id"], name="inc_created_id_idx"),
            models.Index(
                fields=["resolved_at"], name="inc_resolved_idx", condition=Q(state="resolved")
            ),
            models.Index(fields=["major", "state"], name="inc_major_idx", condition=Q(major=True)),
            models.Index(fields=["problem", "state"], name="inc_problem_state_idx"),
        ]

    def get_absolute_url(self) -> str:
        return reverse("incidents:incident_detail", args=[self.number])

    def desk_url(self) -> str:
        """``get_absolute_url`` without a URL reversal per call (list pages of 50 rows)."""
        return _desk_prefix() + self.number + "/"

    def get_portal_url(self) -> str:
        return reverse("portal:ticket_detail", args=[self.number])

    SEARCH_COLUMNS = ("search_public", "search_internal")

    @property
    def can_be_rated(self) -> bool:
        return self.state in (State.RESOLVED, State.CLOSED)


@functools.cache
def _desk_prefix() -> str:
    return reverse("incidents:incident_detail", args=["X"])[:-2]


class IncidentEvent(TicketEventBase):
    ticket = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")

    class Meta(TicketEventBase.Meta):
        verbose_name = _("incident event")
        indexes = [models.Index(fields=["ticket", "at"], name="inc_event_ticket_idx")]


class IncidentComment(CommentBase):
    ticket = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="comments")

    class Meta(CommentBase.Meta):
        verbose_name = _("incident comment")
        indexes = [models.Index(fields=["ticket", "created_at"], name="inc_comment_ticket_idx")]


class IncidentAttachment(AttachmentBase):
    ticket = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="attachments")

    class Meta(AttachmentBase.Meta):
        verbose_name = _("incident attachment")
