"""What the catalog's pages share: refusals in words, query strings without blanks, the desk's
queues, sorting and quick actions."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from itsm import exports
from itsm.pagination import paginate
from itsm.workflow import Conflict

from ..models import Request


def without_blanks(query):
    """The query string without empty values (an "Any" select sends ``state=``)."""
    cleaned = query.copy()
    for key in list(cleaned):
        values = [value for value in cleaned.getlist(key) if value != ""]
        if values:
            cleaned.setlist(key, values)
        else:
            del cleaned[key]
    return cleaned


def reason(exc, workflow=None) -> str:
    """What a verb refused, as one sentence for a message."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return " ".join(exc.messages)
    if isinstance(exc, Conflict):
        text = str(exc.detail)
        if exc.allowed is not None and workflow is not None:
            allowed = ", ".join(str(workflow.label(s)) for s in exc.allowed) or "—"
            text += " " + _("Allowed: %(states)s.") % {"states": allowed}
        return text
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("You are not allowed to do that.")
    return str(exc)


# --- Desk lists and actions ------------------------------------------------------------------

READ_ROLES = Request.STAFF_ROLES
LIST_SIZE = 50
SORTS = {
    "created": ["created_at"],
    "-created": ["-created_at"],
    "updated": ["updated_at"],
    "-updated": ["-updated_at"],
    "number": ["number"],
    "-number": ["-number"],
    "state": ["state", "-created_at"],
    "-state": ["-state", "-created_at"],
}
DEFAULT_SORT = "-updated"


def sort_of(request, queue) -> tuple[str, list[str]]:
    """The list's sort key (``""`` for the queue's own order) and its ordering."""
    sort = request.GET.get("sort", "")
    ordering = SORTS.get(sort)
    if ordering is None:
        sort = "" if queue.get("ordering") else DEFAULT_SORT
        ordering = queue.get("ordering") or SORTS[DEFAULT_SORT]
    return sort, ordering


def sorted_page(request, rows, queue):
    sort, ordering = sort_of(request, queue)
    page = paginate(rows, ordering, cursor=request.GET.get("cursor"), size=LIST_SIZE)
    return page, sort


def who(person) -> str:
    """A person (or team) cell: their name, blank when there is none."""
    return str(person) if person is not None else ""


def pick_queue(queues, request, default: str):
    key = request.GET.get("queue") or ("all" if "q" in request.GET else default)
    return next((q for q in queues if q["key"] == key), queues[0])


def filtered(request, filterset_class, base):
    filters = filterset_class(without_blanks(request.GET), queryset=base, request=request)
    if filters.is_valid():
        return filters, filters.qs
    if exports.wants_csv(request):  # the view answers 400 (``exports.refused``)
        return filters, base.none()
    for field, errors in filters.errors.items():
        messages.error(request, f"{filters.form.fields[field].label}: {' '.join(errors)}")
    return filters, base.none()


def act(request, ticket, perform, respond):
    """Run one action; what the verb refuses becomes a message (never a 500). A reader who
    may not work gets the verb's 403."""
    try:
        extra = perform() or {}
    except (Conflict, ValidationError) as exc:
        messages.error(request, reason(exc, type(ticket).workflow))
        extra = {}
    return respond(request, ticket, **extra)
