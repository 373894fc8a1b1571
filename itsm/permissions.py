"""Roles and the access rules every app shares (SPEC §1: deny by default).

Roles are Django groups; ``admin`` is the superuser flag. A user with no role is an end user.
Apps state their own ``visible_to`` / ``can_<verb>`` rules on top of these helpers.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

AGENT = "agent"
CAB_MEMBER = "cab_member"
CHANGE_MANAGER = "change_manager"
PROBLEM_MANAGER = "problem_manager"
MANAGER = "manager"
ADMIN = "admin"

ROLES = (AGENT, CAB_MEMBER, CHANGE_MANAGER, PROBLEM_MANAGER, MANAGER, ADMIN)
GROUP_ROLES = ROLES[:-1]
ROLE_LABELS = {
    AGENT: _("Agent"),
    CAB_MEMBER: _("CAB member"),
    CHANGE_MANAGER: _("Change manager"),
    PROBLEM_MANAGER: _("Problem manager"),
    MANAGER: _("Manager"),
    ADMIN: _("Administrator"),
}
# Roles that work tickets of every type (see every incident, request, change and the CMDB).
STAFF_ROLES = frozenset({AGENT, CHANGE_MANAGER, PROBLEM_MANAGER, MANAGER, ADMIN})
# Roles that may be given tickets to work (assignees): agents, and admins who hold every role.
ASSIGNABLE_ROLES = (AGENT,)


def user_roles(user) -> frozenset[str]:
    """The role names of ``user``, cached on the instance for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_itsm_roles", None)
    if cached is None:
        names = set(user.groups.filter(name__in=GROUP_ROLES).values_list("name", flat=True))
        if user.is_superuser:
            names.add(ADMIN)
        cached = frozenset(names)
        user._itsm_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    """True when ``user`` holds any of ``roles``; admins hold every role."""
    held = user_roles(user)
    return ADMIN in held or bool(held.intersection(roles))


def is_staff_member(user) -> bool:
    return bool(user_roles(user) & STAFF_ROLES)


def is_end_user(user) -> bool:
    return getattr(user, "is_authenticated", False) and not user_roles(user)


def users_with_role(*roles: str):
    """Active users holding any of ``roles`` (admins hold every role), as a queryset; the
    one query behind assignee pickers, the API's assignee check and "notify the managers"."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    users = get_user_model().objects.filter(is_active=True)
    named = [role for role in roles if role != ADMIN]
    return users.filter(Q(groups__name__in=named) | Q(is_superuser=True)).distinct()


def staff_user_ids(user_ids) -> set[int]:
    """Which of ``user_ids`` belong to staff (one query): who wrote a line, seen by a
    requester as "the service desk" or as themself."""
    if not user_ids:
        return set()
    return set(
        users_with_role(*STAFF_ROLES).filter(pk__in=set(user_ids)).values_list("pk", flat=True)
    )


def get_visible_or_404(queryset, user, **lookup):
    """The one object matching ``lookup`` among those ``user`` may see, else 404."""
    try:
        return queryset.visible_to(user).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


def check_fields(sent, allowed, *, message=None) -> None:
    """Refuse, naming each one, the fields of ``sent`` outside ``allowed`` (400): a field a
    caller may not set is an error, never silently dropped nor silently applied."""
    outside = sorted(set(sent) - set(allowed))
    if outside:
        text = message or _("You may not set this field.")
        raise ValidationError({name: [text] for name in outside})


class ReadView:
    """``obj`` seen through the fields a reader may read: any other attribute reads as
    missing, which a template renders as nothing. The portal renders tickets through it, with
    the same field list the API's end-user serializer uses, so neither can show more."""

    __slots__ = ("_obj", "_names")

    def __init__(self, obj, names):
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_names", frozenset(names))

    def __getattr__(self, name):
        if name in self._names:
            return getattr(self._obj, name)
        raise AttributeError(name)

    def __setattr__(self, name, value):
        raise AttributeError("read-only")

    def __str__(self) -> str:
        return str(self._obj)


class HasRole(permissions.BasePermission):
    """DRF permission: the whole area is open to the listed roles only (403 otherwise)."""

    roles: tuple[str, ...] = ()

    @classmethod
    def of(cls, *roles: str) -> type["HasRole"]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": roles})

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *self.roles)


def role_required(*roles: str):
    """View decorator: log in first, then 403 unless the user holds one of ``roles``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                # imported here: auth.views loads the user model, which imports this module
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
