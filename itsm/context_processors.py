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
    ("catalog:request_list", _("Requests"), (AGENT, MANAGER)),
    ("changes:home", _("Changes"), (AGENT, CAB_MEMBER, CHANGE_MANAGER, MANAGER)),
    ("problems:home", _("Problems"), (AGENT, PROBLEM_MANAGER, MANAGER)),
    ("cmdb:home", _("CMDB"), (AGENT, CHANGE_MANAGER, PROBLEM_MANAGER, MANAGER)),
    ("sla:home", _("SLA"), (MANAGER,)),
    ("catalog:item_list", _("Catalog"), (MANAGER,)),
    ("reports:home", _("Reports"), (MANAGER,)),
    ("admin:index", _("Admin"), (ADMIN,)),
]


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
        items.append({"url": url, "label": label, "active": request.path.startswith(url)})
    # one entry is current: the most specific (``/desk/requests/`` over ``/desk/``)
    current = max(
        (item for item in items if item["active"]), key=lambda i: len(i["url"]), default=None
    )
    for item in items:
        item["active"] = item is current
    return {"nav_items": items, "user_roles": sorted(user_roles(user))}
