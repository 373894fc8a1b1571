"""The CAB's pages: where each person lands, "My approvals" (vote with a comment in one step),
the CAB agenda, and the boards change managers keep."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Team, User
from itsm.markdown import render_markdown_many
from itsm.pagination import paginate
from itsm.permissions import CAB_MEMBER, CHANGE_MANAGER, role_required, user_roles
from itsm.workflow import Conflict

from .. import approvals, services
from ..forms import BoardForm, MemberForm, PolicyForm, VoteForm
from ..models import Approval, Board, Change, ChangeConflict
from ..permissions import MANAGE_ROLES, can_vote
from ..workflow import State
from .common import READ_ROLES, area, reason
from .pages import change_list

AGENDA_SIZE = 50
SHOWN = 30  # votes shown at once, soonest first; the rest after these are cast


@require_safe
@role_required(*READ_ROLES)
def home(request):
    """``/changes/``: a change manager's CAB agenda, a CAB member's approvals, everyone else's
    change list (the same pages as their own addresses)."""
    roles = user_roles(request.user)
    if CHANGE_MANAGER in roles:
        return cab_agenda(request)
    if CAB_MEMBER in roles:
        return my_approvals(request)
    return change_list(request)


def _with_votes(queryset):
    """Changes with what a vote needs beside them: every approval (the current round is
    picked in Python) and the conflicts, in two queries whatever the number of rows."""
    return queryset.select_related("cab", "requester").prefetch_related(
        Prefetch("approvals", queryset=Approval.objects.select_related("approver", "decided_by")),
        Prefetch(
            "conflicts",
            queryset=ChangeConflict.objects.select_related("other", "blackout").order_by(
                "kind", "id"
            ),
        ),
    )


def _card(change) -> dict:
    current = [a for a in change.approvals.all() if a.round == change.approval_round]
    tally = approvals.tally(change, [a.decision for a in current])
    conflicts = list(change.conflicts.all())
    return {
        "change": change,
        "current": current,
        "tally": tally,
        "conflicts": conflicts,
        # approved, but its window falls in a blackout: a change manager must move it
        "blocked": tally.met
        and not change.is_emergency
        and any(c.kind == ChangeConflict.Kind.BLACKOUT for c in conflicts),
    }


def _rendered(cards: list[dict]) -> list[dict]:
    """The Markdown of every card (plans, vote comments) in one batch: one cache round trip
    for the page, not three per card."""
    texts = []
    for card in cards:
        change = card["change"]
        texts += [change.implementation_plan, change.backout_plan, change.test_plan]
        texts += [a.comment for a in card["current"]]
    html = iter(render_markdown_many(texts))
    for card in cards:
        card["plans"] = [next(html), next(html), next(html)]
        for approval in card["current"]:
            approval.comment_html = next(html)
    return cards


@require_safe
@role_required(*READ_ROLES)
def my_approvals(request):
    user = request.user
    pending = approvals.pending_for(user)
    waiting = list(pending.select_related("change").order_by("change__planned_start", "id")[:SHOWN])
    total = len(waiting) if len(waiting) < SHOWN else pending.count()
    changes = {
        c.pk: c for c in _with_votes(Change.objects.filter(pk__in=[a.change_id for a in waiting]))
    }
    cards = _rendered([{**_card(changes[a.change_id]), "approval": a} for a in waiting])
    decided = (
        Approval.objects.filter(decided_by=user)
        .select_related("change")
        .order_by("-decided_at")[:10]
    )
    return render(
        request,
        "changes/my_approvals.html",
        {
            **area(request, "approvals"),
            "cards": cards,
            "total": total,
            "more": total - len(cards),
            "decided": decided,
            "form": VoteForm(),
        },
    )


@role_required(*READ_ROLES)
@require_POST
def approval_vote(request, approval_id):
    """Approve or reject with a comment in one step. Someone else's approval is a 404: nobody
    votes in another's name."""
    approval = get_object_or_404(Approval.objects.select_related("change"), pk=approval_id)
    if not can_vote(request.user, approval):
        raise Http404
    change = approval.change
    form = VoteForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect(back or "changes:my_approvals")
    decision = form.cleaned_data["decision"]
    try:
        services.vote(
            change, actor=request.user, decision=decision, comment=form.cleaned_data["comment"]
        )
    except (Conflict, ValidationError) as exc:
        messages.error(request, f"{change.number}: {reason(exc)}")
    else:
        change.refresh_from_db(fields=["state"])
        if decision == "approve":
            text = _("You approved %(number)s.")
        else:
            text = _("You rejected %(number)s: it is back with its requester.")
        if change.state == State.SCHEDULED:
            text = _("You approved %(number)s: it is scheduled.")
        messages.success(request, text % {"number": change.number})
    return redirect(back or "changes:my_approvals")


@require_safe
@role_required(*READ_ROLES)
def cab_agenda(request):
    """Changes awaiting authorization, soonest first, with their risk, votes and conflicts;
    then what is scheduled in the next two weeks and what waits for its review."""
    rows = Change.objects.filter(state=State.AUTHORIZE, planned_start__isnull=False)
    cab = request.GET.get("cab", "")
    if cab.isdigit():
        rows = rows.filter(cab_id=int(cab))
    page = paginate(
        _with_votes(rows), ["planned_start"], cursor=request.GET.get("cursor"), size=AGENDA_SIZE
    )
    now = timezone.now()
    upcoming = (
        Change.objects.filter(
            state__in=[State.SCHEDULED, State.IMPLEMENT],
            planned_start__lt=now + timedelta(days=14),
            planned_end__gt=now,
        )
        .select_related("cab")
        .order_by("planned_start", "id")[:20]
    )
    to_review = (
        Change.objects.filter(state=State.REVIEW).select_related("assignee").order_by("-actual_end")
    )[:20]
    return render(
        request,
        "changes/cab_agenda.html",
        {
            **area(request, "agenda"),
            "cards": [_card(change) for change in page.rows],
            "page": page,
            "upcoming": upcoming,
            "to_review": to_review,
            "cabs": list(Team.objects.filter(board__isnull=False).values_list("pk", "name")),
            "cab": int(cab) if cab.isdigit() else None,
            "query": request.GET.copy(),
            "form": VoteForm(),
        },
    )


# --- Boards (change managers)


@require_safe
@role_required(*READ_ROLES)
def board_list(request):
    boards = Board.objects.select_related("team").prefetch_related(
        Prefetch("team__members", queryset=User.objects.order_by("first_name", "last_name"))
    )
    return render(
        request,
        "changes/board_list.html",
        {
            **area(request, "boards"),
            "boards": boards,
            "board_form": BoardForm(),
            "member_form": MemberForm(),
            "policies": PolicyForm.base_fields["policy"].choices,
        },
    )


@role_required(*MANAGE_ROLES)
@require_POST
def board_add(request):
    form = BoardForm(request.POST)
    if form.is_valid():
        board = services.save_board(
            form.cleaned_data["team"], actor=request.user, policy=form.cleaned_data["policy"]
        )
        messages.success(request, _("%(team)s is now a CAB.") % {"team": board.team})
    else:
        messages.error(request, _("Choose a team and a policy."))
    return redirect("changes:board_list")


@role_required(*MANAGE_ROLES)
@require_POST
def board_update(request, board_id):
    board = get_object_or_404(Board.objects.select_related("team"), pk=board_id)
    form = PolicyForm(request.POST)
    if form.is_valid():
        services.save_board(board.team, actor=request.user, policy=form.cleaned_data["policy"])
        messages.success(request, _("Saved."))
    return redirect("changes:board_list")


@role_required(*MANAGE_ROLES)
@require_POST
def board_member_add(request, board_id):
    board = get_object_or_404(Board.objects.select_related("team"), pk=board_id)
    form = MemberForm(request.POST)
    if form.is_valid():
        person = form.cleaned_data["member"]
        try:
            services.add_board_member(board, person, actor=request.user)
        except ValidationError as exc:
            messages.error(request, reason(exc))
        else:
            messages.success(
                request, _("%(name)s joined %(team)s.") % {"name": person, "team": board.team}
            )
    else:
        messages.error(request, " ".join(form.errors.get("member", [])))
    return redirect("changes:board_list")


@role_required(*MANAGE_ROLES)
@require_POST
def board_member_remove(request, board_id, user_id):
    board = get_object_or_404(Board.objects.select_related("team"), pk=board_id)
    person = get_object_or_404(board.team.members, pk=user_id)
    services.remove_board_member(board, person, actor=request.user)
    messages.success(request, _("%(name)s left %(team)s.") % {"name": person, "team": board.team})
    return redirect("changes:board_list")
