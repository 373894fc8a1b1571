"""Every write to a change, its approvals and conflicts, and to the change process's own
configuration (boards, blackout windows, standard-change templates), as verbs (SPEC §6, §9).

Each verb holds its rule: who may (``changes.permissions``), which fields, in which states
(the type's table in ``changes.workflow``). The API, the pages, commands and demo data call
these verbs and nothing beneath them. ``actor=None`` is the system (demo data). Each runs in
one transaction, audits through the kernel and notifies after commit.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm import services as kernel
from itsm.permissions import CHANGE_MANAGER, check_fields, users_with_role
from itsm.workflow import Conflict

from . import approvals, conflicts, notices, permissions, risk
from .models import Approval, Blackout, Board, Change, ChangeConflict, ChangeTemplate
from .workflow import PLAN_FIELDS, Decision, Policy, State, Type

COPIED_FROM_TEMPLATE = ("implementation_plan", "backout_plan", "test_plan", "assignment_group")


class BlackoutConflict(Conflict):
    """A change that is not an emergency cannot be scheduled into a blackout window (409)."""


# --- Raising and editing a change ---------------------------------------------------------


@transaction.atomic
def raise_change(*, actor, requester=None, attachments=(), **fields) -> Change:
    """Record a new change in ``new``. A standard change comes from an active template, whose
    plans, CIs and team it takes unless given. Its risk is computed at once."""
    if actor is not None:
        permissions.check_create(actor, fields)
    cis = list(fields.pop("cis", None) or ())
    template = fields.get("template")
    if template is not None:
        fields.setdefault("type", Type.STANDARD)
        fields.setdefault("title", template.name)
        fields.setdefault("description", template.description)
        for name in COPIED_FROM_TEMPLATE:
            if not fields.get(name):
                fields[name] = getattr(template, name)
        cis = cis or list(template.cis.all())
    _check_type(fields.get("type", Type.NORMAL), template)
    fields["risk_answers"] = risk.clean_answers(fields.get("risk_answers"))
    if "approval_policy" not in fields:
        fields["approval_policy"] = _board_policy(fields.get("cab"))
    _check_window(fields.get("planned_start"), fields.get("planned_end"))
    fields.update(_risk_fields(fields["risk_answers"], [ci.pk for ci in cis]))
    change = kernel.create_ticket(Change, actor=actor, requester=requester or actor, **fields)
    if cis:
        change.cis.set(cis)
        kernel.record_events(change, {"cis": (None, sorted(ci.pk for ci in cis))}, actor=actor)
    kernel.add_attachments(change, actor=actor, uploads=attachments)
    _refresh_conflicts(change)
    notices.assignment(change, actor=actor)
    return change


@transaction.atomic
def update_change(change: Change, values: dict, *, actor, version=None):
    """Change fields. The plan (CIs, window, plans, CAB, questionnaire) is edited while the
    change is new or assessed; once before the CAB it is what was approved (409), though a
    change manager may move the window. The risk and the conflicts follow every edit; a
    closed or canceled change takes none (409), whoever asks."""
    kernel.lock(change, version=version)
    if actor is not None:
        permissions.check_update(actor, change, values)
    if values:
        kernel.check_editable(change)
    values = dict(values)
    cis = values.pop("cis", None)
    if "risk_answers" in values:
        values["risk_answers"] = risk.clean_answers(values["risk_answers"])
    if "type" in values or "template" in values:
        _check_type(values.get("type", change.type), values.get("template", change.template))
    if "cab" in values and "approval_policy" not in values and change.state == State.NEW:
        values["approval_policy"] = _board_policy(values["cab"])
    start = values.get("planned_start", change.planned_start)
    end = values.get("planned_end", change.planned_end)
    _check_window(start, end)
    changes = {}
    if cis is not None:
        old = sorted(change.cis.values_list("pk", flat=True))
        new = sorted({ci.pk for ci in cis})
        if old != new:
            change.cis.set(cis)
            changes["cis"] = (old, new)
    if "cis" in changes or "risk_answers" in values:
        ci_ids = changes["cis"][1] if "cis" in changes else change.cis.values_list("pk", flat=True)
        values.update(_risk_fields(values.get("risk_answers", change.risk_answers), list(ci_ids)))
    changes.update(kernel.update_ticket(change, values, actor=actor))
    if "cis" in changes:
        kernel.record_events(change, {"cis": changes["cis"]}, actor=actor)
        if len(changes) == 1:  # only the CIs: the row itself did not move, its version does
            kernel.write_versioned(change, {}, expected_version=change.version)
    if {"cis", "planned_start", "planned_end"} & set(changes):
        found = _refresh_conflicts(change)
        if change.state == State.SCHEDULED:
            _refuse_blackouts(change, found)
    if {"assignee", "assignment_group"} & set(changes):
        notices.assignment(change, actor=actor)
    return changes


def _check_type(kind: str, template) -> None:
    if kind == Type.STANDARD and template is None:
        raise ValidationError({"template": [_("A standard change comes from a template.")]})
    if template is not None and kind != Type.STANDARD:
        raise ValidationError({"template": [_("Only a standard change has a template.")]})
    if template is not None and not template.active:
        raise ValidationError({"template": [_("This template is no longer in use.")]})


def _check_window(start, end) -> None:
    if start is not None and end is not None and end <= start:
        raise ValidationError({"planned_end": [_("The end comes after the start.")]})


def _board_policy(team) -> str:
    board = Board.objects.filter(team=team).first() if team is not None else None
    return board.policy if board else Policy.ALL


def _risk_fields(answers, ci_ids) -> dict:
    assessment = risk.assess(answers or {}, risk.impacted_services(ci_ids))
    return {
        "risk": assessment.risk,
        "risk_score": assessment.score,
        "risk_reasons": assessment.reasons,
    }


# --- Moving a change through its table ---------------------------------------------------------


@transaction.atomic
def change_state(change: Change, to: str, *, actor, version=None, **fields):
    """Move the change through its type's table, with what each move implies:

    - entering ``authorize`` needs the plans, the window, the CIs (and a CAB for a normal
      change), and asks for the approvals;
    - an authorized change enters ``scheduled`` when its approvals meet the policy (or by a
      change manager's hand once they do); a standard change goes there from ``new``;
      a blackout window refuses either unless the change is an emergency (409);
    - ``closed`` needs the review's outcome.
    """
    kernel.lock(change, version=version)
    change.workflow.check(change.state, to)
    if actor is not None:
        permissions.check_transition(actor, change, to, fields)
    return _move(change, to, actor=actor, **fields)


def _move(change: Change, to: str, *, actor, by_vote: bool = False, **fields):
    """The move and what it implies, once the rules allowed it (``by_vote``: the votes made
    it; a rejection tells people itself, with its comment)."""
    source = change.state
    if to == State.AUTHORIZE:
        _check_plans(change, cab=change.type == Type.NORMAL)
        fields["approval_round"] = change.approval_round + 1
        fields.update(
            _risk_fields(change.risk_answers, list(change.cis.values_list("pk", flat=True)))
        )
    if to == State.SCHEDULED:
        if source == State.NEW:  # a standard change: its template is its approval
            _default_window(change, actor=actor)
        elif source == State.AUTHORIZE and not by_vote and not approvals.policy_met(change):
            raise Conflict(
                _("%(number)s still waits for its approvals.") % {"number": change.number},
                allowed=[s for s in change.allowed_states if s != State.SCHEDULED],
            )
        _refuse_blackouts(change, conflicts.detect(change))
    if to == State.CLOSED and fields.get("outcome", change.outcome) in (None, ""):
        raise ValidationError({"outcome": [_("Record the outcome of the review to close.")]})
    changes = kernel.transition(change, to, actor=actor, **fields)
    if source == State.AUTHORIZE:
        _void_pending(change)
    if to == State.AUTHORIZE:
        _request_approvals(change, actor=actor)
    _refresh_conflicts(change)
    if not (by_vote and to == State.NEW):
        notices.state(change, source, actor=actor)
    return changes


def _default_window(change: Change, *, actor) -> None:
    """A standard change scheduled without a window is done from now (the next minute) for
    its template's usual duration; the window is recorded like any edit."""
    if change.has_window:
        return
    start = (timezone.now() + timedelta(minutes=1)).replace(second=0, microsecond=0)
    start = change.planned_start or start
    minutes = change.template.duration_minutes if change.template_id else 60
    end = change.planned_end if change.planned_end and change.planned_end > start else None
    kernel.update_ticket(
        change,
        {"planned_start": start, "planned_end": end or start + timedelta(minutes=minutes)},
        actor=actor,
    )


def _check_plans(change: Change, *, cab: bool) -> None:
    missing = {}
    for name in PLAN_FIELDS:
        value = change.cis.exists() if name == "cis" else getattr(change, name)
        if value in (None, "", False):
            missing[name] = [_("Required before the change is authorized or scheduled.")]
    if cab and change.cab_id is None:
        missing["cab"] = [_("Choose the CAB that authorizes the change.")]
    if missing:
        raise ValidationError(missing)


def _refuse_blackouts(change: Change, found) -> None:
    """409 naming the blackout windows a change that is not an emergency would be scheduled
    into; an emergency change goes ahead and its conflicts are recorded as accepted."""
    if change.is_emergency:
        return
    windows = [f.blackout for f in found if f.kind == ChangeConflict.Kind.BLACKOUT]
    if windows:
        raise BlackoutConflict(
            _("%(number)s cannot be scheduled in the blackout window %(windows)s.")
            % {
                "number": change.number,
                "windows": ", ".join(
                    f"“{w.name}” ({timezone.localtime(w.start):%Y-%m-%d %H:%M} – "
                    f"{timezone.localtime(w.end):%Y-%m-%d %H:%M})"
                    for w in windows
                ),
            }
        )


# --- Approvals and votes ---------------------------------------------------------------------


def _request_approvals(change: Change, *, actor) -> None:
    round_ = change.approval_round
    if change.is_emergency:
        ecab = Approval.objects.create(change=change, round=round_, approver=None)
        recipients, who = list(users_with_role(CHANGE_MANAGER)), "ECAB"
        links = ecab  # any change manager answers the one approval
    elif change.type == Type.NORMAL:
        recipients = list(approvals.approvers(change))
        if not recipients:
            raise ValidationError({"cab": [_("This CAB has no member who may vote.")]})
        created = Approval.objects.bulk_create(
            Approval(change=change, round=round_, approver=user) for user in recipients
        )
        who = [user.pk for user in recipients]
        links = {approval.approver_id: approval for approval in created}
    else:
        return
    kernel.record_events(change, {"approvals": (None, who)}, actor=actor)
    notices.approvals_requested(change, recipients, actor=actor, approval=links)


def _void_pending(change: Change) -> None:
    approvals.current(change).filter(decision=Decision.PENDING).update(
        decision=Decision.VOID, decided_at=timezone.now()
    )


def vote(change: Change, *, actor, decision: str, comment: str = "") -> Approval:
    """``actor``'s vote (``approve`` or ``reject``) on ``change``, with a comment (required to
    reject). Only the approver named on an approval votes on it (any change manager on an
    emergency change's): anyone else gets a 403; a second vote a 409. Any rejection sends the
    change back to ``new`` with the comment; the policy met schedules it — unless it falls in
    a blackout window: the vote stands, the change stays in ``authorize`` and a 409 names the
    window (raised once the vote is committed)."""
    with transaction.atomic():
        approval, blocked = _record_vote(change, actor=actor, decision=decision, comment=comment)
    if blocked is not None:
        raise blocked
    return approval


def _record_vote(change: Change, *, actor, decision: str, comment: str):
    kernel.lock(change)
    if decision not in ("approve", "reject"):
        raise ValidationError({"decision": [_("Either “approve” or “reject”.")]})
    comment = (comment or "").strip()
    if decision == "reject" and not comment:
        raise ValidationError({"comment": [_("Say why you reject the change.")]})
    mine = [a for a in change.approvals.all() if permissions.can_vote(actor, a)]
    if not mine:
        raise PermissionDenied(_("You have no vote on this change."))
    open_ = [a for a in mine if a.round == change.approval_round and a.is_pending]
    if change.state != State.AUTHORIZE or not open_:
        voted = any(a.round == change.approval_round and a.decided_by_id for a in mine)
        raise Conflict(
            _("You have already voted on this change.")
            if voted and change.state == State.AUTHORIZE
            else _("%(number)s is not waiting for your vote.") % {"number": change.number}
        )
    approval = open_[0]
    approval.decision = Decision.APPROVED if decision == "approve" else Decision.REJECTED
    approval.comment = comment
    approval.decided_by = actor
    approval.decided_at = timezone.now()
    approval.save(update_fields=["decision", "comment", "decided_by", "decided_at"])
    kernel.record_events(
        change,
        {"vote": (None, {"by": actor.pk, "decision": approval.decision, "comment": comment})},
        actor=actor,
    )
    if approval.decision == Decision.REJECTED:
        _move(change, State.NEW, actor=actor, by_vote=True)
        notices.rejection(change, approval, actor=actor)
    elif approvals.policy_met(change):
        _void_pending(change)  # decided: the others need not vote, even if a blackout blocks it
        try:
            with transaction.atomic():
                _move(change, State.SCHEDULED, actor=actor, by_vote=True)
        except BlackoutConflict as exc:
            kernel.record_events(change, {"blocked": (None, str(exc.detail))}, actor=actor)
            notices.blocked(change, exc, actor=actor)
            return approval, exc
    return approval, None


# --- Conflicts -----------------------------------------------------------------------------------


def _refresh_conflicts(change: Change) -> list:
    """Store what ``change`` conflicts with now, on both sides of each conflict; an emergency
    change already scheduled keeps its conflicts accepted."""
    found = conflicts.detect(change)
    mine = ChangeConflict.objects.filter(change=change, accepted=True)
    accepted = set(mine.values_list("kind", "other_id", "blackout_id"))
    accept_all = change.is_emergency and change.state in (State.SCHEDULED, State.IMPLEMENT)
    theirs = set(
        ChangeConflict.objects.filter(other=change, accepted=True).values_list(
            "change_id", flat=True
        )
    )
    ChangeConflict.objects.filter(Q(change=change) | Q(other=change)).delete()
    rows = []
    for item in found:
        rows.append(
            ChangeConflict(
                change=change,
                kind=item.kind,
                other=item.other,
                blackout=item.blackout,
                via=item.via,
                dependent=item.dependent,
                accepted=accept_all or item.key in accepted,
            )
        )
        if item.other is not None:
            rows.append(
                ChangeConflict(
                    change=item.other,
                    other=change,
                    accepted=item.other.pk in theirs,
                    **conflicts.mirror(item, change),
                )
            )
    ChangeConflict.objects.bulk_create(rows)
    newly = [item for item in found if item.key not in accepted]
    if accept_all and newly:  # an emergency change goes ahead: what it overrides is on record
        kernel.record_events(
            change,
            {"conflicts_accepted": (None, [_describe(item) for item in newly])},
            actor=None,
        )
    return found


def _describe(item) -> str:
    if item.other is not None:
        return item.other.number
    return item.blackout.name


@transaction.atomic
def recheck_conflicts(change: Change, *, actor) -> list:
    """Look again (the CMDB or other changes moved since the last write)."""
    if actor is not None:
        permissions.check_read(actor)
    kernel.lock(change)
    return _refresh_conflicts(change)


def _refresh_blackout(blackout: Blackout, windows) -> None:
    """Refresh the rows of ``blackout`` for every active change in its old or new window."""
    ChangeConflict.objects.filter(blackout=blackout).delete()
    touched = {
        change.pk: change
        for start, end in windows
        for change in conflicts.changes_in_window(start, end)
    }
    for change in touched.values():
        _refresh_conflicts(change)


# --- Comments and files -----------------------------------------------------------------------


@transaction.atomic
def comment(change: Change, *, actor, body: str, internal: bool = False):
    """A comment or an internal note: whoever may read changes may comment (CAB members ask
    their questions here); the requester, the assignee and the watchers hear of it."""
    permissions.check_read(actor)
    note = kernel.add_comment(change, actor=actor, body=body, internal=internal)
    notices.comment(change, note, actor=actor)
    return note


@transaction.atomic
def attach(change: Change, *, actor, upload, internal: bool = False):
    """A file on the change (a runbook, a test report): whoever may comment may attach."""
    permissions.check_read(actor)
    return kernel.add_attachment(change, actor=actor, upload=upload, internal=internal)


def set_attachment_internal(change: Change, attachment, *, actor, internal: bool) -> bool:
    return kernel.set_attachment_internal(change, attachment, actor=actor, internal=internal)


# --- Boards, templates, blackout windows ----------------------------------------------------


@transaction.atomic
def save_board(team, *, actor, policy: str = Policy.ALL) -> Board:
    """Make ``team`` a CAB (or change its default approval policy)."""
    permissions.check_manage(actor)
    if policy not in Policy.values:
        raise ValidationError({"policy": [_("One of: all, majority, any.")]})
    board = Board.objects.filter(team=team).first() or Board(team=team)
    board.policy = policy
    board.save()
    return board


@transaction.atomic
def add_board_member(board: Board, user, *, actor) -> None:
    permissions.check_manage(actor)
    if not permissions.can_read(user):
        raise ValidationError(
            {
                "member": [
                    _("%(name)s may not read changes: give them a role first.") % {"name": user}
                ]
            }
        )
    board.team.members.add(user)


@transaction.atomic
def remove_board_member(board: Board, user, *, actor) -> None:
    """Their pending votes stay until the round ends; future rounds no longer ask them."""
    permissions.check_manage(actor)
    board.team.members.remove(user)


TEMPLATE_FIELDS = frozenset(
    {
        "name",
        "description",
        "implementation_plan",
        "backout_plan",
        "test_plan",
        "duration_minutes",
        "cis",
        "assignment_group",
        "active",
    }
)


@transaction.atomic
def save_template(template: ChangeTemplate | None, values: dict, *, actor) -> ChangeTemplate:
    """Create (``template=None``) or edit a standard-change template."""
    permissions.check_manage(actor)
    check_fields(values, TEMPLATE_FIELDS)
    values = dict(values)
    cis = values.pop("cis", None)
    template = template if template is not None else ChangeTemplate()
    for name, value in values.items():
        setattr(template, name, value)
    template.full_clean()
    template.save()
    if cis is not None:
        template.cis.set(cis)
    return template


@transaction.atomic
def delete_template(template: ChangeTemplate, *, actor) -> None:
    """A template no change came from is deleted; one in use is deactivated instead (409)."""
    permissions.check_manage(actor)
    if template.changes.exists():
        raise Conflict(_("Changes came from this template: deactivate it instead."))
    template.delete()


BLACKOUT_FIELDS = frozenset({"name", "description", "start", "end", "cis"})


@transaction.atomic
def save_blackout(blackout: Blackout | None, values: dict, *, actor) -> Blackout:
    """Create (``blackout=None``) or edit a blackout window; the changes in its old and new
    window have their conflicts refreshed."""
    permissions.check_manage(actor)
    check_fields(values, BLACKOUT_FIELDS)
    values = dict(values)
    cis = values.pop("cis", None)
    creating = blackout is None
    blackout = blackout if blackout is not None else Blackout(created_by=actor)
    windows = [] if creating else [(blackout.start, blackout.end)]
    for name, value in values.items():
        setattr(blackout, name, value)
    _check_window_named(blackout.start, blackout.end)
    blackout.full_clean()
    blackout.save()
    if cis is not None:
        blackout.cis.set(cis)
    _refresh_blackout(blackout, [*windows, (blackout.start, blackout.end)])
    return blackout


def _check_window_named(start, end) -> None:
    if start is not None and end is not None and end <= start:
        raise ValidationError({"end": [_("The end comes after the start.")]})


@transaction.atomic
def delete_blackout(blackout: Blackout, *, actor) -> None:
    """Its conflict rows go with it."""
    permissions.check_manage(actor)
    blackout.delete()
