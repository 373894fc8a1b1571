"""Keyset ("cursor") pagination for every list, API and HTML alike.

The cursor holds the sort values of the last row shown, so page N costs the same as page 1 on
a million rows (an index on the ordering answers it). Unlike DRF's CursorPagination, ties on a
coarse first field (priority, state) are broken by the following fields and the primary key,
never by an OFFSET.

Kept apart from ``itsm.api``: DRF imports the default pagination class while it loads its own
generic views, which ``itsm.api`` imports.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.http import Http404
from django.utils.dateparse import parse_datetime
from rest_framework import pagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from . import search

DEFAULT_ORDERING = ("-created_at",)


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    previous_cursor: str | None


def _key_fields(ordering) -> list[tuple[str, bool]]:
    """``["priority", "-created_at"]`` → ``[("priority", False), ("created_at", True), ("pk",
    True)]``: the ordering plus the primary key as the final tie-breaker."""
    fields = [(name.lstrip("-"), name.startswith("-")) for name in ordering]
    if not any(name in ("pk", "id") for name, _desc in fields):
        fields.append(("pk", fields[-1][1] if fields else True))
    return fields


def full_ordering(ordering) -> list[str]:
    """``ordering`` as ``order_by`` arguments, with the primary key as the final tie-breaker:
    the exact order of the pages ``paginate`` cuts (an export walks the same order)."""
    return [f"-{name}" if desc else name for name, desc in _key_fields(ordering)]


def _encode(values: list) -> str:
    raw = json.dumps(
        [v.isoformat() if isinstance(v, datetime) else v for v in values], separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, count: int) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Http404("Invalid cursor.") from exc
    if not isinstance(values, list) or len(values) != count + 1:
        raise Http404("Invalid cursor.")
    return values


def _after(fields, values, *, reverse: bool) -> Q:
    """Rows strictly after ``values`` in the ordering (before it when ``reverse``)."""
    condition = Q(pk__in=[])
    for index, (name, desc) in enumerate(fields):
        value = values[index]
        if isinstance(value, str) and name.endswith("_at"):
            value = parse_datetime(value)
        forward_lookup = "lt" if desc else "gt"
        if reverse:
            forward_lookup = "gt" if desc else "lt"
        step = Q(**{f"{name}__{forward_lookup}": value})
        for earlier in range(index):
            prior_name = fields[earlier][0]
            prior = values[earlier]
            if isinstance(prior, str) and prior_name.endswith("_at"):
                prior = parse_datetime(prior)
            step &= Q(**{prior_name: prior})
        condition |= step
    # The same rows, with a plain range on the first field that an index can seek to (the OR
    # chain alone makes PostgreSQL scan from the start of the index).
    first, desc = fields[0]
    value = values[0]
    if isinstance(value, str) and first.endswith("_at"):
        value = parse_datetime(value)
    bound = "lte" if desc != reverse else "gte"
    return Q(**{f"{first}__{bound}": value}) & condition


def paginate(queryset, ordering, *, cursor: str | None, size: int) -> Page:
    """One page of ``queryset`` in ``ordering``; ``cursor`` comes from a previous page.

    A cursor starting with ``-`` walks backwards (the "previous" link). Sort fields must be
    non-null.
    """
    fields = _key_fields(ordering)
    order_by = full_ordering(ordering)
    backwards = bool(cursor) and cursor.startswith("-")
    after = None
    if cursor:
        values = _decode(cursor.lstrip("-"), len(fields) - 1)
        after = _after(fields, values, reverse=backwards)
    if backwards:
        order_by = [name[1:] if name.startswith("-") else f"-{name}" for name in order_by]
    # A full-text search reads its page its own way (the planner cannot guess its size).
    rows = search.page(queryset, order_by, size + 1, after=after)
    if rows is None:
        if after is not None:
            queryset = queryset.filter(after)
        rows = list(queryset.order_by(*order_by)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def key(row) -> str:
        return _encode([_value(row, name) for name, _desc in fields])

    next_cursor = key(rows[-1]) if rows and (more or backwards) else None
    previous_cursor = "-" + key(rows[0]) if rows and (cursor and (not backwards or more)) else None
    return Page(rows=rows, next_cursor=next_cursor, previous_cursor=previous_cursor)


def _value(row, name: str):
    value = row.pk if name == "pk" else getattr(row, name)
    return value.pk if hasattr(value, "pk") else value


class CursorPagination(pagination.BasePagination):
    """``{"results": [...], "next": url|null, "previous": url|null}``.

    Honours ``?ordering=`` (via the view's OrderingFilter, which has already ordered the
    queryset) and ``?page_size=`` (1–200).
    """

    page_size = 50
    max_page_size = 200
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        ordering = queryset.query.order_by or getattr(view, "ordering", None) or DEFAULT_ORDERING
        try:
            size = int(request.query_params.get("page_size", self.page_size))
        except ValueError:
            size = self.page_size
        size = max(1, min(size, self.max_page_size))
        self.page = paginate(
            queryset,
            list(ordering),
            cursor=request.query_params.get(self.cursor_query_param),
            size=size,
        )
        return self.page.rows

    def _link(self, cursor):
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data):
        return Response(
            {
                "results": data,
                "next": self._link(self.page.next_cursor),
                "previous": self._link(self.page.previous_cursor),
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The pagination cursor value.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": "Number of results per page (1-200).",
                "schema": {"type": "integer"},
            },
        ]


COUNT_CAP = 999


def capped_count(queryset, cap: int | None = None) -> str:
    """How many rows ``queryset`` has, read no further than ``cap`` + 1 of them: ``"999+"``
    beyond. A tab's badge needs no exact figure, and an exact one costs a scan of every row
    (a monitoring account that opened a million tickets made its portal list take a second)."""
    cap = COUNT_CAP if cap is None else cap
    found = queryset.order_by().values_list("pk", flat=True)[: cap + 1].count()
    return f"{cap}+" if found > cap else str(found)
