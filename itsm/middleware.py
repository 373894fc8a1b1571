"""Response headers Django does not set itself (the CSP comes from django-csp)."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _


class PermissionsPolicyMiddleware:
    """``Permissions-Policy`` on every response: the features no page uses are refused."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


NUL_REFUSED = _("A search or filter cannot contain a NUL character.")


class RefuseNulQueryMiddleware:
    """A NUL character in a query parameter (search, filter, ordering, cursor) is answered 400:
    PostgreSQL cannot compare text with it, and no search means one. Form and JSON bodies are
    checked field by field by their forms and serializers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": str(NUL_REFUSED)}, status=400)
            return render(request, "400.html", {"reason": NUL_REFUSED}, status=400)
        return self.get_response(request)


class RefuseLargeUploadMiddleware:
    """A request body larger than ``UPLOAD_MAX_REQUEST_BYTES`` (its declared length) is answered
    413 before any of it is read: no temporary file, no form. Each file is also checked against
    ``ATTACHMENT_MAX_BYTES`` by the upload rules (itsm.attachments), which name the file.

    The answer: JSON on the API, the 413 page for a plain form, and for htmx (a desk form) a
    message swapped into the page's alert area (``#page-alerts``), since htmx shows nothing of
    a 413 it is not told to."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.UPLOAD_MAX_REQUEST_BYTES:
            reason = _(
                "This upload is %(size)s; at most %(limit)s can be sent at once, and each file "
                "can be up to %(file_limit)s."
            ) % {
                "size": filesizeformat(length),
                "limit": filesizeformat(settings.UPLOAD_MAX_REQUEST_BYTES),
                "file_limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES),
            }
            if request.path.startswith("/api/"):
                response = JsonResponse({"file": [reason]}, status=413)
            elif request.headers.get("HX-Request"):
                # No form to send back (none was read): the message goes to the page's alert
                # area, the form stays as typed; X-Form-Errors has itsm.js swap it at 413.
                response = render(request, "_upload_refused.html", {"reason": reason}, status=413)
                response["HX-Retarget"] = "#page-alerts"
                response["HX-Reswap"] = "innerHTML"
                response["X-Form-Errors"] = "1"
            else:
                response = render(request, "413.html", {"reason": reason}, status=413)
            # The body is left unread; what becomes of the connection is the server's to decide
            # (gunicorn's sync workers close it, runserver drains the body). No Connection
            # header: WSGI forbids hop-by-hop headers, and runserver turns one into a 500.
            return response
        return self.get_response(request)
