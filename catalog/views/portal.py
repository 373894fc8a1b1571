"""The catalog in the self-service portal (SPEC §8): browse by category, search, order an item
through its form, follow "My requests" in plain words, reply, cancel, and approve what waits
for one's decision.

Every request is looked up through ``Request.objects.visible_to``: someone else's is a 404.
Templates read a request through the fields its requester may read
(``catalog.permissions.REQUESTER_READABLE``, the API's end-user view too).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from itsm import exports
from itsm.attachments import UploadRefused, UploadTooLarge, download_response
from itsm.forms import add_upload_error, form_status
from itsm.pagination import paginate
from itsm.permissions import ReadView, get_visible_or_404
from itsm.workflow import Conflict
from portal.forms import AttachForm, CommentForm

from .. import permissions, services
from ..filtersets import search_items
from ..formdef import AnswersInvalid, answer_rows
from ..forms.desk import DecisionForm
from ..forms.portal import OrderForm
from ..models import CatalogItem, Category, Request
from ..templatetags.catalog_tags import request_status
from ..timeline import timeline
from ..workflow import RequestState, TaskState
from .desk import approval_rows, approvals_for

PAGE_SIZE = 20
FINISHED = (RequestState.FULFILLED, RequestState.REJECTED, RequestState.CANCELED)
TABS = {"open": ~Q(state__in=FINISHED), "closed": Q(state__in=FINISHED)}
READABLE = permissions.REQUESTER_READABLE | {"get_portal_url", "portal_url", "is_open"}


def as_requester_sees(request: Request) -> ReadView:
    return ReadView(request, READABLE)


# --- Browse and search ---------------------------------------------------------------------------


def _orderable(user):
    return CatalogItem.objects.orderable_by(user).select_related("category")


@require_safe
@login_required
def catalog_home(request):
    """Categories, each with how many items it offers, or the items a search finds."""
    query = request.GET.get("q", "").strip()[:100]
    results = None
    if query:
        results = list(search_items(_orderable(request.user), query).order_by("order", "name")[:50])
    active = Q(items__active=True)
    categories = (
        Category.objects.active()
        .annotate(item_count=Count("items", filter=active))
        .filter(item_count__gt=0)
        .order_by("order", "name")
    )
    return render(
        request,
        "catalog/portal_catalog.html",
        {"categories": categories, "query": query, "results": results},
    )


@require_safe
@login_required
def catalog_category(request, slug):
    category = get_object_or_404(Category.objects.active(), slug=slug)
    items = _orderable(request.user).filter(category=category).order_by("order", "name")
    return render(
        request,
        "catalog/portal_category.html",
        {"category": category, "items": items, "categories": Category.objects.active()},
    )


# --- Order ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def catalog_item(request, slug):
    """The item's page: its description and its form. Posting it orders the item."""
    item = get_object_or_404(_orderable(request.user), slug=slug)
    form = OrderForm(request.POST or None, item=item, user=request.user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                ordered = services.order(
                    actor=request.user,
                    item=item,
                    answers=form.answers(),
                    requested_for=form.cleaned_data.get("requested_for"),
                    description=form.cleaned_data.get("description", ""),
                )
            except AnswersInvalid as exc:
                form.add_answer_errors(exc.fields)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _(
                        "Thank you! Your request is %(number)s. We will keep you posted here "
                        "and by email."
                    )
                    % {"number": ordered.number},
                )
                return redirect(ordered.get_portal_url())
    return render(request, "catalog/portal_item.html", {"item": item, "form": form}, status=status)


# --- My requests ---------------------------------------------------------------------------------


def _mine(user):
    """The requests ``user`` ordered, that are for them, or that they watch; staff (who may
    see every request) get theirs only here too."""
    watched = Request.watchers.through.objects.filter(request=OuterRef("pk"), user=user)
    return Request.objects.filter(Q(requester=user) | Q(requested_for=user) | Q(Exists(watched)))


@require_safe
@login_required
def request_list(request):
    tab = request.GET.get("tab")
    tab = tab if tab in TABS else "open"
    query = request.GET.get("q", "").strip()[:100]
    requests = _mine(request.user)
    if query:
        requests = requests.filter(Q(number__iexact=query) | Q(title__icontains=query))
    rows = (
        requests.filter(TABS[tab])
        .select_related("item", "requested_for")
        .only(
            *("number", "title", "state", "created_at", "updated_at", "requester"),
            *("item__name", "item__translations", "item__icon", "requested_for__username"),
            *("requested_for__first_name", "requested_for__last_name"),
        )
    )
    if exports.wants_csv(request):
        return exports.export(
            request,
            rows,
            ["-updated_at"],
            _request_csv_columns(),
            name="my-requests",
            each=as_requester_sees,
        )
    counts = requests.aggregate(
        open=Count("pk", filter=TABS["open"]), closed=Count("pk", filter=TABS["closed"])
    )
    page = paginate(rows, ["-updated_at"], cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    page.rows = [as_requester_sees(row) for row in page.rows]
    return render(
        request,
        "catalog/portal_request_list.html",
        {"page": page, "tab": tab, "query": query, "counts": counts},
    )


def _request_csv_columns() -> list:
    """What "My requests" shows, as CSV columns: read through the requester's view of a
    request, the status in the portal's words."""
    Column = exports.Column
    return [
        Column(gettext_lazy("Number"), lambda r: r.number),
        Column(gettext_lazy("Item"), lambda r: r.item.display_name),
        Column(gettext_lazy("Requested for"), lambda r: str(r.requested_for)),
        Column(gettext_lazy("Status"), lambda r: request_status(r).label),
        Column(gettext_lazy("Ordered on"), lambda r: r.created_at),
        Column(gettext_lazy("Updated"), lambda r: r.updated_at),
    ]


# --- One request ---------------------------------------------------------------------------------


def _get(request, number) -> Request:
    return get_visible_or_404(
        Request.objects.select_related("item", "requester", "requested_for").defer(
            *Request.SEARCH_COLUMNS
        ),
        request.user,
        number=number,
    )


def _render_detail(request, ticket, status=200, **forms):
    user = request.user
    approvals = list(ticket.approvals.select_related("approver", "team", "decided_by", "request"))
    mine = [a for a in approvals if permissions.may_answer(user, a)]
    steps = list(ticket.tasks.order_by("position").values_list("title", "state"))
    context = {
        "ticket": as_requester_sees(ticket),
        "answers": answer_rows(ticket.form, ticket.answers or {}),
        "approvals": approvals,
        "my_approval": mine[0] if mine else None,
        "steps": [{"title": t, "done": s == TaskState.DONE} for t, s in steps if s != "canceled"],
        "entries": timeline(ticket, internal=False, viewer=user),
        "attachments": list(
            ticket.attachments.filter(internal=False).select_related("uploaded_by")
        ),
        "is_party": permissions.is_party(user, ticket),
        "can_reply": ticket.is_open,
        "can_cancel": permissions.is_party(user, ticket)
        and ticket.state in permissions.REQUESTER_TRANSITIONS,
        "desk_url": ticket.get_absolute_url() if permissions.can_work(user) else "",
        "comment_form": forms.pop("comment_form", None) or CommentForm(),
        "attach_form": forms.pop("attach_form", None) or AttachForm(),
        "decision_form": forms.pop("decision_form", None)
        or DecisionForm(initial={"version": ticket.version}),
        **forms,
    }
    return render(request, "catalog/portal_request_detail.html", context, status=status)


@require_safe
@login_required
def request_detail(request, number):
    return _render_detail(request, _get(request, number))


@require_safe
@login_required
def attachment_download(request, number, attachment_id):
    ticket = _get(request, number)
    return download_response(
        get_object_or_404(ticket.attachments.filter(internal=False), pk=attachment_id)
    )


@login_required
@require_POST
def request_comment(request, number):
    ticket = _get(request, number)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment(ticket, actor=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            form.add_error("body", exc.messages)
        except (Conflict, PermissionDenied):
            messages.error(request, _("This request is finished: it takes no more replies."))
            return redirect(ticket.get_portal_url())
        else:
            messages.success(request, _("Your reply was sent."))
            return redirect(ticket.get_portal_url() + "#conversation")
    return _render_detail(request, ticket, status=400, comment_form=form)


@login_required
@require_POST
def request_attach(request, number):
    ticket = _get(request, number)
    form = AttachForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            stored = services.attach_files(
                ticket, actor=request.user, uploads=form.cleaned_data["attachments"]
            )
        except (UploadTooLarge, UploadRefused) as exc:
            add_upload_error(form, "attachments", exc)
        except (Conflict, PermissionDenied):
            messages.error(request, _("This request is finished: files can no longer be added."))
            return redirect(ticket.get_portal_url())
        else:
            messages.success(
                request,
                ngettext("%(count)d file added.", "%(count)d files added.", len(stored))
                % {"count": len(stored)},
            )
            return redirect(ticket.get_portal_url() + "#attachments")
    return _render_detail(request, ticket, status=form_status(form, default=400), attach_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def request_cancel(request, number):
    """GET asks for confirmation (the page behind the dialog, for browsers without scripts);
    POST cancels."""
    ticket = _get(request, number)
    if request.method == "GET":
        return render(
            request, "catalog/portal_request_cancel.html", {"ticket": as_requester_sees(ticket)}
        )
    try:
        services.cancel(ticket, actor=request.user)
    except Conflict:
        messages.error(
            request, _("Nothing was changed: this request moved on and can no longer be canceled.")
        )
    except PermissionDenied:
        messages.error(
            request, _("Only the person who ordered it, or the person it is for, can cancel it.")
        )
    else:
        messages.success(
            request, _("Your request %(number)s is canceled.") % {"number": ticket.number}
        )
    return redirect(ticket.get_portal_url())


@login_required
@require_POST
def request_decide(request, number):
    ticket = _get(request, number)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, ticket, status=400, decision_form=form)
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
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return _render_detail(request, ticket, status=400, decision_form=form)
    except Conflict:
        messages.error(request, _("This request was already decided."))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        done = (
            _("You approved %(number)s.")
            if data["decision"] == "approve"
            else _("You rejected %(number)s.")
        )
        messages.success(request, done % {"number": ticket.number})
    return redirect(ticket.get_portal_url())


# --- Approvals -----------------------------------------------------------------------------------


@require_safe
@login_required
def approvals(request):
    """What waits for the reader's decision (any signed-in person may be a line manager)."""
    tab = "decided" if request.GET.get("tab") == "decided" else "pending"
    rows = approvals_for(request.user, decided=tab == "decided")
    ordering = ["-decided_at"] if tab == "decided" else ["-created_at"]
    page = paginate(rows, ordering, cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    return render(
        request,
        "catalog/portal_approvals.html",
        {
            "tab": tab,
            "page": page,
            "rows": approval_rows(page.rows),
            "pending_count": approvals_for(request.user).count(),
        },
    )
