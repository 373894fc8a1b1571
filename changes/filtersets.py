"""One FilterSet for the change list: the API and the change list page use it alike."""

import django_filters as filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from cmdb.models import CI
from itsm.filters import InstantFilter

from .models import Blackout, Change
from .workflow import Risk, State, Type


class ChangeFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=State.choices, label=_("State"), distinct=False)
    type = filters.MultipleChoiceFilter(choices=Type.choices, label=_("Type"), distinct=False)
    risk = filters.MultipleChoiceFilter(choices=Risk.choices, label=_("Risk"), distinct=False)
    cab = filters.ModelMultipleChoiceFilter(
        queryset=Team.objects.all(), label=_("CAB"), distinct=False
    )
    assignee = filters.ModelMultipleChoiceFilter(
        queryset=User.objects.all(), label=_("Assignee"), distinct=False
    )
    assignment_group = filters.ModelMultipleChoiceFilter(
        queryset=Team.objects.all(), label=_("Assignment group"), distinct=False
    )
    requester = filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Requester"))
    ci = filters.ModelMultipleChoiceFilter(
        field_name="cis", queryset=CI.objects.all(), label=_("Configuration item")
    )
    # A window overlapping [starts_before, ends_after): the calendar's question.
    starts_before = InstantFilter(
        field_name="planned_start", lookup_expr="lt", label=_("Starts before")
    )
    ends_after = InstantFilter(field_name="planned_end", lookup_expr="gt", label=_("Ends after"))
    created_after = InstantFilter(
        field_name="created_at", lookup_expr="gte", label=_("Created after")
    )
    created_before = InstantFilter(
        field_name="created_at", lookup_expr="lt", label=_("Created before")
    )
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    q = filters.CharFilter(method="filter_search", label=_("Search"))

    class Meta:
        model = Change
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        """A number (``CHG0000012``, or its digits) or words of the title."""
        value = value.strip()
        if not value:
            return queryset
        query = Q()
        for word in value.split():
            query &= Q(title__icontains=word)
        digits = value.upper().removeprefix("CHG")
        if digits.isdigit():
            query |= Q(number=f"CHG{int(digits):07d}")
        return queryset.filter(query)


class BlackoutFilter(filters.FilterSet):
    starts_before = InstantFilter(field_name="start", lookup_expr="lt", label=_("Starts before"))
    ends_after = InstantFilter(field_name="end", lookup_expr="gt", label=_("Ends after"))
    ci = filters.ModelMultipleChoiceFilter(
        field_name="cis", queryset=CI.objects.all(), label=_("Configuration item")
    )

    class Meta:
        model = Blackout
        fields: list[str] = []
