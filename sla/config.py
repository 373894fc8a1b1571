"""Writes to SLA configuration: calendars and policies (managers; SPEC §4, §11).

Both the API and the manager pages call these. Each validates with per-field messages
(``ValidationError({field: [...]})`` → 400), refuses a stale ``version`` (409), bumps the
version and, once committed, has running and paused timers recomputed (``sla.tasks.recompute``).
"""

from __future__ import annotations

import logging
import re
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _

from itsm import broker
from itsm.workflow import Conflict, StaleVersion

from .calendar import CalendarError, WorkingCalendar
from .models import BREACH, AppliesTo, Calendar, Holiday, Policy, Recipient, RecomputeJob
from .permissions import check_configure
from .tickets import kind_by_key

log = logging.getLogger(__name__)

HHMM = re.compile(r"^(\d{2}):(\d{2})$")
WEEKDAY_NAMES = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)


# --- Calendars --------------------------------------------------------------------------------


def _minutes(value, *, end: bool) -> int | None:
    match = HHMM.match(value) if isinstance(value, str) else None
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if minute >= 60 or hour > 24 or (hour == 24 and (minute or not end)):
        return None
    return hour * 60 + minute


def clean_hours(hours) -> list[dict]:
    """``[{"weekday", "start", "end"}]`` checked and sorted; ValidationError on ``hours``."""
    if not isinstance(hours, list | tuple):
        raise ValidationError({"hours": [_("A list of working ranges is expected.")]})
    errors, ranges = [], []
    for index, item in enumerate(hours, start=1):
        if not isinstance(item, dict):
            errors.append(_("Range %(n)s: expected weekday, start and end.") % {"n": index})
            continue
        weekday = item.get("weekday")
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            errors.append(
                _("Range %(n)s: the weekday must be 0 (Monday) to 6 (Sunday).") % {"n": index}
            )
            continue
        start = _minutes(item.get("start"), end=False)
        end = _minutes(item.get("end"), end=True)
        if start is None:
            errors.append(
                _("Range %(n)s: the start must be a time from 00:00 to 23:59.") % {"n": index}
            )
        if end is None:
            errors.append(
                _("Range %(n)s: the end must be a time from 00:01 to 24:00.") % {"n": index}
            )
        if start is None or end is None:
            continue
        if start >= end:
            errors.append(
                _("Range %(n)s: %(start)s–%(end)s ends before it starts.")
                % {"n": index, "start": item["start"], "end": item["end"]}
            )
            continue
        ranges.append((weekday, start, end, item["start"], item["end"]))
    ranges.sort()
    for (day, _s, end, s1, e1), (day2, start2, _e, s2, e2) in zip(ranges, ranges[1:], strict=False):
        if day == day2 and start2 < end:
            errors.append(
                _("%(day)s: %(a)s and %(b)s overlap.")
                % {"day": WEEKDAY_NAMES[day], "a": f"{s1}–{e1}", "b": f"{s2}–{e2}"}
            )
    if errors:
        raise ValidationError({"hours": errors})
    if not ranges:
        raise ValidationError(
            {"hours": [_("A calendar needs working time: add at least one working range.")]}
        )
    return [{"weekday": d, "start": s, "end": e} for d, _a, _b, s, e in ranges]


def clean_timezone(name) -> str:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ValidationError(
            {"timezone": [_("“%(value)s” is not a known IANA time zone.") % {"value": name}]}
        ) from None
    return str(name)


def clean_holidays(holidays) -> list[tuple[date, str]]:
    """``[{"date": "YYYY-MM-DD", "name"}]`` (or dates) → sorted ``(date, name)``, unique days."""
    if not isinstance(holidays, list | tuple):
        raise ValidationError({"holidays": [_("A list of holidays is expected.")]})
    days: dict[date, str] = {}
    errors = []
    for index, item in enumerate(holidays, start=1):
        value, name = (
            (item.get("date"), item.get("name", ""))
            if isinstance(item, dict)
            else (
                item,
                "",
            )
        )
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                value = None
        if not isinstance(value, date):
            errors.append(_("Holiday %(n)s: a date YYYY-MM-DD is expected.") % {"n": index})
            continue
        days[value] = str(name or "")[:100]
    if errors:
        raise ValidationError({"holidays": errors})
    return sorted(days.items())


def validate_calendar(timezone, hours, holidays) -> tuple[str, list, list]:
    errors: dict[str, list] = {}
    cleaned = {}
    for field, cleaner, value in (
        ("timezone", clean_timezone, timezone),
        ("hours", clean_hours, hours),
        ("holidays", clean_holidays, holidays),
    ):
        try:
            cleaned[field] = cleaner(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    try:  # the engine's own checks: the last word
        WorkingCalendar.from_spec(
            cleaned["timezone"], cleaned["hours"], [d for d, _n in cleaned["holidays"]]
        )
    except CalendarError as exc:
        raise ValidationError({"hours": [str(exc)]}) from exc
    return cleaned["timezone"], cleaned["hours"], cleaned["holidays"]


@transaction.atomic
def save_calendar(
    calendar: Calendar | None, *, name, timezone, hours, holidays, actor=None, version=None
) -> Calendar:
    """Create (``calendar=None``) or edit a calendar; an edit recomputes its running timers."""
    check_configure(actor)
    timezone, hours, holidays = validate_calendar(timezone, hours, holidays)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("This field is required.")]})
    clash = Calendar.objects.filter(name=name)
    if calendar is not None:
        clash = clash.exclude(pk=calendar.pk)
    if clash.exists():
        raise ValidationError({"name": [_("A calendar with this name already exists.")]})
    if calendar is None:
        calendar = Calendar.objects.create(name=name, timezone=timezone, hours=hours)
        edited = False
    else:
        calendar = Calendar.objects.select_for_update().get(pk=calendar.pk)
        if version is not None and calendar.version != version:
            raise StaleVersion()
        before = calendar.spec()
        calendar.name, calendar.timezone, calendar.hours = name, timezone, hours
        new_spec = {**calendar.spec([d for d, _n in holidays])}
        edited = before != new_spec
        if edited:
            calendar.version += 1
        calendar.save()
        calendar.holidays.all().delete()
    Holiday.objects.bulk_create(Holiday(calendar=calendar, date=d, name=n) for d, n in holidays)
    if edited:
        _recompute_on_commit(calendar_id=calendar.pk)
    return calendar


@transaction.atomic
def delete_calendar(calendar: Calendar, *, actor=None) -> None:
    check_configure(actor)
    if calendar.is_default:
        raise Conflict(_("The default 24×7 calendar cannot be deleted."))
    if calendar.policies.exists():
        raise Conflict(_("Policies use this calendar; change them first."))
    try:
        calendar.holidays.all().delete()
        calendar.delete()
    except ProtectedError as exc:
        raise Conflict(_("Timers were measured against this calendar; it is kept.")) from exc


def default_calendar() -> Calendar:
    calendar = Calendar.objects.filter(is_default=True).first()
    if calendar is None:
        calendar, _created = Calendar.objects.get_or_create(
            name="24×7",
            defaults={
                "timezone": "UTC",
                "hours": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
                "is_default": True,
            },
        )
    return calendar


# --- Policies ---------------------------------------------------------------------------------

POLICY_FIELDS = (
    "name",
    "applies_to",
    "priorities",
    "service",
    "calendar",
    "order",
    "response_seconds",
    "resolution_seconds",
    "pause_on",
    "warn_at",
    "warning_notify",
    "warning_raise_priority",
    "warning_reassign_to",
    "breach_notify",
    "breach_raise_priority",
    "breach_reassign_to",
    "active",
)
# Changing any of these changes what running timers measure (or which policy they follow).
MEASURING_FIELDS = set(POLICY_FIELDS) - {
    "name",
    "warning_notify",
    "warning_raise_priority",
    "warning_reassign_to",
    "breach_notify",
    "breach_raise_priority",
    "breach_reassign_to",
}


def hold_reasons(applies_to: str) -> list[str]:
    """The values a policy of ``applies_to`` may pause on (an incident's hold reasons, a
    request's wait for approval)."""
    try:
        return kind_by_key(applies_to).pause_choices()
    except LookupError:  # a kind whose app is not installed
        return []


def _int_list(values, field, *, low, high, errors) -> list[int]:
    if not isinstance(values, list | tuple):
        errors[field] = [_("A list of whole numbers is expected.")]
        return []
    result = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[field] = [
                _("Each value must be a whole number from %(low)s to %(high)s.")
                % {"low": low, "high": high}
            ]
            return []
        result.append(value)
    return sorted(set(result))


def _choice_list(values, field, choices, errors) -> list[str]:
    if not isinstance(values, list | tuple) or any(v not in choices for v in values):
        errors[field] = [
            _("Each value must be one of: %(choices)s.") % {"choices": ", ".join(choices)}
        ]
        return []
    return [c for c in choices if c in set(values)]


def validate_policy(values: dict) -> dict:
    """Check the list-valued fields (model and serializer fields check the rest)."""
    errors: dict[str, list] = {}
    cleaned = dict(values)
    applies_to = values.get("applies_to", AppliesTo.INCIDENT)
    if "priorities" in values:
        cleaned["priorities"] = _int_list(
            values["priorities"], "priorities", low=1, high=5, errors=errors
        )
    if "warn_at" in values:
        cleaned["warn_at"] = _int_list(
            values["warn_at"], "warn_at", low=1, high=BREACH - 1, errors=errors
        )
    if "pause_on" in values:
        cleaned["pause_on"] = _choice_list(
            values["pause_on"], "pause_on", hold_reasons(applies_to), errors
        )
    for field in ("warning_notify", "breach_notify"):
        if field in values:
            cleaned[field] = _choice_list(values[field], field, Recipient.values, errors)
    for field in ("response_seconds", "resolution_seconds"):
        if field in values and (
            not isinstance(values[field], int) or not 1 <= values[field] <= 10 * 366 * 86400
        ):
            errors[field] = [_("A target of at least one second is required.")]
    service = values.get("service")
    if service is not None and not service.is_service:
        errors["service"] = [_("Choose a business service.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def save_policy(policy: Policy | None, values: dict, *, actor=None, version=None) -> Policy:
    """Create (``policy=None``) or edit a policy; an edit that changes what timers measure
    recomputes running and paused timers (met and breached ones never change)."""
    check_configure(actor)
    values = validate_policy({k: v for k, v in values.items() if k in POLICY_FIELDS})
    if policy is None:
        policy = Policy(**values)
        policy.full_clean()
        policy.save()
        _recompute_on_commit(applies_to=policy.applies_to)
        return policy
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if version is not None and policy.version != version:
        raise StaleVersion()
    changed = {
        name
        for name, value in values.items()
        if getattr(policy, f"{name}_id" if name in _FK else name)
        != (value.pk if name in _FK and value is not None else value)
    }
    applies_before = policy.applies_to
    for name, value in values.items():
        setattr(policy, name, value)
    policy.full_clean()
    if changed & MEASURING_FIELDS:
        policy.version += 1
    policy.save()
    if changed & MEASURING_FIELDS:
        _recompute_on_commit(applies_to=policy.applies_to)
        if applies_before != policy.applies_to:
            _recompute_on_commit(applies_to=applies_before)
    return policy


_FK = {"service", "calendar", "warning_reassign_to", "breach_reassign_to"}


@transaction.atomic
def delete_policy(policy: Policy, *, actor=None) -> None:
    check_configure(actor)
    if policy.timers.exists():
        raise Conflict(_("Timers were measured against this policy; deactivate it instead."))
    policy.delete()


def _recompute_on_commit(**scope) -> None:
    """Owe a recompute, in the edit's transaction (``RecomputeJob``), and hand it to a worker
    once committed; if the broker cannot take it, the scanner's sweep does it."""
    job = RecomputeJob.objects.create(
        calendar_id=scope.get("calendar_id"), applies_to=scope.get("applies_to") or ""
    )

    def enqueue():
        from .tasks import recompute

        broker.send(recompute, job.pk)  # or the scanner's sweep does it

    transaction.on_commit(enqueue)
