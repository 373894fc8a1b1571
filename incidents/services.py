"""Every write to an incident, as a verb (SPEC §3, §9).

Each verb holds its rule: who may (``incidents.permissions``), which fields, in which states.
The API, the desk, the portal, the SLA engine, commands and demo data call these verbs and
nothing beneath them. ``actor=None`` is the system itself (auto-close, SLA escalations), which
the rules do not restrict. Each runs in one transaction, audits through the kernel and notifies
after commit.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from changes.models import Change
from itsm import search
from itsm import services as kernel
from itsm.models import Notification
from itsm.notify import notify
from itsm.permissions import ASSIGNABLE_ROLES, MANAGER, is_staff_member, users_with_role
from itsm.workflow import Conflict

from . import permissions
from .models import Incident
from .workflow import HoldReason, State, compute_priority, raise_priority

Kind = Notification.Kind
log = logging.getLogger(__name__)


@transaction.atomic
def open_incident(*, actor, requester=None, attachments=(), **fields) -> Incident:
    """Log a new incident; its priority follows from impact and urgency.

    Agents log incidents for anyone with every field; anyone else reports for themself with
    what a requester may set (a field outside that is refused, naming it). The requester is
    told it was logged, with its number, even when they logged it themself (SPEC §9); the
    assignee (or the team, when only a team is set) is told it is theirs; managers hear of a
    major incident at once. ``attachments`` (uploads) are stored with it, all or none.
    """
    if actor is not None:
        permissions.check_create(actor, fields, requester)
    problem = fields.pop("problem", None)
    _check_assignee(fields.get("assignee"))
    _check_initial_state(fields)
    _check_awaited_change(fields, fields.get("hold_reason", ""))
    fields.setdefault("impact", 3)
    fields.setdefault("urgency", 3)
    fields["priority"] = compute_priority(fields["impact"], fields["urgency"])
    if fields.get("assignment_group") is None and fields.get("assignee") is None:
        fields["assignment_group"] = route(fields.get("service"), fields.get("ci"))
    incident = kernel.create_ticket(Incident, actor=actor, requester=requester or actor, **fields)
    kernel.add_attachments(incident, actor=actor, uploads=attachments)
    if problem is not None:
        link_problem(incident, problem, actor=actor)
    search.refresh(incident)
    notify(
        [incident.requester],
        kind=Kind.CREATED,
        ticket=incident,
        subject=_("%(number)s logged: %(title)s"),
        message=_(
            'We have logged your incident %(number)s "%(title)s". '
            "You will hear from us as soon as an agent picks it up."
        ),
        # the acknowledgement reaches the requester even when they are the actor: it carries
        # the number they reply to
        actor=None,
    )
    _notify_assignment(incident, actor=actor)
    if incident.major:
        _notify_major(incident, actor=actor)
    return incident


def route(service=None, ci=None) -> Team | None:
    """The team a new, unassigned incident goes to: the support group of its CI, else of its
    service, else the first-line team named by ``INCIDENT_DEFAULT_TEAM``."""
    for item in (ci, service):
        if item is not None and item.support_group_id:
            return item.support_group
    return Team.objects.filter(name=settings.INCIDENT_DEFAULT_TEAM).first()


def _check_initial_state(fields) -> None:
    """A new incident starts open, with what its state requires (an on-hold reason)."""
    state = fields.get("state", State.NEW)
    if state not in Incident.workflow.open_states:
        raise ValidationError({"state": [_("A new incident starts new, in progress or on hold.")]})
    missing = [name for name in Incident.workflow.required.get(state, ()) if not fields.get(name)]
    if missing:
        raise ValidationError(
            {
                name: [_("This field is required to move to %(state)s.") % {"state": state}]
                for name in missing
            }
        )


def _check_assignee(assignee) -> None:
    if (
        assignee is not None
        and not users_with_role(*ASSIGNABLE_ROLES).filter(pk=assignee.pk).exists()
    ):
        raise ValidationError(
            {
                "assignee": [
                    _("%(name)s is not an agent: only agents work incidents.") % {"name": assignee}
                ]
            }
        )


@transaction.atomic
def update_incident(incident: Incident, values: dict, *, actor, version=None):
    """Change fields; a new impact or urgency recomputes the priority.

    Agents change what they work on; a requester the wording, urgency and service of their own
    open incident. The rules are checked against the row as it is now (locked). ``problem``
    goes through ``link_problem`` and its own rule. A closed or canceled incident takes no
    field edits, nor does a resolved one its requester's (409 with the states that do, for
    this caller); reopening is a state change.
    """
    kernel.lock(incident, version=version)
    linking_only = set(values) == {"problem"}
    if actor is not None and not (
        linking_only and permissions.can_link_problem(actor)
    ):  # who only links (a problem manager) needs no right to edit the incident
        permissions.check_update(actor, incident, values)
    if values and not linking_only:  # after who and which fields: 409 naming the states
        kernel.check_editable(incident, states=permissions.editable_states(actor, incident))
    values = dict(values)
    linking = "problem" in values
    problem = values.pop("problem", None)
    _check_assignee(values.get("assignee"))
    if "impact" in values or "urgency" in values:
        values["priority"] = compute_priority(
            values.get("impact", incident.impact), values.get("urgency", incident.urgency)
        )
    if "parent" in values and values["parent"] is not None:
        _check_parent(incident, values["parent"])
    changes = kernel.update_ticket(incident, values, actor=actor)
    if linking:
        changes = {**changes, **link_problem(incident, problem, actor=actor)}
    if {"title", "description"} & set(changes):
        search.refresh(incident)
    if {"assignee", "assignment_group"} & set(changes):
        _notify_assignment(incident, actor=actor)
    if changes.get("major") == (False, True):
        _notify_major(incident, actor=actor)
    return changes


def assign(incident: Incident, *, actor, assignee=None, group=None, version=None):
    """Give the incident to a person and/or a team (the person should be in the team)."""
    values = {}
    if group is not None:
        values["assignment_group"] = group
    values["assignee"] = assignee
    if assignee is not None and group is None and incident.assignment_group_id is None:
        team = assignee.teams.order_by("name").first()
        if team is not None:
            values["assignment_group"] = team
    return update_incident(incident, values, actor=actor, version=version)


def take(incident: Incident, *, actor, version=None):
    """Assign to me; a new incident moves to in progress with it."""
    with transaction.atomic():
        assign(incident, actor=actor, assignee=actor, version=version)
        if incident.state == State.NEW:
            change_state(incident, State.IN_PROGRESS, actor=actor)
    return incident


@transaction.atomic
def change_state(incident: Incident, to: str, *, actor, version=None, **fields):
    """Move the incident through its table, with what each move implies:

    - a move not in the table is a 409 listing the allowed states; a move the actor may not
      make is a 403; a field the move does not take from this actor is a 400 naming it;
    - leaving ``on_hold`` clears the hold reason;
    - ``resolved`` resolves the open child incidents with the same code and notes;
    - a reopen (``resolved → in_progress``) clears the resolution and counts as a reopen;
    - the requester and watchers hear of every state change.
    """
    kernel.lock(incident, version=version)
    Incident.workflow.check(incident.state, to)
    if actor is not None:
        permissions.check_transition(actor, incident, to, fields)
    return _move(incident, to, actor=actor, **fields)


def _move(incident: Incident, to: str, *, actor, **fields):
    """The move and what it implies, once the rules allowed it (or the move follows from
    another the actor made: a caller's reply, a parent's resolution)."""
    source = incident.state
    if source == State.ON_HOLD and to != State.ON_HOLD:
        fields.setdefault("hold_reason", "")
        fields.setdefault("awaited_change", None)
    if to == State.ON_HOLD:
        _check_awaited_change(fields, fields.get("hold_reason", incident.hold_reason))
    if source == State.RESOLVED and to == State.IN_PROGRESS:
        fields.update(resolution_code="", resolution_notes="", resolved_at=None)
    if to == State.RESOLVED:
        fields.setdefault("resolution_notes", "")
        fields["resolution_notes"] = (fields["resolution_notes"] or "").strip()
    changes = kernel.transition(incident, to, actor=actor, **fields)
    if to == State.RESOLVED:
        _resolve_children(incident, actor=actor)
    _notify_state(incident, source, actor=actor)
    return changes


def resolve(incident: Incident, *, actor, code: str, notes: str, version=None):
    return change_state(
        incident,
        State.RESOLVED,
        actor=actor,
        version=version,
        resolution_code=code,
        resolution_notes=notes,
    )


def hold(incident: Incident, *, actor, reason: str, change=None, version=None):
    """On hold for ``reason``; awaiting a change, the change it waits for (``change``)."""
    fields = {"hold_reason": reason}
    if change is not None:
        fields["awaited_change"] = change
    return change_state(incident, State.ON_HOLD, actor=actor, version=version, **fields)


def _check_awaited_change(fields, reason: str) -> None:
    """An incident on hold awaiting a change names an open change (by its number through the
    API); no other hold reason names one."""
    change = fields.get("awaited_change")
    if change == "":
        fields.pop("awaited_change")
    if change in (None, ""):
        return
    if reason != HoldReason.AWAITING_CHANGE:
        raise ValidationError(
            {"awaited_change": [_("Only an incident on hold awaiting a change names one.")]}
        )
    if isinstance(change, str | int) and not isinstance(change, bool):
        lookup = {"pk": change} if isinstance(change, int) else {"number": change.strip().upper()}
        found = Change.objects.filter(**lookup).first()
        if found is None:
            raise ValidationError({"awaited_change": [_("No change has this number.")]})
        fields["awaited_change"] = change = found
    if not change.is_open:
        raise ValidationError({"awaited_change": [_("This change is already closed.")]})


def reopen(incident: Incident, *, actor, reason: str = "", version=None):
    """Back to work after a resolution the requester did not accept."""
    with transaction.atomic():
        change_state(incident, State.IN_PROGRESS, actor=actor, version=version)
        if reason.strip():
            comment(incident, actor=actor, body=reason)
    return incident


def confirm(incident: Incident, *, actor, version=None):
    """The requester accepts the resolution: the incident is closed."""
    return change_state(incident, State.CLOSED, actor=actor, version=version)


def cancel(incident: Incident, *, actor, version=None):
    return change_state(incident, State.CANCELED, actor=actor, version=version)


def _resolve_children(parent: Incident, *, actor) -> None:
    children = Incident.objects.filter(parent=parent, state__in=Incident.workflow.open_states)
    for child in children.select_for_update():
        _move(
            child,
            State.RESOLVED,
            actor=actor,
            resolution_code=parent.resolution_code,
            resolution_notes=parent.resolution_notes,
        )
        comment(
            child,
            actor=actor,
            body=_("Resolved with its parent incident %(number)s.") % {"number": parent.number},
        )


def _check_parent(incident: Incident, parent: Incident) -> None:
    node, seen = parent, set()
    while node is not None:
        if node.pk == incident.pk:
            raise ValidationError({"parent": [_("An incident cannot be its own ancestor.")]})
        if node.pk in seen:
            break
        seen.add(node.pk)
        node = node.parent


# --- Problems --------------------------------------------------------------------------------


@transaction.atomic
def link_problem(incident: Incident, problem, *, actor, version=None):
    """Link the incident to ``problem``, or unlink it with ``None`` (SPEC §5: an incident has
    at most one problem). Agents and problem managers link; a closed or canceled problem
    takes no more incidents, and an incident linked elsewhere is unlinked first (409). The
    link is audited on both trails: the incident's ``problem`` field, and ``incident`` on the
    problem's."""
    kernel.lock(incident, version=version)
    if actor is not None:
        permissions.check_link_problem(actor)
    previous = incident.problem
    if problem is not None and previous is not None and previous.pk != problem.pk:
        raise Conflict(
            _("%(number)s is linked to %(problem)s already: unlink it first.")
            % {"number": incident.number, "problem": previous.number}
        )
    if problem is not None and problem.workflow.is_terminal(problem.state):
        raise Conflict(
            _("%(problem)s is %(state)s: it takes no more incidents.")
            % {"problem": problem.number, "state": problem.state_label.lower()}
        )
    changes = kernel.update_ticket(incident, {"problem": problem}, actor=actor)
    if changes:
        owner, change = (
            (problem, (None, incident.number))
            if problem is not None
            else (previous, (incident.number, None))
        )
        kernel.record_events(owner, {"incident": change}, actor=actor)
    return changes


@transaction.atomic
def resolve_with_problem(incident: Incident, *, actor, code: str, notes: str):
    """Resolve the incident because its problem is resolved: the problem's verb decided who
    may, as a parent's resolution resolves its children. The incident gets the resolution and
    a public comment in its requester's language (the state notification carries the
    resolution: one message, not two); its SLA timers stop with the move. A move the table
    refuses is a 409 and, the caller's transaction being one, changes nothing anywhere."""
    kernel.lock(incident)
    Incident.workflow.check(incident.state, State.RESOLVED)
    changes = _move(
        incident, State.RESOLVED, actor=actor, resolution_code=code, resolution_notes=notes
    )
    with translation.override(incident.requester.language or settings.LANGUAGE_CODE):
        body = _("The cause of this issue was found and fixed.\n\n%(notes)s") % {
            "notes": incident.resolution_notes
        }
    kernel.add_comment(incident, actor=actor, body=body)
    search.refresh(incident)
    return changes


# --- Comments and ratings -------------------------------------------------------------------


@transaction.atomic
def comment(incident: Incident, *, actor, body: str, internal: bool = False, attachments=()):
    """A public reply or an internal note, and who hears of it (SPEC §9). The requester's
    reply to an incident on hold awaiting them puts it back in progress. Whoever may see the
    incident may reply; only staff write internal notes; a closed or canceled incident takes
    no more comments (409). ``attachments`` go with the comment, internal with an internal
    note.

    - an agent's public reply → the requester and the watchers;
    - the requester's comment → the assignee (or the team's members when unassigned);
    - an internal note → the assignee and watching agents only.
    """
    if not permissions.can_comment(actor, incident):
        raise PermissionDenied(_("You cannot comment on this incident."))
    note = kernel.add_comment(incident, actor=actor, body=body, internal=internal)
    kernel.add_attachments(incident, actor=actor, uploads=attachments, internal=internal)
    search.refresh(incident)
    if (
        not internal
        and actor.pk == incident.requester_id
        and incident.state == State.ON_HOLD
        and incident.hold_reason == HoldReason.AWAITING_CALLER
    ):  # the caller answered: back to work (and the SLA clock resumes)
        _move(incident, State.IN_PROGRESS, actor=actor)
    if internal:
        recipients = [incident.assignee, *incident.watchers.all()]
    elif actor.pk == incident.requester_id or not is_staff_member(actor):
        recipients = _workers(incident) + list(incident.watchers.all())
    else:
        recipients = [incident.requester, *incident.watchers.all()]
    notify(
        recipients,
        kind=Kind.COMMENT,
        ticket=incident,
        subject=_("New comment on %(number)s: %(title)s"),
        message=_("%(author)s wrote:\n\n%(body)s"),
        params={"author": str(actor), "body": note.body},
        actor=actor,
        internal=internal,
    )
    return note


@transaction.atomic
def rate(incident: Incident, *, actor, score: int, comment_text: str = ""):
    """The requester's satisfaction (1–5) with a resolution; may be changed later."""
    if actor.pk != incident.requester_id:
        raise PermissionDenied(_("Only the requester rates the resolution."))
    if incident.state not in (State.RESOLVED, State.CLOSED):
        raise Conflict(
            _("Only a resolved or closed incident can be rated."),
            allowed=[State.RESOLVED, State.CLOSED],
        )
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": [_("A whole number from 1 to 5.")]})
    kernel.update_ticket(
        incident,
        {"csat_score": score, "csat_comment": comment_text.strip(), "rated_at": timezone.now()},
        actor=actor,
    )
    return incident


# --- Files and watchers ------------------------------------------------------------------------


@transaction.atomic
def attach(incident: Incident, *, actor, upload, internal: bool = False):
    """Add a file (size-checked, name sanitised); whoever may comment may attach, while the
    incident is not closed or canceled (409); staff may keep it internal."""
    if not permissions.can_comment(actor, incident):
        raise PermissionDenied(_("You cannot add files to this incident."))
    return kernel.add_attachment(incident, actor=actor, upload=upload, internal=internal)


@transaction.atomic
def attach_files(incident: Incident, *, actor, uploads, internal: bool = False) -> list:
    """Several files at once, all or none (the portal's "Add files", a note's files)."""
    if not permissions.can_comment(actor, incident):
        raise PermissionDenied(_("You cannot add files to this incident."))
    return kernel.add_attachments(incident, actor=actor, uploads=uploads, internal=internal)


def set_attachment_internal(incident: Incident, attachment, *, actor, internal: bool) -> bool:
    """Staff turn a file public (or back internal, unless the requester sent it)."""
    return kernel.set_attachment_internal(incident, attachment, actor=actor, internal=internal)


def watch(incident: Incident, *, actor) -> None:
    """Follow an incident one does not work (staff): its state changes and replies notify."""
    if not permissions.can_watch(actor):
        raise PermissionDenied(_("Only staff follow incidents they did not report."))
    kernel.watch(incident, actor, actor=actor)


def unwatch(incident: Incident, *, actor) -> None:
    kernel.unwatch(incident, actor, actor=actor)


# --- SLA escalations -----------------------------------------------------------------------------


@transaction.atomic
def escalate(incident: Incident, *, actor=None, priority: int | None = None, team=None):
    """What an SLA escalation does to an open incident: raise its priority to ``priority``
    (by raising impact, then urgency, so that the priority still follows impact × urgency) and
    hand it to ``team`` (its assignee kept only if a member). The new workers are notified as
    for any assignment. Returns the changes."""
    kernel.lock(incident)
    if not incident.is_open:
        return {}
    values = {}
    if priority is not None and priority < incident.priority:
        impact, urgency = raise_priority(incident.impact, incident.urgency, priority)
        values.update(impact=impact, urgency=urgency)
    if team is not None and incident.assignment_group_id != team.pk:
        values["assignment_group"] = team
        if incident.assignee_id and not team.members.filter(pk=incident.assignee_id).exists():
            values["assignee"] = None
    return update_incident(incident, values, actor=actor) if values else {}


# --- Housekeeping -------------------------------------------------------------------------------


def auto_close(now=None, *, batch: int = 500) -> int:
    """Close incidents resolved more than ``INCIDENT_AUTO_CLOSE_DAYS`` ago; return how many.

    Each incident closes in its own savepoint: one that fails is logged and skipped, the rest
    of the batch closes (it is tried again on the next run).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)
    closed, failed = 0, set()
    while True:
        with transaction.atomic():
            due = list(
                Incident.objects.filter(state=State.RESOLVED, resolved_at__lte=cutoff)
                .exclude(pk__in=failed)
                .select_for_update(skip_locked=True)
                .order_by("resolved_at")[:batch]
            )
            for incident in due:
                try:
                    with transaction.atomic():
                        change_state(incident, State.CLOSED, actor=None)
                except Exception:
                    log.exception("auto-close: %s could not be closed", incident.number)
                    failed.add(incident.pk)
                else:
                    closed += 1
        if len(due) < batch:
            return closed


# --- Notifications ------------------------------------------------------------------------------


def _workers(incident: Incident) -> list[User]:
    if incident.assignee_id:
        return [incident.assignee]
    if incident.assignment_group_id:
        return list(incident.assignment_group.members.filter(is_active=True))
    return []


def _notify_assignment(incident: Incident, *, actor) -> None:
    recipients = _workers(incident)
    if not recipients:
        return
    notify(
        recipients,
        kind=Kind.ASSIGNED,
        ticket=incident,
        subject=_("%(number)s assigned: %(title)s"),
        message=_('Incident %(number)s "%(title)s" (priority %(priority)s) is assigned to %(to)s.'),
        params={
            "priority": incident.priority,
            "to": str(incident.assignee or incident.assignment_group),
        },
        actor=actor,
    )


def _notify_major(incident: Incident, *, actor) -> None:
    notify(
        users_with_role(MANAGER),
        kind=Kind.STATE,
        ticket=incident,
        subject=_("Major incident %(number)s: %(title)s"),
        message=_('%(number)s "%(title)s" was declared a major incident.'),
        actor=actor,
    )


def _notify_state(incident: Incident, source: str, *, actor) -> None:
    states = Incident.workflow.states
    if incident.state == State.RESOLVED:
        message = _(
            'Your incident %(number)s "%(title)s" is resolved:\n\n%(resolution)s\n\n'
            "If it works for you again, confirm the resolution and tell us how we did "
            "(1 to 5). If not, reopen it: we will pick it up again."
        )
    else:
        message = _('Your incident %(number)s "%(title)s" moved from %(source)s to %(state)s.')
    notify(
        [incident.requester, *incident.watchers.all()],
        kind=Kind.STATE,
        ticket=incident,
        subject=_("%(number)s is now %(state)s"),
        message=message,
        params={
            "state": states(incident.state).label,
            "source": states(source).label,
            "resolution": incident.resolution_notes,
        },
        actor=actor,
    )
