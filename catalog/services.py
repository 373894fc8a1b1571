"""Every write to the catalog, requests, approvals and tasks, as a verb (SPEC §8, §9).

Each verb holds its rule: who may (``catalog.permissions``), which fields, in which states.
The API, the desk, the portal, the SLA engine, commands and demo data call these verbs and
nothing beneath them. ``actor=None`` is the system itself (demo data, SLA escalations), which
the rules do not restrict. Each runs in one transaction, audits through the kernel and
notifies after commit (``catalog.notifications``).

The life of a request: ``order`` files it (``submitted``) and routes it at once — to its
approvers (``awaiting_approval``) or, with no approval, to ``approved``; ``decide`` records an
approver's answer; entering ``approved`` creates the fulfilment tasks for the teams; the first
task worked puts the request ``in_fulfillment``, the last one done makes it ``fulfilled``.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from itsm import search
from itsm import services as kernel
from itsm.permissions import ASSIGNABLE_ROLES, check_fields, is_staff_member, users_with_role
from itsm.workflow import Conflict, StaleVersion

from . import notifications, permissions
from .formdef import clean_answers, clean_form, clean_translations
from .models import Approval, CatalogItem, Category, Request, Task
from .workflow import ApprovalMode, ApprovalState, Decision, RequestState, TaskState

# --- The catalog ---------------------------------------------------------------------------------

CATEGORY_FIELDS = ("name", "slug", "summary", "description", "icon", "order", "active")
CATEGORY_FIELDS += ("translations",)
ITEM_FIELDS = (
    *("category", "name", "slug", "summary", "description", "icon", "order", "form"),
    *("approval", "approval_team", "fulfillment_team", "tasks", "service", "sla_policy"),
    *("active", "translations"),
)
TEXT_KEYS = ("name", "summary", "description")


def _slug(model, text: str, instance) -> str:
    base = slugify(text)[:50] or model._meta.model_name
    slug, counter = base, 2
    others = model.objects.exclude(pk=instance.pk) if instance.pk else model.objects.all()
    while others.filter(slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    return slug


def _full_clean(obj) -> None:
    try:
        obj.full_clean(validate_constraints=True)
    except ValidationError as exc:
        errors = exc.message_dict
        if "__all__" in errors:  # a unique constraint: say which field
            errors.setdefault("name", []).extend(errors.pop("__all__"))
        raise ValidationError(errors) from exc


@transaction.atomic
def save_category(category: Category | None, values: dict, *, actor) -> Category:
    """Create (``category=None``) or change a category (managers, admins)."""
    permissions.check_edit_catalog(actor)
    check_fields(values, CATEGORY_FIELDS)
    category = category or Category()
    values = dict(values)
    if "translations" in values:
        values["translations"] = clean_translations(values["translations"], TEXT_KEYS)
    for name, value in values.items():
        setattr(category, name, value)
    if not category.slug:
        category.slug = _slug(Category, category.name, category)
    _full_clean(category)
    category.save()
    return category


@transaction.atomic
def delete_category(category: Category, *, actor) -> None:
    permissions.check_edit_catalog(actor)
    if category.items.exists():
        raise Conflict(_("This category still holds items: move or delete them first."))
    category.delete()


def _clean_tasks(raw) -> list[dict]:
    """``[{"title", "description", "team"}]``: the fulfilment work of an item; a task with no
    team goes to the item's fulfilment team."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ValidationError({"tasks": [_("The tasks must be a list.")]})
    errors, tasks = [], []
    teams = set(Team.objects.values_list("pk", flat=True))
    for position, task in enumerate(raw, start=1):
        where = _("Task %(n)d") % {"n": position}
        if not isinstance(task, dict) or set(task) - {"title", "description", "team"}:
            errors.append(f"{where}: " + str(_("an object with title, description and team.")))
            continue
        title = task.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 200:
            errors.append(f"{where}: " + str(_("a title of 1 to 200 characters is required.")))
            continue
        description = task.get("description") or ""
        if not isinstance(description, str):
            errors.append(f"{where}: " + str(_("the description must be text.")))
            continue
        team = task.get("team")
        if isinstance(team, Team):
            team = team.pk
        if team is not None and (isinstance(team, bool) or team not in teams):
            errors.append(f"{where}: " + str(_("no such team.")))
            continue
        tasks.append({"title": title.strip(), "description": description.strip(), "team": team})
    if errors:
        raise ValidationError({"tasks": errors})
    return tasks


def _check_item(item: CatalogItem) -> None:
    errors = {}
    if item.approval == ApprovalMode.TEAM and item.approval_team_id is None:
        errors["approval_team"] = [_("Choose the team whose members approve.")]
    if item.sla_policy_id is not None and item.sla_policy.applies_to != "request":
        errors["sla_policy"] = [_("Choose a policy that applies to requests.")]
    if item.service_id is not None and not item.service.is_service:
        errors["service"] = [_("Choose a business service.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_item(item: CatalogItem | None, values: dict, *, actor, version=None) -> CatalogItem:
    """Create (``item=None``) or change a catalog item, its form and its tasks (managers,
    admins). Requests already ordered keep the form they were ordered with."""
    permissions.check_edit_catalog(actor)
    check_fields(values, ITEM_FIELDS)
    values = dict(values)
    if item is None:
        item = CatalogItem()
    else:
        locked = CatalogItem.objects.select_for_update().get(pk=item.pk)
        if version is not None and locked.version != version:
            raise StaleVersion()
        kernel.refresh_from_locked(item, locked)
        item.version += 1
    errors = {}
    for name, cleaner in (
        ("form", clean_form),
        ("tasks", _clean_tasks),
        ("translations", lambda raw: clean_translations(raw, TEXT_KEYS)),
    ):
        if name in values:
            try:
                values[name] = cleaner(values[name])
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    for name, value in values.items():
        setattr(item, name, value)
    if not item.slug:
        item.slug = _slug(CatalogItem, item.name, item)
    _full_clean(item)
    _check_item(item)
    item.save()
    return item


@transaction.atomic
def delete_item(item: CatalogItem, *, actor) -> None:
    """An item nobody ordered may go; an ordered one is deactivated instead (409)."""
    permissions.check_edit_catalog(actor)
    try:
        with transaction.atomic():
            item.delete()
    except (ProtectedError, IntegrityError) as exc:
        raise Conflict(
            _("This item was ordered: deactivate it instead, its requests keep it.")
        ) from exc


# --- Ordering ------------------------------------------------------------------------------------


@transaction.atomic
def order(
    *,
    actor,
    item: CatalogItem,
    answers=None,
    requested_for=None,
    description: str = "",
    requester=None,
    attachments=(),
) -> Request:
    """Order ``item`` for ``requested_for`` (default: the requester) with the answers to its
    form, and route it: to its approvers, or — an item without approval — to approved, which
    creates the fulfilment tasks. The requester is told it was received, with its number and
    what happens next.

    Refused: an item that cannot be ordered (400 on ``item``), answers that do not satisfy the
    form (400 ``{"answers": {field: [...]}}``), ordering for someone who is neither oneself
    nor one of one's reports (400 on ``requested_for``; agents and managers order for anyone).
    """
    requester = requester or actor
    requested_for = requested_for or requester
    if actor is not None:
        permissions.check_order(actor, requested_for)
    if not (item.active and item.category.active):
        raise ValidationError({"item": [_("This item can no longer be ordered.")]})
    if not requested_for.is_active:
        raise ValidationError({"requested_for": [_("This person's account is deactivated.")]})
    cleaned = clean_answers(item.form, answers)
    request = kernel.create_ticket(
        Request,
        actor=actor,
        requester=requester,
        requested_for=requested_for,
        item=item,
        title=item.name,
        description=(description or "").strip(),
        answers=cleaned,
        form=item.form,
        approval=item.approval,
        assignment_group=item.fulfillment_team,
        service=item.service,
        sla_policy=item.sla_policy,
        state=RequestState.SUBMITTED,
    )
    kernel.add_attachments(request, actor=actor, uploads=attachments)
    search.refresh(request)
    # Routing is the system's doing: the history shows it so, not as the requester's move.
    if request.approval == ApprovalMode.NONE:
        notifications.ordered(request)
        _move(request, RequestState.APPROVED, actor=None, quiet=True)
    else:
        approval = _ask_approval(request)
        notifications.ordered(request, approval)
        _move(request, RequestState.AWAITING_APPROVAL, actor=None, quiet=True)
    return request


def _eligible(people, request) -> list:
    excluded = {request.requester_id, request.requested_for_id}
    return [person for person in people if person.is_active and person.pk not in excluded]


def _ask_approval(request: Request) -> Approval:
    """One approval: of the manager of the person the request is for (manager mode), or of
    the item's approval team (team mode, or a person with no manager on record), or of the
    managers when neither can answer. Nobody is asked to approve their own request."""
    item = request.item
    fields = {}
    if request.approval == ApprovalMode.MANAGER:
        manager = request.requested_for.manager
        if manager is not None and _eligible([manager], request):
            fields["approver"] = manager
    team = item.approval_team
    if not fields and team is not None and _eligible(team.members.all(), request):
        fields["team"] = team
    approval = Approval.objects.create(request=request, **fields)
    kernel.record_events(request, {"approval": (None, ApprovalState.PENDING)}, actor=None)
    notifications.approval_requested(approval, actor=request.requester)
    return approval


@transaction.atomic
def decide(
    request: Request,
    *,
    actor,
    decision: str,
    comment: str = "",
    approval: Approval | None = None,
    version=None,
) -> Approval:
    """An approver's answer (``approve`` or ``reject``, with a comment; a rejection must say
    why). Approval moves the request to approved (its tasks are created); a rejection ends it.

    The caller must be one of the request's approvers (403), the requester and the person it is
    for never are; the request must still await approval and the approval be unanswered (409).
    ``approval`` names the one answered (a signed single-use email link carries it); without
    it, the caller's pending one.
    """
    kernel.lock(request, version=version)
    if decision not in Decision.values:
        raise ValidationError(
            {"decision": [_("Answer “approve” or “reject”.")]},
        )
    comment = (comment or "").strip()
    if decision == Decision.REJECT and not comment:
        raise ValidationError({"comment": [_("Say why you reject it: the requester reads it.")]})
    approvals = list(
        Approval.objects.filter(request=request)
        .select_for_update(of=("self",))
        .select_related("team", "request")
    )
    if actor is not None:
        permissions.check_decide(actor, request, approvals)
    if request.state != RequestState.AWAITING_APPROVAL:
        raise Conflict(
            _("%(number)s no longer awaits approval: it is %(state)s.")
            % {"number": request.number, "state": request.state_label.lower()}
        )
    if approval is not None:
        pending = [a for a in approvals if a.pk == approval.pk and a.is_pending]
    else:
        pending = [
            a
            for a in approvals
            if a.is_pending and (actor is None or permissions.may_answer(actor, a))
        ]
    if not pending:
        raise Conflict(_("This approval was already answered."))
    answer = pending[0]
    if actor is not None and not permissions.may_answer(actor, answer):
        raise PermissionDenied(_("This approval is not yours to give."))
    answer.state = (
        ApprovalState.APPROVED if decision == Decision.APPROVE else ApprovalState.REJECTED
    )
    answer.decided_by = actor
    answer.decided_at = timezone.now()
    answer.comment = comment
    answer.save(update_fields=["state", "decided_by", "decided_at", "comment"])
    kernel.record_events(request, {"approval": (ApprovalState.PENDING, answer.state)}, actor=actor)
    if answer.state == ApprovalState.REJECTED:
        _cancel_approvals(request)
        _move(request, RequestState.REJECTED, actor=actor, quiet=True)
        notifications.decided(request, answer, actor=actor)
    elif not Approval.objects.filter(request=request, state=ApprovalState.PENDING).exists():
        _move(request, RequestState.APPROVED, actor=actor, quiet=True)
        notifications.decided(request, answer, actor=actor)
    return answer


def approve(request: Request, *, actor, comment: str = "", version=None) -> Approval:
    return decide(request, actor=actor, decision=Decision.APPROVE, comment=comment, version=version)


def reject(request: Request, *, actor, comment: str, version=None) -> Approval:
    return decide(request, actor=actor, decision=Decision.REJECT, comment=comment, version=version)


def _cancel_approvals(request: Request) -> None:
    pending = Approval.objects.filter(request=request, state=ApprovalState.PENDING)
    for approval in pending.select_for_update():
        approval.state = ApprovalState.CANCELED
        approval.save(update_fields=["state"])


# --- Moving requests -----------------------------------------------------------------------------


@transaction.atomic
def change_state(request: Request, to: str, *, actor, version=None, **fields):
    """A move made by hand (the API's ``transition/``, the desk, the portal): cancel (the
    requester before fulfilment starts, agents while open) or start fulfilment (agents).
    Approval, rejection and fulfilment follow from approvals and tasks (403 by hand)."""
    kernel.lock(request, version=version)
    Request.workflow.check(request.state, to)
    if actor is not None:
        permissions.check_transition(actor, request, to, fields)
    return _move(request, to, actor=actor)


def cancel(request: Request, *, actor, reason: str = "", version=None):
    """The request is no longer needed: its approvals and open tasks are canceled too."""
    with transaction.atomic():
        if reason.strip() and actor is not None:
            comment(request, actor=actor, body=reason)
        return change_state(request, RequestState.CANCELED, actor=actor, version=version)


def _move(request: Request, to: str, *, actor, quiet: bool = False):
    """The move and what it implies, once allowed: approved creates the tasks, canceled stops
    approvals and tasks; the requester hears of it (``quiet``: the caller tells them)."""
    changes = kernel.transition(request, to, actor=actor)
    if to == RequestState.APPROVED:
        _create_tasks(request, actor=actor)
    elif to == RequestState.CANCELED:
        _cancel_approvals(request)
        open_tasks = list(
            Task.objects.filter(request=request)
            .open()
            .select_related("assignee")
            .select_for_update(of=("self",))
        )
        for task in open_tasks:
            kernel.transition(task, TaskState.CANCELED, actor=actor)
        notifications.request_canceled_for_workers(request, open_tasks, actor=actor)
    if not quiet:
        notifications.state_changed(request, actor=actor)
    return changes


@transaction.atomic
def update_request(request: Request, values: dict, *, actor, version=None):
    """Agents change the note, the coordinating agent and team; a requester their note, while
    the request is open. A fulfilled, rejected or canceled request takes no field edits (409
    with the states that do)."""
    kernel.lock(request, version=version)
    if actor is not None:
        permissions.check_update(actor, request, values)
    if values:
        kernel.check_editable(request)
    _check_assignee(values.get("assignee"))
    changes = kernel.update_ticket(request, values, actor=actor)
    if "description" in changes:
        search.refresh(request)
    if {"assignee", "assignment_group"} & set(changes):
        notifications.assigned(request, actor=actor)
    return changes


@transaction.atomic
def escalate(request: Request, *, actor=None, priority=None, team=None):
    """What an SLA escalation does to an open request: hand it to ``team`` (requests have no
    priority to raise)."""
    kernel.lock(request)
    if not request.is_open or team is None or request.assignment_group_id == team.pk:
        return {}
    values = {"assignment_group": team}
    if request.assignee_id and not team.members.filter(pk=request.assignee_id).exists():
        values["assignee"] = None
    return update_request(request, values, actor=actor)


def _check_assignee(assignee) -> None:
    if (
        assignee is not None
        and not users_with_role(*ASSIGNABLE_ROLES).filter(pk=assignee.pk).exists()
    ):
        raise ValidationError(
            {
                "assignee": [
                    _("%(name)s is not an agent: only agents work requests.") % {"name": assignee}
                ]
            }
        )


# --- Conversation, files, watchers ---------------------------------------------------------------


@transaction.atomic
def comment(request: Request, *, actor, body: str, internal: bool = False):
    """A reply (or, staff only, an internal note) on an open request, from whoever may see it."""
    if not permissions.can_comment(actor, request):
        raise PermissionDenied(_("You cannot comment on this request."))
    note = kernel.add_comment(request, actor=actor, body=body, internal=internal)
    search.refresh(request)
    notifications.commented(request, note, actor=actor, internal=internal)
    return note


@transaction.atomic
def attach(request: Request, *, actor, upload, internal: bool = False):
    if not permissions.can_comment(actor, request):
        raise PermissionDenied(_("You cannot add files to this request."))
    return kernel.add_attachment(request, actor=actor, upload=upload, internal=internal)


@transaction.atomic
def attach_files(request: Request, *, actor, uploads, internal: bool = False) -> list:
    if not permissions.can_comment(actor, request):
        raise PermissionDenied(_("You cannot add files to this request."))
    return kernel.add_attachments(request, actor=actor, uploads=uploads, internal=internal)


def set_attachment_internal(ticket, attachment, *, actor, internal: bool) -> bool:
    """Staff turn a file of a request or task public (or internal, unless the requester sent
    it)."""
    return kernel.set_attachment_internal(ticket, attachment, actor=actor, internal=internal)


def watch(ticket, *, actor) -> None:
    """Staff follow a request or a task they do not work."""
    if not is_staff_member(actor):
        raise PermissionDenied(_("Only staff follow requests they did not order."))
    kernel.watch(ticket, actor, actor=actor)


def unwatch(ticket, *, actor) -> None:
    kernel.unwatch(ticket, actor, actor=actor)


# --- Tasks ---------------------------------------------------------------------------------------


def _team(team_id, default):
    if team_id is None:
        return default
    return Team.objects.filter(pk=team_id).first() or default


def _create_tasks(request: Request, *, actor) -> list[Task]:
    """The item's fulfilment tasks for its teams (one task for the fulfilment team when the
    item lists none); each team hears of its task."""
    item = request.item
    templates = item.tasks or [{"title": request.title, "description": "", "team": None}]
    tasks = []
    for position, template in enumerate(templates, start=1):
        task = kernel.create_ticket(
            Task,
            actor=actor,
            requester=request.requester,
            request=request,
            title=template["title"][:200],
            description=template.get("description") or "",
            assignment_group=_team(template.get("team"), item.fulfillment_team),
            position=position,
            state=TaskState.OPEN,
        )
        search.refresh(task)
        notifications.assigned(task, actor=actor)
        tasks.append(task)
    return tasks


@transaction.atomic
def add_task(
    *,
    actor,
    request: Request,
    title: str,
    description: str = "",
    assignment_group=None,
    assignee=None,
) -> Task:
    """Agents add work to an approved request (its fulfilment then waits for it too)."""
    fields = {"request": request, "title": title, "description": description}
    if assignment_group is not None:
        fields["assignment_group"] = assignment_group
    if assignee is not None:
        fields["assignee"] = assignee
    if actor is not None:
        permissions.check_task_create(actor, fields)
    kernel.lock(request)
    if request.state not in (RequestState.APPROVED, RequestState.IN_FULFILLMENT):
        raise Conflict(
            _("Tasks are added to an approved request; %(number)s is %(state)s.")
            % {"number": request.number, "state": request.state_label.lower()},
            allowed=[RequestState.APPROVED, RequestState.IN_FULFILLMENT],
        )
    _check_assignee(assignee)
    position = Task.objects.filter(request=request).count() + 1
    task = kernel.create_ticket(
        Task,
        actor=actor,
        requester=request.requester,
        request=request,
        title=(title or "").strip(),
        description=(description or "").strip(),
        assignment_group=assignment_group or request.assignment_group,
        assignee=assignee,
        position=position,
        state=TaskState.OPEN,
    )
    search.refresh(task)
    notifications.assigned(task, actor=actor)
    return task


@transaction.atomic
def update_task(task: Task, values: dict, *, actor, version=None):
    """Change a task's fields (staff); a done or canceled task takes none (409)."""
    kernel.lock(task, version=version)
    if actor is not None:
        permissions.check_task_update(actor, values)
    if values:
        kernel.check_editable(task)
    _check_assignee(values.get("assignee"))
    changes = kernel.update_ticket(task, values, actor=actor)
    if {"title", "description"} & set(changes):
        search.refresh(task)
    if {"assignee", "assignment_group"} & set(changes):
        notifications.assigned(task, actor=actor)
    return changes


def assign_task(task: Task, *, actor, assignee=None, group=None, version=None):
    values = {"assignee": assignee}
    if group is not None:
        values["assignment_group"] = group
    return update_task(task, values, actor=actor, version=version)


def take_task(task: Task, *, actor, version=None) -> Task:
    """Assign to me; an open task moves to in progress with it."""
    with transaction.atomic():
        assign_task(task, actor=actor, assignee=actor, version=version)
        if task.state == TaskState.OPEN:
            change_task_state(task, TaskState.IN_PROGRESS, actor=actor)
    return task


@transaction.atomic
def change_task_state(task: Task, to: str, *, actor, version=None, **fields):
    """Move a task through its table; its request follows: the first task worked puts it in
    fulfilment, the last one done fulfils it."""
    kernel.lock(task, version=version)
    Task.workflow.check(task.state, to)
    if actor is not None:
        permissions.check_task_transition(actor, to, fields)
    changes = kernel.transition(task, to, actor=actor)
    _follow_tasks(task.request, actor=actor)
    return changes


def complete_task(task: Task, *, actor, note: str = "", version=None):
    """Done, with an optional note (internal: the requester hears of the request, not its
    tasks)."""
    with transaction.atomic():
        if note.strip() and actor is not None:
            comment_task(task, actor=actor, body=note, internal=True)
        return change_task_state(task, TaskState.DONE, actor=actor, version=version)


def _follow_tasks(request: Request, *, actor) -> None:
    kernel.lock(request)
    if request.state not in (RequestState.APPROVED, RequestState.IN_FULFILLMENT):
        return
    states = list(Task.objects.filter(request=request).values_list("state", flat=True))
    unfinished = [s for s in states if s in Task.workflow.open_states]
    if states and not unfinished and TaskState.DONE in states:
        _move(request, RequestState.FULFILLED, actor=actor)
    elif request.state == RequestState.APPROVED and any(
        s in (TaskState.IN_PROGRESS, TaskState.DONE) for s in states
    ):
        _move(request, RequestState.IN_FULFILLMENT, actor=actor)


@transaction.atomic
def comment_task(task: Task, *, actor, body: str, internal: bool = False):
    """A comment on a task, read by staff only (tasks are the desk's)."""
    if not is_staff_member(actor):
        raise PermissionDenied(_("Only staff comment on tasks."))
    note = kernel.add_comment(task, actor=actor, body=body, internal=internal)
    search.refresh(task)
    notifications.commented(task, note, actor=actor, internal=internal, task=True)
    return note


@transaction.atomic
def attach_task(task: Task, *, actor, upload, internal: bool = False):
    if not is_staff_member(actor):
        raise PermissionDenied(_("Only staff add files to tasks."))
    return kernel.add_attachment(task, actor=actor, upload=upload, internal=internal)
