"""Full-text search of problems, the knowledge search and the suggestions of deflection.

PostgreSQL: three ``tsvector`` columns per problem, refreshed by the verbs that change their
texts — ``search_public`` (number, title, description, root cause, workaround, public comments)
and ``search_internal`` (internal notes) for the problem list, as ``itsm.search`` reads them;
``search_known_error`` (title, workaround, the affected services' names) for the knowledge
search, which end users reach: it never holds what they may not read. Texts people type
(a title in the report form) match on any of their words, each as a prefix, ranked by
``ts_rank_cd`` plus the trigram similarity of the titles (``pg_trgm``). Elsewhere (SQLite, the
embedded demo) the same answers come from ``icontains`` on each word, ranked by how many
words a title holds.
"""

import re

from django.db import connection, models
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from itsm.search import MAX_TOKENS

WORD = re.compile(r"\w+", re.UNICODE)
NUMBER = re.compile(r"^[A-Za-z]{3,4}\d{1,7}$")
# Words that say nothing about what is broken, in the two languages of the product.
_STOP_WORDS = """
    a an and are as at be been but by can cannot could do does doesn don dont for from get
    got has have having he her his how i if in into is isn it its just me my no not of on
    or our please she so some than that the their them then there these they this to too
    up us was we were what when where which while who why will with won would you your
    again anymore any all also still since every very keeps keep working work works
    au aux avec ce ces cette dans de des du elle en est et il ils je la le les leur lui ma
    mais me mes moi mon ne nous on ou par pas plus pour qu que qui sa se ses son sur ta te
    tes toi ton tu un une vos votre vous ça ai as avons avez ont suis sommes êtes sont été
    fait faire marche plus encore depuis toujours très
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


def terms(text: str) -> list[str]:
    """The words of ``text`` worth matching: lowercased, no stop words, each once."""
    seen: list[str] = []
    for word in WORD.findall((text or "").lower()):
        if len(word) < 2 or word in STOP_WORDS or word in seen:
            continue
        seen.append(word)
    return seen[:MAX_TOKENS]


def any_term(words: list[str]) -> str:
    """``["vpn", "drops"]`` → ``vpn:* | drops:*`` (a ``to_tsquery('simple', …)`` text)."""
    return " | ".join(f"{word}:*" for word in words)


def ranked(queryset, text: str, *, column: str, title: str = "title", fuzzy: bool = False):
    """``queryset`` narrowed to rows matching any word of ``text`` in ``column``, annotated
    with ``rank`` (higher is better) and ordered by it.

    ``column`` is the ``tsvector`` column read on PostgreSQL (through its GIN index);
    ``title`` the text field whose trigram similarity adds to the rank. ``fuzzy`` also
    matches rows whose title is merely similar (a misspelt word): for small tables only,
    as no index answers it. The fallback reads ``column``'s text fields (below).
    """
    text = (text or "").strip()[:200]
    words = terms(text)
    model = queryset.model
    by_number = Q(number__iexact=text) if NUMBER.match(text) else Q(pk__in=[])
    if not words:
        return queryset.filter(by_number).annotate(rank=Value(1.0)).order_by("-rank", "-pk")
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        query = any_term(words)
        # Only names from model metadata are interpolated; the texts are parameters.
        condition, params = f"{table}.{column} @@ to_tsquery('simple', %s)", [query]
        if fuzzy:
            condition, params = f"({condition} OR {table}.{title} %% %s)", [query, text]
        matches = RawSQL(condition, params, output_field=models.BooleanField())  # noqa: S611
        rank = RawSQL(  # noqa: S611
            f"(ts_rank_cd({table}.{column}, to_tsquery('simple', %s)) "
            f"+ similarity({table}.{title}, %s))::float8",
            [query, text],
            output_field=models.FloatField(),
        )
        return (
            queryset.alias(_matches=matches)
            .filter(Q(_matches=True) | by_number)
            .annotate(rank=rank)
            .order_by("-rank", "-pk")
        )
    return _fallback(queryset, words, by_number, FALLBACK_FIELDS.get(column, (title,)), title)


# The text fields the fallback reads for each vector.
FALLBACK_FIELDS = {
    "search_known_error": ("title", "workaround"),
    "search_public": ("title", "description"),
}


def _fallback(queryset, words, by_number, fields, title):
    matches = Q(pk__in=[])
    score = Value(0)
    for word in words:
        for name in fields:
            matches |= Q(**{f"{name}__icontains": word})
        # a word in the title counts twice as much as one elsewhere
        score = score + Case(
            When(**{f"{title}__icontains": word}, then=Value(2)),
            default=Value(0),
            output_field=IntegerField(),
        )
        for name in fields:
            if name != title:
                score = score + Case(
                    When(**{f"{name}__icontains": word}, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
    return (
        queryset.filter(matches | by_number)
        .annotate(rank=Cast(score, models.FloatField()) + Value(0.0))
        .order_by("-rank", "-pk")
    )


# --- Keeping the vectors ---------------------------------------------------------------------


def refresh(problem) -> None:
    """Recompute the search vectors of one problem (after its texts, comments or services
    changed)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE problems_problem AS p SET
              search_public =
                setweight(to_tsvector('simple', p.number), 'A')
                || setweight(to_tsvector('simple', p.title), 'A')
                || setweight(to_tsvector('simple', p.description), 'B')
                || setweight(to_tsvector('simple', p.root_cause || ' ' || p.workaround), 'B')
                || setweight(to_tsvector('simple', coalesce((
                     SELECT string_agg(c.body, ' ') FROM problems_problemcomment c
                     WHERE c.ticket_id = p.id AND NOT c.internal), '')), 'C'),
              search_internal = to_tsvector('simple', coalesce((
                     SELECT string_agg(c.body, ' ') FROM problems_problemcomment c
                     WHERE c.ticket_id = p.id AND c.internal), '')),
              search_known_error =
                setweight(to_tsvector('simple', p.title), 'A')
                || setweight(to_tsvector('simple', p.workaround), 'B')
                || setweight(to_tsvector('simple', coalesce((
                     SELECT string_agg(ci.name, ' ') FROM problems_problem_services s
                     JOIN cmdb_ci ci ON ci.id = s.ci_id WHERE s.problem_id = p.id), '')), 'C')
            WHERE p.id = %s
            """,
            [problem.pk],
        )
