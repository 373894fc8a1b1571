"""The agent desk for incidents: queues, the list, the ticket page and its quick actions."""

from django.contrib import messages
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    FieldDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Team
from accounts.services import register_caller
from itsm import exports
from itsm.attachments import UploadRefused, UploadTooLarge, download_response
from itsm.extensions import deadline_cells, panels_for, queues_for, with_deadlines
from itsm.forms import add_upload_error, form_status, mark_form_errors
from itsm.pagination import paginate
from itsm.permissions import get_visible_or_404, role_required, staff_user_ids
from itsm.templatetags.itsm import since
from itsm.workflow import Conflict, parse_version
from problems import deflection
from problems import services as problem_services
from problems.models import Problem
from problems.permissions import can_manage as can_promote
from problems.workflow import LINKABLE_STATES

from . import services
from .filtersets import IncidentFilter
from .forms import (
    AttachForm,
    BulkForm,
    CommentForm,
    HoldForm,
    IncidentForm,
    NewIncidentForm,
    ResolveForm,
)
from .models import Incident
from .permissions import WORK_ROLES, can_link_problem, can_work, check_link_problem
from .timeline import timeline
from .workflow import Priority, State

READ_ROLES = Incident.STAFF_ROLES
LIST_SIZE = 50
# Sortable columns: URL key → ordering (each ends on a unique-enough field for the keyset).
SORTS = {
    "priority": ["priority", "-created_at"],
    "-priority": ["-priority", "-created_at"],
    "created": ["created_at"],
    "-created": ["-created_at"],
    "updated": ["updated_at"],
    "-updated": ["-updated_at"],
    "number": ["number"],
    "-number": ["-number"],
    "state": ["state", "-created_at"],
    "-state": ["-state", "-created_at"],
}
DEFAULT_SORT = "priority"
# What a row of the list shows (and sorts on): the joined people, team and service are wide rows.
LIST_COLUMNS = (
    *("number", "title", "state", "priority", "major", "created_at", "updated_at", "version"),
    *(
        f"{person}__{name}"
        for person in ("assignee", "requester")
        for name in ("username", "first_name", "last_name")
    ),
    "assignment_group__name",
    "service__name",
)


def _landing_queue(queues) -> str:
    """Where an agent's work is when they arrive: their own open incidents, else their teams'
    unassigned ones, else everything open (a manager, a new agent)."""
    for queue in queues:
        if queue["key"] in ("mine", "team") and queue["apply"](Incident.objects.all()).exists():
            return queue["key"]
    return "open"


def _without_blanks(query):
    """The query string without empty values (an "Any" select sends ``state=``)."""
    cleaned = query.copy()
    for key in list(cleaned):
        values = [value for value in cleaned.getlist(key) if value != ""]
        if values:
            cleaned.setlist(key, values)
        else:
            del cleaned[key]
    return cleaned


def _queues(user) -> list[dict]:
    """The desk's queues: built-in ones, then those other apps register (e.g. SLA)."""
    queues = [
        {
            "key": "mine",
            "label": gettext_lazy("My open work"),
            "icon": "person-workspace",
            "apply": lambda qs: qs.open().filter(assignee=user),
        },
        {
            "key": "team",
            "label": gettext_lazy("My teams' unassigned"),
            "icon": "people",
            # The team ids as a list, not a subquery: the semi-join costs PostgreSQL ~5 ms of
            # planning per request on a big table, the list a 0.3 ms lookup.
            "apply": lambda qs: qs.open().filter(
                assignee__isnull=True,
                assignment_group__in=list(user.teams.values_list("pk", flat=True)),
            ),
        },
        {
            "key": "open",
            "label": gettext_lazy("All open"),
            "icon": "inbox",
            "apply": lambda qs: qs.open(),
        },
        {
            "key": "major",
            "label": gettext_lazy("Major incidents"),
            "icon": "exclamation-octagon",
            "apply": lambda qs: qs.open().filter(major=True),
        },
    ]
    for queue in queues_for("incidents.Incident"):
        queues.append(
            {
                "key": queue.key,
                "label": queue.label,
                "icon": "alarm",
                "apply": queue.apply,
                "ordering": list(queue.ordering),
            }
        )
    queues.append(
        {
            "key": "all",
            "label": gettext_lazy("All incidents"),
            "icon": "archive",
            "apply": lambda qs: qs,
        }
    )
    return queues


@role_required(*READ_ROLES)
@require_safe
def incident_list(request):
    queues = _queues(request.user)
    key = request.GET.get("queue") or (_landing_queue(queues) if "q" not in request.GET else "all")
    queue = next((q for q in queues if q["key"] == key), queues[0])
    base = with_deadlines(queue["apply"](Incident.objects.visible_to(request.user)), MODEL)
    filters = IncidentFilter(_without_blanks(request.GET), queryset=base, request=request)
    if exports.wants_csv(request) and not filters.is_valid():
        return exports.refused(filters)
    if filters.is_valid():
        rows = filters.qs
    else:
        rows = base.none()
        for field, errors in filters.errors.items():
            messages.error(request, f"{filters.form.fields[field].label}: {' '.join(errors)}")
    sort = request.GET.get("sort", "")
    ordering = SORTS.get(sort)
    if ordering is None:  # the queue's own order (e.g. soonest SLA due), else by priority
        sort = "" if queue.get("ordering") else DEFAULT_SORT
        ordering = queue.get("ordering") or SORTS[DEFAULT_SORT]
    rows = rows.select_related("assignee", "assignment_group", "requester", "service").only(
        *LIST_COLUMNS
    )
    if exports.wants_csv(request):
        return exports.export(request, rows, ordering, _csv_columns(), name="incidents")
    page = paginate(rows, ordering, cursor=request.GET.get("cursor"), size=LIST_SIZE)
    context = {
        "queues": queues,
        "queue": queue,
        "filters": filters,
        "page": page,
        "rows": _list_rows(page.rows),
        "sort": sort,
        # One query for the team pickers of the filter and bulk forms (each form's own field
        # would count and iterate its queryset again).
        "teams": list(Team.objects.order_by("name").values_list("pk", "name")),
        "can_work": can_work(request.user),
        "query": request.GET.copy(),
    }
    template = (
        "incidents/_incident_rows.html"
        if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "incident-rows"
        else "incidents/incident_list.html"
    )
    return render(request, template, context)


MODEL = "incidents.Incident"


def _csv_columns() -> list:
    """The list's columns for its CSV export (``itsm.exports``), labels translated once."""
    priorities = {value: str(label) for value, label in Priority.choices}
    states = {value: str(label) for value, label in State.choices}
    Column = exports.Column
    return [
        Column(gettext_lazy("Number"), lambda i: i.number),
        Column(gettext_lazy("Priority"), lambda i: priorities.get(i.priority, i.priority)),
        Column(gettext_lazy("Major"), lambda i: i.major),
        Column(gettext_lazy("Title"), lambda i: i.title),
        Column(gettext_lazy("Service"), lambda i: str(i.service) if i.service_id else ""),
        Column(gettext_lazy("State"), lambda i: states.get(i.state, i.state)),
        Column(gettext_lazy("Assigned to"), lambda i: str(i.assignee) if i.assignee_id else ""),
        Column(
            gettext_lazy("Team"),
            lambda i: str(i.assignment_group) if i.assignment_group_id else "",
        ),
        Column(gettext_lazy("Due"), lambda i: getattr(i, "sla_due_at", None)),
        Column(gettext_lazy("Requester"), lambda i: str(i.requester)),
        Column(gettext_lazy("Created"), lambda i: i.created_at),
        Column(gettext_lazy("Updated"), lambda i: i.updated_at),
    ]


def _list_rows(incidents) -> list[dict]:
    """The list's cells as plain dicts, labels already translated.

    The template engine reads a dict key in one step, where each attribute of a model instance
    costs it a failed subscript first; on fifty rows of a dozen cells that was most of the
    page's rendering time.
    """
    priorities = {value: str(label) for value, label in Priority.choices}
    states = {value: str(label) for value, label in State.choices}
    now = timezone.now()
    return [
        {
            "number": incident.number,
            "version": incident.version,
            "url": incident.desk_url(),
            "select_label": _("Select %(number)s") % {"number": incident.number},
            "moves": " ".join(Incident.workflow.allowed(incident.state)),
            "major": incident.major,
            "priority": str(incident.priority),
            "priority_label": priorities.get(incident.priority, incident.priority),
            "title": incident.title,
            "service": str(incident.service) if incident.service_id else "",
            "state_label": states.get(incident.state, incident.state),
            "state_colour": Incident.workflow.colour(incident.state),
            "assignee": str(incident.assignee) if incident.assignee_id else "",
            "team": str(incident.assignment_group) if incident.assignment_group_id else "",
            "requester": str(incident.requester),
            "updated_at": incident.updated_at.isoformat(),
            "updated_since": since(incident.updated_at),
            **deadline_cells(MODEL, getattr(incident, "sla_due_at", None), now),
        }
        for incident in incidents
    ]


@role_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def incident_add(request):
    form = NewIncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # a caller is added only with their incident
                requester = form.cleaned_data["requester"] or register_caller(
                    actor=request.user, **form.new_caller()
                )
                incident = services.open_incident(
                    actor=request.user, requester=requester, **form.incident_values()
                )
        except ValidationError as exc:
            _errors_to_form(form, exc, prefix="caller_")
        else:
            messages.success(
                request, _("Incident %(number)s logged.") % {"number": incident.number}
            )
            return redirect(incident)
    return render(
        request,
        "incidents/incident_add.html",
        {"form": form, "caller": _caller_context(form)},
    )


def _errors_to_form(form, exc: ValidationError, *, prefix: str) -> None:
    """A verb's refusal, on the field it names (``email`` of the caller is ``caller_email``)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.message_dict.items():
        field = name if name in form.fields else f"{prefix}{name}"
        form.add_error(field if field in form.fields else None, errors)


def _caller_context(form) -> dict:
    """The picked caller's open and recent incidents, when the form comes back with one."""
    requester = form.cleaned_data.get("requester") if hasattr(form, "cleaned_data") else None
    return _caller_tickets(requester) if requester else {}


def _caller_tickets(person) -> dict:
    mine = Incident.objects.filter(requester=person).only("number", "title", "state", "updated_at")
    return {
        "person": person,
        "open": list(mine.open().order_by("-updated_at")[:5]),
        "recent": list(
            mine.exclude(state__in=Incident.workflow.open_states).order_by("-updated_at")[:5]
        ),
    }


@role_required(*WORK_ROLES)
@require_safe
def incident_caller(request):
    """The open and recent incidents of the caller picked in "New incident" (htmx)."""
    field = NewIncidentForm.base_fields["requester"]
    try:
        person = field.clean(request.GET.get("requester", ""))
    except ValidationError:
        person = None
    context = _caller_tickets(person) if person else {}
    return render(request, "incidents/_caller_tickets.html", {"caller": context})


@role_required(*WORK_ROLES)
@require_POST
def incident_bulk(request):
    form = BulkForm(request.POST)
    back = request.POST.get("next") or reverse("incidents:incident_list")
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect(back)
    data = form.cleaned_data
    numbers = data["numbers"]
    refusals = []
    with transaction.atomic():
        incidents = list(
            Incident.objects.visible_to(request.user)
            .filter(number__in=numbers)
            .select_for_update()
            .order_by("number")
        )
        found = {incident.number for incident in incidents}
        refusals += [(n, _("no longer exists.")) for n in sorted(set(numbers) - found)]
        for incident in incidents:
            try:
                with transaction.atomic():  # a refused verb leaves the others' work intact
                    _bulk_apply(
                        incident,
                        data,
                        actor=request.user,
                        version=form.versions.get(incident.number),
                    )
            except (Conflict, ValidationError, PermissionDenied) as exc:
                refusals.append((incident.number, _reason(exc)))
        if refusals:  # all or nothing: one refusal undoes every change of the batch
            transaction.set_rollback(True)
    if refusals:
        messages.error(request, _refusal_message(refusals, len(set(numbers))))
    else:
        count = len(incidents)
        messages.success(
            request,
            ngettext("%(count)d incident updated.", "%(count)d incidents updated.", count)
            % {"count": count},
        )
    return redirect(back)


def _refusal_message(refusals, selected: int):
    """Nothing changed, and every ticket that refused, with its reason."""
    headline = ngettext(
        "Nothing was changed: %(count)d of %(selected)d incidents refused.",
        "Nothing was changed: %(count)d of %(selected)d incidents refused.",
        len(refusals),
    ) % {"count": len(refusals), "selected": selected}
    items = format_html_join("", "<li><strong>{}</strong>: {}</li>", refusals)
    return format_html('{}<ul class="bulk-refusals mb-0">{}</ul>', headline, items)


def _bulk_apply(incident, data, *, actor, version=None) -> None:
    """One incident's part of a bulk action, at the version the list showed (a ticket another
    desk changed since is refused: 409)."""
    if data["action"] == "take":
        services.take(incident, actor=actor, version=version)
    elif data["action"] == "assign":
        services.assign(
            incident,
            actor=actor,
            assignee=data.get("assignee"),
            group=data.get("assignment_group"),
            version=version,
        )
    else:
        fields = {
            name: data[name]
            for name in ("hold_reason", "resolution_code", "resolution_notes")
            if data.get(name)
        }
        services.change_state(incident, data["state"], actor=actor, version=version, **fields)


def _field_label(name: str) -> str:
    try:
        return capfirst(Incident._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _reason(exc) -> str:
    if not isinstance(exc, ValidationError | Conflict):
        return str(exc)
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(
                f"{_field_label(k)}: {' '.join(v)}" if k != NON_FIELD_ERRORS else " ".join(v)
                for k, v in exc.message_dict.items()
            )
        return " ".join(exc.messages)
    text = str(exc.detail)
    if getattr(exc, "allowed", None) is not None:
        allowed = ", ".join(str(Incident.workflow.label(s)) for s in exc.allowed) or "—"
        text += " " + _("Allowed: %(states)s.") % {"states": allowed}
    return text


# --- The ticket page -------------------------------------------------------------------------


def _get(request, number) -> Incident:
    # Three joins: with the service, CI and parent as well, compiling and planning the query
    # cost 4 ms more than reading those three (when set) by primary key afterwards.
    return get_visible_or_404(
        Incident.objects.select_related("requester", "assignee", "assignment_group").defer(
            *Incident.SEARCH_COLUMNS
        ),
        request.user,
        number=number,
    )


def _detail_context(request, incident, **extra) -> dict:
    # ``parent`` too: the related manager sets it on each child, which reads the column.
    children = incident.children.only("number", "title", "state", "parent").order_by("number")
    related = (
        Incident.objects.filter(ci=incident.ci_id)
        .exclude(pk=incident.pk)
        .open()
        .only("number", "title")
        .order_by("-created_at")[:5]
        if incident.ci_id
        else []
    )
    attachments = list(incident.attachments.all())
    problem = incident.problem if incident.problem_id else None
    may_link = can_link_problem(request.user)
    return {
        "incident": incident,
        "problem": problem,
        "can_link_problem": may_link,
        "can_promote": can_promote(request.user) and problem is None,
        # what the "link to a problem" box proposes (the most recent problems still open)
        "linkable_problems": (
            Problem.objects.filter(state__in=LINKABLE_STATES)
            .order_by("-created_at")
            .values_list("number", "title")[:50]
            if may_link and problem is None
            else []
        ),
        "timeline": timeline(incident, internal=True),
        "attachments": attachments,
        # whose public files may turn internal (a requester's upload stays theirs to see)
        "staff_uploaders": staff_user_ids({a.uploaded_by_id for a in attachments}),
        "children": children,
        "related": related,
        "watchers": incident.watchers.all(),
        "panels": panels_for(incident, request.user),
        "can_work": can_work(request.user),
        "form": extra.pop("form", None) or IncidentForm(instance=incident),
        "hold_form": extra.pop("hold_form", None)
        or HoldForm(initial={"version": incident.version}),
        "resolve_form": extra.pop("resolve_form", None)
        or ResolveForm(initial={"version": incident.version}),
        "comment_form": extra.pop("comment_form", None) or CommentForm(),
        "allowed": set(incident.allowed_states),
        "State": State,
        **extra,
    }


@role_required(*READ_ROLES)
@require_safe
def incident_detail(request, number):
    incident = _get(request, number)
    return render(request, "incidents/incident_detail.html", _detail_context(request, incident))


def _respond(request, incident, status=200, **extra):
    """Re-render the ticket (only its main panel for htmx, the whole page otherwise); a form
    sent back for a file over the size limit answers 413 (``status``)."""
    incident.refresh_from_db()
    context = _detail_context(request, incident, **extra)
    if request.headers.get("HX-Request"):
        return mark_form_errors(
            render(request, "incidents/_incident_main.html", context, status=status)
        )
    if not extra and status == 200:
        return redirect(incident)
    return render(request, "incidents/incident_detail.html", context, status=status)


def _action(request, number, perform):
    """Run one quick action and answer with the refreshed ticket; errors shown, not 500s.
    The verb decides who may (a reader who may not work incidents gets its 403)."""
    incident = _get(request, number)
    try:
        extra = perform(incident) or {}
    except (Conflict, ValidationError) as exc:
        messages.error(request, _reason(exc))
        extra = {}
    return _respond(request, incident, **extra)


def _version(request):
    return parse_version(request.POST.get("version"))


@role_required(*READ_ROLES)
@require_POST
def incident_update(request, number):
    def perform(incident):
        form = IncidentForm(request.POST, instance=Incident.objects.get(pk=incident.pk))
        if not form.is_valid():
            return {"form": form}
        values = form.changed_values()
        if values:
            services.update_incident(
                incident, values, actor=request.user, version=form.cleaned_data["version"]
            )
            messages.success(request, _("Saved."))
        return {}

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def incident_take(request, number):
    def perform(incident):
        services.take(incident, actor=request.user, version=_version(request))

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def incident_hold(request, number):
    def perform(incident):
        form = HoldForm(request.POST)
        if not form.is_valid():
            return {"hold_form": form}
        with transaction.atomic():
            services.hold(
                incident,
                actor=request.user,
                reason=form.cleaned_data["hold_reason"],
                change=form.cleaned_data["awaited_change"],
                version=form.cleaned_data["version"],
            )
            if form.cleaned_data["note"].strip():
                services.comment(incident, actor=request.user, body=form.cleaned_data["note"])
        return {}

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def incident_resolve(request, number):
    def perform(incident):
        form = ResolveForm(request.POST)
        if not form.is_valid():
            return {"resolve_form": form}
        services.resolve(
            incident,
            actor=request.user,
            code=form.cleaned_data["resolution_code"],
            notes=form.cleaned_data["resolution_notes"],
            version=form.cleaned_data["version"],
        )
        return {}

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def incident_state(request, number):
    target = request.POST.get("state", "")

    def perform(incident):
        if target not in State.values:
            raise ValidationError({"state": [_("Unknown state.")]})
        services.change_state(incident, target, actor=request.user, version=_version(request))
        return {}

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def incident_comment(request, number):
    incident = _get(request, number)
    form = CommentForm(request.POST, request.FILES)
    extra = {}
    if form.is_valid():
        try:
            services.comment(
                incident,
                actor=request.user,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
                attachments=form.cleaned_data["files"],
            )
        except (UploadTooLarge, UploadRefused) as exc:
            add_upload_error(form, "files", exc)
            extra["comment_form"] = form
        except (PermissionDenied, Conflict) as exc:
            messages.error(request, _reason(exc))
    else:
        extra["comment_form"] = form
    return _respond(request, incident, status=form_status(form), **extra)


@role_required(*READ_ROLES)
@require_POST
def incident_attach(request, number):
    incident = _get(request, number)
    form = AttachForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach_files(
                incident,
                actor=request.user,
                uploads=form.cleaned_data["file"],
                internal=form.cleaned_data["internal"],
            )
        except (UploadTooLarge, UploadRefused) as exc:
            add_upload_error(form, "file", exc)
        except (PermissionDenied, Conflict, ValidationError) as exc:
            messages.error(request, _reason(exc))
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))
    return _respond(request, incident, status=form_status(form))


@role_required(*READ_ROLES)
@require_POST
def incident_attachment_visibility(request, number, attachment_id):
    """An agent turns a file public (or internal again, unless the requester sent it)."""
    incident = _get(request, number)
    attachment = get_object_or_404(incident.attachments, pk=attachment_id)
    try:
        services.set_attachment_internal(
            incident, attachment, actor=request.user, internal=request.POST.get("internal") == "1"
        )
    except ValidationError as exc:
        messages.error(request, _reason(exc))
    return _respond(request, incident)


@role_required(*READ_ROLES)
@require_safe
def incident_attachment(request, number, attachment_id):
    incident = _get(request, number)
    attachment = get_object_or_404(incident.attachments, pk=attachment_id)
    return download_response(attachment)


# --- Problems: the incident's link, its promotion, what matches it ------------------------------


@role_required(*READ_ROLES)
@require_POST
def incident_link_problem(request, number):
    """Link the incident to the problem numbered ``problem`` (empty: unlink it)."""

    check_link_problem(request.user)  # before the lookup: reveals nothing

    def perform(incident):
        text = request.POST.get("problem", "").strip().upper()
        problem = None
        if text:
            problem = Problem.objects.visible_to(request.user).filter(number=text).first()
            if problem is None:
                raise ValidationError({"problem": [_("There is no such problem.")]})
        services.link_problem(incident, problem, actor=request.user, version=_version(request))
        if problem is not None:
            messages.success(request, _("Linked to %(number)s.") % {"number": problem.number})
        else:
            messages.success(request, _("Unlinked from its problem."))

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def incident_promote(request, number):
    """A new problem from this incident (problem managers), then its page."""
    incident = _get(request, number)
    try:
        problem = problem_services.promote(incident, actor=request.user)
    except Conflict as exc:
        messages.error(request, _reason(exc))
        return redirect(incident)
    messages.success(
        request,
        _("Problem %(number)s opened from %(incident)s.")
        % {"number": problem.number, "incident": incident.number},
    )
    return redirect(problem)


@role_required(*READ_ROLES)
@require_safe
def incident_suggestions(request, number):
    """Known errors and open incidents that match this one (loaded after the page)."""
    incident = _get(request, number)
    return render(
        request,
        "incidents/_suggestions.html",
        {
            "incident": incident,
            **deflection.for_agent(incident, request.user),
            "can_link_problem": can_link_problem(request.user) and not incident.problem_id,
        },
    )
