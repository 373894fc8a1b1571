"""Sign-in protection: who the caller is, when they are refused, and what they see then.

Two limits, both counted from django-axes' record of failed sign-ins (in the database, so every
web worker sees the same count), both for the HTML form and the API token endpoint:
- ``LOGIN_FAILURE_LIMIT`` wrong passwords for one username from one address lock that pair
  (django-axes itself);
- ``LOGIN_ADDRESS_FAILURE_LIMIT`` wrong passwords from one address, whatever the usernames,
  refuse that address (one password tried against every account: spraying).
Successful sign-ins are never counted nor throttled. Both end ``LOGIN_LOCKOUT_MINUTES`` after
the last failure.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone


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


def address_failures(address: str) -> int:
    """Failed sign-ins from ``address`` within the lockout window, all usernames together."""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since).aggregate(
        failures=Sum("failures_since_start")
    )["failures"]
    return total or 0


def refuse_sprayers(view):
    """Refuse (429) a sign-in attempt from an address past ``LOGIN_ADDRESS_FAILURE_LIMIT``."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST" and (
            address_failures(client_ip(request)) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
        ):
            return locked_out(request)
        return view(request, *args, **kwargs)

    return wrapped
