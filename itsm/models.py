"""The shared bases every process app builds on: tickets, their audit trail, comments,
attachments and watchers, plus the kernel's own tables (number counters, notifications)."""

import uuid
from typing import ClassVar

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import connection, models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _

from .permissions import STAFF_ROLES, has_role, is_staff_member
from .workflow import Workflow


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


# --- Numbers


class NumberCounter(models.Model):
    """Per-prefix counter used where the database has no sequences (SQLite)."""

    prefix = models.CharField(max_length=8, primary_key=True)
    last = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("number counter")

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last}"


def sequence_name(prefix: str) -> str:
    return f"itsm_number_{prefix.lower()}"


def next_number(prefix: str) -> str:
    """The next human-readable number for ``prefix``: ``INC0000001``.

    PostgreSQL uses a real sequence (no lock held until commit, so concurrent ticket creation
    never waits); elsewhere a counter row is bumped inside the caller's transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [sequence_name(prefix)])
            value = cursor.fetchone()[0]
    else:
        with transaction.atomic():
            NumberCounter.objects.get_or_create(prefix=prefix)
            NumberCounter.objects.filter(prefix=prefix).update(last=F("last") + 1)
            value = NumberCounter.objects.values_list("last", flat=True).get(prefix=prefix)
    return f"{prefix}{value:07d}"


# --- Tickets


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The tickets ``user`` may see: all of them for the model's staff roles; otherwise
        those they requested, that were requested for them, or that they watch."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if has_role(user, *self.model.STAFF_ROLES):
            return self
        own = Q()
        for name in self.model.END_USER_FIELDS:
            own |= Q(**{name: user})
        watched = self.model.watchers.through.objects.filter(
            **{self.model.watchers.field.m2m_field_name(): OuterRef("pk")},
            **{self.model.watchers.field.m2m_reverse_field_name(): user},
        )
        return self.filter(own | Q(Exists(watched)))

    def open(self):
        return self.filter(state__in=self.model.workflow.open_states)

    def assigned_to(self, user):
        return self.filter(assignee=user)


class TicketBase(TimestampedModel):
    """Fields and read-only answers every ticket type shares (SPEC §2).

    Concrete subclasses set ``NUMBER_PREFIX``, ``workflow``, a ``state`` field with the
    workflow's choices, and declare ``<Type>Event``, ``<Type>Comment`` and ``<Type>Attachment``
    models with a foreign key named ``ticket`` and related names ``events``, ``comments`` and
    ``attachments``.
    """

    NUMBER_PREFIX: ClassVar[str] = ""
    workflow: ClassVar[Workflow]
    # Roles that see every ticket of the type (others see their own): every staff role.
    STAFF_ROLES: ClassVar[tuple[str, ...]] = tuple(sorted(STAFF_ROLES))
    END_USER_FIELDS: ClassVar[tuple[str, ...]] = ("requester",)

    number = models.CharField(_("number"), max_length=16, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    state = models.CharField(_("state"), max_length=32)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="%(app_label)s_%(class)s_requested",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="%(app_label)s_%(class)s_assigned",
    )
    assignment_group = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("assignment group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="%(app_label)s_%(class)s_assigned",
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("watchers"),
        blank=True,
        related_name="%(app_label)s_%(class)s_watched",
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in self.workflow.open_states

    @property
    def state_label(self) -> str:
        return self.workflow.label(self.state)

    @property
    def state_colour(self) -> str:
        return self.workflow.colour(self.state)

    @property
    def allowed_states(self) -> list[str]:
        return self.workflow.allowed(self.state)

    @classmethod
    def type_name(cls) -> str:
        """The API collection name: ``incidents``, ``problems``..."""
        return f"{cls._meta.model_name}s"


# --- Audit trail


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only.")

    def delete(self):
        raise PermissionError("The audit trail is append-only.")


class TicketEventBase(models.Model):
    """One audited change: a field or state change, a comment, an attachment, an SLA event.

    Append-only: the model refuses updates and deletes, and a database trigger (see
    ``itsm.db.append_only``) refuses them in SQL too.
    """

    at = models.DateTimeField(_("at"), default=timezone.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    field = models.CharField(_("field"), max_length=64)
    old = models.JSONField(_("old value"), null=True, blank=True)
    new = models.JSONField(_("new value"), null=True, blank=True)
    internal = models.BooleanField(_("internal"), default=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only.")


# --- Comments and attachments


class CommentBase(models.Model):
    """A public reply or an internal work note (never shown to end users)."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("body"))
    internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]


def attachment_path(instance, filename: str) -> str:
    """Storage path: never the user's file name (``<model>/<yyyy>/<mm>/<uuid>``)."""
    now = timezone.now()
    return f"{instance._meta.model_name}/{now:%Y/%m}/{uuid.uuid4().hex}"


class _AttachmentStorage(LazyObject):
    """``storages["attachments"]``, looked up lazily so a settings change (tests) applies."""

    def _setup(self):
        self._wrapped = storages["attachments"]


_attachment_storage = _AttachmentStorage()


@receiver(setting_changed)
def _reset_attachment_storage(*, setting, **kwargs):
    if setting == "STORAGES":
        _attachment_storage._wrapped = empty


def attachment_storage():
    return _attachment_storage


class AttachmentBase(models.Model):
    file = models.FileField(
        _("file"), storage=attachment_storage, upload_to=attachment_path, max_length=255
    )
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=127)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # An internal file (a diagnostic, a vendor's answer) is kept from end users on every route,
    # as internal notes are.
    internal = models.BooleanField(_("internal"), default=False)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


def visible_attachments(ticket, user):
    """The files of ``ticket`` that ``user`` may see: all of them for staff, the public ones
    for anyone else (the ticket itself is already visible to them)."""
    files = ticket.attachments.all()
    return files if is_staff_member(user) else files.filter(internal=False)


# --- Notifications


class NotificationQuerySet(models.QuerySet):
    def inbox(self, user):
        """What ``user`` sees in the notification centre (rows kept for email only are not)."""
        return self.filter(recipient=user, in_app=True)

    def unread_count(self, user) -> int:
        """The bell's number: one COUNT through the partial index on unread rows."""
        return self.filter(recipient=user, in_app=True, read_at__isnull=True).count()


class Notification(models.Model):
    """An in-app notification, and the outbox row of its email.

    The row is the truth: it is written in the transaction of the change that caused it and
    mailed by a Celery task after commit; rows the broker never received are mailed by the
    periodic sweep. Delivery claims rows (``sending``, committed) before talking to the mail
    server and marks each one ``sent`` in its own transaction as soon as the server took it; a
    temporary refusal puts it back to ``pending`` with ``next_attempt_at`` later, a permanent
    one leaves it ``failed`` with the server's answer in ``last_error``.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Ticket created")
        ASSIGNED = "assigned", _("Assigned")
        COMMENT = "comment", _("Comment")
        STATE = "state", _("State changed")
        APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACH = "sla_breach", _("SLA breach")

    class Email(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    ticket = models.CharField(_("ticket"), max_length=16, blank=True)
    url = models.CharField(_("link"), max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=255)
    message = models.TextField(_("message"))
    # The caller's parameters as text in the recipient's language (title, author, body...):
    # what the email template of the kind lays out.
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # About an internal note: mailed only while the recipient is still staff.
    internal = models.BooleanField(_("internal"), default=False)
    # ``app_label.model:pk`` of an approval the recipient decides (links in the email).
    approval = models.CharField(_("approval"), max_length=100, blank=True)
    in_app = models.BooleanField(_("in the notification centre"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    email_state = models.CharField(
        _("email"), max_length=16, choices=Email.choices, default=Email.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(_("email attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                name="notif_inbox_idx",
                condition=Q(in_app=True),
            ),
            models.Index(
                fields=["recipient"],
                name="notif_unread_idx",
                condition=Q(in_app=True, read_at__isnull=True),
            ),
            models.Index(
                fields=["next_attempt_at", "id"],
                name="notif_due_idx",
                condition=Q(email_state="pending"),
            ),
            models.Index(
                fields=["claimed_at"],
                name="notif_claimed_idx",
                condition=Q(email_state="sending"),
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def read(self) -> bool:
        return self.read_at is not None


class OutboundMail(models.Model):
    """An email to an address rather than a notification to a user: the notice an account's
    former address gets when it is changed, the reply to mail the gateway turned down.

    The same outbox as ``Notification`` (``itsm.notify``): the row is written in the
    transaction of the change that owes it, mailed by a task after commit or by the periodic
    sweep, with the same states, retries and backoff; the message is composed when the row is
    written (``subject``, ``body``, ``headers`` with its Message-ID), so every attempt sends the
    same message."""

    class Kind(models.TextChoices):
        ACCOUNT = "account", _("Account notice")
        REJECTION = "rejection", _("Reply to turned-down mail")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    to = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    email_state = models.CharField(
        _("email"),
        max_length=16,
        choices=Notification.Email.choices,
        default=Notification.Email.PENDING,
    )
    email_attempts = models.PositiveSmallIntegerField(_("email attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="outmail_due_idx",
                condition=Q(email_state="pending"),
            ),
            models.Index(
                fields=["claimed_at"],
                name="outmail_claimed_idx",
                condition=Q(email_state="sending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


class NotificationPreference(models.Model):
    """How one person wants to hear of one kind of event: by email, in the app, both or not
    at all. No row means both (the default)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Notification.Kind.choices)
    email = models.BooleanField(_("by email"), default=True)
    in_app = models.BooleanField(_("in the app"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_user_kind_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


# --- Approvals by email


class ApprovalLinkUse(models.Model):
    """An approval link that was followed: one per approval and approver, so a link works
    once (and its sibling, the other decision, no more after it)."""

    approval = models.CharField(_("approval"), max_length=100)  # app_label.model:pk
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    decision = models.CharField(_("decision"), max_length=16)
    used_at = models.DateTimeField(_("used"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("approval link used")
        verbose_name_plural = _("approval links used")
        constraints = [
            models.UniqueConstraint(fields=["approval", "approver"], name="approval_link_once_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.approval} {self.decision}"
