"""What email does with changes: the approve/reject links of a CAB vote request, and replies
that become comments. Registered with the kernel's hooks; both call the change verbs, which
hold the rules."""

from django.db import transaction
from django.utils.translation import gettext as _

from itsm.extensions import approval_action, mail_reply

from . import permissions, services
from .workflow import State


def _can_decide(approval, user) -> bool:
    change = approval.change
    return (
        change.state == State.AUTHORIZE
        and approval.round == change.approval_round
        and approval.is_pending
        and permissions.can_vote(user, approval)
    )


def _describe(approval) -> str:
    change = approval.change
    return _("Your vote on change %(number)s: %(title)s") % {
        "number": change.number,
        "title": change.title,
    }


@approval_action("changes.Approval", can_decide=_can_decide, describe=_describe)
def vote_by_link(approval, *, actor, decision, comment):
    return services.vote(approval.change, actor=actor, decision=decision, comment=comment)


@mail_reply("changes.Change")
def reply_by_mail(change, *, actor, body, attachments):
    with transaction.atomic():
        comment = services.comment(change, actor=actor, body=body)
        for upload in attachments:
            services.attach(change, actor=actor, upload=upload)
    return comment
