"""Every write to the CMDB, as a verb (SPEC §7).

Each function takes the actor keyword-only, runs in one transaction and writes the CI's audit
events (``CIEvent``, append-only, like a ticket's history). Attributes are validated against the
class's JSON Schema on every write; errors come back per attribute (``attributes.<name>``).
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from itsm.services import (
    Changes,
    diff_fields,
    record_events,
    refresh_from_locked,
    write_versioned,
)
from itsm.workflow import Conflict, StaleVersion

from .models import CI, CIClass, Relationship
from .permissions import check_edit_ci, check_manage_classes

# Fields a caller may set on a CI (``version`` and timestamps are the service's).
EDITABLE_FIELDS = (
    "name",
    "ci_class",
    "status",
    "environment",
    "criticality",
    "owner",
    "support_group",
    "supplier",
    "description",
    "attributes",
)


def _check(ci: CI) -> None:
    """Field, uniqueness and attribute-schema validation, all errors at once."""
    errors: dict[str, list[str]] = {}
    try:
        ci.full_clean(validate_constraints=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if ci.ci_class_id and "ci_class" not in errors:
        errors.update(ci.ci_class.attribute_errors(ci.attributes))
    if "__all__" in errors:  # the (class, name) unique constraint: say which field
        errors.setdefault("name", []).extend(errors.pop("__all__"))
    if errors:
        raise ValidationError(errors)


def _unknown(fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValueError(f"not editable CI fields: {', '.join(unknown)}")


@transaction.atomic
def create_ci(*, actor, **fields) -> CI:
    """Add a CI; its attributes must satisfy its class's schema."""
    check_edit_ci(actor)
    _unknown(fields)
    fields.setdefault("attributes", {})
    ci = CI(**fields)
    _check(ci)
    ci.save(force_insert=True)
    record_events(ci, {"created": (None, ci.name)}, actor=actor)
    return ci


@transaction.atomic
def update_ci(ci: CI, values: Mapping[str, Any], *, actor, version: int | None = None) -> Changes:
    """Change fields of ``ci``; return what changed (nothing written when nothing did).

    ``version`` is the version the caller read: if the CI moved on since, nothing is written and
    ``StaleVersion`` (409) is raised. A new class re-validates the attributes against its schema.
    """
    check_edit_ci(actor)
    _unknown(values)
    locked = CI.objects.select_for_update().get(pk=ci.pk)
    if version is not None and locked.version != version:
        raise StaleVersion(
            _("Someone else changed this CI since you loaded it; reload it and try again.")
        )
    refresh_from_locked(ci, locked)
    changes = diff_fields(ci, values)
    if not changes:
        return {}
    candidate = CI.objects.get(pk=ci.pk)
    for name, value in values.items():
        setattr(candidate, name, value)
    _check(candidate)
    write_versioned(
        ci,
        {CI._meta.get_field(name).attname: new for name, (_old, new) in changes.items()},
        expected_version=locked.version,
    )
    ci._state.fields_cache.clear()
    record_events(ci, changes, actor=actor)
    return changes


@transaction.atomic
def retire_ci(ci: CI, *, actor, version: int | None = None) -> Changes:
    """Take a CI out of service. Its relationships stay, for the record."""
    return update_ci(ci, {"status": CI.Status.RETIRED}, actor=actor, version=version)


def _relationship_value(relationship: Relationship) -> dict:
    return {
        "type": relationship.type,
        "source": relationship.source_id,
        "target": relationship.target_id,
    }


@transaction.atomic
def relate(source: CI, target: CI, type: str, *, actor) -> Relationship:
    """Record that ``source`` depends on ``target`` (``type`` says how).

    A CI cannot relate to itself and the same (source, type, target) is refused twice (400).
    """
    check_edit_ci(actor)
    if type not in Relationship.Type.values:
        raise ValidationError(
            {
                "type": [
                    _("Unknown relationship type; one of %(types)s.")
                    % {"types": ", ".join(Relationship.Type.values)}
                ]
            }
        )
    if source.pk == target.pk:
        raise ValidationError({"target": [_("A CI cannot have a relationship with itself.")]})
    duplicate = ValidationError({"non_field_errors": [_("This relationship already exists.")]})
    if Relationship.objects.filter(source=source, type=type, target=target).exists():
        raise duplicate
    try:
        with transaction.atomic():
            relationship = Relationship.objects.create(source=source, type=type, target=target)
    except IntegrityError as exc:  # a concurrent request created it first
        raise duplicate from exc
    value = _relationship_value(relationship)
    record_events(source, {"relationship": (None, value)}, actor=actor)
    record_events(target, {"relationship": (None, value)}, actor=actor)
    return relationship


@transaction.atomic
def unrelate(relationship: Relationship, *, actor) -> None:
    """Remove a relationship; both CIs' histories keep a trace of it."""
    check_edit_ci(actor)
    value = _relationship_value(relationship)
    source, target = relationship.source, relationship.target
    relationship.delete()
    record_events(source, {"relationship": (value, None)}, actor=actor)
    record_events(target, {"relationship": (value, None)}, actor=actor)


# --- Classes (admins)

CLASS_FIELDS = ("name", "label", "description", "attribute_schema")


@transaction.atomic
def save_class(ci_class: CIClass | None, values: Mapping[str, Any], *, actor) -> CIClass:
    """Create (``ci_class=None``) or edit a CI class; its attribute schema is checked by the
    caller's serializer or form (``cmdb.schema``) and by the model."""
    check_manage_classes(actor)
    unknown = sorted(set(values) - set(CLASS_FIELDS))
    if unknown:
        raise ValueError(f"not editable class fields: {', '.join(unknown)}")
    ci_class = ci_class if ci_class is not None else CIClass()
    for name, value in values.items():
        setattr(ci_class, name, value)
    ci_class.full_clean()
    ci_class.save()
    return ci_class


@transaction.atomic
def delete_class(ci_class: CIClass, *, actor) -> None:
    """Remove a class no CI uses (409 while some do)."""
    check_manage_classes(actor)
    try:
        ci_class.delete()
    except ProtectedError as exc:
        raise Conflict(_("This class still has CIs; move them to another class first.")) from exc
