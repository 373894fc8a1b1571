from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def business_duration(seconds) -> str:
    """Business time in hours and minutes (``27 h``, ``4 h 30 min``): a business "day" depends
    on the calendar, so days are never shown."""
    if seconds is None or seconds == "":
        return ""
    seconds = abs(int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(_("%(n)d h") % {"n": hours})
    if minutes:
        parts.append(_("%(n)d min") % {"n": minutes})
    if not parts:
        return _("%(n)d s") % {"n": secs}
    return " ".join(parts)


@register.filter
def percent(value) -> str:
    return "–" if value is None else f"{value:.1f} %"
