"""The change list, a new change, and the change page with its actions."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Team
from itsm import exports
from itsm.attachments import UploadRefused, UploadTooLarge, download_response
from itsm.pagination import paginate
from itsm.permissions import role_required
from itsm.workflow import Conflict, parse_version

from .. import approvals, risk, services
from ..filtersets import ChangeFilter
from ..forms import ChangeForm, CommentForm, OutcomeForm, RiskForm, change_label
from ..models import Change, ChangeConflict, ChangeTemplate
from ..permissions import WORK_ROLES, can_vote, can_work, editable_fields
from ..timeline import timeline
from ..workflow import Risk, State, Type
from .common import READ_ROLES, area, get_change, reason

LIST_SIZE = 50
SORTS = {
    "-created": ["-created_at"],
    "created": ["created_at"],
    "start": ["planned_start"],
    "-start": ["-planned_start"],
}
QUEUES = {
    "open": (gettext_lazy("Open"), lambda qs, user: qs.open()),
    "cab": (gettext_lazy("Awaiting the CAB"), lambda qs, user: qs.filter(state=State.AUTHORIZE)),
    "scheduled": (
        gettext_lazy("Scheduled"),
        lambda qs, user: qs.filter(state__in=[State.SCHEDULED, State.IMPLEMENT]),
    ),
    "mine": (gettext_lazy("Mine"), lambda qs, user: qs.open().filter(assignee=user)),
    "all": (gettext_lazy("All"), lambda qs, user: qs),
}
LIST_COLUMNS = (
    "number",
    "title",
    "type",
    "state",
    "risk",
    "planned_start",
    "planned_end",
    "created_at",
    "cab__name",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
)


def _blank_free(query):
    cleaned = query.copy()
    for key in list(cleaned):
        values = [v for v in cleaned.getlist(key) if v != ""]
        if values:
            cleaned.setlist(key, values)
        else:
            del cleaned[key]
    return cleaned


def conflict_count():
    return Coalesce(
        Subquery(
            ChangeConflict.objects.filter(change=OuterRef("pk"))
            .values("change")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        0,
    )


@require_safe
@role_required(*READ_ROLES)
def change_list(request):
    key = request.GET.get("queue") or ("all" if request.GET.get("q") else "open")
    if key not in QUEUES:
        key = "open"
    base = QUEUES[key][1](Change.objects.visible_to(request.user), request.user)
    filters = ChangeFilter(_blank_free(request.GET), queryset=base, request=request)
    if exports.wants_csv(request) and not filters.is_valid():
        return exports.refused(filters)
    rows = filters.qs if filters.is_valid() else base.none()
    sort = request.GET.get("sort", "-created")
    ordering = SORTS.get(sort) or SORTS["-created"]
    if sort in ("start", "-start"):
        rows = rows.filter(planned_start__isnull=False)
    rows = (
        rows.select_related("cab", "assignee")
        .only(*LIST_COLUMNS)
        .annotate(conflict_count=conflict_count())
    )
    if exports.wants_csv(request):
        return exports.export(request, rows, ordering, _csv_columns(), name="changes")
    page = paginate(rows, ordering, cursor=request.GET.get("cursor"), size=LIST_SIZE)
    context = {
        **area(request, "list"),
        "queues": [(k, label) for k, (label, _f) in QUEUES.items()],
        "queue": key,
        "filters": filters,
        "page": page,
        "sort": sort,
        "query": request.GET.copy(),
        "states": State.choices,
        "types": Type.choices,
        "risks": Risk.choices,
        "cabs": list(Team.objects.filter(board__isnull=False).values_list("pk", "name")),
    }
    return render(request, "changes/change_list.html", context)


def _csv_columns() -> list:
    """The list's columns for its CSV export (``itsm.exports``), labels translated once."""
    types = {value: str(label) for value, label in Type.choices}
    states = {value: str(label) for value, label in State.choices}
    risks = {value: str(label) for value, label in Risk.choices}
    Column = exports.Column
    return [
        Column(gettext_lazy("Number"), lambda c: c.number),
        Column(gettext_lazy("Title"), lambda c: c.title),
        Column(gettext_lazy("Type"), lambda c: types.get(c.type, c.type)),
        Column(gettext_lazy("State"), lambda c: states.get(c.state, c.state)),
        Column(gettext_lazy("Risk"), lambda c: risks.get(c.risk, c.risk)),
        Column(gettext_lazy("Planned start"), lambda c: c.planned_start),
        Column(gettext_lazy("Planned end"), lambda c: c.planned_end),
        Column(gettext_lazy("CAB"), lambda c: str(c.cab) if c.cab_id else ""),
        Column(gettext_lazy("Assignee"), lambda c: str(c.assignee) if c.assignee_id else ""),
        Column(gettext_lazy("Conflicts"), lambda c: c.conflict_count),
        Column(gettext_lazy("Created"), lambda c: c.created_at),
    ]


@require_http_methods(["GET", "POST"])
@role_required(*WORK_ROLES)
def change_add(request):
    template = None
    if request.GET.get("template", "").isdigit():
        template = ChangeTemplate.objects.filter(pk=request.GET["template"], active=True).first()
    initial = {"type": Type.STANDARD, "template": template} if template else {"type": Type.NORMAL}
    if template:
        initial.update(
            title=template.name,
            description=template.description,
            implementation_plan=template.implementation_plan,
            backout_plan=template.backout_plan,
            test_plan=template.test_plan,
            assignment_group=template.assignment_group_id,
            cis=list(template.cis.select_related("ci_class")),
        )
    form = ChangeForm(request.POST or None, initial=initial)
    form.fields.pop("outcome")
    form.fields.pop("review_notes")
    risk_form = RiskForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and risk_form.is_valid():
        values = form.values(changed_only=False)
        values = {k: v for k, v in values.items() if v not in (None, "", [])}
        values["risk_answers"] = risk_form.answers()
        try:
            change = services.raise_change(actor=request.user, **values)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Change %(number)s raised.") % {"number": change.number})
            return redirect(change)
    return render(
        request,
        "changes/change_add.html",
        {**area(request, "list"), "form": form, "risk_form": risk_form, "template": template},
    )


def _form_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# --- The change page ------------------------------------------------------------------------


def _detail_context(request, change, **extra) -> dict:
    user = request.user
    all_approvals = list(
        change.approvals.select_related("approver", "decided_by").order_by("-round", "id")
    )
    current = [a for a in all_approvals if a.round == change.approval_round]
    tally = approvals.tally(change, [a.decision for a in current]) if current else None
    my_vote = next((a for a in current if a.is_pending and can_vote(user, a)), None)
    rejection = (
        next((a for a in current if a.decision == "rejected"), None)
        if change.state == State.NEW
        else None
    )
    conflicts = list(change.conflicts.select_related("other", "blackout"))
    cis = list(change.cis.select_related("ci_class").order_by("name"))
    editable = editable_fields(user, change) if can_work(user) else frozenset()
    blocked = (
        change.state == State.AUTHORIZE
        and tally is not None
        and tally.met
        and any(c.kind == ChangeConflict.Kind.BLACKOUT for c in conflicts)
    )
    return {
        **area(request, ""),
        "change": change,
        "can_work": can_work(user),
        "allowed": set(change.allowed_states),
        "current": current,
        "earlier": [a for a in all_approvals if a.round != change.approval_round],
        "tally": tally,
        "my_vote": my_vote,
        "rejection": rejection,
        "blocked": blocked,
        "conflicts": conflicts,
        "cis": cis,
        "services": risk.impacted_services([ci.pk for ci in cis]),
        "risk_lines": risk.explain(change.risk_reasons),
        "thresholds": risk.thresholds(),
        "answers": [
            (q.text, q.label(change.risk_answers[q.key]) if q.key in change.risk_answers else None)
            for q in risk.QUESTIONS
        ],
        "caused": change.caused_incidents.only("number", "title", "state").order_by("number"),
        "awaiting": change.awaiting_incidents.only("number", "title", "state").order_by("number"),
        "timeline": timeline(change),
        "attachments": change.attachments.select_related("uploaded_by"),
        "form": extra.pop("form", None) or ChangeForm(instance=change, editable=editable),
        "risk_form": extra.pop("risk_form", None)
        or (RiskForm(answers=change.risk_answers) if "risk_answers" in editable else None),
        "outcome_form": OutcomeForm(initial={"outcome": change.outcome}),
        "comment_form": extra.pop("comment_form", None) or CommentForm(),
        **extra,
    }


@require_safe
@role_required(*READ_ROLES)
def change_detail(request, number):
    change = get_change(request, number)
    return render(request, "changes/change_detail.html", _detail_context(request, change))


def _back(request, change):
    return redirect(change)


@role_required(*READ_ROLES)
@require_POST
def change_update(request, number):
    change = get_change(request, number)
    user = request.user
    editable = editable_fields(user, change) if can_work(user) else frozenset()
    form = ChangeForm(request.POST, instance=Change.objects.get(pk=change.pk), editable=editable)
    risk_form = RiskForm(request.POST) if "risk_answers" in editable else None
    if not form.is_valid() or (risk_form is not None and not risk_form.is_valid()):
        context = _detail_context(request, change, form=form, risk_form=risk_form)
        return render(request, "changes/change_detail.html", context, status=400)
    values = form.values(changed_only=True)
    if risk_form is not None and risk_form.answers() != change.risk_answers:
        values["risk_answers"] = risk_form.answers()
    try:  # the verb decides: a reader who may not work changes gets its 403
        services.update_change(change, values, actor=user, version=form.cleaned_data.get("version"))
        messages.success(request, _("Saved."))
    except (Conflict, ValidationError) as exc:
        messages.error(request, reason(exc))
    return _back(request, change)


@role_required(*READ_ROLES)
@require_POST
def change_state(request, number):
    change = get_change(request, number)
    target = request.POST.get("state", "")
    fields = {}
    if target in (State.REVIEW, State.CLOSED):
        form = OutcomeForm(request.POST)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if v}
    try:
        if target not in State.values:
            raise ValidationError({"state": [_("Unknown state.")]})
        services.change_state(
            change,
            target,
            actor=request.user,
            version=parse_version(request.POST.get("version")),
            **fields,
        )
    except (Conflict, ValidationError) as exc:
        messages.error(request, reason(exc))
    else:
        messages.success(
            request,
            _("%(number)s is now %(state)s.")
            % {"number": change.number, "state": change.state_label.lower()},
        )
    return _back(request, change)


@role_required(*READ_ROLES)
@require_POST
def change_comment(request, number):
    change = get_change(request, number)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment(
                change,
                actor=request.user,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
            )
        except Conflict as exc:
            messages.error(request, reason(exc))
    else:
        messages.error(request, _("A comment cannot be empty."))
    return _back(request, change)


@role_required(*READ_ROLES)
@require_POST
def change_attach(request, number):
    change = get_change(request, number)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file to attach."))
    else:
        try:
            services.attach(change, actor=request.user, upload=upload)
        except UploadTooLarge as exc:
            messages.error(request, exc.for_field(_("File")))
            context = _detail_context(request, change)
            return render(request, "changes/change_detail.html", context, status=exc.status_code)
        except (UploadRefused, Conflict) as exc:
            messages.error(request, reason(exc))
    return _back(request, change)


@require_safe
@role_required(*READ_ROLES)
def change_attachment(request, number, attachment_id):
    change = get_change(request, number)
    return download_response(get_object_or_404(change.attachments, pk=attachment_id))


@role_required(*READ_ROLES)
@require_POST
def change_recheck(request, number):
    change = get_change(request, number)
    found = services.recheck_conflicts(change, actor=request.user)
    messages.info(request, _("Conflicts checked again: %(count)d.") % {"count": len(found)})
    return _back(request, change)


@require_safe
@role_required(*READ_ROLES)
def change_lookup(request):
    """``<option>``s for a change type-ahead box (an incident's cause, the change it awaits)."""
    term = (request.GET.get("change") or request.GET.get("caused_by_change") or "").strip()
    if not term:
        term = (request.GET.get("awaited_change") or "").strip()
    rows = []
    if len(term) >= 2:
        found = Change.objects.visible_to(request.user)
        digits = term.upper().removeprefix("CHG")
        if digits.isdigit():
            found = found.filter(number__endswith=digits)
        else:
            found = found.filter(title__icontains=term)
        rows = found.only("pk", "number", "title").order_by("-created_at")[:20]
    return render(request, "_typeahead_options.html", {"options": [change_label(c) for c in rows]})
