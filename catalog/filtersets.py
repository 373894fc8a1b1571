"""One FilterSet per list: the API and the desk pages use them alike."""

import django_filters as filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from itsm import search
from itsm.filters import InstantFilter
from itsm.permissions import is_staff_member

from .models import CatalogItem, Category, Request, Task
from .workflow import ApprovalMode, RequestState, TaskState


class TicketSearch(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    q = filters.CharFilter(method="filter_search", label=_("Search"))

    def filter_search(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        return search.search(queryset, value, internal=is_staff_member(user))


class RequestFilter(TicketSearch):
    state = filters.MultipleChoiceFilter(
        choices=RequestState.choices, label=_("State"), distinct=False
    )
    item = filters.ModelMultipleChoiceFilter(
        queryset=CatalogItem.objects.all(), label=_("Item"), distinct=False
    )
    category = filters.ModelChoiceFilter(
        field_name="item__category", queryset=Category.objects.all(), label=_("Category")
    )
    requester = filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Requester"))
    requested_for = filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Requested for"))
    assignment_group = filters.ModelMultipleChoiceFilter(
        queryset=Team.objects.all(), label=_("Team"), distinct=False
    )
    assignee = filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Assignee"))
    unassigned = filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label=_("Unassigned")
    )
    created_after = InstantFilter(
        field_name="created_at", lookup_expr="gte", label=_("Created after")
    )
    created_before = InstantFilter(
        field_name="created_at", lookup_expr="lt", label=_("Created before")
    )

    class Meta:
        model = Request
        fields: list[str] = []


class TaskFilter(TicketSearch):
    state = filters.MultipleChoiceFilter(
        choices=TaskState.choices, label=_("State"), distinct=False
    )
    request = filters.CharFilter(field_name="request__number", label=_("Request"))
    assignment_group = filters.ModelMultipleChoiceFilter(
        queryset=Team.objects.all(), label=_("Team"), distinct=False
    )
    assignee = filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Assignee"))
    unassigned = filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label=_("Unassigned")
    )

    class Meta:
        model = Task
        fields: list[str] = []


class ItemFilter(filters.FilterSet):
    category = filters.ModelChoiceFilter(queryset=Category.objects.all(), label=_("Category"))
    active = filters.BooleanFilter(label=_("Active"))
    approval = filters.ChoiceFilter(choices=ApprovalMode.choices, label=_("Approval"))
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    q = filters.CharFilter(method="filter_search", label=_("Search"))

    class Meta:
        model = CatalogItem
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return search_items(queryset, value)


def search_items(queryset, text: str):
    """Items whose name, summary or description (in any language) hold every word of ``text``."""
    for word in (text or "").split()[:8]:
        queryset = queryset.filter(
            Q(name__icontains=word)
            | Q(summary__icontains=word)
            | Q(description__icontains=word)
            | Q(translations__icontains=word)
            | Q(category__name__icontains=word)
        )
    return queryset
