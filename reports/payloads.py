"""Each report as data (the API's JSON, SPEC §11) and as CSV rows (the same figures).

The pages, their CSV downloads and the API all read these, so a figure has one definition and
one shape. A report with a list (``rows``, ``weeks``) is written as a table of that list; any
other report as ``figure,value`` lines, nested objects flattened with dots
(``backlog.0-1d``). Every CSV goes through ``itsm.spreadsheet`` (formula-safe).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime

from django.http import HttpResponse

from changes.workflow import SUCCESSFUL_OUTCOMES, Outcome
from itsm import spreadsheet
from sla import dashboard
from sla.dashboard import Filters

from . import figures, review

GROUPS = dashboard.GROUPS  # priority, team, service


def sla(filters: Filters, group_by: str = "priority", now=None) -> dict:
    return {
        "from": filters.start,
        "to": filters.end,
        "group_by": group_by,
        "rows": dashboard.compliance(filters, group_by),
    }


def incidents(filters: Filters, now=None) -> dict:
    return figures.incident_summary(filters, now)


def trend(filters: Filters, now=None) -> dict:
    return {"from": filters.start, "to": filters.end, "weeks": figures.volume_trend(filters)}


def backlog(filters: Filters, now=None) -> dict:
    return {"backlog": figures.backlog(filters, now)}


def csat(filters: Filters, now=None) -> dict:
    return {"from": filters.start, "to": filters.end, **figures.csat(filters)}


def changes(filters: Filters, now=None) -> dict:
    return {"from": filters.start, "to": filters.end, **figures.change_outcomes(filters)}


def problems(filters: Filters, now=None) -> dict:
    return {"from": filters.start, "to": filters.end, **figures.problem_counts(filters)}


def requests(filters: Filters, now=None) -> dict:
    return {"from": filters.start, "to": filters.end, **figures.fulfilment(filters)}


# The reports of ``/reports/``, by the name its CSV links (``?format=csv&table=…``) use.
TABLES: dict[str, Callable[..., dict]] = {
    "incidents": incidents,
    "trend": trend,
    "backlog": backlog,
    "csat": csat,
    "changes": changes,
    "problems": problems,
    "requests": requests,
    "sla": sla,
}


def service_review(figures_of_review: dict) -> dict:
    """``reports/services/{id}/review/`` from ``review.review(...)``: ``changes.successful``
    counts both kinds of success, so that total = successful + failed + backed_out."""
    outcomes = figures_of_review["changes"]
    return {
        "service": figures_of_review["service"].pk,
        "from": figures_of_review["from"],
        "to": figures_of_review["to"],
        "availability": figures_of_review["availability"],
        "outage_seconds": figures_of_review["outage_seconds"],
        "incidents_by_priority": figures_of_review["incidents_by_priority"],
        "sla_compliance": figures_of_review["sla"]["compliance"],
        "changes": {
            "total": outcomes["total"],
            "successful": sum(outcomes[o] for o in SUCCESSFUL_OUTCOMES),
            "failed": outcomes[Outcome.FAILED],
            "backed_out": outcomes[Outcome.BACKED_OUT],
        },
        "open_problems": len(figures_of_review["open_problems"]),
    }


def review_payload(service, filters: Filters, now=None) -> dict:
    return service_review(review.review(service, filters, now))


# --- CSV -----------------------------------------------------------------------------------------


def _cell(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    if value is None:
        return ""
    return value


def _flatten(data: dict, prefix: str = ""):
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, f"{name}.")
        else:
            yield [name, _cell(value)]


# The columns of each list a report may carry (an empty list still has its header).
COLUMNS = {
    "rows": ["key", "label", "met", "breached", "compliance"],
    "weeks": ["week", "label", "opened", "resolved"],
}


def csv_rows(data: dict) -> list[list]:
    """The rows of a report's CSV: its list as a table, else ``figure,value`` lines."""
    for name, columns in COLUMNS.items():
        if isinstance(data.get(name), list):
            return [columns, *([_cell(row[c]) for c in columns] for row in data[name])]
    return [["figure", "value"], *_flatten(data)]


def csv_text(data: dict) -> str:
    output = io.StringIO()
    spreadsheet.writer(output).writerows(csv_rows(data))
    return output.getvalue()


def csv_response(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(csv_text(data), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
