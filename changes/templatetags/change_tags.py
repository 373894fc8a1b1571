"""Template helpers of the change pages: a change's window, cheaply formatted (the calendar
and the agenda show hundreds of them; Django's ``date`` filter re-checks the time zone's
ambiguity on every call)."""

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


def _day(moment) -> str:
    return formats.date_format(moment.date(), "D j M")


@register.simple_tag
def window(change):
    """``Mon 7 Dec, 21:00 – 23:00`` (the end's day only when it differs), in local time."""
    start, end = change.planned_start, change.planned_end
    if start is None or end is None:
        return format_html('<span class="text-body-secondary">{}</span>', _("No window yet"))
    start, end = timezone.localtime(start), timezone.localtime(end)
    end_label = f"{end:%H:%M}" if start.date() == end.date() else f"{_day(end)}, {end:%H:%M}"
    return format_html(
        '<time datetime="{}">{}, {}</time> – <time datetime="{}">{}</time>',
        start.isoformat(),
        _day(start),
        f"{start:%H:%M}",
        end.isoformat(),
        end_label,
    )


@register.filter
def hm(moment) -> str:
    """``21:00`` in local time."""
    return f"{timezone.localtime(moment):%H:%M}" if moment else ""
