"""Who hears of what happens to a change (SPEC §9): the approvers asked to vote, the
requester, assignee and watchers of each move, a rejection or a blocked schedule. Called by
``changes.services`` inside its transactions; ``itsm.notify`` mails after commit."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.models import Notification
from itsm.notify import notify
from itsm.permissions import CHANGE_MANAGER, users_with_role

from .models import Approval, Change
from .workflow import State

Kind = Notification.Kind


def approvals_requested(change: Change, recipients, *, actor, approval=None) -> None:
    """Each approver is asked for their vote; ``approval`` (one, or one per approver id) puts
    approve/reject links in their email."""
    notify(
        recipients,
        kind=Kind.APPROVAL_REQUESTED,
        ticket=change,
        subject=_("Your approval is requested: %(number)s %(title)s"),
        message=_(
            'Change %(number)s "%(title)s" (%(type)s, risk %(risk)s) needs your vote. '
            "Planned from %(start)s to %(end)s."
        ),
        params={
            "type": change.get_type_display().lower(),
            "risk": change.get_risk_display().lower(),
            "start": f"{timezone.localtime(change.planned_start):%Y-%m-%d %H:%M}",
            "end": f"{timezone.localtime(change.planned_end):%Y-%m-%d %H:%M}",
        },
        actor=actor,
        approval=approval,
    )


def comment(change: Change, note, *, actor) -> None:
    notify(
        [change.requester, change.assignee, *change.watchers.all()],
        kind=Kind.COMMENT,
        ticket=change,
        subject=_("New comment on %(number)s: %(title)s"),
        message=_("%(author)s wrote:\n\n%(body)s"),
        params={"author": str(actor), "body": note.body},
        actor=actor,
        internal=note.internal,
    )


def assignment(change: Change, *, actor) -> None:
    if change.assignee_id:
        recipients = [change.assignee]
    elif change.assignment_group_id:
        recipients = list(change.assignment_group.members.filter(is_active=True))
    else:
        return
    notify(
        recipients,
        kind=Kind.ASSIGNED,
        ticket=change,
        subject=_("%(number)s assigned: %(title)s"),
        message=_('Change %(number)s "%(title)s" is assigned to %(to)s.'),
        params={"to": str(change.assignee or change.assignment_group)},
        actor=actor,
    )


def _people(change: Change) -> list:
    return [change.requester, change.assignee, *change.watchers.all()]


def state(change: Change, source: str, *, actor) -> None:
    notify(
        _people(change),
        kind=Kind.STATE,
        ticket=change,
        subject=_("%(number)s is now %(state)s"),
        message=_('Change %(number)s "%(title)s" moved from %(source)s to %(state)s.'),
        params={
            "state": State(change.state).label,
            "source": State(source).label,
        },
        actor=actor,
    )


def rejection(change: Change, approval: Approval, *, actor) -> None:
    notify(
        _people(change),
        kind=Kind.STATE,
        ticket=change,
        subject=_("%(number)s was rejected"),
        message=_('%(who)s rejected change %(number)s "%(title)s":\n\n%(comment)s'),
        params={"who": str(actor), "comment": approval.comment},
        actor=actor,
    )


def blocked(change: Change, exc, *, actor) -> None:
    notify(
        [*_people(change), *users_with_role(CHANGE_MANAGER)],
        kind=Kind.STATE,
        ticket=change,
        subject=_("%(number)s is approved but cannot be scheduled"),
        message=_("%(reason)s Move its window, then schedule it."),
        params={"reason": str(exc.detail)},
        actor=actor,
    )
