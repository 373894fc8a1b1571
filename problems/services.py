"""Every write to a problem, as a verb (SPEC §5, §9).

Each verb holds its rule: who may (``problems.permissions``), which fields, in which states.
The API, the pages, commands and demo data call these verbs and nothing beneath them. What a
problem does to its incidents goes through ``incidents.services`` (linking, resolving), so an
incident is only ever written by its own verbs. ``actor=None`` is the system (demo data).
Each verb runs in one transaction, audits through the kernel and notifies after commit.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cmdb.models import CI
from incidents import services as incident_services
from incidents.models import Incident
from incidents.workflow import ResolutionCode
from itsm import services as kernel
from itsm.models import Notification
from itsm.notify import notify
from itsm.permissions import users_with_role
from itsm.workflow import Conflict

from . import clusters, permissions, search
from .models import ClusteredIncident, Problem, TitleCluster
from .workflow import LINKABLE_STATES, State

Kind = Notification.Kind
RELATIONS = ("services", "cis")


# --- Opening and editing -----------------------------------------------------------------------


@transaction.atomic
def open_problem(*, actor, requester=None, incidents=(), attachments=(), **fields) -> Problem:
    """Open a problem (problem managers), optionally with the ``incidents`` it explains,
    which are linked to it at once (SPEC §5). ``services`` and ``cis`` are lists of CIs."""
    if actor is not None:
        permissions.check_create(actor, fields)
    relations = {name: list(fields.pop(name, None) or ()) for name in RELATIONS}
    _check_assignee(fields.get("assignee"))
    _check_publication(fields)
    problem = kernel.create_ticket(Problem, actor=actor, requester=requester or actor, **fields)
    _set_relations(problem, relations, actor=actor)
    kernel.add_attachments(problem, actor=actor, uploads=attachments)
    for incident in incidents:
        incident_services.link_problem(incident, problem, actor=actor)
    search.refresh(problem)
    notify(
        [problem.requester],
        kind=Kind.CREATED,
        ticket=problem,
        subject=_("%(number)s opened: %(title)s"),
        message=_('Problem %(number)s "%(title)s" is open.'),
        actor=None,
    )
    _notify_assignment(problem, actor=actor)
    return problem


@transaction.atomic
def promote(incident: Incident, *, actor) -> Problem:
    """Open a problem from an incident: its title, description, service and CI copied, the
    incident linked (``POST incidents/{number}/promote/``). An incident that has a problem
    already is a 409: it would be unlinked from it."""
    if actor is not None:
        permissions.check_create(actor, {})
    kernel.lock(incident)
    if incident.problem_id is not None:
        raise Conflict(
            _("%(number)s is linked to a problem already.") % {"number": incident.number}
        )
    return open_problem(
        actor=actor,
        title=incident.title,
        description=incident.description,
        services=[incident.service] if incident.service_id else [],
        cis=[incident.ci] if incident.ci_id else [],
        incidents=[incident],
    )


@transaction.atomic
def update_problem(problem: Problem, values: dict, *, actor, version=None):
    """Change fields (problem managers). Publishing a workaround needs the known-error flag
    and a workaround, and a resolved problem keeps its root cause (400 naming the field). A
    closed or canceled problem takes no field edits (409 with the states that do), save one:
    its workaround, still published in the portal, may be withdrawn. Returns the changes."""
    kernel.lock(problem, version=version)
    if actor is not None:
        permissions.check_update(actor, values)
    if values and values != {"publish_workaround": False}:
        kernel.check_editable(problem)
    values = dict(values)
    relations = {name: list(values.pop(name) or ()) for name in RELATIONS if name in values}
    _check_assignee(values.get("assignee"))
    _check_publication(_publication(problem, values))
    if (
        "root_cause" in values
        and problem.state in (State.RESOLVED, State.CLOSED)
        and problem.root_cause.strip()
    ):
        _check_root_cause(
            values["root_cause"], message=_("A resolved problem keeps its root cause.")
        )
    was_published = problem.is_published
    changes = kernel.update_ticket(problem, values, actor=actor)
    changes.update(_set_relations(problem, relations, actor=actor))
    if changes:
        search.refresh(problem)
    if {"assignee", "assignment_group"} & set(changes):
        _notify_assignment(problem, actor=actor)
    if problem.is_published and not was_published:
        _notify_published(problem, actor=actor)
    return changes


def assign(problem: Problem, *, actor, assignee=None, group=None, version=None):
    values = {"assignee": assignee}
    if group is not None:
        values["assignment_group"] = group
    return update_problem(problem, values, actor=actor, version=version)


def publish(problem: Problem, *, actor, version=None):
    """Make the workaround a published known error: end users find it in the portal."""
    return update_problem(
        problem, {"known_error": True, "publish_workaround": True}, actor=actor, version=version
    )


def withdraw(problem: Problem, *, actor, version=None):
    """Take the workaround out of the portal (it stays a known error for the desk)."""
    return update_problem(problem, {"publish_workaround": False}, actor=actor, version=version)


def _publication(problem: Problem, values) -> dict:
    """What the publication rule reads: the problem's flags and workaround as ``values``
    would leave them."""
    return {
        name: values.get(name, getattr(problem, name))
        for name in ("known_error", "publish_workaround", "workaround")
    }


def _check_root_cause(root_cause, *, message) -> None:
    """A resolved (or closed) problem has its root cause: blanks are no cause."""
    if not (root_cause or "").strip():
        raise ValidationError({"root_cause": [message]})


def _check_publication(fields) -> None:
    if not fields.get("publish_workaround"):
        return
    errors = {}
    if not fields.get("known_error"):
        errors["known_error"] = [_("Only a known error's workaround can be published.")]
    if not (fields.get("workaround") or "").strip():
        errors["workaround"] = [_("Write the workaround before publishing it.")]
    if errors:
        raise ValidationError(errors)


def _check_assignee(assignee) -> None:
    if (
        assignee is not None
        and not users_with_role(*permissions.ASSIGNEE_ROLES).filter(pk=assignee.pk).exists()
    ):
        raise ValidationError(
            {
                "assignee": [
                    _("%(name)s is neither a problem manager nor an agent.") % {"name": assignee}
                ]
            }
        )


def _set_relations(problem: Problem, relations: dict, *, actor) -> dict:
    """Set the affected services and CIs; each list that changes is one audited change."""
    changes = {}
    for name, items in relations.items():
        manager = getattr(problem, name)
        wanted = {item.pk for item in items}
        if name == "services":
            unknown = wanted - set(
                CI.objects.services().filter(pk__in=wanted).values_list("pk", flat=True)
            )
            if unknown:
                raise ValidationError({name: [_("Only business services are services.")]})
        current = set(manager.values_list("pk", flat=True))
        if wanted != current:
            manager.set(wanted)
            changes[name] = (sorted(current), sorted(wanted))
    if changes:
        kernel.record_events(problem, changes, actor=actor)
    return changes


# --- States ------------------------------------------------------------------------------------


@transaction.atomic
def change_state(problem: Problem, to: str, *, actor, version=None, **fields):
    """Move the problem through its table (SPEC §5).

    - a move not in the table is a 409 listing the allowed states; only problem managers move
      problems (403); a field the move does not take is a 400 naming it;
    - ``resolved`` needs a ``root_cause`` (blanks are none); a move that writes the workaround
      keeps the publication rule: a published known error keeps a workaround (400 naming
      ``workaround``: withdraw it first); with ``resolve_incidents`` true (and
      ``resolution_code``, ``resolution_notes``) every linked open incident is resolved in the
      same transaction, through its own verb: all of them or, if one cannot be, none, and the
      problem stays where it was. The problem's trail records which were resolved;
    - the requester, the assignee and the watchers hear of every move; on ``resolved`` the
      agents of the linked incidents still open hear of it too.
    """
    kernel.lock(problem, version=version)
    Problem.workflow.check(problem.state, to)
    if actor is not None:
        permissions.check_transition(actor, to, fields)
    resolution = _resolution(fields)
    _check_publication(_publication(problem, fields))
    if to == State.RESOLVED:
        _check_root_cause(
            fields.get("root_cause", problem.root_cause),
            message=_("This field is required to move to %(state)s.") % {"state": to},
        )
    source = problem.state
    changes = kernel.transition(problem, to, actor=actor, **fields)
    if any(name in changes for name in ("root_cause", "workaround")):
        search.refresh(problem)
    resolved = []
    if resolution is not None:
        linked = problem.incidents.open().select_related("requester").order_by("pk")
        for incident in linked.select_for_update(of=("self",)):
            incident_services.resolve_with_problem(incident, actor=actor, **resolution)
            resolved.append(incident.number)
        if resolved:
            change = {"resolved_incidents": (None, resolved)}
            kernel.record_events(problem, change, actor=actor)
            changes = {**changes, **change}
    _notify_state(problem, source, actor=actor, resolved=resolved)
    return changes


def _resolution(fields) -> dict | None:
    """The incidents' resolution a move to ``resolved`` carries (popped from ``fields``), or
    ``None`` when the incidents are left alone."""
    wanted = fields.pop("resolve_incidents", False)
    code = fields.pop("resolution_code", "")
    notes = (fields.pop("resolution_notes", "") or "").strip()
    if not isinstance(wanted, bool):
        raise ValidationError({"resolve_incidents": [_("Must be true or false.")]})
    if not wanted:
        if code or notes:
            field = "resolution_code" if code else "resolution_notes"
            raise ValidationError(
                {field: [_("Only with resolve_incidents: it resolves the linked incidents.")]}
            )
        return None
    errors = {}
    if code not in ResolutionCode.values:
        errors["resolution_code"] = [
            _("One of: %(codes)s.") % {"codes": ", ".join(ResolutionCode.values)}
        ]
    if not notes:
        errors["resolution_notes"] = [_("The requesters read these notes: write them.")]
    if errors:
        raise ValidationError(errors)
    return {"code": code, "notes": notes}


def resolve(problem: Problem, *, actor, root_cause=None, incidents=None, version=None):
    """Resolve the problem; ``incidents`` = ``(code, notes)`` resolves its open incidents too."""
    fields = {} if root_cause is None else {"root_cause": root_cause}
    if incidents is not None:
        code, notes = incidents
        fields.update(resolve_incidents=True, resolution_code=code, resolution_notes=notes)
    return change_state(problem, State.RESOLVED, actor=actor, version=version, **fields)


# --- Incidents ---------------------------------------------------------------------------------


@transaction.atomic
def link(problem: Problem, incident: Incident, *, actor) -> dict:
    """Link an incident to the problem from the problem's side (agents, problem managers):
    the incident's own verb holds the rule (one problem per incident, none on a closed or
    canceled problem)."""
    if actor is not None:
        permissions.check_link(actor)
    return incident_services.link_problem(incident, problem, actor=actor)


@transaction.atomic
def unlink(problem: Problem, incident: Incident, *, actor) -> dict:
    if actor is not None:
        permissions.check_link(actor)
    if incident.problem_id != problem.pk:
        raise Conflict(
            _("%(number)s is not linked to %(problem)s.")
            % {"number": incident.number, "problem": problem.number}
        )
    return incident_services.link_problem(incident, None, actor=actor)


def accepts_incidents(problem: Problem) -> bool:
    return problem.state in LINKABLE_STATES


# --- Comments, files, watchers ------------------------------------------------------------------


@transaction.atomic
def comment(problem: Problem, *, actor, body: str, internal: bool = False):
    """A comment or an internal note by anyone who reads problems; the assignee, the
    requester and the watchers hear of it."""
    permissions.check_comment(actor)
    note = kernel.add_comment(problem, actor=actor, body=body, internal=internal)
    search.refresh(problem)
    notify(
        [problem.assignee, problem.requester, *problem.watchers.all()],
        kind=Kind.COMMENT,
        ticket=problem,
        subject=_("New comment on %(number)s: %(title)s"),
        message=_("%(author)s wrote:\n\n%(body)s"),
        params={"author": str(actor), "body": note.body},
        actor=actor,
        internal=internal,
    )
    return note


@transaction.atomic
def attach(problem: Problem, *, actor, upload, internal: bool = False):
    if not permissions.can_comment(actor):
        raise PermissionDenied(_("You cannot add files to this problem."))
    return kernel.add_attachment(problem, actor=actor, upload=upload, internal=internal)


def set_attachment_internal(problem: Problem, attachment, *, actor, internal: bool) -> bool:
    """Problems are staff work; the flag still follows the file if it is shown elsewhere."""
    return kernel.set_attachment_internal(problem, attachment, actor=actor, internal=internal)


def watch(problem: Problem, *, actor) -> None:
    permissions.check_comment(actor)
    kernel.watch(problem, actor, actor=actor)


def unwatch(problem: Problem, *, actor) -> None:
    kernel.unwatch(problem, actor, actor=actor)


# --- Title clusters (derived data behind the candidates) ---------------------------------------


def cluster_incident(incident: Incident, *, created: bool = False) -> None:
    """File the incident in the cluster of incidents whose titles read like its own
    (``created``: it was inserted in this transaction, so it is in no cluster yet)."""
    key = clusters.normalise(incident.title)
    if not key:
        if not created:
            ClusteredIncident.objects.filter(incident_id=incident.pk).delete()
        return
    cluster_id = clusters.best_cluster_id(key)
    if cluster_id is None:
        cluster_id = TitleCluster.objects.create(key=key, label=incident.title[:200]).pk
    if created:
        ClusteredIncident.objects.create(incident_id=incident.pk, cluster_id=cluster_id)
        return
    ClusteredIncident.objects.update_or_create(
        incident_id=incident.pk, defaults={"cluster_id": cluster_id}
    )


def cluster_unclustered(*, batch: int = 1000) -> int:
    """Cluster the incidents not clustered yet (after an import, or on an existing database),
    oldest first so that clusters start from the first report; returns how many."""
    done = 0
    while True:
        pending = list(
            Incident.objects.exclude(pk__in=ClusteredIncident.objects.values("incident_id"))
            .order_by("created_at", "pk")
            .only("pk", "title")[:batch]
        )
        for incident in pending:
            with transaction.atomic():
                cluster_incident(incident)
        done += len(pending)
        if len(pending) < batch:
            return done


# --- Notifications ------------------------------------------------------------------------------


def _workers(problem: Problem) -> list:
    if problem.assignee_id:
        return [problem.assignee]
    if problem.assignment_group_id:
        return list(problem.assignment_group.members.filter(is_active=True))
    return []


def _notify_assignment(problem: Problem, *, actor) -> None:
    recipients = _workers(problem)
    if recipients:
        notify(
            recipients,
            kind=Kind.ASSIGNED,
            ticket=problem,
            subject=_("%(number)s assigned: %(title)s"),
            message=_('Problem %(number)s "%(title)s" is assigned to %(to)s.'),
            params={"to": str(problem.assignee or problem.assignment_group)},
            actor=actor,
        )


def _incident_agents(problem: Problem) -> list:
    """The agents of the problem's incidents still open (one query)."""
    return [
        incident.assignee
        for incident in problem.incidents.open()
        .filter(assignee__isnull=False)
        .select_related("assignee")
        .only("assignee")
    ]


def _notify_state(problem: Problem, source: str, *, actor, resolved) -> None:
    recipients = [problem.requester, problem.assignee, *problem.watchers.all()]
    if problem.state == State.RESOLVED:
        recipients += _incident_agents(problem)
        if resolved:
            message = _(
                'Problem %(number)s "%(title)s" is resolved, and with it %(count)s linked '
                "incidents.\n\nRoot cause: %(root_cause)s"
            )
        else:
            message = _('Problem %(number)s "%(title)s" is resolved.\n\nRoot cause: %(root_cause)s')
    else:
        message = _('Problem %(number)s "%(title)s" moved from %(source)s to %(state)s.')
    states = Problem.workflow.states
    notify(
        recipients,
        kind=Kind.STATE,
        ticket=problem,
        subject=_("%(number)s is now %(state)s"),
        message=message,
        params={
            "state": states(problem.state).label,
            "source": states(source).label,
            "root_cause": problem.root_cause,
            "count": len(resolved),
        },
        actor=actor,
    )


def _notify_published(problem: Problem, *, actor) -> None:
    """The agents of the open linked incidents can hand the workaround on."""
    notify(
        _incident_agents(problem),
        kind=Kind.STATE,
        ticket=problem,
        subject=_("Workaround published: %(title)s"),
        message=_(
            'The workaround of %(number)s "%(title)s" is published: callers find it in '
            "the portal.\n\n%(workaround)s"
        ),
        params={"workaround": problem.workaround},
        actor=actor,
    )
