"""Full-text search over tickets.

PostgreSQL: two ``tsvector`` columns per ticket table with GIN indexes — ``search_public``
(number, title, description, public comments) and ``search_internal`` (internal notes, searched
for staff only) — refreshed by the services that change those texts. Elsewhere (SQLite, the
embedded demo) a plain ``icontains`` fallback.
"""

import re

from django.db import connection, migrations, models, transaction
from django.db.models import Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.expressions import RawSQL

TOKEN = re.compile(r"\w+", re.UNICODE)
NUMBER = re.compile(r"^[A-Za-z]{3,4}\d{1,7}$")
MAX_TOKENS = 8
# How many rows of a list, in its order, a search reads before it asks the full-text index
# instead (``page``).
WINDOW = 2000


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
    """Filter ``queryset`` to tickets matching ``text``; ``internal`` adds internal notes.

    On PostgreSQL the result remembers the queryset it narrowed and its condition, for
    ``page`` (which ``itsm.pagination.paginate`` calls) to read one page of it in order
    without leaving the plan to the planner's guess."""
    text = (text or "").strip()
    if not text:
        return queryset
    model = queryset.model
    # Ticket numbers are stored in capitals: an equality the unique index answers.
    by_number = Q(number=text.upper()) if NUMBER.match(text) else Q(pk__in=[])
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
        found = queryset.alias(_matches=matches).filter(Q(_matches=True) | by_number)
        # Kept on the query (cloned with it): the rows before the search, and what a match is.
        found.query.search_base = queryset.query.chain()
        found.query.search_hit = ExpressionWrapper(
            Q(matches) | by_number, output_field=models.BooleanField()
        )
        return found
    comments = model.comments.rel.related_model.objects.filter(
        ticket=OuterRef("pk"), body__icontains=text
    )
    if not internal:
        comments = comments.filter(internal=False)
    return queryset.filter(
        Q(title__icontains=text) | Q(description__icontains=text) | Exists(comments) | by_number
    )


def page(queryset, order_by: list[str], limit: int, *, after: Q | None = None) -> list | None:
    """The first ``limit`` rows of a ``search`` result in ``order_by`` (``after``: the cursor's
    condition), or None when ``queryset`` is no such result.

    PostgreSQL cannot estimate how many tickets a prefix search matches (``printer:*`` counts
    as 2 % of the rows whatever it is), so left to itself it gambled: it walked the list's
    index checking each row, which on a million tickets took 3 s for a word that matches
    none, or it sorted every match, 1.7 s for "printer jam" (125,000 matches). Instead:

    1. read the first ``WINDOW`` rows of the list in its order, with whether each matches (an
       index walk of a bounded length): when ``limit`` of them match, or the list ends there,
       these are the answer;
    2. otherwise matches are rare, and the full-text index finds them all (the index walk is
       switched off for that one statement).
    """
    base = getattr(queryset.query, "search_base", None)
    hit = getattr(queryset.query, "search_hit", None)
    if base is None or hit is None or connection.vendor != "postgresql":
        return None
    rows = queryset.model._default_manager.all()
    rows.query = base.chain()
    if after is not None:
        rows = rows.filter(after)
        queryset = queryset.filter(after)
    window = list(
        rows.annotate(_search_hit=hit).order_by(*order_by).values_list("pk", "_search_hit")[:WINDOW]
    )
    hits = [pk for pk, matched in window if matched]
    if len(hits) >= limit or len(window) < WINDOW:
        # The rows themselves through the whole queryset: a filter applied after the search
        # still applies (the window then read a superset, and the order is the same).
        found = list(queryset.filter(pk__in=hits[:limit]).order_by(*order_by))
        if len(found) >= limit or len(window) < WINDOW:
            return found
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_seqscan = off")
        found = list(queryset.order_by(*order_by)[:limit])
        # Nothing was written: rolling back (to a savepoint, inside a caller's transaction)
        # restores the planner's settings for the statements that follow.
        transaction.set_rollback(True)
    return found


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
