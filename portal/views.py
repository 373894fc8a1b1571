"""The self-service portal (SPEC §1, §3): report an issue, follow it, reply, confirm or reopen
the resolution, rate it.

Views parse input and call one verb of ``incidents.services``, which holds the rules; what a
verb refuses becomes a message in the requester's words, never a 500. Every ticket is looked
up through ``Incident.objects.visible_to``: someone else's is a 404. Templates read a ticket
through the fields a requester may read (``incidents.permissions.REQUESTER_READABLE``, the
API's end-user view too). End users never see internal notes, nor any trace of them.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import User
from incidents import services
from incidents.models import Incident
from incidents.permissions import (
    REQUESTER_READABLE,
    can_rate,
    can_transition,
    can_work,
    is_requester,
)
from incidents.workflow import HoldReason, State
from itsm import exports
from itsm.attachments import UploadRefused, UploadTooLarge, download_response
from itsm.extensions import panels_for
from itsm.forms import add_upload_error, form_status
from itsm.markdown import render_markdown_many
from itsm.pagination import capped_count, paginate
from itsm.permissions import ReadView, get_visible_or_404, has_role, staff_user_ids
from itsm.workflow import Conflict
from problems import deflection
from problems import search as problem_search
from problems.models import Problem

from .forms import AttachForm, CommentForm, RatingForm, ReopenForm, ReportForm
from .templatetags.portal import PlainState, plain_state

PAGE_SIZE = 20
FINISHED = (State.CLOSED, State.CANCELED)
# What waits for the requester: a question to answer, a fix to confirm (``PlainState.needs_you``).
NEEDS_YOU = Q(state=State.RESOLVED) | Q(state=State.ON_HOLD, hold_reason=HoldReason.AWAITING_CALLER)
TABS = {"open": ~Q(state__in=FINISHED), "closed": Q(state__in=FINISHED)}
# What a portal template may read of a ticket: the requester's fields, and its portal link.
READABLE = REQUESTER_READABLE | {"get_portal_url"}


def as_requester_sees(incident: Incident) -> ReadView:
    return ReadView(incident, READABLE)


def public_files(incident: Incident):
    """The portal is the requester's view, staff's own tickets included: internal files never
    show there (the desk shows them to staff)."""
    return incident.attachments.filter(internal=False)


@login_required
@require_safe
def home(request):
    """The self-service home: what waits for the user's reply first, then report, order,
    follow."""
    fields = ("number", "title", "state", "hold_reason", "updated_at")
    own = Incident.objects.filter(requester=request.user)
    waiting = own.filter(NEEDS_YOU).order_by("-updated_at").only(*fields)[:10]
    mine = own.exclude(NEEDS_YOU).order_by("-updated_at").only(*fields)[:10]
    return render(
        request,
        "portal/home.html",
        {
            "waiting": [as_requester_sees(t) for t in waiting],
            "tickets": [as_requester_sees(t) for t in mine],
        },
    )


# --- Report an issue ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def report(request):
    form = ReportForm(request.POST, request.FILES) if request.method == "POST" else ReportForm()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.open_incident(
                actor=request.user,
                requester=request.user,
                title=data["title"],
                description=data["description"],
                urgency=data["urgency"],
                service=data["service"],
                attachments=data["attachments"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        except (UploadTooLarge, UploadRefused) as exc:
            add_upload_error(form, "attachments", exc)
        else:
            messages.success(
                request,
                _(
                    "Thank you! We have logged your issue as %(number)s. "
                    "We will keep you posted here and by email."
                )
                % {"number": incident.number},
            )
            return redirect(incident.get_portal_url())
    return render(request, "portal/report.html", {"form": form}, status=form_status(form))


@login_required
@require_safe
def report_suggestions(request):
    """While the title is typed: published known errors and the requester's own open
    incidents that match it (htmx, the report form's live region)."""
    found = deflection.for_requester(request.GET.get("title", "")[:200], request.user)
    found["incidents"] = [as_requester_sees(incident) for incident in found["incidents"]]
    return render(request, "portal/_report_suggestions.html", found)


# --- Known issues (the knowledge search) -----------------------------------------------------


KNOWLEDGE_SIZE = 20


def _published():
    return (
        Problem.objects.published()
        .defer(*Problem.SEARCH_COLUMNS)
        .prefetch_related("services")
        .only("number", "title", "workaround", "updated_at")
    )


# What "Known issues" shows, as CSV columns (the workaround as written, in Markdown).
KNOWLEDGE_CSV = [
    exports.Column(_lazy("Number"), lambda p: p.number),
    exports.Column(_lazy("Title"), lambda p: p.title),
    exports.Column(_lazy("Services"), lambda p: ", ".join(str(s) for s in p.services.all())),
    exports.Column(_lazy("What to do meanwhile"), lambda p: p.workaround),
    exports.Column(_lazy("Updated"), lambda p: p.updated_at),
]


@login_required
@require_safe
def knowledge(request):
    """Published known errors and their workarounds, best match first (everyone, whatever
    their role, reads here only what end users may read)."""
    query = request.GET.get("q", "").strip()[:200]
    rows = _published()
    ordering = ["-updated_at"]
    if query:
        rows = problem_search.ranked(rows, query, column="search_known_error", fuzzy=True)
        ordering = ["-rank"]
    if exports.wants_csv(request):
        return exports.export(request, rows, ordering, KNOWLEDGE_CSV, name="known-issues")
    page = paginate(rows, ordering, cursor=request.GET.get("cursor"), size=KNOWLEDGE_SIZE)
    return render(request, "portal/knowledge.html", {"page": page, "query": query})


@login_required
@require_safe
def known_error(request, number):
    problem = get_object_or_404(_published(), number=number)
    return render(request, "portal/known_error.html", {"known_error": problem})


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- My tickets --------------------------------------------------------------------------------


def _mine(user):
    """The incidents ``user`` requested or watches. Staff may see every incident; the portal
    still shows them only their own."""
    tickets = Incident.objects.visible_to(user)
    if has_role(user, *Incident.STAFF_ROLES):
        watched = Incident.watchers.through.objects.filter(incident=OuterRef("pk"), user=user)
        tickets = tickets.filter(Q(requester=user) | Q(Exists(watched)))
    return tickets


@login_required
@require_safe
def ticket_list(request):
    tab = request.GET.get("tab")
    tab = tab if tab in TABS else "open"
    query = request.GET.get("q", "").strip()[:100]
    tickets = _mine(request.user)
    if query:
        tickets = tickets.filter(Q(number__iexact=query) | Q(title__icontains=query))
    rows = (
        tickets.filter(TABS[tab])
        .select_related("service")
        .only(
            "number",
            "title",
            "state",
            "hold_reason",
            "urgency",
            "created_at",
            "updated_at",
            "service__name",
        )
    )
    if exports.wants_csv(request):
        return exports.export(
            request,
            rows,
            ["-updated_at"],
            _ticket_csv_columns(),
            name="my-tickets",
            each=as_requester_sees,
        )
    counts = {name: capped_count(tickets.filter(condition)) for name, condition in TABS.items()}
    page = paginate(rows, ["-updated_at"], cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    page.rows = [as_requester_sees(ticket) for ticket in page.rows]
    return render(
        request,
        "portal/ticket_list.html",
        {"page": page, "tab": tab, "query": query, "counts": counts},
    )


def _ticket_csv_columns() -> list:
    """What "My tickets" shows, as CSV columns: read through the requester's view of a ticket,
    the status in the portal's words."""
    Column = exports.Column
    return [
        Column(_lazy("Number"), lambda t: t.number),
        Column(_lazy("Title"), lambda t: t.title),
        Column(_lazy("Service"), lambda t: t.service.name if t.service else ""),
        Column(_lazy("Status"), lambda t: plain_state(t.state, t.hold_reason).label),
        Column(_lazy("Reported on"), lambda t: t.created_at),
        Column(_lazy("Updated"), lambda t: t.updated_at),
    ]


# --- One ticket --------------------------------------------------------------------------------


@dataclass
class Entry:
    """One line of the public conversation: a reply or a change of state."""

    at: datetime
    kind: str  # "comment" or "state"
    author: User | None
    by_staff: bool
    by_you: bool
    body: str = ""
    html: str = ""  # the body rendered (Markdown, sanitised)
    status: PlainState | None = None


def public_conversation(incident: Incident, user) -> list[Entry]:
    """Public replies and state changes, oldest first. Internal notes and every event they
    caused are filtered out in the queries: they never reach a template."""
    comments = list(incident.comments.filter(internal=False).select_related("author"))
    events = list(
        incident.events.filter(internal=False, field__in=("state", "hold_reason")).select_related(
            "actor"
        )
    )
    # A move to on hold writes the state and the reason at the same instant.
    reasons = {e.at: e.new or "" for e in events if e.field == "hold_reason"}
    authors = {c.author_id for c in comments} | {e.actor_id for e in events if e.actor_id}
    staff = staff_user_ids(authors)
    entries = [
        Entry(
            at=c.created_at,
            kind="comment",
            author=c.author,
            by_staff=c.author_id in staff,
            by_you=c.author_id == user.pk,
            body=c.body,
        )
        for c in comments
    ]
    entries += [
        Entry(
            at=e.at,
            kind="state",
            author=e.actor,
            by_staff=e.actor_id in staff,
            by_you=e.actor_id == user.pk,
            status=plain_state(e.new, reasons.get(e.at, "")),
        )
        for e in events
        if e.field == "state" and e.new
    ]
    entries.sort(key=lambda entry: entry.at)
    replies = [entry for entry in entries if entry.kind == "comment"]
    for entry, html in zip(replies, render_markdown_many([e.body for e in replies]), strict=True):
        entry.html = html
    return entries


def _get(request, number) -> Incident:
    return get_visible_or_404(
        Incident.objects.select_related("service", "requester"), request.user, number=number
    )


# The requester's moves the portal offers (SPEC §1): target state → the state it leaves.
PORTAL_MOVES = {
    State.CANCELED: State.NEW,
    State.CLOSED: State.RESOLVED,
    State.IN_PROGRESS: State.RESOLVED,
}


def _may_move(user, incident: Incident, to: str) -> bool:
    """Only the requester confirms, reopens or cancels from the portal, staff included: an
    agent works someone else's ticket from the desk."""
    return (
        incident.state == PORTAL_MOVES[to]
        and is_requester(user, incident)
        and can_transition(user, incident, to)
    )


def _actions(user, incident: Incident) -> dict:
    return {
        "can_reply": incident.state not in FINISHED,
        "can_cancel": _may_move(user, incident, State.CANCELED),
        "can_confirm": _may_move(user, incident, State.CLOSED),
        "can_reopen": _may_move(user, incident, State.IN_PROGRESS),
        "can_rate": can_rate(user, incident),
        "is_requester": is_requester(user, incident),
        "desk_url": incident.get_absolute_url() if can_work(user) else "",
    }


def _conversation_context(request, incident, comment_form=None, **extra) -> dict:
    return {
        "incident": as_requester_sees(incident),
        "entries": public_conversation(incident, request.user),
        "comment_form": comment_form or CommentForm(),
        **_actions(request.user, incident),
        **extra,
    }


def _render_detail(request, incident, status=200, **forms):
    rating_initial = {"score": incident.csat_score, "comment": incident.csat_comment}
    context = {
        **_conversation_context(request, incident, forms.pop("comment_form", None)),
        "attachments": list(public_files(incident).select_related("uploaded_by")),
        "attach_form": forms.pop("attach_form", None) or AttachForm(),
        "reopen_form": forms.pop("reopen_form", None) or ReopenForm(),
        "rating_form": forms.pop("rating_form", None) or RatingForm(initial=rating_initial),
        # Other apps' panels (the SLA engine's bars...), each rendered with its own context.
        "panels": [
            render_to_string(template, panel_context, request=request)
            for template, panel_context in panels_for(incident, request.user)
        ],
        **forms,
    }
    return render(request, "portal/ticket_detail.html", context, status=status)


@login_required
@require_safe
def ticket_detail(request, number):
    return _render_detail(request, _get(request, number))


@login_required
@require_safe
def attachment_download(request, number, attachment_id):
    incident = _get(request, number)
    attachment = get_object_or_404(public_files(incident), pk=attachment_id)
    return download_response(attachment)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _finished(incident: Incident, what) -> str:
    return what % {"state": plain_state(incident.state).label}


@login_required
@require_POST
def ticket_comment(request, number):
    incident = _get(request, number)
    form = CommentForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.comment(incident, actor=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            form.add_error("body", exc.messages)
        except Conflict:
            error = _finished(incident, _("This ticket is “%(state)s”: it takes no more replies."))
        except PermissionDenied:
            error = _("You cannot reply on this ticket.")
        else:
            if _is_htmx(request):
                return render(
                    request,
                    "portal/_conversation.html",
                    _conversation_context(request, incident, announce=_("Your reply was sent.")),
                )
            messages.success(request, _("Your reply was sent."))
            return redirect(incident.get_portal_url() + "#conversation")
    if _is_htmx(request):
        return render(
            request,
            "portal/_conversation.html",
            _conversation_context(request, incident, form, comment_error=error),
        )
    if error:
        messages.error(request, error)
        return redirect(incident.get_portal_url())
    return _render_detail(request, incident, comment_form=form)


@login_required
@require_POST
def ticket_attach(request, number):
    incident = _get(request, number)
    form = AttachForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            stored = services.attach_files(
                incident, actor=request.user, uploads=form.cleaned_data["attachments"]
            )
        except (UploadTooLarge, UploadRefused) as exc:
            add_upload_error(form, "attachments", exc)
        except (Conflict, PermissionDenied):
            messages.error(
                request,
                _finished(incident, _("This ticket is “%(state)s”: files can no longer be added.")),
            )
            return redirect(incident.get_portal_url())
        else:
            messages.success(
                request,
                ngettext("%(count)d file added.", "%(count)d files added.", len(stored))
                % {"count": len(stored)},
            )
            return redirect(incident.get_portal_url() + "#attachments")
    return _render_detail(request, incident, status=form_status(form), attach_form=form)


REFUSALS = {
    "confirm": (
        _lazy("Only the person who reported this ticket can confirm the fix."),
        _lazy("This ticket is now “%(state)s”: there is no fix to confirm."),
    ),
    "reopen": (
        _lazy("Only the person who reported this ticket can reopen it."),
        _lazy("This ticket is now “%(state)s”: it cannot be reopened."),
    ),
    "cancel": (
        _lazy("Only the person who reported this ticket can cancel it."),
        _lazy("This ticket is now “%(state)s”: it can no longer be canceled."),
    ),
    "rate": (
        _lazy("Only the person who reported this ticket can rate it."),
        _lazy("This ticket is now “%(state)s”: you can rate it once it is solved."),
    ),
}


def _refuse(request, incident: Incident, action: str):
    """Explain, in the requester's words, why a move is not possible now."""
    not_yours, wrong_state = REFUSALS[action]
    if not is_requester(request.user, incident):
        text = str(not_yours)
    else:
        text = wrong_state % {"state": incident_state_label(incident)}
    messages.error(request, text)
    return redirect(incident.get_portal_url())


def incident_state_label(incident: Incident) -> str:
    return str(plain_state(incident.state, incident.hold_reason).label)


def _attempt(request, incident: Incident, action) -> bool:
    """Run one service call; turn what it refuses into a message (never a 500)."""
    try:
        action()
    except Conflict:
        incident.refresh_from_db(fields=["state", "hold_reason", "version"])
        messages.error(
            request,
            _("Nothing was changed: this ticket moved on in the meantime and is now “%(state)s”.")
            % {"state": incident_state_label(incident)},
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You are not allowed to do that."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        return True
    return False


@login_required
@require_POST
def ticket_confirm(request, number):
    incident = _get(request, number)
    if not _may_move(request.user, incident, State.CLOSED):
        return _refuse(request, incident, "confirm")
    if _attempt(request, incident, lambda: services.confirm(incident, actor=request.user)):
        messages.success(request, _("Thank you for confirming: your ticket is closed."))
    return redirect(incident.get_portal_url())


@login_required
@require_POST
def ticket_reopen(request, number):
    incident = _get(request, number)
    if not _may_move(request.user, incident, State.IN_PROGRESS):
        return _refuse(request, incident, "reopen")
    form = ReopenForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, incident, reopen_form=form, reopen_open=True)
    reason = form.cleaned_data["reason"]
    if _attempt(
        request, incident, lambda: services.reopen(incident, actor=request.user, reason=reason)
    ):
        messages.success(
            request, _("We have reopened your ticket: the team will look at it again.")
        )
    return redirect(incident.get_portal_url())


@login_required
@require_http_methods(["GET", "POST"])
def ticket_cancel(request, number):
    """GET asks for confirmation (the page behind the dialog, for browsers without scripts);
    POST cancels."""
    incident = _get(request, number)
    if not _may_move(request.user, incident, State.CANCELED):
        return _refuse(request, incident, "cancel")
    if request.method == "GET":
        return render(
            request, "portal/ticket_cancel.html", {"incident": as_requester_sees(incident)}
        )
    if _attempt(request, incident, lambda: services.cancel(incident, actor=request.user)):
        messages.success(
            request, _("Your request %(number)s is canceled.") % {"number": incident.number}
        )
    return redirect(incident.get_portal_url())


@login_required
@require_POST
def ticket_rate(request, number):
    incident = _get(request, number)
    if not can_rate(request.user, incident):
        return _refuse(request, incident, "rate")
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, incident, rating_form=form)
    data = form.cleaned_data
    if _attempt(
        request,
        incident,
        lambda: services.rate(
            incident, actor=request.user, score=data["score"], comment_text=data["comment"]
        ),
    ):
        messages.success(request, _("Thank you for your feedback!"))
    return redirect(incident.get_portal_url() + "#rating")
