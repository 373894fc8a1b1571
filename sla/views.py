"""Manager pages: the SLA dashboard, and calendar and policy editing (SPEC §4, §10)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Team
from cmdb.models import CI
from itsm import spreadsheet
from itsm.permissions import role_required
from itsm.workflow import Conflict

from . import config, dashboard
from .forms import CalendarForm, PolicyForm
from .models import AppliesTo, Calendar, Metric, Policy
from .permissions import CONFIG_ROLES, DASHBOARD_ROLES

TABLES = ("priority", "team", "service", "trend", "breached", "at_risk")


# --- Dashboard ----------------------------------------------------------------------------------


@role_required(*DASHBOARD_ROLES)
@require_safe
def home(request):
    """Compliance by priority, team and service over a period, breached now, at risk soon and
    the weekly trend; ``?format=csv&table=…`` downloads one table."""
    filters, errors = dashboard.parse_filters(request.GET)
    now = timezone.now()
    if request.GET.get("format") == "csv":
        return _csv(request.GET.get("table", "priority"), filters, now)
    groups = {name: dashboard.compliance(filters, name) for name in dashboard.GROUPS}
    breached, breached_total = dashboard.breached_now(filters, now)
    risky, risky_total = dashboard.at_risk(filters, now)
    trend = dashboard.trend(filters)
    trend_unit = dashboard.trend_unit(filters)
    charts = {
        name: {
            "labels": [str(r["label"]) for r in rows],
            "compliance": [r["compliance"] for r in rows],
            "met": [r["met"] for r in rows],
            "breached": [r["breached"] for r in rows],
        }
        for name, rows in {**groups, "trend": trend}.items()
    }
    context = {
        "filters": filters,
        "errors": errors,
        "totals": dashboard.totals(filters),
        "groups": [
            ("priority", _("By priority"), groups["priority"]),
            ("team", _("By team"), groups["team"]),
            ("service", _("By service"), groups["service"]),
        ],
        "breached": breached,
        "breached_total": breached_total,
        "at_risk": risky,
        "at_risk_total": risky_total,
        "trend": trend,
        "trend_unit": trend_unit,
        "charts": charts,
        "chart_labels": {
            "compliance": _("Compliance %"),
            "met": _("Met"),
            "breached": _("Breached"),
        },
        "metrics": Metric.choices,
        "kinds": AppliesTo.choices,
        "teams": Team.objects.order_by("name").values_list("pk", "name"),
        "services": CI.objects.services().order_by("name").values_list("pk", "name"),
        "query": request.GET.urlencode(),
        "now": now,
    }
    return render(request, "sla/dashboard.html", context)


def csv_name(table: str, filters, now) -> str:
    """What the file holds, in its name: the period of a compliance table or of the trend;
    the instant of the "breached now" and "at risk" lists (the period does not apply)."""
    if table in ("breached", "at_risk"):
        return f"sla-{table.replace('_', '-')}-{timezone.localtime(now):%Y-%m-%dT%H%M}.csv"
    return f"sla-{table}-{filters.start.isoformat()}-to-{filters.end.isoformat()}.csv"


def _csv(table: str, filters, now) -> HttpResponse:
    if table not in TABLES:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{csv_name(table, filters, now)}"'
    writer = spreadsheet.writer(response)
    if table in dashboard.GROUPS:
        writer.writerow(["key", "label", "met", "breached", "compliance"])
        for row in dashboard.compliance(filters, table):
            writer.writerow(
                [row["key"], row["label"], row["met"], row["breached"], _pct(row["compliance"])]
            )
    elif table == "trend":
        writer.writerow(["period", "unit", "start", "met", "breached", "compliance"])
        for row in dashboard.trend(filters):
            writer.writerow(
                [
                    row["label"],
                    row["unit"],
                    row["start"].isoformat(),
                    row["met"],
                    row["breached"],
                    _pct(row["compliance"]),
                ]
            )
    else:
        rows, _total = (
            dashboard.breached_now(filters, now, limit=10_000)
            if table == "breached"
            else dashboard.at_risk(filters, now, limit=10_000)
        )
        writer.writerow(
            [
                "ticket",
                "title",
                "metric",
                "priority",
                "team",
                "assignee",
                "state",
                "due_at",
                "breached_at",
                "elapsed_seconds",
                "remaining_seconds",
            ]
        )
        for row in rows:
            ticket = row["ticket"]
            writer.writerow(
                [
                    ticket.number,
                    ticket.title,
                    row["metric"],
                    row["timer"].priority or "",
                    str(ticket.assignment_group or ""),
                    str(ticket.assignee or ""),
                    row["state"],
                    row["due_at"].isoformat() if row["due_at"] else "",
                    row["breached_at"].isoformat() if row["breached_at"] else "",
                    row["elapsed_seconds"],
                    row["remaining_seconds"],
                ]
            )
    return response


def _pct(value) -> str:
    return "" if value is None else f"{value:.1f}"


# --- Calendars ----------------------------------------------------------------------------------


@role_required(*CONFIG_ROLES)
@require_safe
def calendar_list(request):
    calendars = Calendar.objects.prefetch_related("holidays", "policies").order_by("name")
    return render(request, "sla/calendar_list.html", {"calendars": calendars})


@role_required(*CONFIG_ROLES)
@require_http_methods(["GET", "POST"])
def calendar_add(request):
    return _calendar_form(request, None)


@role_required(*CONFIG_ROLES)
@require_http_methods(["GET", "POST"])
def calendar_detail(request, pk):
    calendar = get_object_or_404(Calendar.objects.prefetch_related("holidays"), pk=pk)
    return _calendar_form(request, calendar)


def _calendar_form(request, calendar):
    form = CalendarForm(request.POST or None, instance=calendar)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = config.save_calendar(
                    calendar,
                    name=data["name"],
                    timezone=data["timezone"],
                    hours=data["hours"],
                    holidays=data["holiday_list"],
                    actor=request.user,
                    version=data.get("version"),
                )
            except ValidationError as exc:
                _form_errors(form, exc, {"hours": None})
            except Conflict as exc:
                form.add_error(None, str(exc.detail))
                status = 409
            else:
                messages.success(request, _("Calendar “%(name)s” saved.") % {"name": saved.name})
                return redirect("sla:calendar_list")
        if status == 200:
            status = 400
    return render(
        request,
        "sla/calendar_form.html",
        {"form": form, "calendar": calendar},
        status=status,
    )


@role_required(*CONFIG_ROLES)
@require_POST
def calendar_delete(request, pk):
    calendar = get_object_or_404(Calendar, pk=pk)
    try:
        config.delete_calendar(calendar, actor=request.user)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(request, _("Calendar deleted."))
    return redirect("sla:calendar_list")


# --- Policies -----------------------------------------------------------------------------------


@role_required(*CONFIG_ROLES)
@require_safe
def policy_list(request):
    policies = Policy.objects.select_related("calendar", "service").order_by("order", "id")
    return render(request, "sla/policy_list.html", {"policies": policies})


@role_required(*CONFIG_ROLES)
@require_http_methods(["GET", "POST"])
def policy_add(request):
    return _policy_form(request, None)


@role_required(*CONFIG_ROLES)
@require_http_methods(["GET", "POST"])
def policy_detail(request, pk):
    return _policy_form(request, get_object_or_404(Policy, pk=pk))


def _policy_form(request, policy):
    form = PolicyForm(request.POST or None, instance=policy)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = config.save_policy(
                    policy,
                    form.values(),
                    actor=request.user,
                    version=form.cleaned_data.get("version"),
                )
            except ValidationError as exc:
                _form_errors(
                    form, exc, {"response_seconds": "response", "resolution_seconds": "resolution"}
                )
            except Conflict as exc:
                form.add_error(None, str(exc.detail))
                status = 409
            else:
                messages.success(request, _("Policy “%(name)s” saved.") % {"name": saved.name})
                return redirect("sla:policy_list")
        if status == 200:
            status = 400
    return render(request, "sla/policy_form.html", {"form": form, "policy": policy}, status=status)


@role_required(*CONFIG_ROLES)
@require_POST
def policy_delete(request, pk):
    policy = get_object_or_404(Policy, pk=pk)
    try:
        config.delete_policy(policy, actor=request.user)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(request, _("Policy deleted."))
    return redirect("sla:policy_list")


def _form_errors(form, exc: ValidationError, mapping: dict) -> None:
    """Put a service's ``{field: [messages]}`` on the form's fields (or the form itself)."""
    for field, errors in exc.message_dict.items():
        target = mapping.get(field, field)
        if target not in form.fields:
            target = None
        for error in errors:
            form.add_error(target, error)
