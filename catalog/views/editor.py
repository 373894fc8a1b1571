"""The catalog editor (managers, admins): categories, items and the form builder. Every save
goes through ``catalog.services``; its refusals land on the fields they are about."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from itsm.permissions import role_required
from itsm.workflow import Conflict

from .. import services
from ..formdef import FIELD_TYPES, other_languages
from ..forms.editor import (
    CategoryForm,
    FieldForm,
    FieldFormSet,
    ItemForm,
    TaskFormSet,
    definition,
    task_definition,
    team_choices,
)
from ..models import CatalogItem, Category
from ..permissions import EDIT_ROLES


@require_safe
@role_required(*EDIT_ROLES)
def item_list(request):
    """The whole catalog, category by category, with what each item has been ordered for."""
    categories = Category.objects.order_by("order", "name")
    items = (
        CatalogItem.objects.select_related("fulfillment_team", "approval_team")
        .annotate(open_requests=Count("requests", filter=~Q(requests__state__in=_FINISHED)))
        .order_by("order", "name")
    )
    by_category = {}
    for item in items:
        by_category.setdefault(item.category_id, []).append(item)
    return render(
        request,
        "catalog/item_list.html",
        {"sections": [(category, by_category.get(category.pk, [])) for category in categories]},
    )


_FINISHED = ("fulfilled", "rejected", "canceled")


def _formsets(request, item, *, data=None, extra_field=False, extra_task=False):
    fields_initial = [FieldForm.initial_from(field) for field in (item.form if item else [])]
    tasks_initial = [
        {
            "title": task["title"],
            "description": task.get("description", ""),
            "team": task.get("team"),
        }
        for task in (item.tasks if item else [])
    ]
    fields = FieldFormSet(data, prefix="fields", initial=fields_initial)
    tasks = TaskFormSet(
        data, prefix="tasks", initial=tasks_initial, form_kwargs={"teams": team_choices()}
    )
    if extra_field or extra_task:
        # no script: "Add a question" and "Add a task" post the page back with one more card
        query = data.copy()
        formset = fields if extra_field else tasks
        key = f"{formset.prefix}-TOTAL_FORMS"
        query[key] = str(int(query.get(key, 0)) + 1)
        fields = FieldFormSet(query, prefix="fields", initial=fields_initial)
        tasks = TaskFormSet(
            query, prefix="tasks", initial=tasks_initial, form_kwargs={"teams": team_choices()}
        )
    return fields, tasks


@require_http_methods(["GET", "POST"])
@role_required(*EDIT_ROLES)
def item_add(request):
    return _item_form(request, None)


@require_http_methods(["GET", "POST"])
@role_required(*EDIT_ROLES)
def item_edit(request, pk):
    return _item_form(request, get_object_or_404(CatalogItem, pk=pk))


def _item_form(request, item):
    initial = ItemForm.initial_from(item) if item else None
    if request.method != "POST":
        form = ItemForm(initial=initial)
        fields, tasks = _formsets(request, item)
        return _render_item(request, item, form, fields, tasks)
    form = ItemForm(request.POST, initial=initial)
    adding_field = "add_field" in request.POST
    adding_task = "add_task" in request.POST
    fields, tasks = _formsets(
        request, item, data=request.POST, extra_field=adding_field, extra_task=adding_task
    )
    if adding_field or adding_task:
        return _render_item(request, item, form, fields, tasks)
    if form.is_valid() and fields.is_valid() and tasks.is_valid():
        values = form.values()
        values["form"] = definition(fields, item.form if item else [])
        values["tasks"] = task_definition(tasks)
        try:
            saved = services.save_item(
                item, values, actor=request.user, version=form.cleaned_data.get("version")
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                if name == "form":
                    fields._non_form_errors = fields.error_class(errors)
                elif name == "tasks":
                    tasks._non_form_errors = tasks.error_class(errors)
                else:
                    form.add_error(name if name in form.fields else None, errors)
        except Conflict as exc:
            form.add_error(None, str(exc.detail))
            return _render_item(request, item, form, fields, tasks, status=409)
        else:
            messages.success(request, _("“%(name)s” saved.") % {"name": saved.name})
            return redirect("catalog:item_edit", pk=saved.pk)
    return _render_item(request, item, form, fields, tasks, status=400)


def _render_item(request, item, form, fields, tasks, status=200):
    return render(
        request,
        "catalog/item_form.html",
        {
            "item": item,
            "form": form,
            "fields": fields,
            "tasks": tasks,
            "field_types": FIELD_TYPES,
            "languages": other_languages(),
        },
        status=status,
    )


@role_required(*EDIT_ROLES)
@require_POST
def item_delete(request, pk):
    item = get_object_or_404(CatalogItem, pk=pk)
    try:
        services.delete_item(item, actor=request.user)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
        return redirect("catalog:item_edit", pk=item.pk)
    messages.success(request, _("“%(name)s” deleted.") % {"name": item.name})
    return redirect("catalog:item_list")


@require_http_methods(["GET", "POST"])
@role_required(*EDIT_ROLES)
def category_add(request):
    return _category_form(request, None)


@require_http_methods(["GET", "POST"])
@role_required(*EDIT_ROLES)
def category_edit(request, pk):
    return _category_form(request, get_object_or_404(Category, pk=pk))


def _category_form(request, category):
    initial = CategoryForm.initial_from(category) if category else None
    form = CategoryForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                saved = services.save_category(category, form.values(), actor=request.user)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": saved.name})
                return redirect("catalog:item_list")
    return render(
        request, "catalog/category_form.html", {"form": form, "category": category}, status=status
    )


@role_required(*EDIT_ROLES)
@require_POST
def category_delete(request, pk):
    category = get_object_or_404(Category, pk=pk)
    try:
        services.delete_category(category, actor=request.user)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
        return redirect("catalog:category_edit", pk=category.pk)
    messages.success(request, _("“%(name)s” deleted.") % {"name": category.name})
    return redirect("catalog:item_list")
