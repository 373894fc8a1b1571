"""What email does with requests: the approve/reject links of an approval request, and replies
that become comments. Registered with the kernel's hooks; both call the request verbs, which
hold the rules."""

from django.db import transaction
from django.utils.translation import gettext as _

from itsm.extensions import approval_action, mail_reply

from . import permissions, services


def _describe(approval) -> str:
    request = approval.request
    return _("Your approval of request %(number)s: %(title)s") % {
        "number": request.number,
        "title": request.title,
    }


def _can_decide(approval, user) -> bool:
    return permissions.may_answer(user, approval)


@approval_action("catalog.Approval", can_decide=_can_decide, describe=_describe)
def decide_by_link(approval, *, actor, decision, comment):
    return services.decide(
        approval.request, actor=actor, decision=decision, comment=comment, approval=approval
    )


@mail_reply("catalog.Request")
def reply_by_mail(request, *, actor, body, attachments):
    with transaction.atomic():
        comment = services.comment(request, actor=actor, body=body)
        if attachments:
            services.attach_files(request, actor=actor, uploads=attachments)
    return comment
