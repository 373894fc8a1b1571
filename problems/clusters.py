"""Which incidents read alike: the title clusters behind the "similar titles" candidates.

Each incident joins, when it is logged or retitled, the cluster whose first title is the most
similar to its own — trigram similarity of the normalised titles on PostgreSQL (through a GIN
index on the clusters' keys: one index lookup per incident), the same normalised words
elsewhere — or starts a new one. Grouping incidents by cluster is then one SQL aggregate, over
any window, at any size. The writes are ``services.cluster_incident``'s; this module reads.
"""

import re

from django.db import connection

from .models import TitleCluster

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
        return (
            TitleCluster.objects.filter(key=key).order_by("pk").values_list("pk", flat=True).first()
        )
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
