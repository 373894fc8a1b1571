"""The agent desk for requests and approvals: the request queues, the request page and its
quick actions, the approvals queue. Views parse, call one verb, render; the verbs decide."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Team
from itsm import exports
from itsm.attachments import UploadRefused, UploadTooLarge, download_response
from itsm.extensions import deadline_cells, panels_for, queues_for, with_deadlines
from itsm.forms import mark_form_errors
from itsm.pagination import paginate
from itsm.permissions import get_visible_or_404, role_required
from itsm.templatetags.itsm import since
from itsm.workflow import Conflict

from .. import permissions, services
from ..filtersets import RequestFilter
from ..formdef import answer_rows
from ..forms.desk import AssignForm, CommentForm, DecisionForm, NewTaskForm, StateForm
from ..models import Approval, CatalogItem, Request
from ..timeline import timeline
from ..workflow import ApprovalState, RequestState
from .common import (
    LIST_SIZE,
    READ_ROLES,
    act,
    filtered,
    pick_queue,
    reason,
    sort_of,
    sorted_page,
    who,
)

# --- Requests: the list --------------------------------------------------------------------------


def _request_queues(user) -> list[dict]:
    teams = list(user.teams.values_list("pk", flat=True))
    queues = [
        {
            "key": "team",
            "label": gettext_lazy("My teams' requests"),
            "icon": "people",
            "apply": lambda qs: qs.open().filter(assignment_group__in=teams),
        },
        {
            "key": "approval",
            "label": gettext_lazy("Awaiting approval"),
            "icon": "hourglass-split",
            "apply": lambda qs: qs.filter(state=RequestState.AWAITING_APPROVAL),
        },
        {
            "key": "fulfil",
            "label": gettext_lazy("To fulfil"),
            "icon": "box-seam",
            "apply": lambda qs: qs.filter(
                state__in=[RequestState.APPROVED, RequestState.IN_FULFILLMENT]
            ),
        },
        {
            "key": "open",
            "label": gettext_lazy("All open"),
            "icon": "inbox",
            "apply": lambda qs: qs.open(),
        },
    ]
    for queue in queues_for("catalog.Request"):
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
            "label": gettext_lazy("All requests"),
            "icon": "archive",
            "apply": lambda qs: qs,
        }
    )
    return queues


MODEL = "catalog.Request"
REQUEST_COLUMNS = (
    *("number", "title", "state", "created_at", "updated_at", "item__name"),
    *("item__translations", "assignment_group__name"),
    *(
        f"{person}__{name}"
        for person in ("requested_for", "assignee")
        for name in ("username", "first_name", "last_name")
    ),
)


@require_safe
@role_required(*READ_ROLES)
def request_list(request):
    queues = _request_queues(request.user)
    queue = pick_queue(queues, request, "team")
    base = with_deadlines(queue["apply"](Request.objects.visible_to(request.user)), MODEL)
    filters, rows = filtered(request, RequestFilter, base)
    rows = rows.select_related("item", "requested_for", "assignee", "assignment_group").only(
        *REQUEST_COLUMNS
    )
    if exports.wants_csv(request):
        if filters.errors:
            return exports.refused(filters)
        return exports.export(
            request, rows, sort_of(request, queue)[1], _request_csv_columns(), name="requests"
        )
    page, sort = sorted_page(request, rows, queue)
    states = dict(RequestState.choices)
    now = timezone.now()
    context = {
        "queues": queues,
        "queue": queue,
        "filters": filters,
        "page": page,
        "rows": [
            {
                "number": r.number,
                "url": r.desk_url(),
                "item": r.item.display_name,
                "state": r.state,
                "state_label": states.get(r.state, r.state),
                "state_colour": Request.workflow.colour(r.state),
                "requested_for": str(r.requested_for),
                "team": str(r.assignment_group) if r.assignment_group_id else "",
                "assignee": str(r.assignee) if r.assignee_id else "",
                "updated_at": r.updated_at.isoformat(),
                "updated_since": since(r.updated_at),
                **deadline_cells(MODEL, getattr(r, "sla_due_at", None), now),
            }
            for r in page.rows
        ],
        "sort": sort,
        "states": RequestState.choices,
        "items": list(CatalogItem.objects.order_by("name").values_list("pk", "name")),
        "teams": list(Team.objects.order_by("name").values_list("pk", "name")),
        "query": request.GET.copy(),
    }
    template = (
        "catalog/_request_rows.html"
        if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "request-rows"
        else "catalog/request_list.html"
    )
    return render(request, template, context)


def _request_csv_columns() -> list:
    """The list's columns for its CSV export (``itsm.exports``), labels translated once."""
    states = {value: str(label) for value, label in RequestState.choices}
    Column = exports.Column
    return [
        Column(gettext_lazy("Number"), lambda r: r.number),
        Column(gettext_lazy("Item"), lambda r: r.item.display_name),
        Column(gettext_lazy("State"), lambda r: states.get(r.state, r.state)),
        Column(gettext_lazy("Requested for"), lambda r: who(r.requested_for)),
        Column(gettext_lazy("Team"), lambda r: who(r.assignment_group)),
        Column(gettext_lazy("Assigned to"), lambda r: who(r.assignee)),
        Column(gettext_lazy("Due"), lambda r: getattr(r, "sla_due_at", None)),
        Column(gettext_lazy("Created"), lambda r: r.created_at),
        Column(gettext_lazy("Updated"), lambda r: r.updated_at),
    ]


# --- Requests: the page --------------------------------------------------------------------------


def _get_request(request, number) -> Request:
    return get_visible_or_404(
        Request.objects.select_related(
            "item", "requester", "requested_for", "assignee", "assignment_group"
        ).defer(*Request.SEARCH_COLUMNS),
        request.user,
        number=number,
    )


def _request_context(request, ticket, **extra) -> dict:
    user = request.user
    approvals = list(ticket.approvals.select_related("approver", "team", "decided_by", "request"))
    pending = [a for a in approvals if permissions.may_answer(user, a)]
    tasks = list(ticket.tasks.select_related("assignee", "assignment_group").order_by("position"))
    return {
        "ticket": ticket,
        "answers": answer_rows(ticket.form, ticket.answers or {}),
        "approvals": approvals,
        "my_approval": pending[0] if pending else None,
        "tasks": tasks,
        "timeline": timeline(ticket, internal=True),
        "attachments": ticket.attachments.select_related("uploaded_by"),
        "watchers": ticket.watchers.all(),
        "panels": panels_for(ticket, user),
        "can_work": permissions.can_work(user),
        "can_cancel": permissions.can_cancel(user, ticket) and ticket.is_open,
        "can_add_task": permissions.can_work(user)
        and ticket.state in (RequestState.APPROVED, RequestState.IN_FULFILLMENT),
        "assign_form": extra.pop("assign_form", None) or AssignForm(instance=ticket),
        "decision_form": extra.pop("decision_form", None)
        or DecisionForm(initial={"version": ticket.version}),
        "task_form": extra.pop("task_form", None) or NewTaskForm(),
        "comment_form": extra.pop("comment_form", None) or CommentForm(),
        **extra,
    }


@require_safe
@role_required(*READ_ROLES)
def request_detail(request, number):
    ticket = _get_request(request, number)
    return render(request, "catalog/request_detail.html", _request_context(request, ticket))


def _respond(request, ticket, status=200, **extra):
    """Re-render the request (its main panel for htmx, the whole page otherwise); a file over
    the size limit answers 413 (``status``)."""
    ticket.refresh_from_db()
    context = _request_context(request, ticket, **extra)
    if request.headers.get("HX-Request"):
        return mark_form_errors(
            render(request, "catalog/_request_main.html", context, status=status)
        )
    if not extra and status == 200:
        return redirect(ticket.get_absolute_url())
    return render(request, "catalog/request_detail.html", context, status=status)


@role_required(*READ_ROLES)
@require_POST
def request_update(request, number):
    ticket = _get_request(request, number)

    def perform():
        form = AssignForm(request.POST, instance=ticket)
        if not form.is_valid():
            return {"assign_form": form}
        values = form.changed_values()
        if values:
            services.update_request(
                ticket, values, actor=request.user, version=form.cleaned_data["version"]
            )
            messages.success(request, _("Saved."))
        return {}

    return act(request, ticket, perform, _respond)


@role_required(*READ_ROLES)
@require_POST
def request_state(request, number):
    ticket = _get_request(request, number)
    form = StateForm(request.POST)

    def perform():
        if not form.is_valid() or form.cleaned_data["state"] not in RequestState.values:
            raise ValidationError({"state": [_("Unknown state.")]})
        data = form.cleaned_data
        if data["state"] == RequestState.CANCELED:
            services.cancel(
                ticket, actor=request.user, reason=data["reason"], version=data["version"]
            )
        else:
            services.change_state(
                ticket, data["state"], actor=request.user, version=data["version"]
            )
        return {}

    return act(request, ticket, perform, _respond)


@role_required(*READ_ROLES)
@require_POST
def request_decide(request, number):
    ticket = _get_request(request, number)
    form = DecisionForm(request.POST)

    def perform():
        if not form.is_valid():
            return {"decision_form": form}
        data = form.cleaned_data
        try:
            services.decide(
                ticket,
                actor=request.user,
                decision=data["decision"],
                comment=data["comment"],
                version=data["version"],
            )
        except ValidationError as exc:
            if "comment" in getattr(exc, "error_dict", {}):
                form.add_error("comment", exc.error_dict["comment"])
                return {"decision_form": form}
            raise
        done = (
            _("You approved %(number)s.")
            if data["decision"] == "approve"
            else _("You rejected %(number)s.")
        )
        messages.success(request, done % {"number": ticket.number})
        return {}

    return act(request, ticket, perform, _respond)


@role_required(*READ_ROLES)
@require_POST
def request_add_task(request, number):
    ticket = _get_request(request, number)
    form = NewTaskForm(request.POST)

    def perform():
        if not form.is_valid():
            return {"task_form": form}
        data = form.cleaned_data
        task = services.add_task(
            actor=request.user,
            request=ticket,
            title=data["title"],
            description=data["description"],
            assignment_group=data["assignment_group"],
        )
        messages.success(request, _("Task %(number)s added.") % {"number": task.number})
        return {}

    return act(request, ticket, perform, _respond)


@role_required(*READ_ROLES)
@require_POST
def request_comment(request, number):
    ticket = _get_request(request, number)
    form = CommentForm(request.POST)
    extra = {}
    if form.is_valid():
        try:
            services.comment(
                ticket,
                actor=request.user,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
            )
        except (PermissionDenied, Conflict, ValidationError) as exc:
            messages.error(request, reason(exc))
    else:
        extra["comment_form"] = form
    return _respond(request, ticket, **extra)


@role_required(*READ_ROLES)
@require_POST
def request_attach(request, number):
    ticket = _get_request(request, number)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file to attach."))
    else:
        try:
            services.attach(ticket, actor=request.user, upload=upload)
        except UploadTooLarge as exc:
            messages.error(request, exc.for_field(_("File")))
            return _respond(request, ticket, status=exc.status_code)
        except (UploadRefused, PermissionDenied, Conflict) as exc:
            messages.error(request, reason(exc))
    return _respond(request, ticket)


@require_safe
@role_required(*READ_ROLES)
def request_attachment(request, number, attachment_id):
    ticket = _get_request(request, number)
    return download_response(get_object_or_404(ticket.attachments, pk=attachment_id))


# --- Approvals -----------------------------------------------------------------------------------


def approvals_for(user, *, decided: bool = False):
    """The approvals waiting for ``user`` (or, ``decided``, those they answered), newest
    first, with what the page shows of each request."""
    if decided:
        approvals = Approval.objects.filter(decided_by=user)
    else:
        approvals = Approval.objects.pending().assigned_to(user)
        approvals = approvals.exclude(Q(request__requester=user) | Q(request__requested_for=user))
    return approvals.select_related(
        "request",
        "request__item",
        "request__requester",
        "request__requested_for",
        "approver",
        "team",
    ).defer("request__search_public", "request__search_internal")


def approval_rows(approvals) -> list[dict]:
    return [
        {
            "approval": approval,
            "request": approval.request,
            "item": approval.request.item.display_name,
            "answers": answer_rows(approval.request.form, approval.request.answers or {}),
        }
        for approval in approvals
    ]


@require_safe
@role_required(*READ_ROLES)
def approval_list(request):
    tab = "decided" if request.GET.get("tab") == "decided" else "pending"
    approvals = approvals_for(request.user, decided=tab == "decided")
    ordering = ["-decided_at"] if tab == "decided" else ["-created_at"]
    page = paginate(approvals, ordering, cursor=request.GET.get("cursor"), size=LIST_SIZE)
    counts = {"pending": approvals_for(request.user).count()}
    return render(
        request,
        "catalog/approval_list.html",
        {
            "tab": tab,
            "page": page,
            "rows": approval_rows(page.rows),
            "counts": counts,
            "ApprovalState": ApprovalState,
        },
    )
