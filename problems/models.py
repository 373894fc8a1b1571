import functools

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.models import AttachmentBase, CommentBase, TicketBase, TicketEventBase, TicketQuerySet
from itsm.permissions import has_role
from itsm.search import SearchVectorField

from .workflow import WORKFLOW, Priority, State

# A published known error: flagged, published, and with a workaround to read (SPEC §5).
PUBLISHED = Q(known_error=True, publish_workaround=True) & ~Q(workaround="")


class ProblemQuerySet(TicketQuerySet):
    def visible_to(self, user):
        """Every problem for the roles that use problem management; none for anyone else
        (end users never see problems, not even one they would watch: SPEC §1)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self if has_role(user, *self.model.STAFF_ROLES) else self.none()

    def known_errors(self):
        return self.filter(known_error=True)

    def published(self):
        return self.filter(PUBLISHED)


class Problem(TicketBase):
    """The unknown cause of one or more incidents, until it is found and fixed (SPEC §5)."""

    NUMBER_PREFIX = "PRB"
    workflow = WORKFLOW
    STAFF_ROLES = ("agent", "problem_manager", "manager")
    END_USER_FIELDS = ()

    state = models.CharField(_("state"), max_length=32, choices=State.choices, default=State.NEW)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.MODERATE
    )
    root_cause = models.TextField(_("root cause"), blank=True)
    workaround = models.TextField(_("workaround"), blank=True)
    known_error = models.BooleanField(_("known error"), default=False)
    publish_workaround = models.BooleanField(_("publish the workaround"), default=False)
    services = models.ManyToManyField(
        "cmdb.CI",
        verbose_name=_("affected services"),
        blank=True,
        related_name="service_problems",
        limit_choices_to={"ci_class__name": "business_service"},
    )
    cis = models.ManyToManyField(
        "cmdb.CI", verbose_name=_("affected CIs"), blank=True, related_name="problems"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    search_public = SearchVectorField()
    search_internal = SearchVectorField()
    # What the knowledge search matches (title, workaround, services' names): never the
    # analysis, the comments or the notes, which end users may not read.
    search_known_error = SearchVectorField()

    objects = ProblemQuerySet.as_manager()

    SEARCH_COLUMNS = ("search_public", "search_internal", "search_known_error")

    class Meta(TicketBase.Meta):
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        indexes = [
            models.Index(fields=["state", "-created_at", "-id"], name="prb_state_created_id_idx"),
            models.Index(
                fields=["priority", "-created_at", "-id"], name="prb_priority_created_id_idx"
            ),
            models.Index(fields=["assignee", "state"], name="prb_assignee_state_idx"),
            models.Index(fields=["assignment_group", "state"], name="prb_group_state_idx"),
            models.Index(fields=["-updated_at", "-id"], name="prb_updated_id_idx"),
            models.Index(fields=["-created_at", "-id"], name="prb_created_id_idx"),
            models.Index(
                fields=["-updated_at", "-id"],
                name="prb_known_error_idx",
                condition=Q(known_error=True),
            ),
        ]

    def get_absolute_url(self) -> str:
        return reverse("problems:problem_detail", args=[self.number])

    def desk_url(self) -> str:
        """``get_absolute_url`` without a URL reversal per row (list pages)."""
        return _page_prefix() + self.number + "/"

    @property
    def is_published(self) -> bool:
        return self.known_error and self.publish_workaround and bool(self.workaround.strip())


@functools.cache
def _page_prefix() -> str:
    return reverse("problems:problem_detail", args=["X"])[:-2]


class ProblemEvent(TicketEventBase):
    ticket = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="events")

    class Meta(TicketEventBase.Meta):
        verbose_name = _("problem event")
        indexes = [models.Index(fields=["ticket", "at"], name="prb_event_ticket_idx")]


class ProblemComment(CommentBase):
    ticket = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="comments")

    class Meta(CommentBase.Meta):
        verbose_name = _("problem comment")
        indexes = [models.Index(fields=["ticket", "created_at"], name="prb_comment_ticket_idx")]


class ProblemAttachment(AttachmentBase):
    ticket = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="attachments")

    class Meta(AttachmentBase.Meta):
        verbose_name = _("problem attachment")


# --- Incidents with similar titles (problem candidates) --------------------------------------


class TitleCluster(models.Model):
    """Incidents whose titles read alike: each new incident joins the cluster whose first
    title is most similar to its own (trigram similarity on PostgreSQL, the same normalised
    words elsewhere), or starts one. Derived data, kept by ``services.cluster_incident``."""

    key = models.CharField(_("normalised title"), max_length=200)
    label = models.CharField(_("title"), max_length=200)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("title cluster")
        indexes = [models.Index(fields=["key"], name="prb_cluster_key_idx")]

    def __str__(self) -> str:
        return self.label


class ClusteredIncident(models.Model):
    incident = models.OneToOneField(
        "incidents.Incident", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    cluster = models.ForeignKey(TitleCluster, on_delete=models.CASCADE, related_name="members")

    class Meta:
        verbose_name = _("clustered incident")
        indexes = [models.Index(fields=["cluster"], name="prb_clustered_cluster_idx")]

    def __str__(self) -> str:
        return f"{self.incident_id} → {self.cluster_id}"
