"""Reports and exports read from a PostgreSQL streaming replica when one is configured.

``DATABASE_REPLICA_URL`` adds a ``replica`` database (see ``itsm/settings.py`` and
docs/operations.md). Code that only reads a lot — the report pages, the reports API,
``export_data`` — runs inside ``with reading():``, and ``ReplicaRouter`` sends the reads of that
block to the replica; everything else (the desk, every write, migrations) uses the primary. With
no replica configured the block changes nothing. A replica lags the primary by a moment: fine
for reports over days, which is why only they read from it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

REPLICA = "replica"

_reading: ContextVar[bool] = ContextVar("read_from_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def reading() -> Iterator[str]:
    """Reads inside the block go to the replica when there is one; yields the alias read."""
    token = _reading.set(True)
    try:
        yield REPLICA if replica_configured() else "default"
    finally:
        _reading.reset(token)


class ReplicaRouter:
    """The replica for reads inside ``reading()``; the primary for everything else."""

    def db_for_read(self, model, **hints):
        if _reading.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA  # a replica follows the primary's schema by streaming
