"""Who hears of what happens to a request and its tasks (SPEC §9), and in which words.

Called by the service verbs only, inside their transaction: ``itsm.notify.notify`` writes the
rows and mails them after commit. The requester hears of every step of their request (so does
the person it is for, when someone ordered for them); approvers of what waits for them; teams
and assignees of the tasks that are theirs.
"""

from django.utils.translation import gettext_lazy as _

from itsm.models import Notification
from itsm.notify import notify
from itsm.permissions import MANAGER, is_staff_member, users_with_role

from .workflow import RequestState

Kind = Notification.Kind


def parties(request) -> list:
    """The requester and the person the request is for (once each), then its watchers."""
    people = [request.requester]
    if request.requested_for_id != request.requester_id:
        people.append(request.requested_for)
    return people + list(request.watchers.all())


def approvers(approval) -> list:
    """The people who may answer ``approval`` (never the requester nor the person it is for)."""
    request = approval.request
    if approval.approver_id:
        people = [approval.approver]
    elif approval.team_id:
        people = list(approval.team.members.filter(is_active=True))
    else:
        people = list(users_with_role(MANAGER))
    excluded = {request.requester_id, request.requested_for_id}
    return [person for person in people if person.pk not in excluded]


def ordered(request, approval=None) -> None:
    """The acknowledgement, with the number (even to a requester who ordered it themself),
    and what happens next."""
    if approval is not None:
        message = _(
            'We have received your request %(number)s "%(title)s". It now waits for the '
            "approval of %(approvers)s; we will tell you as soon as they decide."
        )
    else:
        message = _(
            'We have received your request %(number)s "%(title)s". It needs no approval: '
            "%(team)s is preparing it."
        )
    notify(
        parties(request)[:2],
        kind=Kind.CREATED,
        ticket=request,
        subject=_("%(number)s received: %(title)s"),
        message=message,
        params={
            "approvers": approval.approvers_label if approval is not None else "",
            "team": str(request.assignment_group or _("the service desk")),
        },
        actor=None,
    )


def approval_requested(approval, *, actor) -> None:
    request = approval.request
    notify(
        approvers(approval),
        kind=Kind.APPROVAL_REQUESTED,
        ticket=request,
        subject=_("Approval needed: %(number)s %(title)s"),
        message=_(
            '%(requester)s ordered "%(title)s" for %(person)s (%(number)s). Please approve or '
            "reject it."
        ),
        params={"requester": str(request.requester), "person": str(request.requested_for)},
        actor=actor,
        approval=approval,  # approve/reject links in the email
    )


def decided(request, approval, *, actor) -> None:
    if request.state == RequestState.REJECTED:
        message = _(
            'Your request %(number)s "%(title)s" was not approved by %(by)s:\n\n%(comment)s'
        )
    else:
        message = _(
            'Your request %(number)s "%(title)s" was approved by %(by)s. %(team)s is preparing '
            "it now.\n\n%(comment)s"
        )
    notify(
        parties(request),
        kind=Kind.STATE,
        ticket=request,
        subject=_("%(number)s is now %(state)s"),
        message=message,
        params={
            "by": str(approval.decided_by or _("the service desk")),
            "comment": approval.comment,
            "team": str(request.assignment_group or _("The service desk")),
            "state": RequestState(request.state).label,
        },
        actor=actor,
    )


STATE_MESSAGES = {
    RequestState.IN_FULFILLMENT: _(
        'We have started working on your request %(number)s "%(title)s".'
    ),
    RequestState.FULFILLED: _(
        'Your request %(number)s "%(title)s" is fulfilled: everything it needed is done. '
        "If something is missing, tell us in a new ticket from the portal."
    ),
    RequestState.CANCELED: _('Your request %(number)s "%(title)s" was canceled.'),
}


def state_changed(request, *, actor) -> None:
    message = STATE_MESSAGES.get(request.state)
    if message is None:
        return
    notify(
        parties(request),
        kind=Kind.STATE,
        ticket=request,
        subject=_("%(number)s is now %(state)s"),
        message=message,
        params={"state": RequestState(request.state).label},
        actor=actor,
    )


def request_canceled_for_workers(request, tasks, *, actor) -> None:
    """The people working a canceled request's tasks can stop."""
    people = [task.assignee for task in tasks if task.assignee_id]
    if people:
        notify(
            people,
            kind=Kind.STATE,
            ticket=request,
            subject=_("%(number)s was canceled: stop its tasks"),
            message=_('Request %(number)s "%(title)s" was canceled; its open tasks are too.'),
            actor=actor,
        )


def workers(ticket) -> list:
    if ticket.assignee_id:
        return [ticket.assignee]
    if ticket.assignment_group_id:
        return list(ticket.assignment_group.members.filter(is_active=True))
    return []


def assigned(ticket, *, actor) -> None:
    """A task (or a request) given to a person, or to a team when nobody is named."""
    recipients = workers(ticket)
    if not recipients:
        return
    notify(
        recipients,
        kind=Kind.ASSIGNED,
        ticket=ticket,
        subject=_("%(number)s assigned: %(title)s"),
        message=_('%(number)s "%(title)s" is assigned to %(to)s.'),
        params={"to": str(ticket.assignee or ticket.assignment_group)},
        actor=actor,
    )


def commented(ticket, note, *, actor, internal: bool, task: bool = False) -> None:
    """A reply or a note on a request, or a comment on a task.

    - staff's public reply on a request → its parties;
    - a party's comment → the request's assignee or team;
    - an internal note, or anything on a task → the workers and watching staff only.
    """
    if task or internal:
        recipients = [*workers(ticket), *ticket.watchers.all()]
        internal = True
    elif is_staff_member(actor):
        recipients = parties(ticket)
    else:
        recipients = [*workers(ticket), *ticket.watchers.all()]
    notify(
        recipients,
        kind=Kind.COMMENT,
        ticket=ticket,
        subject=_("New comment on %(number)s: %(title)s"),
        message=_("%(author)s wrote:\n\n%(body)s"),
        params={"author": str(actor), "body": note.body},
        actor=actor,
        internal=internal,
    )
