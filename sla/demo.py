"""Demo SLA configuration (``manage.py seed_demo``): a Paris office-hours calendar with French
public holidays, the default 24×7 calendar and one policy per priority. Idempotent."""

from datetime import date

import holidays as holiday_data
from django.conf import settings
from django.utils import timezone

from .config import default_calendar, save_calendar, save_policy
from .models import Calendar, Policy

MINUTE, HOUR = 60, 3600
# The holidays' names in the demo's language (the library speaks French by default).
DEMO_HOLIDAYS = "fr" if settings.LANGUAGE_CODE.startswith("fr") else "en_US"
BUSINESS_DAY = 9 * HOUR  # Paris office hours, 09:00–18:00
PARIS_HOURS = [{"weekday": day, "start": "09:00", "end": "18:00"} for day in range(5)]
PAUSE_ON = ["awaiting_caller", "awaiting_vendor"]
# name, priority, calendar ("always" / "paris"), response, resolution
POLICIES = [
    ("P1 critical", 1, "always", 15 * MINUTE, 4 * HOUR),
    ("P2 high", 2, "always", 30 * MINUTE, 8 * HOUR),
    ("P3 moderate", 3, "paris", 4 * HOUR, 3 * BUSINESS_DAY),
    ("P4 low", 4, "paris", 8 * HOUR, 5 * BUSINESS_DAY),
    ("P5 planning", 5, "paris", 2 * BUSINESS_DAY, 10 * BUSINESS_DAY),
]


def seed_demo(progress=None) -> None:
    if progress is not None:
        progress.set_postfix_str("sla: calendars")
    calendars = {"always": default_calendar(), "paris": paris_calendar()}
    if progress is not None:
        progress.set_postfix_str("sla: policies")
    existing = set(Policy.objects.values_list("name", flat=True))
    for order, (name, priority, calendar, response, resolution) in enumerate(POLICIES, 1):
        if name in existing:
            continue
        save_policy(
            None,
            {
                "name": name,
                "applies_to": "incident",
                "priorities": [priority],
                "calendar": calendars[calendar],
                "order": order * 10,
                "response_seconds": response,
                "resolution_seconds": resolution,
                "pause_on": PAUSE_ON,
                "breach_notify": ["assignee", "team_lead", "managers"]
                if priority <= 2
                else ["assignee", "team_lead"],
            },
            actor=None,
        )


def paris_calendar() -> Calendar:
    calendar = Calendar.objects.filter(name="Paris office hours").first()
    if calendar is not None:
        return calendar
    year = timezone.localdate().year
    french = holiday_data.country_holidays("FR", years=[year, year + 1], language=DEMO_HOLIDAYS)
    return save_calendar(
        None,
        name="Paris office hours",
        timezone="Europe/Paris",
        hours=PARIS_HOURS,
        holidays=[
            {"date": day, "name": str(name)[:100]}
            for day, name in sorted(french.items())
            if isinstance(day, date)
        ],
        actor=None,
    )


def finish_demo(progress=None) -> int:
    """After back-dated demo tickets were seeded: mark the levels their timers crossed in the
    past as handled, so the first scan does not mail weeks of history. Returns the timers."""
    from .services import quiet_past_levels

    return quiet_past_levels()
