import logging
import sys

from django import db
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from . import approvals, notify
from .celery import app as celery_app
from .models import Notification
from .pagination import paginate
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


# --- The notification centre

NOTIFICATIONS_PAGE = 30
KIND_ICONS = {
    "created": "bi-plus-circle",
    "assigned": "bi-person-check",
    "comment": "bi-chat-left-text",
    "state": "bi-arrow-left-right",
    "approval_requested": "bi-check2-square",
    "sla_warning": "bi-hourglass-split",
    "sla_breach": "bi-alarm",
}
KIND_HELP = {
    "created": gettext_lazy("A ticket you reported was logged (with its number)."),
    "assigned": gettext_lazy("A ticket was assigned to you or to your team."),
    "comment": gettext_lazy("Someone replied on a ticket you follow."),
    "state": gettext_lazy("A ticket you follow changed state (resolved, on hold...)."),
    "approval_requested": gettext_lazy("Your approval is needed."),
    "sla_warning": gettext_lazy("A ticket you work on is close to its SLA target."),
    "sla_breach": gettext_lazy("A ticket you work on missed its SLA target."),
}


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or default
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return default
    return target


@require_safe
@login_required
def notification_list(request):
    """The signed-in person's notifications, newest first, all or unread only."""
    unread = request.GET.get("unread") == "1"
    rows = Notification.objects.inbox(request.user)
    if unread:
        rows = rows.filter(read_at__isnull=True)
    page = paginate(
        rows.only(
            "id",
            "kind",
            "ticket",
            "url",
            "subject",
            "message",
            "created_at",
            "read_at",
            "email_state",
            "recipient_id",
        ),
        ["-created_at", "-id"],
        cursor=request.GET.get("cursor"),
        size=NOTIFICATIONS_PAGE,
    )
    for row in page.rows:
        row.icon = KIND_ICONS.get(row.kind, "bi-bell")
    return render(
        request,
        "itsm/notification_list.html",
        {"page": page, "notifications": page.rows, "unread_only": unread},
    )


@login_required
@require_POST
def notification_read(request, pk):
    """Mark one notification read, then follow it (``next``: its ticket) or come back."""
    notification = get_object_or_404(Notification.objects.inbox(request.user), pk=pk)
    notify.mark_read(notification, actor=request.user)
    if request.headers.get("HX-Request") and "open" not in request.POST:
        return render(
            request,
            "itsm/_notification_row.html",
            {"notification": notification, "icon": KIND_ICONS.get(notification.kind)},
        )
    default = notification.url if "open" in request.POST and notification.url else None
    return redirect(_next_url(request, default or reverse("notifications:list")))


@login_required
@require_POST
def notification_read_all(request):
    marked = notify.mark_all_read(actor=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked read.", "%(count)d notifications marked read.", marked
        )
        % {"count": marked},
    )
    return redirect(_next_url(request, reverse("notifications:list")))


@require_http_methods(["GET", "POST"])
@login_required
def notification_preferences(request):
    """Per kind of event: in the app, by email, both or neither."""
    if request.method == "POST":
        choices = {
            kind: {
                "email": f"{kind}-email" in request.POST,
                "in_app": f"{kind}-in_app" in request.POST,
            }
            for kind in notify.KINDS
        }
        notify.set_preferences(request.user, choices, actor=request.user)
        messages.success(request, _("Your notification preferences are saved."))
        return redirect("notifications:preferences")
    rows = notify.preferences_of(request.user)
    for item in rows:
        item["help"] = KIND_HELP.get(item["kind"], "")
        item["icon"] = KIND_ICONS.get(item["kind"], "bi-bell")
    return render(
        request,
        "itsm/notification_preferences.html",
        {"preferences": rows, "has_email": bool(request.user.email)},
    )


# --- Approval links from emails


@never_cache
@require_http_methods(["GET", "POST"])
def approval_link(request, token):
    """GET: what the link will do, and a button to confirm; POST: do it, once. No sign-in
    needed: the signed link names the approver."""
    try:
        link = approvals.read(token)
        approvals.check(link)
        if request.method == "POST":
            comment = request.POST.get("comment", "").strip()
            try:
                approvals.decide(token, comment=comment)
            except ValidationError as exc:
                return render(
                    request,
                    "itsm/approval_link.html",
                    {"link": link, "errors": exc.messages, "comment": comment},
                    status=400,
                )
            return render(request, "itsm/approval_link.html", {"link": link, "done": True})
    except approvals.LinkRefused as refused:
        return render(
            request, "itsm/approval_link.html", {"refused": refused}, status=refused.status
        )
    other = request.user.is_authenticated and request.user.pk != link.approver.pk
    return render(request, "itsm/approval_link.html", {"link": link, "other_user": other})


# --- Error pages

# What a database that is restarting, failing over or out of connections raises: the request
# gets the product's 503 (the page, or JSON for the API) with Retry-After, not a 500; the next
# request reconnects (CONN_HEALTH_CHECKS), no restart of the app needed.
DATABASE_DOWN = (db.OperationalError, db.InterfaceError)
RETRY_AFTER_SECONDS = 5


def server_error(request, template_name="500.html"):
    """``handler500``: a database that does not answer is a 503, any other error a 500."""
    error = sys.exc_info()[1]
    if not isinstance(error, DATABASE_DOWN):
        return defaults.server_error(request, template_name)
    log.error("database unavailable: %s %s answered 503 (%s)", request.method, request.path, error)
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": _("The service is briefly unavailable; try again shortly.")}, status=503
        )
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
