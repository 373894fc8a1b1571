"""Reports API (SPEC §10, §11): managers and admins only; ``?format=csv`` answers the same
figures as ``text/csv``.

- ``reports/sla/?from=&to=&group_by=priority|team|service[&metric=]``
- ``reports/incidents/?from=&to=``
- ``reports/services/{id}/review/?from=&to=``
- beside them, the other figures of ``/reports/``: ``reports/trend/``, ``reports/changes/``,
  ``reports/problems/``, ``reports/requests/``.

Every report takes ``team``, ``service`` and ``priority``; ``from``/``to`` are ISO dates (both
inclusive, the last 30 days by default). A parameter that does not parse is a 400 naming it.
"""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from cmdb.models import CI
from sla.dashboard import parse_filters

from . import payloads
from .permissions import can_read_reports
from .replica import reading


class CSVRenderer(BaseRenderer):
    """``?format=csv``: the report's figures through the formula-safe writer."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400:
            return payloads.csv_text({"error": data})
        return payloads.csv_text(data)


class ReportPermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return can_read_reports(request.user)


PERIOD = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 30 days ago)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)"),
    OpenApiParameter("team", OpenApiTypes.INT),
    OpenApiParameter("service", OpenApiTypes.INT),
    OpenApiParameter("priority", OpenApiTypes.INT),
]


class ReportView(APIView):
    permission_classes = [permissions.IsAuthenticated, ReportPermission]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    report = staticmethod(payloads.incidents)
    name = "incidents"

    def filters(self, request):
        filters, errors = parse_filters(request.query_params)
        errors.pop("hours", None)  # the SLA dashboard's own parameter
        errors.pop("kind", None)
        if errors:
            raise ValidationError({field: [message] for field, message in errors.items()})
        return filters

    def answer(self, request, data, name):
        response = Response(data)
        if request.accepted_renderer.format == "csv":
            filters = data.get("from"), data.get("to")
            response["Content-Disposition"] = (
                f'attachment; filename="report-{name}-{filters[0]}-{filters[1]}.csv"'
            )
        return response

    def get(self, request):
        filters = self.filters(request)
        with reading():
            data = self.report(filters, now=timezone.now())
        return self.answer(request, data, self.name)


def report_view(name: str, description: str):
    function = payloads.TABLES[name]
    view = type(
        f"{name.title()}ReportView",
        (ReportView,),
        {"report": staticmethod(function), "name": name, "__doc__": description},
    )
    view.get = extend_schema(parameters=PERIOD, responses=OpenApiTypes.OBJECT)(view.get)
    return view


class SLAReportView(ReportView):
    """SLA compliance (met ÷ (met + breached)) grouped by priority, team or service."""

    name = "sla"

    @extend_schema(
        parameters=[
            *PERIOD,
            OpenApiParameter("group_by", str, enum=list(payloads.GROUPS)),
            OpenApiParameter("metric", str, enum=["response", "resolution"]),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        filters = self.filters(request)
        group_by = request.query_params.get("group_by") or "priority"
        if group_by not in payloads.GROUPS:
            raise ValidationError({"group_by": [_("Choose priority, team or service.")]})
        with reading():
            data = payloads.sla(filters, group_by)
        return self.answer(request, data, f"sla-{group_by}")


class ServiceReviewView(ReportView):
    """The monthly review of one business service."""

    name = "service-review"

    @extend_schema(parameters=PERIOD, responses=OpenApiTypes.OBJECT)
    def get(self, request, pk):
        filters = self.filters(request)
        with reading():
            service = get_object_or_404(CI.objects.services(), pk=pk)
            data = payloads.review_payload(service, filters, timezone.now())
        return self.answer(request, data, f"service-{pk}-review")


urlpatterns = [
    path("reports/sla/", SLAReportView.as_view(), name="reports-sla"),
    path(
        "reports/incidents/",
        report_view("incidents", "Opened, resolved, MTTR, FCR, backlog and CSAT.").as_view(),
        name="reports-incidents",
    ),
    path(
        "reports/trend/",
        report_view("trend", "Incidents opened and resolved per week.").as_view(),
        name="reports-trend",
    ),
    path(
        "reports/changes/",
        report_view("changes", "Changes closed in the period by outcome.").as_view(),
        name="reports-changes",
    ),
    path(
        "reports/problems/",
        report_view("problems", "Problems opened, resolved, open; known errors.").as_view(),
        name="reports-problems",
    ),
    path(
        "reports/requests/",
        report_view("requests", "Requests fulfilled and their fulfilment times.").as_view(),
        name="reports-requests",
    ),
    path(
        "reports/services/<int:pk>/review/",
        ServiceReviewView.as_view(),
        name="reports-service-review",
    ),
]
