"""Manager forms for calendars and policies. They parse what people type (``09:00-12:00,
13:00-18:00``, ``4h 30m``) into the API's shapes; ``sla.config`` validates and saves."""

import re
from datetime import date
from functools import lru_cache
from zoneinfo import available_timezones

import holidays as holiday_data
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from cmdb.models import CI

from .config import WEEKDAY_NAMES, hold_reasons
from .models import AppliesTo, Calendar, Recipient

RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*$")
DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?\s*$", re.I)
CLOCK = re.compile(r"^\s*(\d+):(\d{2})\s*$")
WEEKDAY_FIELDS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones()) if "/" in name or name == "UTC"]


@lru_cache(maxsize=1)
def country_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(code, code) for code in sorted(holiday_data.list_supported_countries())]


def parse_ranges(text: str) -> list[tuple[str, str]]:
    """``"09:00-12:00, 13:00-18:00"`` → ``[("09:00", "12:00"), ("13:00", "18:00")]``, each
    range checked (real times, start before end, no overlap) with a message for the day."""
    result = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", text or ""))):
        match = RANGE.match(part)
        if not match:
            raise ValidationError(
                _("“%(value)s” is not a range like 09:00-18:00."), params={"value": part}
            )
        start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
        start, end = start_h * 60 + start_m, end_h * 60 + end_m
        if start_h > 23 or start_m > 59 or end_m > 59 or end > 24 * 60:
            raise ValidationError(
                _("“%(value)s”: times go from 00:00 to 24:00."), params={"value": part}
            )
        if start >= end:
            raise ValidationError(_("“%(value)s” ends before it starts."), params={"value": part})
        result.append((start, end, f"{start_h:02d}:{start_m:02d}", f"{end_h:02d}:{end_m:02d}"))
    result.sort()
    for (_s, end, a, b), (start, _e, c, d) in zip(result, result[1:], strict=False):
        if start < end:
            raise ValidationError(
                _("%(first)s and %(second)s overlap."),
                params={"first": f"{a}-{b}", "second": f"{c}-{d}"},
            )
    return [(a, b) for _s, _e, a, b in result]


def format_ranges(ranges) -> str:
    return ", ".join(f"{start}-{end}" for start, end in ranges)


def parse_duration(text: str) -> int:
    """``15m``, ``4h``, ``4h 30m``, ``27h``, ``1:30`` → seconds."""
    text = (text or "").strip()
    clock = CLOCK.match(text)
    if clock:
        return int(clock[1]) * 3600 + int(clock[2]) * 60
    match = DURATION.match(text)
    if text and match and any(match.groups()):
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds
    raise ValidationError(_("Write a duration such as 15m, 4h, 4h 30m or 27h."))


def format_duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    if minutes:
        parts.append(f"{minutes}m")
    if secs or not parts:
        parts.append(f"{secs}s")
    return " ".join(parts)


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices, initial="UTC")
    holidays = forms.CharField(
        label=_("Dates"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("One per line: a date YYYY-MM-DD, then its name."),
    )
    import_country = forms.ChoiceField(
        label=_("Add the public holidays of"),
        choices=country_choices,
        required=False,
        help_text=_("Country code (ISO 3166), e.g. FR."),
    )
    import_years = forms.CharField(
        label=_("for the years"),
        required=False,
        help_text=_("Comma-separated, e.g. 2026, 2027."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, instance: Calendar | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)
        for index, field in enumerate(WEEKDAY_FIELDS):
            self.fields[field] = forms.CharField(label=WEEKDAY_NAMES[index], required=False)
        order = ["name", "timezone", *WEEKDAY_FIELDS, "holidays", "import_country"]
        self.order_fields(order)

    @staticmethod
    def initial_from(calendar: Calendar) -> dict:
        initial = {
            "name": calendar.name,
            "timezone": calendar.timezone,
            "version": calendar.version,
            "holidays": "\n".join(
                f"{h.date.isoformat()} {h.name}".strip() for h in calendar.holidays.all()
            ),
        }
        for index, field in enumerate(WEEKDAY_FIELDS):
            initial[field] = format_ranges(
                (h["start"], h["end"]) for h in calendar.hours if h["weekday"] == index
            )
        return initial

    @property
    def weekday_fields(self):
        return [self[name] for name in WEEKDAY_FIELDS]

    def clean(self):
        data = super().clean()
        hours = []
        for index, field in enumerate(WEEKDAY_FIELDS):
            try:
                ranges = parse_ranges(data.get(field, ""))
            except ValidationError as exc:
                self.add_error(field, exc)
                continue
            hours.extend({"weekday": index, "start": s, "end": e} for s, e in ranges)
        data["hours"] = hours
        data["holiday_list"] = self._holidays(data)
        return data

    def _holidays(self, data) -> list[dict]:
        days = []
        for number, line in enumerate((data.get("holidays") or "").splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            value, _sep, name = line.partition(" ")
            try:
                days.append({"date": date.fromisoformat(value), "name": name.strip()})
            except ValueError:
                self.add_error(
                    "holidays",
                    _("Line %(n)s: “%(value)s” is not a date YYYY-MM-DD.")
                    % {"n": number, "value": value},
                )
        country = data.get("import_country")
        if country:
            try:
                years = [int(y) for y in re.split(r"[,\s]+", data.get("import_years") or "") if y]
            except ValueError:
                years = []
            if not years or any(not 1970 <= y <= 2100 for y in years):
                self.add_error("import_years", _("Give one or more years, e.g. 2026, 2027."))
            else:
                known = {d["date"] for d in days}
                public = holiday_data.country_holidays(country, years=years)
                days.extend(
                    {"date": day, "name": str(name)[:100]}
                    for day, name in sorted(public.items())
                    if day not in known
                )
        return days


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    applies_to = forms.ChoiceField(label=_("Applies to"), choices=AppliesTo.choices)
    priorities = forms.TypedMultipleChoiceField(
        label=_("Priorities"),
        choices=[(p, f"P{p}") for p in range(1, 6)],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every priority."),
    )
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=CI.objects.none(),
        required=False,
        empty_label=_("Any service"),
    )
    calendar = forms.ModelChoiceField(label=_("Calendar"), queryset=Calendar.objects.none())
    order = forms.IntegerField(
        label=_("Order"), initial=100, help_text=_("Policies are tried in ascending order.")
    )
    response = forms.CharField(
        label=_("Response target"),
        help_text=_("Business time on the calendar, e.g. 15m, 4h, 8h."),
    )
    resolution = forms.CharField(
        label=_("Resolution target"),
        help_text=_("Business time, e.g. 4h, or 27h for three 9-hour business days."),
    )
    pause_on = forms.MultipleChoiceField(
        label=_("Pause both timers while on hold for"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    warn_at = forms.CharField(
        label=_("Warn at (% of the target)"),
        initial="50, 75, 90",
        required=False,
        help_text=_("Comma-separated percentages; empty: no warnings."),
    )
    warning_notify = forms.MultipleChoiceField(
        label=_("At a warning, notify"),
        choices=Recipient.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=["assignee", "team_lead"],
    )
    warning_raise_priority = forms.BooleanField(
        label=_("At a warning, raise the priority one level"), required=False
    )
    warning_reassign_to = forms.ModelChoiceField(
        label=_("At a warning, reassign to"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("Nobody (keep)"),
    )
    breach_notify = forms.MultipleChoiceField(
        label=_("At a breach, notify"),
        choices=Recipient.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=["assignee", "team_lead"],
    )
    breach_raise_priority = forms.BooleanField(
        label=_("At a breach, raise the priority one level"), required=False
    )
    breach_reassign_to = forms.ModelChoiceField(
        label=_("At a breach, reassign to"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("Nobody (keep)"),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, instance=None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = CI.objects.services().order_by("name")
        self.fields["calendar"].queryset = Calendar.objects.order_by("name")
        teams = Team.objects.order_by("name")
        self.fields["warning_reassign_to"].queryset = teams
        self.fields["breach_reassign_to"].queryset = teams
        labels = _hold_labels()
        self.fields["pause_on"].choices = [
            (reason, labels.get(reason, reason))
            for applies_to in AppliesTo.values
            for reason in hold_reasons(applies_to)
        ]

    @staticmethod
    def initial_from(policy) -> dict:
        initial = {
            name: getattr(policy, name)
            for name in (
                "name",
                "applies_to",
                "priorities",
                "order",
                "pause_on",
                "warning_notify",
                "warning_raise_priority",
                "breach_notify",
                "breach_raise_priority",
                "active",
                "version",
            )
        }
        initial.update(
            service=policy.service_id,
            calendar=policy.calendar_id,
            warning_reassign_to=policy.warning_reassign_to_id,
            breach_reassign_to=policy.breach_reassign_to_id,
            response=format_duration(policy.response_seconds),
            resolution=format_duration(policy.resolution_seconds),
            warn_at=", ".join(str(p) for p in policy.warn_at),
        )
        return initial

    def clean_response(self):
        return parse_duration(self.cleaned_data["response"])

    def clean_resolution(self):
        return parse_duration(self.cleaned_data["resolution"])

    def clean_warn_at(self):
        text = self.cleaned_data.get("warn_at") or ""
        try:
            values = sorted({int(v) for v in re.split(r"[,;\s]+", text) if v.strip()})
        except ValueError:
            raise ValidationError(_("Write whole percentages, e.g. 50, 75, 90.")) from None
        if any(not 1 <= v <= 99 for v in values):
            raise ValidationError(_("Each percentage must be between 1 and 99."))
        return values

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["response_seconds"] = data.pop("response")
        data["resolution_seconds"] = data.pop("resolution")
        data.pop("version", None)
        return data


def _hold_labels() -> dict:
    """What each pause value reads as, named with the ticket type it is for."""
    from .tickets import KINDS

    labels = {}
    for kind in KINDS:
        try:
            field = kind.model._meta.get_field(kind.hold_field)
        except LookupError:
            continue
        kind_label = AppliesTo(kind.key).label
        for value, label in field.choices:
            if value in kind.pause_choices():
                labels[value] = f"{kind_label}: {label}"
    return labels
