"""Deflection: what already answers an issue while someone describes it (SPEC §5, issue 12).

Matching published known errors and similar open incidents, ranked by full-text relevance and
title similarity (``problems.search.ranked``), for the two people who need them:

- the end user typing a title in the portal's report form: the published known errors (their
  workaround may solve it at once) and their own open incidents that look the same (add to it
  rather than report it twice) — never anyone else's incident;
- the agent on an incident: every known error (published or not) and the other open
  incidents that look the same, with their problem if they have one.
"""

from incidents.models import Incident

from . import search
from .models import Problem
from .permissions import sees_every_known_error

KNOWN_ERRORS = 3
INCIDENTS = 5
MIN_LENGTH = 3  # fewer letters typed match everything


def _known_errors(text: str, limit: int, *, every: bool, exclude=None) -> list[Problem]:
    """Known errors matching ``text``: every one when ``every``, else the published ones."""
    rows = Problem.objects.defer(*Problem.SEARCH_COLUMNS).prefetch_related("services")
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    rows = rows.known_errors() if every else rows.published()
    return list(search.ranked(rows, text, column="search_known_error", fuzzy=True)[:limit])


def _incidents(rows, text: str, limit: int) -> list[Incident]:
    rows = rows.open().defer(*Incident.SEARCH_COLUMNS)
    return list(search.ranked(rows, text, column="search_public")[:limit])


def for_requester(text: str, user) -> dict:
    """Suggestions for an end user reporting an issue titled ``text``."""
    text = (text or "").strip()
    if len(text) < MIN_LENGTH or not search.terms(text):
        return {"text": text, "known_errors": [], "incidents": []}
    mine = Incident.objects.filter(requester=user).only(
        "number", "title", "state", "hold_reason", "updated_at"
    )
    return {
        "text": text,
        # the portal shows what end users may read, whoever reads it
        "known_errors": _known_errors(text, KNOWN_ERRORS, every=False),
        "incidents": _incidents(mine, text, KNOWN_ERRORS),
    }


def for_agent(incident: Incident, user) -> dict:
    """Suggestions for an agent looking at ``incident``."""
    others = (
        Incident.objects.exclude(pk=incident.pk)
        .select_related("problem")
        .only("number", "title", "state", "created_at", "problem__number", "problem__title")
    )
    return {
        "text": incident.title,
        # its own problem is on the page already
        "known_errors": _known_errors(
            incident.title,
            KNOWN_ERRORS,
            every=sees_every_known_error(user),
            exclude=incident.problem_id,
        ),
        "incidents": _incidents(others, incident.title, INCIDENTS),
    }
