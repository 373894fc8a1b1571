"""Configuration items, their classes and relationships (SPEC §7)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.models import TicketEventBase, TimestampedModel

from .permissions import can_view_cmdb
from .schema import attribute_errors, schema_errors, schema_properties

BUSINESS_SERVICE = "business_service"


def translated(text: str) -> str:
    """A built-in class label or attribute title in the reader's language (the catalogue
    has them); anything else as typed."""
    return gettext(text) if text else text


class CIClass(models.Model):
    """A kind of CI and the JSON Schema its ``attributes`` must satisfy."""

    name = models.SlugField(_("name"), max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    attribute_schema = models.JSONField(
        _("attribute schema"), default=dict, blank=True, help_text=_("A JSON Schema object.")
    )

    class Meta:
        verbose_name = _("CI class")
        verbose_name_plural = _("CI classes")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        """The label in the reader's language: the built-in classes' labels are in the
        catalogue (``cmdb/classes.py``); a label an admin typed reads as typed."""
        return translated(self.label)

    def clean(self):
        errors = schema_errors(self.attribute_schema)
        if errors:
            raise ValidationError({"attribute_schema": errors})

    def attribute_errors(self, attributes) -> dict[str, list[str]]:
        """Per-attribute errors of ``attributes`` against this class's schema."""
        return attribute_errors(self.attribute_schema, attributes)

    @property
    def properties(self) -> list[dict]:
        """The schema's attributes, titles in the reader's language (as ``display_label``)."""
        return [
            {**prop, "title": translated(prop["title"])}
            for prop in schema_properties(self.attribute_schema)
        ]

    @property
    def is_service(self) -> bool:
        return self.name == BUSINESS_SERVICE


class CIQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Every CI for those who may use the CMDB, none for anyone else."""
        return self if can_view_cmdb(user) else self.none()

    def services(self):
        return self.filter(ci_class__name=BUSINESS_SERVICE)

    def active(self):
        return self.exclude(status=CI.Status.RETIRED)


class CI(TimestampedModel):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_SERVICE = "in_service", _("In service")
        RETIRED = "retired", _("Retired")

    class Environment(models.TextChoices):
        PRODUCTION = "production", _("Production")
        STAGING = "staging", _("Staging")
        TEST = "test", _("Test")
        DEVELOPMENT = "development", _("Development")

    class Criticality(models.IntegerChoices):
        CRITICAL = 1, _("1 - Critical")
        HIGH = 2, _("2 - High")
        MEDIUM = 3, _("3 - Medium")
        LOW = 4, _("4 - Low")

    name = models.CharField(_("name"), max_length=200)
    ci_class = models.ForeignKey(
        CIClass, verbose_name=_("class"), on_delete=models.PROTECT, related_name="cis"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.IN_SERVICE
    )
    environment = models.CharField(
        _("environment"),
        max_length=16,
        choices=Environment.choices,
        default=Environment.PRODUCTION,
    )
    criticality = models.PositiveSmallIntegerField(
        _("criticality"), choices=Criticality.choices, default=Criticality.MEDIUM
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_cis",
    )
    support_group = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("support group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supported_cis",
    )
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = CIQuerySet.as_manager()

    class Meta:
        verbose_name = _("configuration item")
        verbose_name_plural = _("configuration items")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["ci_class", "name"], name="cmdb_ci_unique_name"),
        ]
        indexes = [
            models.Index(fields=["ci_class", "name"], name="cmdb_ci_class_idx"),
            models.Index(fields=["status", "name"], name="cmdb_ci_status_idx"),
            models.Index(fields=["environment", "name"], name="cmdb_ci_env_idx"),
            models.Index(fields=["criticality", "name"], name="cmdb_ci_crit_idx"),
            models.Index(fields=["support_group", "name"], name="cmdb_ci_group_idx"),
            models.Index(fields=["supplier"], name="cmdb_ci_supplier_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("cmdb:ci_detail", args=[self.pk])

    @property
    def is_service(self) -> bool:
        return self.ci_class.name == BUSINESS_SERVICE

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS.get(self.status, "secondary")

    @property
    def criticality_colour(self) -> str:
        return CRITICALITY_COLOURS.get(self.criticality, "secondary")

    def attribute_rows(self) -> list[tuple[str, object]]:
        """``(label, value)`` for each attribute: the schema's order first, then the rest."""
        attributes = self.attributes if isinstance(self.attributes, dict) else {}
        rows, seen = [], set()
        for prop in self.ci_class.properties:
            if prop["name"] in attributes:
                rows.append((prop["title"], attributes[prop["name"]]))
                seen.add(prop["name"])
        rows.extend((name, value) for name, value in attributes.items() if name not in seen)
        return rows


STATUS_COLOURS = {
    CI.Status.PLANNED: "info",
    CI.Status.IN_SERVICE: "success",
    CI.Status.RETIRED: "secondary",
}
CRITICALITY_COLOURS = {1: "danger", 2: "warning", 3: "primary", 4: "secondary"}


class Relationship(models.Model):
    """``source`` —type→ ``target``: if the target fails, the source is impacted."""

    class Type(models.TextChoices):
        DEPENDS_ON = "depends_on", _("Depends on")
        RUNS_ON = "runs_on", _("Runs on")
        HOSTED_ON = "hosted_on", _("Hosted on")
        CONNECTS_TO = "connects_to", _("Connects to")
        PART_OF = "part_of", _("Part of")

    source = models.ForeignKey(CI, on_delete=models.CASCADE, related_name="outgoing")
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    target = models.ForeignKey(CI, on_delete=models.CASCADE, related_name="incoming")
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        constraints = [
            models.UniqueConstraint(fields=["source", "type", "target"], name="cmdb_rel_unique"),
            models.CheckConstraint(condition=~Q(source=F("target")), name="cmdb_rel_not_self"),
        ]
        indexes = [models.Index(fields=["target", "source"], name="cmdb_rel_target_idx")]

    def __str__(self) -> str:
        return f"{self.source} {self.get_type_display()} {self.target}"


class CIEvent(TicketEventBase):
    """The CI's audit trail: append-only, like a ticket's."""

    ci = models.ForeignKey(CI, on_delete=models.PROTECT, related_name="events")

    class Meta(TicketEventBase.Meta):
        verbose_name = _("CI event")
        indexes = [models.Index(fields=["ci", "at"], name="cmdb_event_ci_idx")]
