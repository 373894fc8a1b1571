"""Problem candidates: recurring incidents no problem covers yet (SPEC §5, issue "continuous
improvement").

Over a window of days, the incidents without a problem (canceled ones aside) are grouped by
service, by CI and by title cluster (``problems.clusters``); each group counts its incidents
in the first and in the second half of the window, and groups are ranked by count or by
trend (the growth from the first half to the second). Every figure is one SQL aggregate per
grouping: the work does not grow with the number of incidents read in Python.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cmdb.models import CI
from incidents.models import Incident
from incidents.workflow import State as IncidentState

from .models import ClusteredIncident, TitleCluster

WINDOWS = (7, 14, 30, 90)
DEFAULT_WINDOW = 30
MIN_COUNT = 3
LIMIT = 10
KINDS = {
    "service": _("By service"),
    "ci": _("By configuration item"),
    "title": _("By similar titles"),
}
SORTS = ("count", "trend")


@dataclass
class Group:
    kind: str
    key: int
    label: str
    count: int
    earlier: int  # in the first half of the window
    recent: int  # in the second half

    @property
    def suggested_title(self) -> str:
        return suggested_title(self.kind, self.label)

    @property
    def growth(self) -> int:
        return self.recent - self.earlier

    @property
    def trend_percent(self) -> int | None:
        """Growth from the first half to the second, in percent (``None``: nothing before)."""
        if not self.earlier:
            return None
        return round(100 * self.growth / self.earlier)


@dataclass(frozen=True)
class Window:
    start: object
    middle: object
    end: object
    days: int

    @classmethod
    def of(cls, days: int, now=None) -> "Window":
        end = now or timezone.now()
        start = end - timedelta(days=days)
        return cls(start=start, middle=start + (end - start) / 2, end=end, days=days)


def uncovered(window: Window):
    """The incidents of the window no problem covers (canceled ones were no incident)."""
    return Incident.objects.filter(
        problem__isnull=True, created_at__gte=window.start, created_at__lt=window.end
    ).exclude(state=IncidentState.CANCELED)


# How each kind groups: (rows to count, the grouping column, its filter on an incident)
def _grouping(kind: str, window: Window):
    if kind == "title":
        rows = ClusteredIncident.objects.filter(
            incident__problem__isnull=True,
            incident__created_at__gte=window.start,
            incident__created_at__lt=window.end,
        ).exclude(incident__state=IncidentState.CANCELED)
        return rows, "cluster", "incident__created_at"
    return uncovered(window).exclude(**{kind: None}), kind, "created_at"


def groups(
    kind: str, window: Window, *, sort: str = "count", min_count: int = MIN_COUNT, limit=LIMIT
) -> list[Group]:
    """The ``limit`` largest (or fastest-growing) groups of at least ``min_count`` incidents."""
    rows, column, created = _grouping(kind, window)
    counted = (
        rows.values(column)
        .annotate(
            count=Count("pk"),
            recent=Count("pk", filter=Q(**{f"{created}__gte": window.middle})),
        )
        .annotate(growth=F("recent") * 2 - F("count"))  # recent − earlier
        .filter(count__gte=min_count)
    )
    order = ["-growth", "-count"] if sort == "trend" else ["-count", "-growth"]
    top = list(counted.order_by(*order, column)[:limit])
    labels = _labels(kind, [row[column] for row in top])
    return [
        Group(
            kind=kind,
            key=row[column],
            label=labels.get(row[column], f"#{row[column]}"),
            count=row["count"],
            earlier=row["count"] - row["recent"],
            recent=row["recent"],
        )
        for row in top
    ]


def _labels(kind: str, keys) -> dict:
    if kind == "title":
        return dict(TitleCluster.objects.filter(pk__in=keys).values_list("pk", "label"))
    return dict(CI.objects.filter(pk__in=keys).values_list("pk", "name"))


def members(kind: str, key: int, window: Window):
    """The incidents of one group (what "create a problem from these" links)."""
    if kind not in KINDS:
        return Incident.objects.none()
    if kind == "title":
        clustered = ClusteredIncident.objects.filter(cluster=key).values("incident_id")
        return uncovered(window).filter(pk__in=clustered)
    return uncovered(window).filter(**{kind: key})


def suggested_title(kind: str, label: str) -> str:
    if kind == "title":
        return label
    return str(_("Recurring incidents on %(name)s") % {"name": label})


def describe(kind: str, key: int, window: Window) -> dict:
    """What a problem opened from a group starts with: a title, a description saying where it
    comes from, the group's service or CI (for a title cluster, its most frequent service)."""
    rows = members(kind, key, window)
    label = _labels(kind, [key]).get(key, "")
    start = {"title": suggested_title(kind, label), "services": [], "cis": []}
    if kind in ("service", "ci"):
        ci = CI.objects.filter(pk=key).first()
        start["services" if kind == "service" else "cis"] = [ci] if ci else []
    else:
        top = (
            rows.exclude(service=None)
            .values("service")
            .annotate(n=Count("pk"))
            .order_by("-n", "service")
            .first()
        )
        start["services"] = list(CI.objects.filter(pk=top["service"])) if top else []
    start["description"] = str(
        _("Opened from %(count)s recurring incidents (%(group)s: %(label)s) over %(days)s days.")
        % {"count": rows.count(), "group": KINDS[kind].lower(), "label": label, "days": window.days}
    )
    return start
