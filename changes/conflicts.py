"""What a change's window and CIs run into (SPEC §6): other active changes in an overlapping
window on the same CI or on a CI that depends on it (or that it depends on), and blackout
windows that are global or name one of its CIs or a CI that depends on them.

Read-only: ``detect`` answers from the database as it is; ``changes.services`` stores the
answer (``ChangeConflict`` rows) whenever a window or the CIs move, so that lists and the CAB
agenda read conflicts without walking the CMDB for every row.
"""

from dataclasses import dataclass, field

from cmdb.impact import dependencies_of, impact_of

from .models import Blackout, Change, ChangeConflict
from .workflow import ACTIVE_STATES


@dataclass
class Found:
    kind: str
    other: Change | None = None
    blackout: Blackout | None = None
    via: list[dict] = field(default_factory=list)
    dependent: bool = False

    @property
    def key(self) -> tuple:
        return (self.kind, self.other.pk if self.other else None, self.blackout_id)

    @property
    def blackout_id(self):
        return self.blackout.pk if self.blackout else None


def _pair(ci_id, names, other_id, other_names) -> dict:
    return {
        "ci": ci_id,
        "ci_name": names.get(ci_id, ""),
        "other_ci": other_id,
        "other_ci_name": other_names.get(other_id, ""),
    }


def overlapping(queryset, start, end):
    """Rows of ``queryset`` (changes or blackouts) whose window overlaps ``[start, end)``."""
    if queryset.model is Blackout:
        return queryset.filter(start__lt=end, end__gt=start)
    return queryset.filter(planned_start__lt=end, planned_end__gt=start)


def detect(change: Change) -> list[Found]:
    """Every conflict of ``change`` now; none for a change without a window or no longer
    active (in review, closed or canceled)."""
    if not change.has_window or change.state not in ACTIVE_STATES:
        return []
    mine = dict(change.cis.values_list("pk", "name"))
    # For each of the change's CIs: the CIs that depend on it (impacted when it is worked on)
    # and those it depends on (whose work impacts it), with their names.
    impacted: dict[int, set[int]] = {}
    related: dict[int, set[int]] = {}
    names = dict(mine)
    for ci_id in mine:
        down = impact_of(ci_id)
        up = dependencies_of(ci_id)
        impacted[ci_id] = set(down.ids)
        related[ci_id] = set(down.ids) | set(up.ids)
        names.update((row.id, row.name) for row in (*down.cis, *up.cis))
    found = []
    for blackout in overlapping(Blackout.objects.prefetch_related("cis"), *_window(change)):
        frozen = {ci.pk: ci.name for ci in blackout.cis.all()}
        if not frozen:
            found.append(Found(kind=ChangeConflict.Kind.BLACKOUT, blackout=blackout))
            continue
        via = [
            _pair(ci_id, names, frozen_id, frozen)
            for ci_id in mine
            for frozen_id in frozen
            if frozen_id == ci_id or frozen_id in impacted[ci_id]
        ]
        if via:
            found.append(
                Found(
                    kind=ChangeConflict.Kind.BLACKOUT,
                    blackout=blackout,
                    via=via,
                    dependent=all(p["ci"] != p["other_ci"] for p in via),
                )
            )
    reach = set(mine).union(*related.values()) if mine else set()
    if not reach:
        return found
    others = (
        overlapping(Change.objects.filter(state__in=ACTIVE_STATES), *_window(change))
        .exclude(pk=change.pk)
        .filter(cis__in=reach)
        .distinct()
        .order_by("planned_start", "pk")
        .only("pk", "number", "title", "state", "type", "planned_start", "planned_end")
    )
    other_cis = _cis_of(others)
    for other in others:
        theirs = other_cis.get(other.pk, {})
        via, dependent = [], True
        for ci_id in mine:
            for other_id in theirs:
                if other_id == ci_id:
                    via.append(_pair(ci_id, names, other_id, theirs))
                    dependent = False
                elif other_id in related[ci_id]:
                    via.append(_pair(ci_id, names, other_id, theirs))
        if via:
            found.append(
                Found(kind=ChangeConflict.Kind.CHANGE, other=other, via=via, dependent=dependent)
            )
    return found


def _window(change: Change):
    return change.planned_start, change.planned_end


def _cis_of(changes) -> dict[int, dict[int, str]]:
    """``{change id: {ci id: name}}`` for ``changes``, in one query."""
    through = Change.cis.through
    rows = through.objects.filter(change__in=[c.pk for c in changes]).values_list(
        "change_id", "ci_id", "ci__name"
    )
    result: dict[int, dict[int, str]] = {}
    for change_id, ci_id, name in rows:
        result.setdefault(change_id, {})[ci_id] = name
    return result


def mirror(found: Found, change: Change) -> dict:
    """The fields of the conflict as the other change sees it (the pairs turned round)."""
    return {
        "kind": found.kind,
        "via": [
            {
                "ci": p["other_ci"],
                "ci_name": p["other_ci_name"],
                "other_ci": p["ci"],
                "other_ci_name": p["ci_name"],
            }
            for p in found.via
        ],
        "dependent": found.dependent,
    }


def changes_in_window(start, end, *, exclude=None):
    """Active changes with a window overlapping ``[start, end)`` (a blackout's)."""
    rows = overlapping(Change.objects.filter(state__in=ACTIVE_STATES), start, end)
    return rows.exclude(pk=exclude) if exclude else rows
