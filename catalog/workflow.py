"""Request and task states, the transition tables of SPEC §8, approval modes and decisions."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.workflow import Workflow


class RequestState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    IN_FULFILLMENT = "in_fulfillment", _("In fulfilment")
    FULFILLED = "fulfilled", _("Fulfilled")
    REJECTED = "rejected", _("Rejected")
    CANCELED = "canceled", _("Canceled")


class TaskState(models.TextChoices):
    OPEN = "open", _("To do")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELED = "canceled", _("Canceled")


class ApprovalMode(models.TextChoices):
    NONE = "none", _("No approval")
    MANAGER = "manager", _("The manager of the person it is for")
    TEAM = "team", _("A member of the approval team")


class ApprovalState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELED = "canceled", _("Canceled")


class Decision(models.TextChoices):
    """What an approver answers (the body of ``POST requests/{number}/approvals/``)."""

    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


R = RequestState
REQUEST_WORKFLOW = Workflow(
    states=RequestState,
    initial=R.SUBMITTED,
    transitions={
        # Ordering routes a request at once: to its approvers, or (no approval) to approved.
        R.SUBMITTED: frozenset({R.AWAITING_APPROVAL, R.APPROVED, R.CANCELED}),
        R.AWAITING_APPROVAL: frozenset({R.APPROVED, R.REJECTED, R.CANCELED}),
        # Approved: its tasks exist; the first one worked puts it in fulfilment, the last one
        # done fulfils it (all tasks may be done without any having been started).
        R.APPROVED: frozenset({R.IN_FULFILLMENT, R.FULFILLED, R.CANCELED}),
        R.IN_FULFILLMENT: frozenset({R.FULFILLED, R.CANCELED}),
        R.FULFILLED: frozenset(),
        R.REJECTED: frozenset(),
        R.CANCELED: frozenset(),
    },
    milestones={
        R.APPROVED: "approved_at",
        R.FULFILLED: "fulfilled_at",
        R.REJECTED: "closed_at",
        R.CANCELED: "closed_at",
    },
    colours={
        R.SUBMITTED: "secondary",
        R.AWAITING_APPROVAL: "warning",
        R.APPROVED: "primary",
        R.IN_FULFILLMENT: "info",
        R.FULFILLED: "success",
        R.REJECTED: "danger",
        R.CANCELED: "dark",
    },
    open_states=frozenset({R.SUBMITTED, R.AWAITING_APPROVAL, R.APPROVED, R.IN_FULFILLMENT}),
)

T = TaskState
TASK_WORKFLOW = Workflow(
    states=TaskState,
    initial=T.OPEN,
    transitions={
        T.OPEN: frozenset({T.IN_PROGRESS, T.DONE, T.CANCELED}),
        T.IN_PROGRESS: frozenset({T.OPEN, T.DONE, T.CANCELED}),
        T.DONE: frozenset(),
        T.CANCELED: frozenset(),
    },
    milestones={T.DONE: "done_at", T.CANCELED: "done_at"},
    colours={
        T.OPEN: "primary",
        T.IN_PROGRESS: "info",
        T.DONE: "success",
        T.CANCELED: "dark",
    },
    open_states=frozenset({T.OPEN, T.IN_PROGRESS}),
)

# Where a request stands, in four steps the requester reads on the portal.
PROGRESS_STEPS = (
    (R.SUBMITTED, _("Submitted")),
    (R.APPROVED, _("Approved")),
    (R.IN_FULFILLMENT, _("In fulfilment")),
    (R.FULFILLED, _("Done")),
)
STEP_OF_STATE = {
    R.SUBMITTED: 1,
    R.AWAITING_APPROVAL: 1,
    R.APPROVED: 2,
    R.IN_FULFILLMENT: 3,
    R.FULFILLED: 4,
    R.REJECTED: 0,
    R.CANCELED: 0,
}
