"""The CI and relationship filters, shared by the API and the CI list page.

Every filter takes several values, repeated (``?status=planned&status=in_service``) or
comma-separated (``?status=planned,in_service``). Classes and teams are given by id or by name.
``q`` (and ``search``, the API's usual name) looks in name, description and supplier.
"""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .models import CI, Relationship


class MultiValueField(forms.Field):
    """A list of strings from repeated or comma-separated parameters, optionally from choices."""

    widget = forms.SelectMultiple

    def __init__(self, *, choices=None, ids=False, **kwargs):
        self.allowed = {str(value) for value, _label in choices} if choices else None
        self.ids = ids
        super().__init__(**kwargs)

    def to_python(self, value) -> list[str]:
        if value in (None, "", []):
            return []
        values = [value] if isinstance(value, str | int) else list(value)
        parts = []
        for item in values:
            parts.extend(part.strip() for part in str(item).split(",") if part.strip())
        return parts

    def validate(self, value):
        super().validate(value)
        if self.allowed is not None:
            unknown = [item for item in value if item not in self.allowed]
            if unknown:
                raise forms.ValidationError(
                    _("Unknown value: %(values)s. Expected one of: %(allowed)s."),
                    params={
                        "values": ", ".join(unknown),
                        "allowed": ", ".join(sorted(self.allowed)),
                    },
                    code="invalid_choice",
                )
        if self.ids and not all(item.isdigit() for item in value):
            raise forms.ValidationError(_("Expected ids (whole numbers)."), code="invalid")


class MultiValueFilter(django_filters.Filter):
    field_class = MultiValueField

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


def ids_or_names(relation: str, values: list[str]) -> Q:
    """Match ``relation`` by id (digits) or by its ``name``."""
    ids = [int(value) for value in values if value.isdigit()]
    names = [value for value in values if not value.isdigit()]
    query = Q(pk__in=[])
    if ids:
        query |= Q(**{f"{relation}_id__in": ids})
    if names:
        query |= Q(**{f"{relation}__name__in": names})
    return query


class CIFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    ci_class = MultiValueFilter(method="filter_class", label=_("Class"))
    status = MultiValueFilter(field_name="status", label=_("Status"), choices=CI.Status.choices)
    environment = MultiValueFilter(
        field_name="environment", label=_("Environment"), choices=CI.Environment.choices
    )
    criticality = MultiValueFilter(
        field_name="criticality", label=_("Criticality"), choices=CI.Criticality.choices
    )
    support_group = MultiValueFilter(method="filter_team", label=_("Support group"))
    supplier = MultiValueFilter(method="filter_supplier", label=_("Supplier"))
    owner = MultiValueFilter(method="filter_owner", label=_("Owner"), ids=True)

    class Meta:
        model = CI
        fields = [
            "q",
            "ci_class",
            "status",
            "environment",
            "criticality",
            "support_group",
            "supplier",
            "owner",
        ]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(description__icontains=value)
            | Q(supplier__icontains=value)
        )

    def filter_class(self, queryset, name, values):
        return queryset.filter(ids_or_names("ci_class", values)) if values else queryset

    def filter_team(self, queryset, name, values):
        return queryset.filter(ids_or_names("support_group", values)) if values else queryset

    def filter_supplier(self, queryset, name, values):
        if not values:
            return queryset
        query = Q()
        for value in values:
            query |= Q(supplier__iexact=value)
        return queryset.filter(query)

    def filter_owner(self, queryset, name, values):
        return queryset.filter(owner_id__in=values) if values else queryset

    @property
    def active_filters(self) -> int:
        """How many filters the request set (for the "clear filters" link)."""
        data = self.form.cleaned_data if self.form.is_bound and self.form.is_valid() else {}
        return sum(1 for value in data.values() if value)


class RelationshipFilterSet(django_filters.FilterSet):
    source = MultiValueFilter(field_name="source_id", label=_("Source"), ids=True)
    target = MultiValueFilter(field_name="target_id", label=_("Target"), ids=True)
    type = MultiValueFilter(field_name="type", label=_("Type"), choices=Relationship.Type.choices)
    ci = MultiValueFilter(method="filter_ci", label=_("Either end"), ids=True)

    class Meta:
        model = Relationship
        fields = ["source", "target", "type", "ci"]

    @extend_schema_field(OpenApiTypes.INT)
    def filter_ci(self, queryset, name, values):
        if not values:
            return queryset
        return queryset.filter(Q(source_id__in=values) | Q(target_id__in=values))
