"""Who gets what from every SLA route: the manager pages and the configuration API (SPEC §1,
§4, §11).

One table, read by ``itsm.testing.PermissionMatrix``: every route of ``sla`` and of the SLA
configuration API, every method, every kind of caller (a ticket's timers,
``api:incidents-sla``, are in the incident table). Managers (and admins) own SLA
configuration and the SLA dashboard: the ``/sla/`` pages are theirs alone, a 403 for every
other role and for end users; anonymous visitors are sent to sign in. Through the API every
staff member reads calendars and policies (the desk needs them to explain a timer), only
managers and admins change them; end users and CAB-only members get a 403 for the whole area,
anonymous callers a 401. Calendars and policies are not secret to those who may enter the
area, so a missing one is the only 404.
"""

from types import SimpleNamespace

from itsm.testing import PermissionMatrix, expect, row
from sla.models import Calendar, Policy

OWNERS = ("manager", "admin")

# --- Statuses that repeat


def page(status: int) -> dict[str, int]:
    """A manager page: sign in first, then ``status`` for managers and admins, 403 for all
    other callers."""
    return expect(302, end_users=403, staff=403, **dict.fromkeys(OWNERS, status))


PAGE = page(200)
PAGE_SAVED = page(302)  # a form saved (or a delete done) redirects to its list
PAGE_MISSING = page(404)

API_READ = expect(401, end_users=403, staff=200)
API_MISSING = expect(401, end_users=403, staff=404)


def api_configure(status: int) -> dict[str, int]:
    return expect(401, end_users=403, staff=403, **dict.fromkeys(OWNERS, status))


# --- Addresses and bodies

OFFICE_HOURS = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]


def calendar(scene):
    return {"pk": scene.calendar.pk}


def spare_calendar(scene):
    return {"pk": scene.spare_calendar.pk}


def policy(scene):
    return {"pk": scene.policy.pk}


def spare_policy(scene):
    return {"pk": scene.spare_policy.pk}


def missing(scene):
    return {"pk": 999_999}


def calendar_body(scene=None):
    return {"name": "Lyon office", "timezone": "Europe/Paris", "hours": OFFICE_HOURS}


def policy_body(scene):
    return {
        "name": "P1 incidents",
        "applies_to": "incident",
        "priorities": [1],
        "calendar": scene.calendar.pk,
        "order": 10,
        "response_seconds": 15 * 60,
        "resolution_seconds": 4 * 3600,
    }


def calendar_form(scene=None):
    days = ("monday", "tuesday", "wednesday", "thursday", "friday")
    return {
        "name": "Lyon office",
        "timezone": "Europe/Paris",
        **dict.fromkeys(days, "09:00-12:00, 13:00-18:00"),
        "holidays": "2026-12-25 Christmas",
    }


def policy_form(scene):
    return {
        "name": "P1 incidents",
        "applies_to": "incident",
        "priorities": ["1"],
        "calendar": scene.calendar.pk,
        "order": 10,
        "response": "15m",
        "resolution": "4h",
        "warn_at": "50, 75, 90",
        "warning_notify": ["assignee"],
        "breach_notify": ["assignee", "team_lead"],
        "active": "on",
    }


class TestSLAPermissions(PermissionMatrix):
    owns = ("sla:", "api:sla-")

    def scene(self):
        office = Calendar.objects.create(name="Paris office", timezone="Europe/Paris", hours=[])
        spare = Calendar.objects.create(name="Spare", timezone="UTC", hours=OFFICE_HOURS)
        in_use = Policy.objects.create(
            name="Everything", calendar=office, response_seconds=3600, resolution_seconds=28800
        )
        unused = Policy.objects.create(
            name="Unused", calendar=office, response_seconds=60, resolution_seconds=600, order=900
        )
        return SimpleNamespace(
            calendar=office, spare_calendar=spare, policy=in_use, spare_policy=unused
        )

    rows = [
        # --- API: calendars
        row("api:sla-calendar-list", "GET", API_READ),
        row("api:sla-calendar-list", "POST", api_configure(201), body=calendar_body),
        row("api:sla-calendar-detail", "GET", API_READ, args=calendar),
        row("api:sla-calendar-detail", "GET", API_MISSING, args=missing),
        row(
            "api:sla-calendar-detail",
            "PATCH",
            api_configure(200),
            args=calendar,
            body={"hours": OFFICE_HOURS},
        ),
        row(
            "api:sla-calendar-detail",
            "PUT",
            api_configure(200),
            args=calendar,
            body={**calendar_body(), "name": "Paris office"},
        ),
        row("api:sla-calendar-detail", "DELETE", api_configure(204), args=spare_calendar),
        # --- API: policies
        row("api:sla-policy-list", "GET", API_READ),
        row("api:sla-policy-list", "POST", api_configure(201), body=policy_body),
        row("api:sla-policy-detail", "GET", API_READ, args=policy),
        row("api:sla-policy-detail", "GET", API_MISSING, args=missing),
        row(
            "api:sla-policy-detail",
            "PATCH",
            api_configure(200),
            args=policy,
            body={"resolution_seconds": 6 * 3600},
        ),
        row(
            "api:sla-policy-detail",
            "PUT",
            api_configure(200),
            args=policy,
            body=lambda scene: {**policy_body(scene), "name": "Everything"},
        ),
        row("api:sla-policy-detail", "DELETE", api_configure(204), args=spare_policy),
        # --- The dashboard
        row("sla:home", "GET", PAGE),
        row("sla:home", "GET", PAGE, body={"format": "csv", "table": "breached"}),
        # --- Calendars
        row("sla:calendar_list", "GET", PAGE),
        row("sla:calendar_add", "GET", PAGE),
        row("sla:calendar_add", "POST", PAGE_SAVED, body=calendar_form, format="form"),
        row("sla:calendar_detail", "GET", PAGE, args=calendar),
        row("sla:calendar_detail", "GET", PAGE_MISSING, args=missing),
        row(
            "sla:calendar_detail",
            "POST",
            PAGE_SAVED,
            args=calendar,
            body={**calendar_form(), "name": "Paris office"},
            format="form",
        ),
        row("sla:calendar_delete", "POST", PAGE_SAVED, args=spare_calendar, format="form"),
        # --- Policies
        row("sla:policy_list", "GET", PAGE),
        row("sla:policy_add", "GET", PAGE),
        row("sla:policy_add", "POST", PAGE_SAVED, body=policy_form, format="form"),
        row("sla:policy_detail", "GET", PAGE, args=policy),
        row("sla:policy_detail", "GET", PAGE_MISSING, args=missing),
        row(
            "sla:policy_detail",
            "POST",
            PAGE_SAVED,
            args=policy,
            body=lambda scene: {**policy_form(scene), "name": "Everything"},
            format="form",
        ),
        row("sla:policy_delete", "POST", PAGE_SAVED, args=spare_policy, format="form"),
    ]
