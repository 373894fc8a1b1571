"""What the catalog's pages share: refusals in words, query strings without blanks."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from itsm.workflow import Conflict


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


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"
