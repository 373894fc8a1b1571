"""Manager pages: the reports of SPEC §10 and the monthly service review.

Each page reads the period and the filters from the query string (``sla.dashboard``'s parser,
so both dashboards read them alike) and answers ``?format=csv&table=…`` with one report's
figures as CSV, the same figures as the API's.
"""

from datetime import timedelta

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.models import Team
from changes.workflow import Outcome
from cmdb.models import CI
from incidents.workflow import Priority
from itsm.permissions import role_required
from sla import dashboard

from . import figures, payloads, review
from .permissions import REPORT_ROLES
from .replica import reading


def _filters(request):
    filters, errors = dashboard.parse_filters(request.GET)
    for name in ("hours", "kind", "metric"):
        errors.pop(name, None)
    return filters, errors


def _csv(request, filters, now):
    table = request.GET.get("table", "incidents")
    if table not in payloads.TABLES:
        raise Http404
    options = {}
    if table == "sla":
        options["group_by"] = request.GET.get("group_by", "priority")
        if options["group_by"] not in payloads.GROUPS:
            raise Http404
    with reading():
        data = payloads.TABLES[table](filters, now=now, **options)
    return payloads.csv_response(data, f"report-{table}-{filters.start}-{filters.end}.csv")


def _series(labels, *datasets):
    return {
        "labels": [str(label) for label in labels],
        "datasets": [
            {"label": str(name), "data": data, "colour": colour} for name, data, colour in datasets
        ],
    }


@role_required(*REPORT_ROLES)
@require_safe
def home(request):
    """Incidents (volume, MTTR, FCR, backlog, CSAT), changes, problems and requests over a
    period, with charts, a CSV per report and links to each service's review."""
    filters, errors = _filters(request)
    now = timezone.now()
    if request.GET.get("format") == "csv":
        return _csv(request, filters, now)
    with reading():
        summary = {**figures.incident_figures(filters), "backlog": figures.backlog(filters, now)}
        trend = figures.volume_trend(filters)
        outcomes = figures.change_outcomes(filters)
        problems = figures.problem_counts(filters)
        fulfilment = figures.fulfilment(filters)
        sla_totals = dashboard.totals(filters)
        teams = list(Team.objects.order_by("name").values_list("pk", "name"))
        services = list(CI.objects.services().order_by("name").values_list("pk", "name"))
    backlog_labels = {
        "0-1d": _("Under a day"),
        "1-7d": _("1 to 7 days"),
        "7-30d": _("7 to 30 days"),
        "30d+": _("Over 30 days"),
    }
    charts = {
        "trend": _series(
            [row["label"] for row in trend],
            (_("Opened"), [row["opened"] for row in trend], "primary"),
            (_("Resolved"), [row["resolved"] for row in trend], "success"),
        ),
        "backlog": _series(
            backlog_labels.values(),
            (_("Open incidents"), list(summary["backlog"].values()), "warning"),
        ),
        "csat": _series(
            figures.SCORES,
            (_("Ratings"), list(summary["csat"]["distribution"].values()), "primary"),
        ),
        "changes": _series(
            Outcome.labels,
            (_("Changes"), [outcomes[value] for value in Outcome.values], "primary"),
        ),
    }
    context = {
        "filters": filters,
        "errors": errors,
        "summary": summary,
        "trend": trend,
        "backlog": [(backlog_labels[k], n) for k, n in summary["backlog"].items()],
        "outcomes": [(label, outcomes[value]) for value, label in Outcome.choices],
        "change_totals": outcomes,
        "problems": problems,
        "fulfilment": fulfilment,
        "sla": sla_totals,
        "charts": charts,
        "teams": teams,
        "services": services,
        "priorities": Priority.choices,
        "query": _period_query(request),
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "reports/report_home.html", context)


def _period_query(request) -> str:
    """The period and filters, to carry to a service's review."""
    keep = request.GET.copy()
    for name in ("format", "table", "group_by", "service"):
        keep.pop(name, None)
    return keep.urlencode()


@role_required(*REPORT_ROLES)
@require_safe
def service_review(request, pk):
    """One business service over a period, for the monthly review (prints on A4)."""
    filters, errors = _filters(request)
    now = timezone.now()
    with reading():
        service = get_object_or_404(CI.objects.services().select_related("owner"), pk=pk)
        if request.GET.get("format") == "csv":
            data = payloads.review_payload(service, filters, now)
            return payloads.csv_response(
                data, f"service-review-{service.pk}-{filters.start}-{filters.end}.csv"
            )
        figures_of_review = review.review(service, filters, now)
    by_priority = figures_of_review["incidents_by_priority"]
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    context = {
        "filters": filters,
        "errors": errors,
        "review": figures_of_review,
        "payload": payloads.service_review(figures_of_review),
        "priorities": [(label, by_priority[str(value)]) for value, label in Priority.choices],
        "incident_total": sum(by_priority.values()),
        "charts": {
            "priority": _series(
                [f"P{value}" for value in Priority.values],
                (_("Incidents"), [by_priority[str(v)] for v in Priority.values], "primary"),
            )
        },
        "last_month": {"from": last_month_end.replace(day=1), "to": last_month_end},
        "csv_query": request.GET.urlencode(),
        "now": now,
    }
    return render(request, "reports/service_review.html", context)
