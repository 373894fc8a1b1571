"""Handing work to Celery after a commit, without ever making the write depend on the broker.

Every piece of work a write owes is first a row of the database, written in the write's own
transaction (a ``Notification`` to mail, an ``Escalation`` whose actions are not done, an
``sla.RecomputeJob``, a due timer). The Celery message that follows the commit only makes it
happen sooner: when the broker cannot take it, ``send`` logs a warning and returns False, and
the periodic sweep that owns the row does the work (``itsm.tasks.sweep_notifications``,
``sla.tasks.scan``).

``send`` fails fast: the broker's connection is tried once (``CELERY_BROKER_TRANSPORT_OPTIONS``
``max_retries``/``socket_connect_timeout`` in the settings), so a request whose commit owes a
message waits milliseconds, not the seconds of kombu's default retries, while Redis is down.
"""

import logging

log = logging.getLogger(__name__)


def send(task, *args, **options) -> bool:
    """Queue ``task(*args)``; return whether the broker took it. Never raises."""
    try:
        task.apply_async(args=list(args), retry=False, **options)
    except Exception as exc:  # the broker is down: the row stays for its sweep
        log.warning("broker unreachable (%s): %s left for its sweep", exc, task.name)
        return False
    return True
