from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .permissions import (
    ADMIN,
    AGENT,
    CAB_MEMBER,
    CHANGE_MANAGER,
    MANAGER,
    PROBLEM_MANAGER,
    has_role,
    user_roles,
)

# (url name, label, roles that see it; empty = every signed-in user)
NAVIGATION = [
    ("portal:home", _("Portal"), ()),
    ("incidents:incident_list", _("Agent desk"), (AGENT, MANAGER)),
    ("changes:home", _("Changes"), (AGENT, CAB_MEMBER, CHANGE_MANAGER, MANAGER)),
    ("problems:home", _("Problems"), (AGENT, PROBLEM_MANAGER, MANAGER)),
    ("cmdb:home", _("CMDB"), (AGENT, CHANGE_MANAGER, PROBLEM_MANAGER, MANAGER)),
    ("sla:home", _("SLA"), (MANAGER,)),
    ("reports:home", _("Reports"), (MANAGER,)),
    ("admin:index", _("Admin"), (ADMIN,)),
]


# Counts beside a navigation entry (work waiting for the user), registered by the app that owns
# the entry: url name → (callable(user) -> int | None, label read by screen readers).
BADGES: dict = {}


def nav_badge(name: str, count, *, label) -> None:
    BADGES[name] = (count, label)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for name, label, roles in NAVIGATION:
        if roles and not has_role(user, *roles):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        item = {"url": url, "label": label, "active": request.path.startswith(url)}
        if name in BADGES:
            count, badge_label = BADGES[name]
            item["badge"], item["badge_label"] = count(user), badge_label
        items.append(item)
    return {"nav_items": items, "user_roles": sorted(user_roles(user))}


def notifications(request):
    """The bell's unread count, counted only if the page shows it (one COUNT at most)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from django.utils.functional import SimpleLazyObject

    from .models import Notification

    return {
        "unread_notifications": SimpleLazyObject(lambda: Notification.objects.unread_count(user))
    }
