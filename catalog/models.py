"""The service catalog and what is ordered from it (SPEC §8).

- ``Category`` and ``CatalogItem``: what end users can order; an item carries its form, how it
  is approved, which team fulfils it and the tasks fulfilment takes.
- ``Request`` (``REQ…``): one item ordered for someone, with the answers to its form.
- ``Approval``: a decision asked of the manager of the person the request is for, or of the
  members of a team (the first member's answer settles it).
- ``Task`` (``TASK…``): a piece of fulfilment work for a team; the request is fulfilled when
  all its tasks are done.

Names, descriptions and form labels are data: each has its text in the default language and a
``translations`` object for the site's other languages (``catalog.formdef.localized``).
"""

import functools

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from itsm.models import (
    AttachmentBase,
    CommentBase,
    TicketBase,
    TicketEventBase,
    TicketQuerySet,
    TimestampedModel,
)
from itsm.permissions import has_role
from itsm.search import SearchVectorField

from .formdef import field_text, localized
from .workflow import (
    REQUEST_WORKFLOW,
    TASK_WORKFLOW,
    ApprovalMode,
    ApprovalState,
    RequestState,
    TaskState,
)

# --- The catalog ---------------------------------------------------------------------------------


class Translated:
    """``display_<field>``: the field in the reader's language (``translations``)."""

    def text(self, field: str, language: str | None = None) -> str:
        translations = {
            code: texts.get(field, "")
            for code, texts in (self.translations or {}).items()
            if isinstance(texts, dict)
        }
        return localized(getattr(self, field), translations, language)

    @property
    def display_name(self) -> str:
        return self.text("name")

    @property
    def display_summary(self) -> str:
        return self.text("summary")

    @property
    def display_description(self) -> str:
        return self.text("description")


class CategoryQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Category(Translated, TimestampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("short name in links"), max_length=60, unique=True)
    summary = models.CharField(_("summary"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    icon = models.CharField(
        _("icon"), max_length=40, default="grid", help_text=_("A Bootstrap icon name.")
    )
    order = models.IntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)
    translations = models.JSONField(_("translations"), default=dict, blank=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["order", "name"]
        indexes = [models.Index(fields=["active", "order", "name"], name="cat_category_order_idx")]

    def __str__(self) -> str:
        return self.display_name

    def get_portal_url(self) -> str:
        return reverse("catalog:portal_category", args=[self.slug])


class ItemQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True, category__active=True)

    def orderable_by(self, user):
        """What ``user`` may order: active items; the people who edit the catalog also see
        inactive ones (to preview them)."""
        from .permissions import can_edit_catalog

        return self if can_edit_catalog(user) else self.active()


class CatalogItem(Translated, TimestampedModel):
    """Something people order: its form, its approval and its fulfilment."""

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="items"
    )
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("short name in links"), max_length=60, unique=True)
    summary = models.CharField(_("summary"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    icon = models.CharField(_("icon"), max_length=40, default="box-seam")
    order = models.IntegerField(_("order"), default=100)
    form = models.JSONField(_("form"), default=list, blank=True)
    approval = models.CharField(
        _("approval"), max_length=16, choices=ApprovalMode.choices, default=ApprovalMode.NONE
    )
    approval_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("approval team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approved_items",
    )
    fulfillment_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("fulfilment team"),
        on_delete=models.PROTECT,
        related_name="fulfilled_items",
    )
    # The fulfilment work: [{"title", "description", "team": id or null (the fulfilment team)}]
    tasks = models.JSONField(_("tasks"), default=list, blank=True)
    service = models.ForeignKey(
        "cmdb.CI",
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="catalog_items",
        limit_choices_to={"ci_class__name": "business_service"},
    )
    sla_policy = models.ForeignKey(
        "sla.Policy",
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="catalog_items",
        limit_choices_to={"applies_to": "request"},
        help_text=_("Empty: the first request policy that matches, by order."),
    )
    active = models.BooleanField(_("active"), default=True)
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("catalog item")
        verbose_name_plural = _("catalog items")
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="cat_item_unique_name")
        ]
        indexes = [
            models.Index(fields=["category", "active", "order"], name="cat_item_category_idx"),
            models.Index(fields=["active", "order", "name"], name="cat_item_order_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_portal_url(self) -> str:
        return reverse("catalog:portal_item", args=[self.slug])

    def get_edit_url(self) -> str:
        return reverse("catalog:item_edit", args=[self.pk])

    @property
    def needs_approval(self) -> bool:
        return self.approval != ApprovalMode.NONE


# --- Requests ------------------------------------------------------------------------------------


class RequestQuerySet(TicketQuerySet):
    def visible_to(self, user):
        """Staff see every request; anyone else the requests they asked for, that are for
        them, that they watch, or that wait for (or waited for) their approval."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if has_role(user, *self.model.STAFF_ROLES):
            return self
        watched = Request.watchers.through.objects.filter(request=OuterRef("pk"), user=user)
        to_approve = Approval.objects.filter(request=OuterRef("pk")).filter(
            Approval.assigned_to_q(user)
        )
        return self.filter(
            Q(requester=user) | Q(requested_for=user) | Q(Exists(watched)) | Q(Exists(to_approve))
        )


class Request(TicketBase):
    """An item ordered for someone (SPEC §8). Its form, approval mode and policy are kept as
    they were when it was ordered: editing the item later changes no request."""

    NUMBER_PREFIX = "REQ"
    workflow = REQUEST_WORKFLOW
    STAFF_ROLES = ("agent", "manager", "problem_manager", "change_manager")
    END_USER_FIELDS = ("requester", "requested_for")
    END_USER_WRITABLE = ("description",)

    state = models.CharField(
        _("state"), max_length=32, choices=RequestState.choices, default=RequestState.SUBMITTED
    )
    item = models.ForeignKey(
        CatalogItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="requests"
    )
    requested_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested for"),
        on_delete=models.PROTECT,
        related_name="requests_for",
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    form = models.JSONField(_("form"), default=list, blank=True, editable=False)
    approval = models.CharField(
        _("approval"),
        max_length=16,
        choices=ApprovalMode.choices,
        default=ApprovalMode.NONE,
        editable=False,
    )
    service = models.ForeignKey(
        "cmdb.CI",
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    sla_policy = models.ForeignKey(
        "sla.Policy",
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    search_public = SearchVectorField()
    search_internal = SearchVectorField()

    objects = RequestQuerySet.as_manager()

    SEARCH_COLUMNS = ("search_public", "search_internal")

    class Meta(TicketBase.Meta):
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        indexes = [
            models.Index(fields=["state", "-created_at", "-id"], name="req_state_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="req_created_idx"),
            models.Index(fields=["-updated_at", "-id"], name="req_updated_idx"),
            models.Index(fields=["requester", "-updated_at"], name="req_requester_idx"),
            models.Index(fields=["requested_for", "-updated_at"], name="req_for_idx"),
            models.Index(fields=["item", "state"], name="req_item_state_idx"),
            models.Index(fields=["assignment_group", "state"], name="req_group_state_idx"),
            models.Index(fields=["assignee", "state"], name="req_assignee_state_idx"),
        ]

    def get_absolute_url(self) -> str:
        return reverse("catalog:request_detail", args=[self.number])

    def desk_url(self) -> str:
        return _prefix("catalog:request_detail") + self.number + "/"

    def get_portal_url(self) -> str:
        return reverse("catalog:portal_request_detail", args=[self.number])

    def portal_url(self) -> str:
        return _prefix("catalog:portal_request_detail") + self.number + "/"

    @property
    def item_name(self) -> str:
        """The item's name in the reader's language (the title keeps the default one)."""
        return self.item.display_name

    def field_label(self, name: str) -> str:
        for field in self.form:
            if field["name"] == name:
                return field_text(field, "label")
        return name


@functools.cache
def _prefix(name: str) -> str:
    return reverse(name, args=["X"])[:-2]


class RequestEvent(TicketEventBase):
    ticket = models.ForeignKey(Request, on_delete=models.PROTECT, related_name="events")

    class Meta(TicketEventBase.Meta):
        verbose_name = _("request event")
        indexes = [models.Index(fields=["ticket", "at"], name="req_event_ticket_idx")]


class RequestComment(CommentBase):
    ticket = models.ForeignKey(Request, on_delete=models.PROTECT, related_name="comments")

    class Meta(CommentBase.Meta):
        verbose_name = _("request comment")
        indexes = [models.Index(fields=["ticket", "created_at"], name="req_comment_ticket_idx")]


class RequestAttachment(AttachmentBase):
    ticket = models.ForeignKey(Request, on_delete=models.PROTECT, related_name="attachments")

    class Meta(AttachmentBase.Meta):
        verbose_name = _("request attachment")


# --- Approvals -----------------------------------------------------------------------------------


class ApprovalQuerySet(models.QuerySet):
    def assigned_to(self, user):
        return self.filter(Approval.assigned_to_q(user))

    def pending(self):
        return self.filter(state=ApprovalState.PENDING)


class Approval(models.Model):
    """One decision a request waits for: of ``approver`` (the manager), or of any member of
    ``team``; with neither, of any manager (a person with no manager on record)."""

    request = models.ForeignKey(
        Request, verbose_name=_("request"), on_delete=models.PROTECT, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("approval team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=16, choices=ApprovalState.choices, default=ApprovalState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)

    objects = ApprovalQuerySet.as_manager()

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["approver", "state", "-created_at"], name="cat_approval_user_idx"),
            models.Index(fields=["team", "state", "-created_at"], name="cat_approval_team_idx"),
            models.Index(fields=["request", "state"], name="cat_approval_request_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.state}"

    @staticmethod
    def assigned_to_q(user) -> Q:
        """Approvals ``user`` answers: theirs, their teams', and (managers) the unassigned."""
        teams = list(user.teams.values_list("pk", flat=True)) if user.pk else []
        condition = Q(approver=user) | Q(team__in=teams)
        if has_role(user, "manager"):
            condition |= Q(approver__isnull=True, team__isnull=True)
        return condition

    @property
    def is_pending(self) -> bool:
        return self.state == ApprovalState.PENDING

    @property
    def approvers_label(self) -> str:
        if self.approver_id:
            return str(self.approver)
        if self.team_id:
            return str(self.team)
        return str(_("Managers"))


# --- Tasks ---------------------------------------------------------------------------------------


class Task(TicketBase):
    """Fulfilment work for a team (SPEC §8). Tasks are the desk's: end users follow their
    request, never its tasks."""

    NUMBER_PREFIX = "TASK"
    workflow = TASK_WORKFLOW
    STAFF_ROLES = ("agent", "manager", "problem_manager", "change_manager")
    END_USER_FIELDS = ()

    state = models.CharField(
        _("state"), max_length=32, choices=TaskState.choices, default=TaskState.OPEN
    )
    request = models.ForeignKey(
        Request, verbose_name=_("request"), on_delete=models.PROTECT, related_name="tasks"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    done_at = models.DateTimeField(_("finished"), null=True, blank=True)
    search_public = SearchVectorField()
    search_internal = SearchVectorField()

    SEARCH_COLUMNS = ("search_public", "search_internal")

    class Meta(TicketBase.Meta):
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["state", "-created_at", "-id"], name="task_state_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="task_created_idx"),
            models.Index(fields=["-updated_at", "-id"], name="task_updated_idx"),
            models.Index(fields=["request", "position"], name="task_request_idx"),
            models.Index(fields=["assignment_group", "state"], name="task_group_state_idx"),
            models.Index(fields=["assignee", "state"], name="task_assignee_state_idx"),
        ]

    def get_absolute_url(self) -> str:
        return reverse("catalog:task_detail", args=[self.number])

    def desk_url(self) -> str:
        return _prefix("catalog:task_detail") + self.number + "/"


class TaskEvent(TicketEventBase):
    ticket = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="events")

    class Meta(TicketEventBase.Meta):
        verbose_name = _("task event")
        indexes = [models.Index(fields=["ticket", "at"], name="task_event_ticket_idx")]


class TaskComment(CommentBase):
    ticket = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="comments")

    class Meta(CommentBase.Meta):
        verbose_name = _("task comment")
        indexes = [models.Index(fields=["ticket", "created_at"], name="task_comment_ticket_idx")]


class TaskAttachment(AttachmentBase):
    ticket = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="attachments")

    class Meta(AttachmentBase.Meta):
        verbose_name = _("task attachment")
