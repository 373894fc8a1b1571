"""Approvals by email: signed, expiring, single-use links (SPEC §9).

An approval request's email carries two links, approve and reject, each a token signed with
the secret key that names the approval (``app_label.model:pk``), the decision and the
approver. Following one shows what will happen and asks to confirm (a GET changes nothing:
mail scanners that open links decide nothing); confirming records the use (one per approval
and approver, so the other link dies with it) and calls the verb the approval's app registered
(``itsm.extensions.approval_action``) as the approver, in one transaction: if the verb refuses
(decision already taken, approver no longer allowed), nothing is recorded. A link that is
forged, expired (``APPROVAL_LINK_MAX_AGE`` seconds), used, or whose approver lost the right
answers a page that says so.
"""

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .extensions import ApprovalAction, approval_action_for
from .models import ApprovalLinkUse
from .workflow import Conflict

SALT = "itsm.approvals.link"
APPROVE, REJECT = "approve", "reject"
DECISIONS = (APPROVE, REJECT)


class LinkRefused(Exception):
    """Why a link does nothing: ``reason`` (invalid, expired, used, not_allowed, decided),
    a sentence for the page, and the HTTP status of that page."""

    STATUS = {"invalid": 404, "expired": 410, "used": 410, "not_allowed": 403, "decided": 409}

    def __init__(self, reason: str, message):
        super().__init__(str(message))
        self.reason = reason
        self.message = message
        self.status = self.STATUS[reason]


@dataclass(frozen=True)
class Link:
    approval: object  # the approval instance
    reference: str  # app_label.model:pk
    approver: object  # the user the link was sent to
    decision: str
    action: ApprovalAction

    @property
    def description(self) -> str:
        if self.action.describe is not None:
            return str(self.action.describe(self.approval))
        return str(self.approval)


def max_age() -> int:
    return getattr(settings, "APPROVAL_LINK_MAX_AGE", 7 * 24 * 3600)


def make_token(reference: str, approver, decision: str) -> str:
    if decision not in DECISIONS:
        raise ValueError(decision)
    return signing.dumps({"a": reference, "u": approver.pk, "d": decision}, salt=SALT)


def links_for(reference: str, approver) -> dict[str, str]:
    """``{"approve": url, "reject": url}`` for ``approver`` (absolute URLs); LookupError when
    no verb is registered for the approval's model (no links: they would lead nowhere)."""
    label = reference.split(":", 1)[0]
    if approval_action_for(label) is None:
        raise LookupError(label)
    return {
        decision: settings.SITE_URL
        + reverse("approvals:link", args=[make_token(reference, approver, decision)])
        for decision in DECISIONS
    }


def read(token: str) -> Link:
    """The link ``token`` stands for, or ``LinkRefused`` (forged, expired, naming an approval
    or a person that is gone). Writes nothing."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.SignatureExpired as exc:
        raise LinkRefused("expired", _("This link has expired.")) from exc
    except signing.BadSignature as exc:
        raise LinkRefused("invalid", _("This link is not valid.")) from exc
    try:
        reference, approver_id, decision = data["a"], int(data["u"]), data["d"]
        label, pk = reference.split(":", 1)
        action = approval_action_for(label)
        model = apps.get_model(label)
        approval = model._default_manager.get(pk=pk)
        approver = get_user_model().objects.get(pk=approver_id)
    except (KeyError, TypeError, ValueError, LookupError, ObjectDoesNotExist) as exc:
        raise LinkRefused("invalid", _("This link is not valid.")) from exc
    if action is None or decision not in DECISIONS:
        raise LinkRefused("invalid", _("This link is not valid."))
    return Link(
        approval=approval,
        reference=reference,
        approver=approver,
        decision=decision,
        action=action,
    )


def check(link: Link) -> None:
    """Refuse a link already used, or whose approver may no longer decide (inactive, or the
    app's ``can_decide`` says no). Writes nothing: the confirmation page calls it."""
    if ApprovalLinkUse.objects.filter(approval=link.reference, approver=link.approver).exists():
        raise LinkRefused("used", _("This link was already used: the decision is recorded."))
    if not link.approver.is_active or (
        link.action.can_decide is not None
        and not link.action.can_decide(link.approval, link.approver)
    ):
        raise LinkRefused(
            "not_allowed", _("You can no longer decide on this approval: nothing was changed.")
        )


@transaction.atomic
def decide(token: str, *, comment: str = "") -> Link:
    """Record the decision of link ``token`` as its approver, once. A refusal by the
    approval's verb (403 → not_allowed, 409 → decided) records nothing; its validation errors
    (a rejection without a reason) pass through for the page to show."""
    link = read(token)
    check(link)
    try:
        with transaction.atomic():
            ApprovalLinkUse.objects.create(
                approval=link.reference, approver=link.approver, decision=link.decision
            )
    except IntegrityError as exc:  # a second click that raced the first
        raise LinkRefused(
            "used", _("This link was already used: the decision is recorded.")
        ) from exc
    try:
        link.action.decide(
            link.approval, actor=link.approver, decision=link.decision, comment=comment
        )
    except PermissionDenied as exc:
        raise LinkRefused(
            "not_allowed", _("You can no longer decide on this approval: nothing was changed.")
        ) from exc
    except Conflict as exc:
        raise LinkRefused(
            "decided", _("This approval is already decided: nothing was changed.")
        ) from exc
    return link
