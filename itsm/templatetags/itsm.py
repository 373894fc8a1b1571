import functools

from django import template
from django.http import QueryDict
from django.utils import formats, timezone
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


# --- Shell: base layout, login page, portal home ------------------------------------------

NAV_ICONS = {
    "portal:home": "bi-house-door",
    "incidents:incident_list": "bi-inboxes",
    "changes:home": "bi-arrow-repeat",
    "problems:home": "bi-bug",
    "cmdb:home": "bi-diagram-3",
    "sla:home": "bi-stopwatch",
    "reports:home": "bi-bar-chart-line",
    "admin:index": "bi-gear",
}


@register.filter
def nav_icon(url: str) -> str:
    """The Bootstrap icon class of a navigation entry, from the view its URL resolves to."""
    from django.urls import Resolver404, resolve

    try:
        name = resolve(url).view_name
    except Resolver404:
        return "bi-dot"
    return NAV_ICONS.get(name, "bi-dot")


@register.filter
def role_label(name: str) -> str:
    """``change_manager`` → ``Change manager`` (translated)."""
    from itsm.permissions import ROLE_LABELS

    return ROLE_LABELS.get(name, name)


@register.filter
def initials(user) -> str:
    """Two letters for an avatar: first and last name, else the username."""
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    if first and last:
        return (first[:1] + last[:1]).upper()
    return (getattr(user, "username", "") or "")[:2].upper()


@register.simple_tag
def first_url(*names: str) -> str:
    """The path of the first URL name that exists, else ``""``: links to pages not built yet
    simply do not appear (``{% first_url "portal:incident_add" as report_url %}``)."""
    from django.urls import NoReverseMatch, reverse

    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


@register.simple_tag
@functools.cache
def itsm_version() -> str:
    """The installed version of the product (``pyproject.toml``), or ``""``; read once per
    process (the package metadata lookup walks ``sys.path``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("itsm")
    except PackageNotFoundError:
        return ""


@register.simple_tag
def demo_logins() -> list[dict]:
    """The demo accounts present in this database, in the embedded default only (it is for
    trying the product; a production login page never lists accounts): ``DEMO_LOGINS``."""
    from django.conf import settings

    if not settings.DEMO_LOGINS:
        return []
    from accounts.models import User
    from itsm.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS
    from itsm.permissions import ROLE_LABELS

    present = set(
        User.objects.filter(
            username__in=[row[0] for row in DEMO_USERS], is_active=True
        ).values_list("username", flat=True)
    )
    return [
        {
            "username": username,
            "name": f"{first} {last}",
            "roles": [ROLE_LABELS[r] for r in roles] or [_("End user")],
            "password": DEMO_PASSWORD,
        }
        for username, first, last, roles, _teams in DEMO_USERS
        if username in present
    ]


def _span(seconds: int) -> str:
    """``5 min``, ``3 h``, ``2 d``, ``4 wk``: the largest unit, rounded down."""
    from django.utils.translation import gettext

    if seconds >= 604800:
        return gettext("%(n)d wk") % {"n": seconds // 604800}
    if seconds >= 86400:
        return gettext("%(n)d d") % {"n": seconds // 86400}
    if seconds >= 3600:
        return gettext("%(n)d h") % {"n": seconds // 3600}
    return gettext("%(n)d min") % {"n": max(1, seconds // 60)}


@register.filter
def since(moment) -> str:
    """A short relative time for dense lists: ``5 min``, ``3 h``, ``2 d``, ``4 wk``.

    One translation lookup per call (``naturaltime`` makes several), which matters on a page of
    fifty rows; the exact instant goes in a ``<time datetime>`` attribute beside it.
    """
    if moment is None:
        return ""
    from django.utils.translation import gettext

    seconds = max(0, int((timezone.now() - moment).total_seconds()))
    if seconds < 60:
        return gettext("now")
    return _span(seconds)


@register.filter
def instant(moment) -> str:
    """The one way an instant reads: in the viewer's time zone (their preference, else the
    server's), in their language's format (``Dec. 2, 2026, 10:11 a.m.``,
    ``2 décembre 2026 10:11``). Put the ISO instant in a ``<time datetime>`` around it."""
    if moment is None:
        return ""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return formats.date_format(local, "DATETIME_FORMAT")


@register.simple_tag
def now_instant():
    return instant(timezone.now())


@register.filter
def zone_hint(zone) -> str:
    """`` (calendar: Europe/Paris)`` when a calendar counts in another zone than the one the
    viewer reads times in; nothing when they are the same."""
    name = str(zone or "")
    if not name or name == timezone.get_current_timezone_name():
        return ""
    return " " + _("(calendar: %(zone)s)") % {"zone": name}


@register.filter
def time_left(due) -> str:
    """Where people scan a queue: ``3 h left``, ``20 min overdue``."""
    if due is None:
        return ""
    seconds = int((due - timezone.now()).total_seconds())
    if seconds >= 0:
        return _("%(span)s left") % {"span": _span(seconds)}
    return _("%(span)s overdue") % {"span": _span(-seconds)}


@register.filter
def marked(field):
    """A bound field's widget, marked red and described by its errors when it has some
    (``{{ field|marked }}``; its errors go in ``<div id="<id>_errors">``)."""
    if not field.errors:
        return field
    css = field.field.widget.attrs.get("class", "")
    return field.as_widget(
        attrs={
            "class": f"{css} is-invalid".strip(),
            "aria-invalid": "true",
            "aria-describedby": f"{field.auto_id}_errors",
        }
    )


@register.simple_tag
def change_line(who, field, old, new) -> str:
    """One audited change as a sentence: a value set, cleared or changed (never "changed X
    from — to Y"); the field's label quoted, so that it reads as a sentence in any language."""
    values = {"who": who, "field": field, "old": old, "new": new}
    if old in (None, "", "—"):
        return _("%(who)s set “%(field)s” to %(new)s") % values
    if new in (None, "", "—"):
        return _("%(who)s cleared “%(field)s” (was %(old)s)") % values
    return _("%(who)s changed “%(field)s” from %(old)s to %(new)s") % values


# Query parameters a list link never carries over: the page it was on, the download format,
# and the HTMX partial's own markers.
_LIST_LINK_DROPS = ("cursor", "page", "format")


def _list_query(context, **extra) -> str:
    request = context.get("request")
    query = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for name in _LIST_LINK_DROPS:
        query.pop(name, None)
    for name, value in extra.items():
        if value:
            query[name] = value
    return "?" + query.urlencode()


@register.simple_tag(takes_context=True)
def list_page_url(context, cursor: str) -> str:
    """The list on another page (``cursor``), its filters, queue and sort kept."""
    return _list_query(context, cursor=cursor)


@register.simple_tag(takes_context=True)
def list_csv_url(context) -> str:
    """The whole list, filters, queue and sort kept, as CSV (``itsm.exports``)."""
    return _list_query(context, format="csv")
