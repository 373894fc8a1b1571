"""Full-text search over tickets.

PostgreSQL: two ``tsvector`` columns per ticket table with GIN indexes — ``search_public``
(number, title, description, public comments) and ``search_internal`` (internal notes, searched
for staff only) — refreshed by the services that change those texts. Elsewhere (SQLite, the
embedded demo) a plain ``icontains`` fallback.
"""

import re

from django.db import connection, migrations, models
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL

TOKEN = re.compile(r"\w+", re.UNICODE)
NUMBER = re.compile(r"^[A-Za-z]{3,4}\d{1,7}$")
MAX_TOKENS = 8


class SearchVectorField(models.Field):
    """``tsvector`` on PostgreSQL; an unused nullable text column elsewhere."""

    description = "Full-text search vector"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def db_type(self, connection):
        return "tsvector" if connection.vendor == "postgresql" else "text"


def _tsquery(text: str) -> str:
    """Every word must match, each as a prefix: ``disk full`` → ``disk:* & full:*``."""
    tokens = TOKEN.findall(text.lower())[:MAX_TOKENS]
    return " & ".join(f"{token}:*" for token in tokens)


def search(queryset, text: str, *, internal: bool):
    """Filter ``queryset`` to tickets matching ``text``; ``internal`` adds internal notes."""
    text = (text or "").strip()
    if not text:
        return queryset
    model = queryset.model
    by_number = Q(number__iexact=text) if NUMBER.match(text) else Q(pk__in=[])
    if connection.vendor == "postgresql":
        query = _tsquery(text)
        if not query:
            return queryset.filter(by_number)
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ["search_public", "search_internal"] if internal else ["search_public"]
        condition = " OR ".join(
            f"{table}.{column} @@ to_tsquery('simple', %s)" for column in columns
        )
        # Only the column names (from this module) are interpolated; the query is a parameter.
        matches = RawSQL(  # noqa: S611
            condition, [query] * len(columns), output_field=models.BooleanField()
        )
        return queryset.alias(_matches=matches).filter(Q(_matches=True) | by_number)
    comments = model.comments.rel.related_model.objects.filter(
        ticket=OuterRef("pk"), body__icontains=text
    )
    if not internal:
        comments = comments.filter(internal=False)
    return queryset.filter(
        Q(title__icontains=text) | Q(description__icontains=text) | Exists(comments) | by_number
    )


def refresh(ticket) -> None:
    """Recompute the search vectors of one ticket (after its texts or comments changed)."""
    if connection.vendor != "postgresql":
        return
    model = type(ticket)
    table = connection.ops.quote_name(model._meta.db_table)
    comments = connection.ops.quote_name(ticket.comments.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS t SET
              search_public =
                setweight(to_tsvector('simple', t.number), 'A')
                || setweight(to_tsvector('simple', t.title), 'A')
                || setweight(to_tsvector('simple', t.description), 'B')
                || setweight(to_tsvector('simple', coalesce((
                     SELECT string_agg(c.body, ' ') FROM {comments} c
                     WHERE c.ticket_id = t.id AND NOT c.internal), '')), 'C'),
              search_internal = to_tsvector('simple', coalesce((
                     SELECT string_agg(c.body, ' ') FROM {comments} c
                     WHERE c.ticket_id = t.id AND c.internal), ''))
            WHERE t.id = %s
            """,  # noqa: S608 - table names come from model metadata, values are parameters
            [ticket.pk],
        )


def gin_indexes(table: str) -> migrations.RunPython:
    """GIN indexes on the two vectors of ``table`` (PostgreSQL only)."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for column in ("search_public", "search_internal"):
                schema_editor.execute(
                    f"CREATE INDEX IF NOT EXISTS {table}_{column}_gin "
                    f"ON {table} USING gin ({column})"
                )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for column in ("search_public", "search_internal"):
                schema_editor.execute(f"DROP INDEX IF EXISTS {table}_{column}_gin")

    return migrations.RunPython(create, drop, elidable=False)
