"""The CMDB pages: CI list, CI page (graph, impact, tickets, history), business service page,
CI forms, relationships, CSV export and import. Each view checks the role, parses, calls one
service and renders."""

import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Team, User
from itsm import exports
from itsm.forms import form_status
from itsm.permissions import get_visible_or_404, role_required
from itsm.workflow import Conflict, parse_version

from . import csv_io, services
from .csv_io import import_csv
from .filtersets import CIFilterSet
from .forms import CIForm, ImportForm, RelationshipForm, ci_label
from .graph import neighbourhood
from .impact import dependencies_of, impact_of
from .models import CI, CIClass, Relationship
from .permissions import READ_ROLES, can_edit_ci, can_import
from .tickets import open_tickets

PAGE_SIZE = 50
GRAPH_DEPTHS = (1, 2, 3, 4, 5)
DEFAULT_GRAPH_DEPTH = 2


@require_safe
@role_required(*READ_ROLES)
def home(request):
    return redirect("cmdb:ci_list")


def _list_queryset():
    return CI.objects.select_related("ci_class", "owner", "support_group")


@require_safe
@role_required(*READ_ROLES)
def ci_list(request):
    if exports.wants_csv(request):
        return _export(request)
    filterset = CIFilterSet(request.GET, queryset=_list_queryset().visible_to(request.user))
    rows = filterset.qs.order_by("name", "id") if filterset.is_valid() else CI.objects.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filterset": filterset,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
        "query": query.urlencode(),
        "selected": {name: request.GET.getlist(name) for name in filterset.filters},
        "classes": CIClass.objects.order_by("label"),
        "statuses": CI.Status.choices,
        "environments": CI.Environment.choices,
        "criticalities": CI.Criticality.choices,
        "teams": Team.objects.order_by("name"),
        "suppliers": CI.objects.exclude(supplier="")
        .order_by("supplier")
        .values_list("supplier", flat=True)
        .distinct(),
        "can_edit": can_edit_ci(request.user),
        "can_import": can_import(request.user),
    }
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        return render(request, "cmdb/_ci_results.html", context)
    return render(request, "cmdb/ci_list.html", context)


def _get_ci(request, pk):
    return get_visible_or_404(
        CI.objects.select_related("ci_class", "owner", "support_group"), request.user, pk=pk
    )


def _depth(request) -> int:
    value = request.GET.get("depth", "")
    return int(value) if value.isdigit() and int(value) in GRAPH_DEPTHS else DEFAULT_GRAPH_DEPTH


@require_safe
@role_required(*READ_ROLES)
def ci_detail(request, pk):
    ci = _get_ci(request, pk)
    depth = _depth(request)
    graph = neighbourhood(ci, depth=depth)
    impact = impact_of(ci)
    relationships = Relationship.objects.select_related("source__ci_class", "target__ci_class")
    context = {
        "ci": ci,
        "graph": graph,
        "graph_depths": GRAPH_DEPTHS,
        "impact": impact,
        "outgoing": relationships.filter(source=ci).order_by("type", "target__name"),
        "incoming": relationships.filter(target=ci).order_by("type", "source__name"),
        "ticket_groups": open_tickets([ci.pk], request.user),
        "history": history_rows(ci),
        "can_edit": can_edit_ci(request.user, ci),
        "relationship_form": RelationshipForm(ci=ci),
        "relationship_labels": {k: str(v).lower() for k, v in Relationship.Type.choices},
    }
    return render(request, "cmdb/ci_detail.html", context)


@require_safe
@role_required(*READ_ROLES)
def service_list(request):
    services_ = _list_queryset().visible_to(request.user).services().order_by("criticality", "name")
    return render(request, "cmdb/service_list.html", {"services": services_})


@require_safe
@role_required(*READ_ROLES)
def service_detail(request, pk):
    service = _get_ci(request, pk)
    if not service.is_service:
        raise Http404
    dependencies = dependencies_of(service)
    ids = [service.pk, *dependencies.ids]
    groups = open_tickets(ids, request.user)
    context = {
        "ci": service,
        "dependencies": dependencies,
        "incident_groups": [g for g in groups if g.start_field is None],
        "change_groups": [g for g in groups if g.start_field is not None],
        "now": timezone.now(),
    }
    return render(request, "cmdb/service_detail.html", context)


# --- History


def history_rows(ci: CI) -> list[dict]:
    """The CI's audit trail, newest first, with ids shown as names."""
    events = list(ci.events.select_related("actor").order_by("-at", "-id")[:200])
    ids: dict[str, set] = {"ci": set(), "user": set(), "team": set(), "class": set()}
    kinds = {"owner": "user", "support_group": "team", "ci_class": "class"}
    for event in events:
        for value in (event.old, event.new):
            if event.field == "relationship" and isinstance(value, dict):
                ids["ci"].update({value.get("source"), value.get("target")})
            elif event.field in kinds and value is not None:
                ids[kinds[event.field]].add(value)
    names = {
        "ci": dict(CI.objects.filter(pk__in=ids["ci"] - {None}).values_list("pk", "name")),
        "user": {u.pk: str(u) for u in User.objects.filter(pk__in=ids["user"])},
        "team": dict(Team.objects.filter(pk__in=ids["team"]).values_list("pk", "name")),
        "class": {c.pk: c.display_label for c in CIClass.objects.filter(pk__in=ids["class"])},
    }
    labels = dict(Relationship.Type.choices)

    def show(field, value):
        if value is None or value == "":
            return ""
        if field == "relationship" and isinstance(value, dict):
            source = names["ci"].get(value.get("source"), f"#{value.get('source')}")
            target = names["ci"].get(value.get("target"), f"#{value.get('target')}")
            return f"{source} → {labels.get(value.get('type'), value.get('type'))} → {target}"
        if field in kinds:
            return names[kinds[field]].get(value, f"#{value}")
        if field == "status":
            return CI.Status(value).label if value in CI.Status.values else value
        if field == "environment":
            return CI.Environment(value).label if value in CI.Environment.values else value
        return value

    field_labels = {f.name: f.verbose_name for f in CI._meta.fields}
    field_labels.update({"created": _("Created"), "relationship": _("Relationship")})
    return [
        {
            "at": event.at,
            "actor": event.actor,
            "field": event.field,
            "label": field_labels.get(event.field, event.field),
            "old": show(event.field, event.old),
            "new": show(event.field, event.new),
            "structured": isinstance(event.old, dict | list) or isinstance(event.new, dict | list),
        }
        for event in events
    ]


# --- Writes


def _require_editor(request, ci=None) -> None:
    if not can_edit_ci(request.user, ci):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
@role_required(*READ_ROLES)
def ci_add(request):
    _require_editor(request)
    initial = {}
    if request.GET.get("ci_class"):
        initial["ci_class"] = CIClass.objects.filter(name=request.GET["ci_class"]).first()
    form = CIForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ci = services.create_ci(actor=request.user, **form.values())
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("%(name)s was added to the CMDB.") % {"name": ci.name})
            return redirect(ci)
    return render(request, "cmdb/ci_form.html", {"form": form, "classes": _class_help()})


@require_http_methods(["GET", "POST"])
@role_required(*READ_ROLES)
def ci_edit(request, pk):
    ci = _get_ci(request, pk)
    _require_editor(request, ci)
    form = CIForm(request.POST or None, instance=CI.objects.get(pk=ci.pk))
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.update_ci(
                ci, form.values(), actor=request.user, version=form.cleaned_data.get("version")
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        except Conflict as exc:
            form.add_error(None, str(exc.detail))
        else:
            if changes:
                messages.success(request, _("Saved."))
            return redirect(ci)
    context = {"form": form, "ci": ci, "classes": _class_help()}
    return render(request, "cmdb/ci_form.html", context)


def _class_help() -> list[dict]:
    """Each class's attributes, for the help panel beside the attributes field."""
    return [
        {"id": c.pk, "name": c.name, "label": c.display_label, "properties": c.properties}
        for c in CIClass.objects.order_by("label")
    ]


@require_POST
@role_required(*READ_ROLES)
def ci_retire(request, pk):
    ci = _get_ci(request, pk)
    _require_editor(request, ci)
    try:
        services.retire_ci(
            ci, actor=request.user, version=parse_version(request.POST.get("version"))
        )
    except Conflict as exc:
        messages.error(request, str(exc.detail))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s is retired.") % {"name": ci.name})
    return redirect(ci)


@require_POST
@role_required(*READ_ROLES)
def relationship_add(request, pk):
    ci = _get_ci(request, pk)
    _require_editor(request, ci)
    form = RelationshipForm(request.POST, ci=ci)
    if form.is_valid():
        source, target = form.endpoints()
        try:
            services.relate(source, target, form.cleaned_data["type"], actor=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Relationship added."))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect(f"{ci.get_absolute_url()}#relationships")


@require_POST
@role_required(*READ_ROLES)
def relationship_delete(request, pk, relationship_id):
    ci = _get_ci(request, pk)
    _require_editor(request, ci)
    relationship = get_object_or_404(
        Relationship.objects.filter(Q(source=ci) | Q(target=ci)), pk=relationship_id
    )
    services.unrelate(relationship, actor=request.user)
    messages.success(request, _("Relationship removed."))
    return redirect(f"{ci.get_absolute_url()}#relationships")


@require_safe
@role_required(*READ_ROLES)
def ci_lookup(request):
    """``<option>``s for a CI type-ahead box (``other`` on the relationship form, ``ci`` on
    ticket forms), through htmx."""
    term = (
        request.GET.get("other") or request.GET.get("ci") or request.GET.get("service") or ""
    ).strip()
    cis = CI.objects.none()
    if len(term) >= 2:
        cis = CI.objects.filter(name__icontains=term)
        if request.GET.get("service"):
            cis = cis.services()
        exclude = request.GET.get("exclude", "")
        if exclude.isdigit():
            cis = cis.exclude(pk=int(exclude))
        cis = cis.select_related("ci_class").order_by("name")[:20]
    return render(request, "_typeahead_options.html", {"options": [ci_label(ci) for ci in cis]})


# --- CSV


# The export's columns are those ``cmdb_import`` reads back, headed by their machine names.
EXPORT_COLUMNS = [exports.Column(name, lambda row, name=name: row[name]) for name in csv_io.COLUMNS]


def _export(request):
    """The filtered CI list as CSV, in the list's order: the columns ``cmdb_import`` reads."""
    filterset = CIFilterSet(request.GET, queryset=CI.objects.visible_to(request.user))
    if not filterset.is_valid():
        return exports.refused(filterset)
    return exports.export(
        request,
        csv_io.export_queryset(filterset.qs),
        ["name", "id"],
        EXPORT_COLUMNS,
        name="cmdb",
        each=csv_io.export_row,
        translate_headers=False,
    )


@require_safe
@role_required(*READ_ROLES)
def ci_export(request):
    return _export(request)


@require_http_methods(["GET", "POST"])
@role_required(*READ_ROLES)
def ci_import(request):
    if not can_import(request.user):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.add_error("file", _("The file is not UTF-8 text."))
        else:
            result = import_csv(
                io.StringIO(text, newline=""),
                actor=request.user,
                dry_run=form.cleaned_data["dry_run"],
                partial=form.cleaned_data["partial"],
            )
    return render(
        request, "cmdb/ci_import.html", {"form": form, "result": result}, status=form_status(form)
    )
