"""Hooks through which observer apps (the SLA engine) add to process apps' pages without
being imported by them (DESIGN: dependencies point one way).

- ``ticket_panel``: a callable ``(ticket, user) -> (template_name, context) | None`` whose
  template is included on the desk and portal ticket pages (e.g. SLA bars).
- ``desk_queue``: a named queue of the agent desk, a callable ``(queryset) -> queryset``
  (e.g. "Breaching soon").
- ``desk_due``: how desk lists of a model learn each ticket's next deadline (a callable
  ``(queryset) -> queryset`` annotating ``sla_due_at``) and from when it is "soon", for the
  due / time-left column of every queue.
- ``approval_action``: the verb that records a decision on an approval (a CAB vote, a
  request's approval), called by the approve/reject links of approval emails
  (``itsm.approvals``): ``@approval_action("changes.Approval")`` on
  ``func(approval, *, actor, decision, comment)``; pass ``approval=`` to ``notify``.
- ``mail_reply``: the verb through which a reply by email becomes a public comment on a ticket
  type (``mailgate``): ``mail_reply("changes.Change")(comment)`` with
  ``comment(ticket, *, actor, body, attachments)``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    apply: Callable
    model: str  # "incidents.Incident"
    ordering: tuple[str, ...] = ()  # the queue's own default sort (fields of its queryset)


_panels: list[Callable] = []
_queues: dict[str, Queue] = {}


def ticket_panel(func: Callable) -> Callable:
    """Register a panel for ticket pages (decorator)."""
    if func not in _panels:
        _panels.append(func)
    return func


def panels_for(ticket, user) -> list[tuple[str, dict]]:
    rendered = []
    for func in _panels:
        result = func(ticket, user)
        if result is not None:
            rendered.append(result)
    return rendered


def desk_queue(key: str, label, *, model: str, ordering: tuple[str, ...] = ()):
    """Register a desk queue for tickets of ``model`` (decorator on ``(queryset) -> qs``);
    ``ordering`` is its default sort, e.g. an annotation the function adds."""

    def decorator(func: Callable) -> Callable:
        _queues[key] = Queue(key=key, label=label, apply=func, model=model, ordering=ordering)
        return func

    return decorator


def queues_for(model_label: str) -> list[Queue]:
    return [queue for queue in _queues.values() if queue.model == model_label]


@dataclass(frozen=True)
class Due:
    annotate: Callable  # (queryset) -> queryset with ``sla_due_at``
    soon: timedelta  # a deadline closer than this is at risk


_due: dict[str, Due] = {}


def desk_due(model: str, *, soon: timedelta):
    """Register the annotation of ``sla_due_at`` on desk lists of ``model`` (decorator)."""

    def decorator(func: Callable) -> Callable:
        _due[model] = Due(annotate=func, soon=soon)
        return func

    return decorator


def with_deadlines(queryset, model_label: str):
    """Each ticket's next SLA deadline (``sla_due_at``), for the due column of every desk
    queue, unless the queue has annotated it already (e.g. "Breaching soon")."""
    due = _due.get(model_label)
    if due is None or "sla_due_at" in queryset.query.annotations:
        return queryset
    return due.annotate(queryset)


def deadline_cells(model_label: str, due_at, now) -> dict:
    """The due column: time left (or overdue) at a glance, the instant on hover, the SLA
    colour: ``overdue`` once past, ``soon`` within the at-risk horizon, else ``later``."""
    from itsm.templatetags.itsm import instant, time_left

    if due_at is None:
        return {"due_at": "", "due_label": "", "due_title": "", "due_class": ""}
    due = _due.get(model_label)
    if due_at < now:
        colour = "overdue"
    elif due is not None and due_at <= now + due.soon:
        colour = "soon"
    else:
        colour = "later"
    return {
        "due_at": due_at.isoformat(),
        "due_label": time_left(due_at),
        "due_title": instant(due_at),
        "due_class": colour,
    }


# --- Approvals by email and replies by email


@dataclass(frozen=True)
class ApprovalAction:
    model: str  # "changes.approval"
    decide: Callable  # (approval, *, actor, decision, comment) -> anything; raises to refuse
    can_decide: Callable | None = None  # (approval, user) -> bool: may still decide (GET page)
    describe: Callable | None = None  # (approval) -> str: what is being decided


_approval_actions: dict[str, ApprovalAction] = {}


def approval_action(model_label: str, *, can_decide=None, describe=None):
    """Register the verb that records a decision on an approval of ``model_label`` (decorator
    on ``func(approval, *, actor, decision, comment)``; ``decision`` is ``"approve"`` or
    ``"reject"``). Approval links in emails call it as the approver: the verb holds the rule
    (a decision already taken, an approver who lost the role: it raises, nothing changes)."""

    def decorator(func: Callable) -> Callable:
        label = model_label.lower()
        _approval_actions[label] = ApprovalAction(
            model=label, decide=func, can_decide=can_decide, describe=describe
        )
        return func

    return decorator


def approval_action_for(model_label: str) -> ApprovalAction | None:
    return _approval_actions.get(model_label.lower())


_mail_replies: dict[str, Callable] = {}


def mail_reply(model_label: str):
    """Register the verb through which a reply by email becomes a public comment on tickets
    of ``model_label`` (decorator on ``func(ticket, *, actor, body, attachments)``, which
    holds the rule: who may comment, in which states)."""

    def decorator(func: Callable) -> Callable:
        _mail_replies[model_label.lower()] = func
        return func

    return decorator


def mail_replies() -> dict[str, Callable]:
    return dict(_mail_replies)
