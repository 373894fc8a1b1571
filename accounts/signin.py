"""Sign-in protection (django-axes): who the caller is, and what a locked-out caller sees."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import JsonResponse
from django.shortcuts import render


def client_ip(request) -> str:
    """The caller's address: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXIES`` reverse proxies the
    address the outermost of them saw (counted from the right of ``X-Forwarded-For``: entries
    further left are whatever the client sent, and a client can send anything)."""
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [address for address in forwarded if address]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def locked_out(request, original_response=None, credentials=None):
    """The sign-in page again, saying why it refuses and for how long (429); JSON for the API."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if request.path.startswith("/api/"):
        detail = "Too many failed sign-ins: try again later."
        return JsonResponse({"detail": detail, "retry_after_minutes": minutes}, status=429)
    form = AuthenticationForm(request, data=None)
    context = {"form": form, "locked_minutes": minutes, "next": request.POST.get("next", "")}
    response = render(request, "accounts/login.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
