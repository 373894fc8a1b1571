"""The agent desk for fulfilment tasks: the teams' queues, the task page and its quick actions.
Views parse, call one verb, render; the verbs decide."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Team
from itsm import exports
from itsm.attachments import UploadRefused, UploadTooLarge, download_response
from itsm.forms import mark_form_errors
from itsm.permissions import get_visible_or_404, role_required
from itsm.templatetags.itsm import since
from itsm.workflow import Conflict, parse_version

from .. import permissions, services
from ..filtersets import TaskFilter
from ..formdef import answer_rows
from ..forms.desk import AssignForm, CommentForm
from ..models import Task
from ..timeline import timeline
from ..workflow import TaskState
from .common import READ_ROLES, act, filtered, pick_queue, reason, sort_of, sorted_page, who

# --- Tasks: the queue ----------------------------------------------------------------------------


def _task_queues(user) -> list[dict]:
    teams = list(user.teams.values_list("pk", flat=True))
    return [
        {
            "key": "team",
            "label": gettext_lazy("My teams' tasks"),
            "icon": "people",
            "apply": lambda qs: qs.open().filter(assignment_group__in=teams),
        },
        {
            "key": "mine",
            "label": gettext_lazy("My tasks"),
            "icon": "person-workspace",
            "apply": lambda qs: qs.open().filter(assignee=user),
        },
        {
            "key": "unassigned",
            "label": gettext_lazy("My teams' unassigned"),
            "icon": "person-dash",
            "apply": lambda qs: qs.open().filter(assignee__isnull=True, assignment_group__in=teams),
        },
        {
            "key": "open",
            "label": gettext_lazy("All open tasks"),
            "icon": "inbox",
            "apply": lambda qs: qs.open(),
        },
        {
            "key": "all",
            "label": gettext_lazy("All tasks"),
            "icon": "archive",
            "apply": lambda qs: qs,
        },
    ]


TASK_COLUMNS = (
    *("number", "title", "state", "created_at", "updated_at", "assignment_group__name"),
    *("request__number", "request__title", "request__requested_for"),
    *(f"assignee__{name}" for name in ("username", "first_name", "last_name")),
    *(f"request__requested_for__{name}" for name in ("username", "first_name", "last_name")),
)


@require_safe
@role_required(*READ_ROLES)
def task_list(request):
    queues = _task_queues(request.user)
    queue = pick_queue(queues, request, "team")
    base = queue["apply"](Task.objects.visible_to(request.user))
    filters, rows = filtered(request, TaskFilter, base)
    rows = rows.select_related(
        "assignee", "assignment_group", "request", "request__requested_for"
    ).only(*TASK_COLUMNS)
    if exports.wants_csv(request):
        if filters.errors:
            return exports.refused(filters)
        return exports.export(
            request, rows, sort_of(request, queue)[1], _task_csv_columns(), name="tasks"
        )
    page, sort = sorted_page(request, rows, queue)
    states = dict(TaskState.choices)
    context = {
        "queues": queues,
        "queue": queue,
        "filters": filters,
        "page": page,
        "rows": [
            {
                "number": t.number,
                "url": t.desk_url(),
                "title": t.title,
                "request": t.request.number,
                "request_url": t.request.desk_url(),
                "requested_for": str(t.request.requested_for),
                "state": t.state,
                "state_label": states.get(t.state, t.state),
                "state_colour": Task.workflow.colour(t.state),
                "team": str(t.assignment_group) if t.assignment_group_id else "",
                "assignee": str(t.assignee) if t.assignee_id else "",
                "updated_at": t.updated_at.isoformat(),
                "updated_since": since(t.updated_at),
            }
            for t in page.rows
        ],
        "sort": sort,
        "states": TaskState.choices,
        "teams": list(Team.objects.order_by("name").values_list("pk", "name")),
        "query": request.GET.copy(),
        "can_work": permissions.can_work(request.user),
    }
    template = (
        "catalog/_task_rows.html"
        if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "task-rows"
        else "catalog/task_list.html"
    )
    return render(request, template, context)


def _task_csv_columns() -> list:
    """The list's columns for its CSV export (``itsm.exports``), labels translated once."""
    states = {value: str(label) for value, label in TaskState.choices}
    Column = exports.Column
    return [
        Column(gettext_lazy("Number"), lambda t: t.number),
        Column(gettext_lazy("Title"), lambda t: t.title),
        Column(gettext_lazy("Request"), lambda t: t.request.number),
        Column(gettext_lazy("Requested for"), lambda t: who(t.request.requested_for)),
        Column(gettext_lazy("State"), lambda t: states.get(t.state, t.state)),
        Column(gettext_lazy("Team"), lambda t: who(t.assignment_group)),
        Column(gettext_lazy("Assigned to"), lambda t: who(t.assignee)),
        Column(gettext_lazy("Created"), lambda t: t.created_at),
        Column(gettext_lazy("Updated"), lambda t: t.updated_at),
    ]


# --- Tasks: the page -----------------------------------------------------------------------------


def _get_task(request, number) -> Task:
    return get_visible_or_404(
        Task.objects.select_related(
            "request",
            "request__item",
            "request__requested_for",
            "assignee",
            "assignment_group",
        ).defer(*Task.SEARCH_COLUMNS),
        request.user,
        number=number,
    )


def _task_context(request, task, **extra) -> dict:
    siblings = (
        task.request.tasks.exclude(pk=task.pk)
        .select_related("assignment_group", "assignee")
        .only("number", "title", "state", "request", "assignment_group__name", "assignee")
        .order_by("position")
    )
    return {
        "task": task,
        "ticket": task.request,
        "answers": answer_rows(task.request.form, task.request.answers or {}),
        "siblings": siblings,
        "timeline": timeline(task, internal=True),
        "attachments": task.attachments.select_related("uploaded_by"),
        "can_work": permissions.can_work(request.user),
        "allowed": set(task.allowed_states),
        "assign_form": extra.pop("assign_form", None) or AssignForm(instance=task),
        "comment_form": extra.pop("comment_form", None) or CommentForm(),
        **extra,
    }


@require_safe
@role_required(*READ_ROLES)
def task_detail(request, number):
    task = _get_task(request, number)
    return render(request, "catalog/task_detail.html", _task_context(request, task))


def _respond_task(request, task, status=200, **extra):
    task.refresh_from_db()
    context = _task_context(request, task, **extra)
    if request.headers.get("HX-Request"):
        return mark_form_errors(render(request, "catalog/_task_main.html", context, status=status))
    if not extra and status == 200:
        return redirect(task.get_absolute_url())
    return render(request, "catalog/task_detail.html", context, status=status)


@role_required(*READ_ROLES)
@require_POST
def task_update(request, number):
    task = _get_task(request, number)

    def perform():
        form = AssignForm(request.POST, instance=task)
        if not form.is_valid():
            return {"assign_form": form}
        values = form.changed_values()
        if values:
            services.update_task(
                task, values, actor=request.user, version=form.cleaned_data["version"]
            )
            messages.success(request, _("Saved."))
        return {}

    return act(request, task, perform, _respond_task)


@role_required(*READ_ROLES)
@require_POST
def task_take(request, number):
    task = _get_task(request, number)

    def perform():
        services.take_task(
            task, actor=request.user, version=parse_version(request.POST.get("version"))
        )

    return act(request, task, perform, _respond_task)


@role_required(*READ_ROLES)
@require_POST
def task_state(request, number):
    task = _get_task(request, number)
    target = request.POST.get("state", "")

    def perform():
        if target not in TaskState.values:
            raise ValidationError({"state": [_("Unknown state.")]})
        version = parse_version(request.POST.get("version"))
        if target == TaskState.DONE:
            services.complete_task(
                task, actor=request.user, note=request.POST.get("note", ""), version=version
            )
        else:
            services.change_task_state(task, target, actor=request.user, version=version)
        return {}

    return act(request, task, perform, _respond_task)


@role_required(*READ_ROLES)
@require_POST
def task_comment(request, number):
    task = _get_task(request, number)
    form = CommentForm(request.POST)
    extra = {}
    if form.is_valid():
        try:
            services.comment_task(
                task,
                actor=request.user,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
            )
        except (PermissionDenied, Conflict, ValidationError) as exc:
            messages.error(request, reason(exc))
    else:
        extra["comment_form"] = form
    return _respond_task(request, task, **extra)


@role_required(*READ_ROLES)
@require_POST
def task_attach(request, number):
    task = _get_task(request, number)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file to attach."))
    else:
        try:
            services.attach_task(task, actor=request.user, upload=upload)
        except UploadTooLarge as exc:
            messages.error(request, exc.for_field(_("File")))
            return _respond_task(request, task, status=exc.status_code)
        except (UploadRefused, PermissionDenied, Conflict) as exc:
            messages.error(request, reason(exc))
    return _respond_task(request, task)


@require_safe
@role_required(*READ_ROLES)
def task_attachment(request, number, attachment_id):
    task = _get_task(request, number)
    return download_response(get_object_or_404(task.attachments, pk=attachment_id))
