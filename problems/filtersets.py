"""One FilterSet for the problem list: the API and the page use it alike."""

import django_filters as filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import Team, User
from cmdb.models import CI
from itsm import search
from itsm.filters import InstantFilter

from .models import PUBLISHED, Problem
from .workflow import Priority, State


@extend_schema_field(OpenApiTypes.INT)
class CIFilter(filters.ModelChoiceFilter):
    """A CI by its id (the API's convention for foreign keys)."""


class ProblemFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=State.choices, label=_("State"), distinct=False)
    priority = filters.MultipleChoiceFilter(
        choices=Priority.choices, label=_("Priority"), distinct=False
    )
    assignee = filters.ModelMultipleChoiceFilter(
        queryset=User.objects.all(), label=_("Assignee"), distinct=False
    )
    unassigned = filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label=_("Unassigned")
    )
    assignment_group = filters.ModelMultipleChoiceFilter(
        queryset=Team.objects.all(), label=_("Assignment group"), distinct=False
    )
    known_error = filters.BooleanFilter(label=_("Known error"))
    published = filters.BooleanFilter(method="filter_published", label=_("Published"))
    # Through the link tables with EXISTS: no join, so no DISTINCT on the list.
    service = CIFilter(queryset=CI.objects.all(), method="filter_service", label=_("Service"))
    ci = CIFilter(queryset=CI.objects.all(), method="filter_ci", label=_("Configuration item"))
    created_after = InstantFilter(
        field_name="created_at", lookup_expr="gte", label=_("Created after")
    )
    created_before = InstantFilter(
        field_name="created_at", lookup_expr="lt", label=_("Created before")
    )
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    q = filters.CharFilter(method="filter_search", label=_("Search"))

    class Meta:
        model = Problem
        fields: list[str] = []

    def filter_published(self, queryset, name, value):
        return queryset.filter(PUBLISHED) if value else queryset.exclude(PUBLISHED)

    def filter_service(self, queryset, name, value):
        return self._linked(queryset, Problem.services.through, value)

    def filter_ci(self, queryset, name, value):
        return self._linked(queryset, Problem.cis.through, value)

    @staticmethod
    def _linked(queryset, through, ci):
        return queryset.filter(Exists(through.objects.filter(problem=OuterRef("pk"), ci=ci)))

    def filter_search(self, queryset, name, value):
        # Every reader of problems is staff: internal notes are searched too.
        return search.search(queryset, value, internal=True)
