"""Reading a change's approvals: who votes, the current round, and whether its votes meet the
approval policy (SPEC §6). The writes (asking, voting, closing a round) are
``changes.services``'."""

from dataclasses import dataclass

from django.db.models import Q

from itsm.permissions import CAB_MEMBER, CHANGE_MANAGER, has_role, users_with_role

from . import permissions
from .models import Approval, Change
from .workflow import Decision, Policy


def approvers(change: Change):
    """Who votes on a normal change: the active members of its CAB who may read changes."""
    return users_with_role(*permissions.READ_ROLES).filter(teams=change.cab_id).order_by("pk")


def current(change: Change):
    """The approvals of the change's current authorization round."""
    return change.approvals.filter(round=change.approval_round)


@dataclass(frozen=True)
class Tally:
    policy: str
    total: int
    approved: int
    rejected: int
    pending: int

    @property
    def needed(self) -> int:
        """Approvals the policy needs in all."""
        if self.policy == Policy.ANY:
            return min(1, self.total)
        if self.policy == Policy.MAJORITY:
            return self.total // 2 + 1
        return self.total

    @property
    def met(self) -> bool:
        return self.total > 0 and self.approved >= self.needed


def tally(change: Change, decisions=None) -> Tally:
    """The votes of the current round against the change's policy (an emergency change's one
    ECAB approval is enough). ``decisions`` may be given (prefetched) to save the query."""
    if decisions is None:
        decisions = list(current(change).values_list("decision", flat=True))
    policy = Policy.ANY if change.is_emergency else change.approval_policy
    return Tally(
        policy=policy,
        total=len(decisions),
        approved=decisions.count(Decision.APPROVED),
        rejected=decisions.count(Decision.REJECTED),
        pending=decisions.count(Decision.PENDING),
    )


def policy_met(change: Change) -> bool:
    return tally(change).met


def pending_for(user):
    """Approvals waiting for ``user``'s vote: those naming them and, for change managers,
    the emergency changes' (ECAB) approvals. Only a change in authorization has pending
    approvals, of its current round (leaving ``authorize`` closes the others), so the
    decision alone selects them, through an index."""
    mine = Q(approver=user)
    if has_role(user, CHANGE_MANAGER):
        mine |= Q(approver__isnull=True)
    return Approval.objects.filter(mine, decision=Decision.PENDING)


def waiting_count(user) -> int | None:
    """How many votes wait for ``user`` (the navigation's badge): asked of CAB members and
    change managers only, so that nobody else's pages pay for the query."""
    if not has_role(user, CAB_MEMBER, CHANGE_MANAGER):
        return None
    return pending_for(user).count()
