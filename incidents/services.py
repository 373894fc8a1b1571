"""Every write to an incident, as a verb (SPEC §3, §9). Each runs in one transaction, audits
through the kernel and notifies after commit."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from itsm import search
from itsm import services as kernel
from itsm.models import Notification
from itsm.notify import notify
from itsm.permissions import MANAGER, is_staff_member
from itsm.workflow import Conflict

from .models import Incident
from .workflow import HoldReason, State, compute_priority

Kind = Notification.Kind


@transaction.atomic
def open_incident(*, actor, requester=None, **fields) -> Incident:
    """Log a new incident; its priority follows from impact and urgency.

    The requester is told it was logged; the assignee (or the team, when only a team is set) is
    told it is theirs; managers hear of a major incident at once.
    """
    fields.setdefault("impact", 3)
    fields.setdefault("urgency", 3)
    fields["priority"] = compute_priority(fields["impact"], fields["urgency"])
    if fields.get("assignment_group") is None and fields.get("assignee") is None:
        fields["assignment_group"] = route(fields.get("service"), fields.get("ci"))
    incident = kernel.create_ticket(Incident, actor=actor, requester=requester or actor, **fields)
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
        actor=actor,
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


@transaction.atomic
def update_incident(incident: Incident, values: dict, *, actor, version=None):
    """Change fields; a new impact or urgency recomputes the priority."""
    values = dict(values)
    if "impact" in values or "urgency" in values:
        values["priority"] = compute_priority(
            values.get("impact", incident.impact), values.get("urgency", incident.urgency)
        )
    if "parent" in values and values["parent"] is not None:
        _check_parent(incident, values["parent"])
    changes = kernel.update_ticket(incident, values, actor=actor, version=version)
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

    - leaving ``on_hold`` clears the hold reason;
    - ``resolved`` resolves the open child incidents with the same code and notes;
    - a reopen (``resolved → in_progress``) clears the resolution and counts as a reopen;
    - the requester and watchers hear of every state change.
    """
    source = incident.state
    if source == State.ON_HOLD and to != State.ON_HOLD:
        fields.setdefault("hold_reason", "")
    if source == State.RESOLVED and to == State.IN_PROGRESS:
        fields.update(resolution_code="", resolution_notes="", resolved_at=None)
    if to == State.RESOLVED:
        fields.setdefault("resolution_notes", "")
        fields["resolution_notes"] = (fields["resolution_notes"] or "").strip()
    changes = kernel.transition(incident, to, actor=actor, version=version, **fields)
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


def hold(incident: Incident, *, actor, reason: str, version=None):
    return change_state(incident, State.ON_HOLD, actor=actor, version=version, hold_reason=reason)


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
        change_state(
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


# --- Comments and ratings -------------------------------------------------------------------


@transaction.atomic
def comment(incident: Incident, *, actor, body: str, internal: bool = False):
    """A public reply or an internal note, and who hears of it (SPEC §9). The requester's
    reply to an incident on hold awaiting them puts it back in progress.

    - an agent's public reply → the requester and the watchers;
    - the requester's comment → the assignee (or the team's members when unassigned);
    - an internal note → the assignee and watching agents only.
    """
    note = kernel.add_comment(incident, actor=actor, body=body, internal=internal)
    search.refresh(incident)
    if (
        not internal
        and actor.pk == incident.requester_id
        and incident.state == State.ON_HOLD
        and incident.hold_reason == HoldReason.AWAITING_CALLER
    ):  # the caller answered: back to work (and the SLA clock resumes)
        change_state(incident, State.IN_PROGRESS, actor=actor)
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


# --- Housekeeping -------------------------------------------------------------------------------


def auto_close(now=None, *, batch: int = 500) -> int:
    """Close incidents resolved more than ``INCIDENT_AUTO_CLOSE_DAYS`` ago; return how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)
    closed = 0
    while True:
        with transaction.atomic():
            due = list(
                Incident.objects.filter(state=State.RESOLVED, resolved_at__lte=cutoff)
                .select_for_update(skip_locked=True)
                .order_by("resolved_at")[:batch]
            )
            for incident in due:
                change_state(incident, State.CLOSED, actor=None)
        closed += len(due)
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
    managers = User.objects.filter(
        Q(groups__name=MANAGER) | Q(is_superuser=True), is_active=True
    ).distinct()
    notify(
        managers,
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
