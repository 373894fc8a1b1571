"""Filters shared by the apps' filtersets."""

from datetime import UTC

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import filters
from django_filters.fields import IsoDateTimeField


class InstantField(IsoDateTimeField):
    """An ISO 8601 instant, in UTC: an offset PostgreSQL cannot take (it allows ±15:59, ISO
    writes up to ±23:59) reads as the same instant, and one outside the calendar is a 400."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError) as exc:
            raise ValidationError(_("Enter a valid date/time."), code="invalid") from exc


class InstantFilter(filters.IsoDateTimeFilter):
    field_class = InstantField
