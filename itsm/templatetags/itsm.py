from django import template
from django.utils.translation import gettext as _

from itsm.markdown import render_markdown
from itsm.permissions import has_role, is_end_user, user_roles

register = template.Library()


@register.filter
def markdown(text: str):
    return render_markdown(text)


@register.filter
def filesize(size: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


@register.filter
def role(user, name: str) -> bool:
    return has_role(user, *name.split(","))


@register.filter
def end_user(user) -> bool:
    return is_end_user(user)


@register.simple_tag
def roles_of(user) -> list[str]:
    return sorted(user_roles(user))


@register.filter
def duration(seconds) -> str:
    """``3725`` → ``1 h 2 min``; negative values keep their sign."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(_("%(n)d d") % {"n": days})
    if hours:
        parts.append(_("%(n)d h") % {"n": hours})
    if minutes and not days:
        parts.append(_("%(n)d min") % {"n": minutes})
    return sign + (" ".join(parts) or _("< 1 min"))
