"""One FilterSet for the incident list: the API and the desk page use it alike."""

import django_filters as filters
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from cmdb.models import CI
from itsm import search
from itsm.filters import InstantFilter
from itsm.permissions import is_staff_member

from .models import Incident
from .workflow import Level, Priority, State


class IncidentFilter(filters.FilterSet):
    # Every filter is on the incident's own columns: no join, so no DISTINCT (costly on big lists).
    state = filters.MultipleChoiceFilter(choices=State.choices, label=_("State"), distinct=False)
    priority = filters.MultipleChoiceFilter(
        choices=Priority.choices, label=_("Priority"), distinct=False
    )
    impact = filters.MultipleChoiceFilter(choices=Level.choices, label=_("Impact"), distinct=False)
    urgency = filters.MultipleChoiceFilter(
        choices=Level.choices, label=_("Urgency"), distinct=False
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
    requester = filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Requester"))
    service = filters.ModelMultipleChoiceFilter(
        queryset=CI.objects.all(), label=_("Service"), distinct=False
    )
    ci = filters.ModelMultipleChoiceFilter(
        queryset=CI.objects.all(), label=_("Configuration item"), distinct=False
    )
    major = filters.BooleanFilter(label=_("Major incident"))
    parent = filters.CharFilter(field_name="parent__number", label=_("Parent incident"))
    problem = filters.CharFilter(field_name="problem__number", label=_("Problem"))
    created_after = InstantFilter(
        field_name="created_at", lookup_expr="gte", label=_("Created after")
    )
    created_before = InstantFilter(
        field_name="created_at", lookup_expr="lt", label=_("Created before")
    )
    updated_after = InstantFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated after")
    )
    updated_before = InstantFilter(
        field_name="updated_at", lookup_expr="lt", label=_("Updated before")
    )
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    q = filters.CharFilter(method="filter_search", label=_("Search"))

    class Meta:
        model = Incident
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        return search.search(queryset, value, internal=is_staff_member(user))
