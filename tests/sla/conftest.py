"""Builders for SLA tests: calendars, policies and incidents at written-out instants."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sla.models import Calendar, Policy

PARIS = ZoneInfo("Europe/Paris")
MINUTE = 60
HOUR = 3600
ALWAYS_HOURS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]
OFFICE_HOURS = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def make_calendar(name="Paris office", timezone="Europe/Paris", hours=None, holidays=()):
    calendar = Calendar.objects.create(
        name=name, timezone=timezone, hours=OFFICE_HOURS if hours is None else hours
    )
    for day in holidays:
        calendar.holidays.create(date=day, name="Holiday")
    return calendar


def make_policy(
    calendar,
    *,
    name=None,
    priorities=(),
    response=15 * MINUTE,
    resolution=4 * HOUR,
    order=100,
    **fields,
):
    fields.setdefault("pause_on", ["awaiting_caller", "awaiting_vendor"])
    return Policy.objects.create(
        name=name or f"P{''.join(map(str, priorities)) or 'any'} {order}",
        priorities=list(priorities),
        calendar=calendar,
        response_seconds=response,
        resolution_seconds=resolution,
        order=order,
        **fields,
    )


@pytest.fixture
def always(db):
    return make_calendar("Always", "UTC", ALWAYS_HOURS)


@pytest.fixture
def office(db):
    return make_calendar()
