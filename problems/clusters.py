"""Which incidents read alike: the title clusters behind the "similar titles" candidates.

Each incident joins, when it is logged or retitled, the cluster whose first title is the most
similar to its own — trigram similarity of the normalised titles on PostgreSQL (through a GIN
index on the clusters' keys: one index lookup per incident), the same normalised words
elsewhere — or starts a new one. Grouping incidents by cluster is then one SQL aggregate, over
any window, at any size. The writes are ``services.cluster_incident``'s; this module reads.
"""

import re

from django.db import connection
from django.db.models import Q

from .models import TitleCluster
from .search import STOP_WORDS

NOT_WORDS = re.compile(r"[\W\d_]+", re.UNICODE)
# Trigram similarity from which two normalised titles are "the same issue": "vpn disconnects
# every minutes" and "vpn keeps disconnecting" are (0.35); "vpn down for the whole lyon
# office" is another issue (0.08).
THRESHOLD = 0.35


def normalise(title: str) -> str:
    """Lowercase words only: numbers, ticket references and punctuation say nothing about
    which issue it is (``"VPN drops #123!"`` → ``"vpn drops"``)."""
    return " ".join(NOT_WORDS.sub(" ", (title or "").lower()).split())[:200]


def best_cluster_id(key: str) -> int | None:
    """The cluster ``key`` belongs to, if any: the most similar first title above the
    threshold (the oldest cluster on a tie)."""
    if not key:
        return None
    if connection.vendor != "postgresql":
        return _best_elsewhere(key)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id FROM problems_titlecluster
            WHERE key %% %s AND similarity(key, %s) >= %s
            ORDER BY similarity(key, %s) DESC, id
            LIMIT 1
            """,
            [key, key, THRESHOLD, key],
        )
        row = cursor.fetchone()
    return row[0] if row else None


# --- Without pg_trgm (SQLite, the embedded demo) ----------------------------------------------

FALLBACK_CANDIDATES = 200


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams of a normalised text: each word padded with two spaces before and
    one after (``"vpn"`` → ``"  v", " vp", "vpn", "pn "``)."""
    grams = set()
    for word in text.split():
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def similarity(a: str, b: str) -> float:
    """pg_trgm's ``similarity``: shared trigrams over all trigrams of both texts."""
    left, right = trigrams(a), trigrams(b)
    union = left | right
    return len(left & right) / len(union) if union else 0.0


def _best_elsewhere(key: str) -> int | None:
    """The same answer as PostgreSQL's, computed here: among the clusters whose key holds one
    of the words of ``key`` (an indexed, bounded read), the most similar above the
    threshold."""
    telling = {word for word in key.split() if len(word) > 2 and word not in STOP_WORDS}
    words = Q()
    for word in telling or set(key.split()):
        words |= Q(key__contains=word)
    scored = [
        (similarity(key, other), -pk, pk)
        for pk, other in TitleCluster.objects.filter(words)
        .order_by("pk")
        .values_list("pk", "key")[:FALLBACK_CANDIDATES]
    ]
    best = max(scored, default=None)
    return best[2] if best and best[0] >= THRESHOLD else None
