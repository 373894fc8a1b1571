"""Problem management pages: the list (queues of problems and known errors), the problem page
and its actions, and the candidates (recurring incidents no problem covers yet)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from incidents.forms import CommentForm
from incidents.models import Incident
from itsm import exports
from itsm.attachments import UploadRefused, UploadTooLarge, download_response
from itsm.forms import mark_form_errors
from itsm.pagination import paginate
from itsm.permissions import get_visible_or_404, role_required
from itsm.templatetags.itsm import since
from itsm.workflow import Conflict, parse_version

from . import candidates, services
from .api import linked_counts
from .filtersets import ProblemFilter
from .forms import CandidateForm, LinkForm, NewProblemForm, ProblemForm, ResolveForm
from .models import Problem
from .permissions import MANAGE_ROLES, READ_ROLES, can_link, can_manage
from .timeline import timeline
from .workflow import Priority, State

LIST_SIZE = 50
SORTS = {
    "priority": ["priority", "-created_at"],
    "-priority": ["-priority", "-created_at"],
    "created": ["created_at"],
    "-created": ["-created_at"],
    "updated": ["updated_at"],
    "-updated": ["-updated_at"],
    "number": ["number"],
    "-number": ["-number"],
}
LIST_COLUMNS = (
    *("number", "title", "state", "priority", "known_error", "publish_workaround", "workaround"),
    *("created_at", "updated_at"),
    *(f"assignee__{name}" for name in ("username", "first_name", "last_name")),
    "assignment_group__name",
)


def _queues(user) -> list[dict]:
    return [
        {
            "key": "mine",
            "label": gettext_lazy("My open problems"),
            "icon": "person-workspace",
            "apply": lambda qs: qs.open().filter(assignee=user),
        },
        {
            "key": "open",
            "label": gettext_lazy("All open"),
            "icon": "inbox",
            "apply": lambda qs: qs.open(),
        },
        {
            "key": "known_errors",
            "label": gettext_lazy("Known errors"),
            "icon": "journal-check",
            "apply": lambda qs: qs.known_errors(),
        },
        {
            "key": "all",
            "label": gettext_lazy("All problems"),
            "icon": "archive",
            "apply": lambda qs: qs,
        },
    ]


def _without_blanks(query):
    cleaned = query.copy()
    for key in list(cleaned):
        values = [value for value in cleaned.getlist(key) if value != ""]
        if values:
            cleaned.setlist(key, values)
        else:
            del cleaned[key]
    return cleaned


@role_required(*READ_ROLES)
@require_safe
def problem_list(request):
    """Problem managers land on their own open problems, everyone else on all open ones."""
    queues = _queues(request.user)
    default = "mine" if can_manage(request.user) else "open"
    key = request.GET.get("queue") or (default if "q" not in request.GET else "all")
    queue = next((q for q in queues if q["key"] == key), queues[0])
    base = queue["apply"](Problem.objects.visible_to(request.user))
    filters = ProblemFilter(_without_blanks(request.GET), queryset=base, request=request)
    if exports.wants_csv(request) and not filters.is_valid():
        return exports.refused(filters)
    rows = filters.qs if filters.is_valid() else base.none()
    sort = request.GET.get("sort", "")
    if sort not in SORTS:
        sort = "priority"
    rows = linked_counts(rows.select_related("assignee", "assignment_group").only(*LIST_COLUMNS))
    if exports.wants_csv(request):
        return exports.export(request, rows, SORTS[sort], _csv_columns(), name="problems")
    page = paginate(rows, SORTS[sort], cursor=request.GET.get("cursor"), size=LIST_SIZE)
    context = {
        "queues": queues,
        "queue": queue,
        "filters": filters,
        "page": page,
        "rows": _list_rows(page.rows),
        "sort": sort,
        "can_manage": can_manage(request.user),
        "query": request.GET.copy(),
    }
    template = (
        "problems/_problem_rows.html"
        if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "problem-rows"
        else "problems/problem_list.html"
    )
    return render(request, template, context)


def _csv_columns() -> list:
    """The list's columns for its CSV export (``itsm.exports``), labels translated once."""
    priorities = {value: str(label) for value, label in Priority.choices}
    states = {value: str(label) for value, label in State.choices}
    Column = exports.Column
    return [
        Column(gettext_lazy("Number"), lambda p: p.number),
        Column(gettext_lazy("Priority"), lambda p: priorities.get(p.priority, p.priority)),
        Column(gettext_lazy("Title"), lambda p: p.title),
        Column(gettext_lazy("Known error"), lambda p: p.known_error),
        Column(gettext_lazy("Published"), lambda p: p.is_published),
        Column(gettext_lazy("State"), lambda p: states.get(p.state, p.state)),
        Column(gettext_lazy("Incidents"), lambda p: p.incident_count),
        Column(gettext_lazy("Open incidents"), lambda p: p.open_incident_count),
        Column(gettext_lazy("Assigned to"), lambda p: str(p.assignee) if p.assignee_id else ""),
        Column(
            gettext_lazy("Team"),
            lambda p: str(p.assignment_group) if p.assignment_group_id else "",
        ),
        Column(gettext_lazy("Created"), lambda p: p.created_at),
        Column(gettext_lazy("Updated"), lambda p: p.updated_at),
    ]


def _list_rows(problems) -> list[dict]:
    """The list's cells as plain dicts, labels already translated (see the incident list)."""
    priorities = {value: str(label) for value, label in Priority.choices}
    states = {value: str(label) for value, label in State.choices}
    return [
        {
            "number": problem.number,
            "url": problem.desk_url(),
            "priority": str(problem.priority),
            "priority_label": priorities.get(problem.priority, problem.priority),
            "title": problem.title,
            "state_label": states.get(problem.state, problem.state),
            "state_colour": Problem.workflow.colour(problem.state),
            "known_error": problem.known_error,
            "published": problem.is_published,
            "incidents": problem.incident_count,
            "open_incidents": problem.open_incident_count,
            "assignee": str(problem.assignee) if problem.assignee_id else "",
            "team": str(problem.assignment_group) if problem.assignment_group_id else "",
            "updated_at": problem.updated_at.isoformat(),
            "updated_since": since(problem.updated_at),
        }
        for problem in problems
    ]


@role_required(*MANAGE_ROLES)
@require_http_methods(["GET", "POST"])
def problem_add(request):
    form = NewProblemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["services"] = list(data["services"])
        try:
            problem = services.open_problem(actor=request.user, **data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Problem %(number)s opened.") % {"number": problem.number})
            return redirect(problem)
    return render(request, "problems/problem_add.html", {"form": form})


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- The problem page ---------------------------------------------------------------------------


def _get(request, number) -> Problem:
    return get_visible_or_404(
        Problem.objects.select_related("requester", "assignee", "assignment_group").defer(
            *Problem.SEARCH_COLUMNS
        ),
        request.user,
        number=number,
    )


LINKED_SHOWN = 50


def _detail_context(request, problem, **extra) -> dict:
    counts = problem.incidents.aggregate(
        total=Count("pk"), open=Count("pk", filter=Q(state__in=Incident.workflow.open_states))
    )
    incidents = list(
        problem.incidents.select_related("assignee", "assignment_group")
        .only(
            "number",
            "title",
            "state",
            "priority",
            "problem",
            "created_at",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
            "assignment_group__name",
        )
        .order_by("-created_at")[:LINKED_SHOWN]
    )
    moves = [
        {"state": state, "label": Problem.workflow.label(state)}
        for state in problem.allowed_states
        if state not in (State.RESOLVED, State.CANCELED)
    ]
    return {
        "problem": problem,
        "incidents": incidents,
        "incident_count": counts["total"],
        "open_count": counts["open"],
        "services": list(problem.services.order_by("name")),
        "cis": list(problem.cis.order_by("name")),
        "timeline": timeline(problem),
        "attachments": problem.attachments.select_related("uploaded_by"),
        "watchers": problem.watchers.all(),
        "can_manage": can_manage(request.user),
        "can_link": can_link(request.user) and services.accepts_incidents(problem),
        "allowed": set(problem.allowed_states),
        "moves": moves,
        "weekly": _weekly(problem),
        "form": extra.pop("form", None) or ProblemForm(instance=problem),
        "resolve_form": extra.pop("resolve_form", None)
        or ResolveForm(initial={"version": problem.version, "root_cause": problem.root_cause}),
        "link_form": extra.pop("link_form", None) or LinkForm(),
        "comment_form": extra.pop("comment_form", None) or CommentForm(),
        **extra,
    }


def _weekly(problem) -> dict:
    """Linked incidents per week of report (one aggregate): did the fix cut them?"""
    weeks = (
        problem.incidents.annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(count=Count("pk"))
        .order_by("week")
    )
    return {
        "labels": [row["week"].date().isoformat() for row in weeks],
        "counts": [row["count"] for row in weeks],
        "label": _("Incidents"),
    }


@role_required(*READ_ROLES)
@require_safe
def problem_detail(request, number):
    problem = _get(request, number)
    return render(request, "problems/problem_detail.html", _detail_context(request, problem))


def _respond(request, problem, status=200, **extra):
    problem.refresh_from_db()
    context = _detail_context(request, problem, **extra)
    if request.headers.get("HX-Request"):
        return mark_form_errors(
            render(request, "problems/_problem_main.html", context, status=status)
        )
    if not extra and status == 200:
        return redirect(problem)
    return render(request, "problems/problem_detail.html", context, status=status)


def _reason(exc) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return " ".join(exc.messages)
    text = str(getattr(exc, "detail", exc))
    if getattr(exc, "allowed", None) is not None:
        allowed = ", ".join(str(Problem.workflow.label(s)) for s in exc.allowed) or "—"
        text += " " + _("Allowed: %(states)s.") % {"states": allowed}
    return text


def _action(request, number, perform):
    """Run one action and answer with the refreshed problem; a refusal is a message (the verb
    decides who may: a reader who may not gets its 403)."""
    problem = _get(request, number)
    try:
        extra = perform(problem) or {}
    except (Conflict, ValidationError) as exc:
        messages.error(request, _reason(exc))
        extra = {}
    return _respond(request, problem, **extra)


@role_required(*READ_ROLES)
@require_POST
def problem_update(request, number):
    def perform(problem):
        form = ProblemForm(request.POST, instance=Problem.objects.get(pk=problem.pk))
        if not form.is_valid():
            return {"form": form}
        values = form.changed_values()
        if values:
            try:
                services.update_problem(
                    problem, values, actor=request.user, version=form.cleaned_data["version"]
                )
            except ValidationError as exc:
                _form_errors(form, exc)
                return {"form": form}
            messages.success(request, _("Saved."))
        return {}

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def problem_state(request, number):
    target = request.POST.get("state", "")

    def perform(problem):
        if target not in State.values:
            raise ValidationError({"state": [_("Unknown state.")]})
        services.change_state(
            problem,
            target,
            actor=request.user,
            version=parse_version(request.POST.get("version")),
        )

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def problem_resolve(request, number):
    def perform(problem):
        form = ResolveForm(request.POST)
        if not form.is_valid():
            return {"resolve_form": form}
        try:
            changes = services.resolve(
                problem,
                actor=request.user,
                root_cause=form.cleaned_data["root_cause"],
                incidents=form.incidents(),
                version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
            return {"resolve_form": form}
        count = len(changes.get("resolved_incidents", (None, []))[1])
        if count:
            messages.success(
                request,
                ngettext(
                    "Resolved, with %(count)d linked incident.",
                    "Resolved, with %(count)d linked incidents.",
                    count,
                )
                % {"count": count},
            )
        else:
            messages.success(request, _("Resolved."))

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def problem_publish(request, number):
    """``publish=1`` publishes the workaround as a known error, ``publish=0`` withdraws it."""

    def perform(problem):
        verb = services.publish if request.POST.get("publish") == "1" else services.withdraw
        verb(problem, actor=request.user, version=parse_version(request.POST.get("version")))
        if problem.is_published:
            messages.success(request, _("Published: end users find it in the portal."))
        else:
            messages.success(request, _("Withdrawn from the portal."))

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def problem_link(request, number):
    def perform(problem):
        form = LinkForm(request.POST)
        if not form.is_valid():
            return {"link_form": form}
        incident = Incident.objects.filter(number=form.cleaned_data["incident"]).first()
        if incident is None:
            form.add_error("incident", _("There is no such incident."))
            return {"link_form": form}
        services.link(problem, incident, actor=request.user)
        messages.success(request, _("%(number)s linked.") % {"number": incident.number})

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def problem_unlink(request, number):
    def perform(problem):
        incident = get_object_or_404(Incident, number=request.POST.get("incident", ""))
        services.unlink(problem, incident, actor=request.user)
        messages.success(request, _("%(number)s unlinked.") % {"number": incident.number})

    return _action(request, number, perform)


@role_required(*READ_ROLES)
@require_POST
def problem_comment(request, number):
    problem = _get(request, number)
    form = CommentForm(request.POST)
    extra = {}
    if form.is_valid():
        try:
            services.comment(
                problem,
                actor=request.user,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
            )
        except (ValidationError, Conflict) as exc:
            messages.error(request, _reason(exc))
    else:
        extra["comment_form"] = form
    return _respond(request, problem, **extra)


@role_required(*READ_ROLES)
@require_POST
def problem_attach(request, number):
    problem = _get(request, number)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file to attach."))
    else:
        try:
            services.attach(problem, actor=request.user, upload=upload)
        except UploadTooLarge as exc:
            messages.error(request, exc.for_field(_("File")))
            return _respond(request, problem, status=exc.status_code)
        except (UploadRefused, Conflict) as exc:
            messages.error(request, str(getattr(exc, "detail", exc)))
    return _respond(request, problem)


@role_required(*READ_ROLES)
@require_safe
def problem_attachment(request, number, attachment_id):
    problem = _get(request, number)
    attachment = get_object_or_404(problem.attachments, pk=attachment_id)
    return download_response(attachment)


# --- Candidates ----------------------------------------------------------------------------------


def _window(request) -> candidates.Window:
    try:
        days = int(request.GET.get("days", candidates.DEFAULT_WINDOW))
    except ValueError:
        days = candidates.DEFAULT_WINDOW
    return candidates.Window.of(days if days in candidates.WINDOWS else candidates.DEFAULT_WINDOW)


@role_required(*READ_ROLES)
@require_safe
def candidate_list(request):
    """Recurring incidents no problem covers yet, by service, CI and similar titles."""
    window = _window(request)
    sort = request.GET.get("sort") if request.GET.get("sort") in candidates.SORTS else "count"
    sections = [
        {"kind": kind, "label": label, "groups": candidates.groups(kind, window, sort=sort)}
        for kind, label in candidates.KINDS.items()
    ]
    chart = {
        section["kind"]: {
            "labels": [group.label for group in section["groups"]],
            "earlier": [group.earlier for group in section["groups"]],
            "recent": [group.recent for group in section["groups"]],
        }
        for section in sections
    }
    return render(
        request,
        "problems/candidate_list.html",
        {
            "queues": _queues(request.user),
            "queue": None,
            "sections": sections,
            "chart": chart,
            "chart_labels": {"earlier": _("First half"), "recent": _("Second half")},
            "window": window,
            "windows": candidates.WINDOWS,
            "sort": sort,
            "can_manage": can_manage(request.user),
        },
    )


@role_required(*READ_ROLES)
@require_safe
def candidate_incidents(request, kind, key):
    """The incidents of one group (the candidates page unfolds them)."""
    window = _window(request)
    rows = (
        candidates.members(kind, key, window)
        .select_related("service", "ci")
        .only("number", "title", "state", "created_at", "service__name", "ci__name")
        .order_by("-created_at")[:100]
    )
    return render(request, "problems/_candidate_incidents.html", {"incidents": rows})


@role_required(*READ_ROLES)
@require_POST
def candidate_create(request):
    """Create a problem from a group: the group's incidents, linked to a new problem."""
    form = CandidateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the problem a title."))
        return redirect("problems:candidate_list")
    data = form.cleaned_data
    window = candidates.Window.of(data["days"])
    start = candidates.describe(data["kind"], data["key"], window)
    with transaction.atomic():
        incidents = list(
            candidates.members(data["kind"], data["key"], window).select_for_update().order_by("pk")
        )
        if not incidents:
            messages.error(request, _("None any more: they were linked meanwhile."))
            return redirect("problems:candidate_list")
        problem = services.open_problem(
            actor=request.user,
            title=data["title"],
            description=start["description"],
            services=start["services"],
            cis=start["cis"],
            incidents=incidents,
        )
    messages.success(
        request,
        ngettext(
            "Problem %(number)s opened with %(count)d incident.",
            "Problem %(number)s opened with %(count)d incidents.",
            len(incidents),
        )
        % {"number": problem.number, "count": len(incidents)},
    )
    return redirect(problem)
