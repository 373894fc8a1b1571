import logging

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from .celery import app as celery_app
from .permissions import (
    AGENT,
    CAB_MEMBER,
    CHANGE_MANAGER,
    MANAGER,
    PROBLEM_MANAGER,
    has_role,
    user_roles,
)

log = logging.getLogger(__name__)


@login_required
@require_safe
def home(request):
    """Send each person to where their work is."""
    user = request.user
    # Change managers and CAB members start on their approvals and agenda, even when they
    # also work the desk (roles they hold, not those an administrator holds through ADMIN).
    for role in (CHANGE_MANAGER, CAB_MEMBER):
        if role in user_roles(user):
            try:
                return redirect("changes:home")
            except NoReverseMatch:
                log.debug("home: changes are not served yet")
    if PROBLEM_MANAGER in user_roles(user):  # their problems, even when they also work incidents
        return redirect("problems:home")
    if has_role(user, AGENT):
        return redirect("incidents:incident_list")
    for role, destination in (
        (MANAGER, "sla:home"),
        (CHANGE_MANAGER, "changes:home"),
        (CAB_MEMBER, "changes:home"),
        (PROBLEM_MANAGER, "problems:home"),
        (MANAGER, "incidents:incident_list"),
    ):
        if has_role(user, role):
            try:
                return redirect(destination)
            except NoReverseMatch:
                log.debug("home: %s is not served yet", destination)
    return redirect("portal:home")


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.exception("health: database unreachable")
        return False
    return True


def broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        log.warning("health: broker unreachable", exc_info=True)
        return False
    return True


@never_cache
@require_GET
def health(request):
    """200 when the database answers, 503 when it does not; the broker is reported."""
    database = database_ok()
    broker = broker_ok()
    status = "ok" if database and broker else ("degraded" if database else "down")
    return JsonResponse(
        {
            "status": status,
            "database": "ok" if database else "error",
            "broker": "ok" if broker else "error",
        },
        status=200 if database else 503,
    )
