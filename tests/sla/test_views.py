"""Manager pages (dashboard, calendars, policies), the ticket panel and the desk queue."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from incidents.models import Incident
from incidents.services import change_state
from itsm.testing import make_incident, make_team
from sla.dashboard import at_risk as dashboard_at_risk
from sla.dashboard import parse_filters
from sla.models import Calendar, Policy, Timer
from sla.panels import breached as breached_queue
from sla.panels import breaching_soon, sla_panel
from sla.scanner import scan_due

from .conftest import HOUR, MINUTE, make_policy, utc

pytestmark = pytest.mark.django_db

DASHBOARD = "/sla/"


@pytest.fixture
def client_for():
    def login(user):
        client = Client()
        client.force_login(user)
        return client

    return login


def resolve(incident, agent):
    change_state(
        incident, "resolved", actor=agent, resolution_code="fixed", resolution_notes="Done."
    )


@pytest.fixture
def history(always, alice):
    """Week of 2 March 2026 (24×7, 1 h resolution, 10 h response): two incidents resolved in
    time, one late; and one still open and breached, one due soon."""
    make_policy(always, response=10 * HOUR, resolution=HOUR)
    team = make_team("Service Desk", members=[alice])
    made = []
    for minutes in (30, 50, 90):
        with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
            incident = make_incident(actor=alice, impact=2, urgency=2, assignment_group=team)
        with time_machine.travel(utc(2026, 3, 2, 9) + timedelta(minutes=minutes), tick=False):
            resolve(incident, alice)
        made.append(incident)
    with time_machine.travel(utc(2026, 3, 4, 8), tick=False):
        made.append(make_incident(actor=alice, assignment_group=team))  # breaches 09:00
    with time_machine.travel(utc(2026, 3, 4, 9, 30), tick=False):
        made.append(make_incident(actor=alice, assignment_group=team))  # due 10:30
    scan_due(utc(2026, 3, 4, 10))
    return made


# --- Dashboard -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("rita", 403), ("alice", 403), ("max_", 200)])
def test_dashboard_is_for_managers(client_for, request, who, status):
    response = client_for(request.getfixturevalue(who)).get(DASHBOARD)
    assert response.status_code == status


def test_dashboard_redirects_anonymous_to_login():
    response = Client().get(DASHBOARD)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_dashboard_shows_compliance_breached_now_and_at_risk(client_for, max_, history):
    with time_machine.travel(utc(2026, 3, 4, 10), tick=False):
        response = client_for(max_).get(DASHBOARD, {"from": "2026-03-01", "to": "2026-03-31"})
    assert response.status_code == 200
    context = response.context
    # resolution: 2 met + 1 breached (09:00+1h < 10:30) + the open one breached at 09:00;
    # response: 3 met (resolution meets response), the two open ones still run.
    assert context["totals"] == {"met": 5, "breached": 2, "compliance": 71.4}
    assert [(r["label"], r["met"], r["breached"]) for r in context["groups"][0][2]] == [
        ("P3", 5, 1),
        ("P5", 0, 1),
    ]
    assert context["breached_total"] == 1
    assert context["at_risk_total"] == 1
    html = response.content.decode()
    assert history[3].number in html and history[4].number in html
    assert 'data-chart="priority"' in html and "vendor/chart.js/chart.umd.js" in html


def test_dashboard_defaults_to_the_last_30_days(client_for, max_):
    with time_machine.travel(utc(2026, 3, 31, 12), tick=False):
        filters = client_for(max_).get(DASHBOARD).context["filters"]
    assert (str(filters.start), str(filters.end)) == ("2026-03-02", "2026-03-31")


def test_dashboard_refuses_bad_dates_with_a_message(client_for, max_):
    response = client_for(max_).get(DASHBOARD, {"from": "yesterday"})
    assert response.status_code == 200
    assert "from" in response.context["errors"]


def test_dashboard_metric_filter(client_for, max_, history):
    with time_machine.travel(utc(2026, 3, 4, 10), tick=False):
        response = client_for(max_).get(
            DASHBOARD, {"from": "2026-03-01", "to": "2026-03-31", "metric": "response"}
        )
    assert response.context["totals"] == {"met": 3, "breached": 0, "compliance": 100.0}


@pytest.mark.parametrize("table", ["priority", "team", "service", "trend", "breached", "at_risk"])
def test_each_table_downloads_as_csv(client_for, max_, history, table):
    with time_machine.travel(utc(2026, 3, 4, 10), tick=False):
        response = client_for(max_).get(
            DASHBOARD, {"from": "2026-03-01", "to": "2026-03-31", "format": "csv", "table": table}
        )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) >= 2
    if table == "priority":
        assert rows == [
            ["key", "label", "met", "breached", "compliance"],
            ["3", "P3", "5", "1", "83.3"],
            ["5", "P5", "0", "1", "0.0"],
        ]
    if table == "team":
        assert rows[1][1:4] == ["Service Desk", "5", "2"]


def test_csv_defuses_formulas_in_titles(client_for, max_, always, alice):
    make_policy(always, resolution=HOUR)
    with time_machine.travel(utc(2026, 3, 4, 8), tick=False):
        make_incident(actor=alice, title="=HYPERLINK(1)")
    with time_machine.travel(utc(2026, 3, 4, 10), tick=False):
        response = client_for(max_).get(DASHBOARD, {"format": "csv", "table": "breached"})
    assert "'=HYPERLINK(1)" in response.content.decode()


def test_dashboard_query_count_does_not_grow_with_data(
    client_for, max_, always, alice, django_assert_max_num_queries
):
    make_policy(always, response=10 * HOUR, resolution=HOUR)
    client = client_for(max_)

    def load(n):
        for _ in range(n):
            with time_machine.travel(utc(2026, 3, 4, 8), tick=False):
                make_incident(actor=alice)
        scan_due(utc(2026, 3, 4, 10))
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with (
            time_machine.travel(utc(2026, 3, 4, 10), tick=False),
            CaptureQueriesContext(connection) as queries,
        ):
            assert client.get(DASHBOARD).status_code == 200
        return len(queries)

    few = load(2)
    many = load(25)
    assert few == many
    assert many <= 20


# --- Calendar and policy pages ------------------------------------------------------------------


def test_manager_creates_a_calendar_with_split_shifts(client_for, max_):
    data = {
        "name": "Split",
        "timezone": "Europe/Paris",
        "monday": "09:00-12:00, 13:00-18:00",
        "tuesday": "9:00-18:00",
        "holidays": "2026-05-01 Fête du travail",
    }
    response = client_for(max_).post(reverse("sla:calendar_add"), data)
    assert response.status_code == 302
    calendar = Calendar.objects.get(name="Split")
    assert calendar.hours == [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "13:00", "end": "18:00"},
        {"weekday": 1, "start": "09:00", "end": "18:00"},
    ]
    assert calendar.holidays.get().name == "Fête du travail"


def test_a_calendar_without_working_time_is_refused_with_a_clear_message(client_for, max_):
    response = client_for(max_).post(
        reverse("sla:calendar_add"), {"name": "Never", "timezone": "UTC"}
    )
    assert response.status_code == 400
    assert "needs working time" in response.content.decode()
    assert not Calendar.objects.filter(name="Never").exists()


def test_calendar_form_reports_errors_per_weekday(client_for, max_):
    response = client_for(max_).post(
        reverse("sla:calendar_add"),
        {"name": "Bad", "timezone": "UTC", "monday": "9-18", "friday": "18:00-09:00"},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "monday" in form.errors
    assert form.errors["friday"] == ["“18:00-09:00” ends before it starts."]


def test_calendar_import_adds_public_holidays(client_for, max_):
    response = client_for(max_).post(
        reverse("sla:calendar_add"),
        {
            "name": "France",
            "timezone": "Europe/Paris",
            "monday": "09:00-18:00",
            "import_country": "FR",
            "import_years": "2026",
        },
    )
    assert response.status_code == 302
    days = {
        str(d) for d in Calendar.objects.get(name="France").holidays.values_list("date", flat=True)
    }
    assert {"2026-01-01", "2026-07-14", "2026-12-25"} <= days


def test_agents_cannot_edit_configuration(client_for, alice):
    assert client_for(alice).get(reverse("sla:calendar_list")).status_code == 403
    assert client_for(alice).get(reverse("sla:policy_add")).status_code == 403


def test_manager_creates_a_policy_with_human_durations(client_for, max_, office):
    data = {
        "name": "P3",
        "applies_to": "incident",
        "priorities": ["3"],
        "calendar": office.pk,
        "order": "30",
        "response": "4h",
        "resolution": "27h",
        "pause_on": ["awaiting_caller", "awaiting_vendor"],
        "warn_at": "50, 75, 90",
        "warning_notify": ["assignee"],
        "breach_notify": ["assignee", "team_lead", "managers"],
        "active": "on",
    }
    response = client_for(max_).post(reverse("sla:policy_add"), data)
    assert response.status_code == 302, response.context["form"].errors
    policy = Policy.objects.get(name="P3")
    assert (policy.response_seconds, policy.resolution_seconds) == (4 * HOUR, 27 * HOUR)
    assert policy.priorities == [3] and policy.warn_at == [50, 75, 90]
    page = client_for(max_).get(reverse("sla:policy_detail", args=[policy.pk]))
    assert 'value="27h"' in page.content.decode()


def test_policy_form_explains_a_bad_duration(client_for, max_, office):
    response = client_for(max_).post(
        reverse("sla:policy_add"),
        {
            "name": "X",
            "applies_to": "incident",
            "calendar": office.pk,
            "order": "1",
            "response": "soon",
            "resolution": "4h",
        },
    )
    assert response.status_code == 400
    assert "response" in response.context["form"].errors


# --- Ticket panel and desk queue -----------------------------------------------------------------


def test_panel_shows_time_left_overrun_and_paused(always, alice, rita):
    make_policy(always, response=15 * MINUTE, resolution=4 * HOUR)
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        incident = make_incident(actor=alice)
    with time_machine.travel(utc(2026, 3, 2, 9, 30), tick=False):
        template, context = sla_panel(incident, alice)
        from django.template.loader import render_to_string

        html = render_to_string(template, {"panel": context})
    assert template == "sla/_ticket_sla.html"
    assert "Overrun: 15 min" in html  # response breached at 09:15
    assert "3 h 30 min left" in html
    assert 'role="progressbar"' in html
    assert sla_panel(incident, rita) is None  # end users do not see SLA internals
    with time_machine.travel(utc(2026, 3, 2, 9, 40), tick=False):
        change_state(incident, "on_hold", actor=alice, hold_reason="awaiting_caller")
        html = render_to_string(template, sla_panel(incident, alice)[1])  # portal style
    assert "Paused with 3 h 20 min left" in html


def test_desk_ticket_page_includes_the_panel(client_for, always, alice):
    make_policy(always)
    incident = make_incident(actor=alice)
    response = client_for(alice).get(incident.get_absolute_url())
    assert response.status_code == 200
    assert "Service levels" in response.content.decode()


def test_breaching_soon_lists_running_timers_soonest_first_and_the_breached_apart(always, alice):
    make_policy(always, response=20 * HOUR, resolution=5 * HOUR)
    with time_machine.travel(utc(2026, 3, 2, 4), tick=False):
        breached = make_incident(actor=alice)  # due 09:00
    with time_machine.travel(utc(2026, 3, 2, 3), tick=False):
        older = make_incident(actor=alice)  # due 08:00: the longer overrun
    with time_machine.travel(utc(2026, 3, 2, 8), tick=False):
        later = make_incident(actor=alice)  # due 13:00
    with time_machine.travel(utc(2026, 3, 2, 7), tick=False):
        soon = make_incident(actor=alice)  # due 12:00
    with time_machine.travel(utc(2026, 3, 2, 9, 30), tick=False):
        beyond = make_incident(actor=alice)  # due 14:30, past the four-hour horizon
        paused = make_incident(actor=alice)
        change_state(paused, "on_hold", actor=alice, hold_reason="awaiting_caller")
    with time_machine.travel(utc(2026, 3, 2, 10), tick=False):
        rows = list(breaching_soon(Incident.objects.all()))
        overdue = list(breached_queue(Incident.objects.all()))
        dashboard, _total = dashboard_at_risk(parse_filters({})[0])
    assert rows == [soon, later]
    assert beyond not in rows and paused not in rows
    assert overdue == [older, breached]
    assert [row["ticket"] for row in dashboard] == rows  # the same "at risk in the next 4 h"
    assert Timer.objects.filter(incident=breached, state="running").exists()  # not yet scanned


def test_configuration_lists_render_for_managers(client_for, max_, office):
    make_policy(office, name="P3 moderate", priorities=[3])
    client = client_for(max_)
    policies = client.get(reverse("sla:policy_list"))
    calendars = client.get(reverse("sla:calendar_list"))
    edit = client.get(reverse("sla:calendar_detail", args=[office.pk]))
    assert policies.status_code == calendars.status_code == edit.status_code == 200
    assert "P3 moderate" in policies.content.decode()
    assert "Paris office" in calendars.content.decode()
    assert 'value="09:00-18:00"' in edit.content.decode()


def test_a_stale_edit_is_refused_with_409(client_for, max_, office):
    data = {"name": office.name, "timezone": "UTC", "monday": "08:00-17:00", "version": "0"}
    response = client_for(max_).post(reverse("sla:calendar_detail", args=[office.pk]), data)
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("start", "end", "unit", "buckets", "first"),
    [
        ("2026-03-01", "2026-03-07", "day", 7, "2026-03-01"),
        ("2026-01-01", "2026-03-31", "week", 14, "2025-12-29"),
        ("2025-04-01", "2026-03-31", "month", 12, "2025-04-01"),
    ],
)
def test_the_trend_follows_the_chosen_period(
    client_for, max_, history, start, end, unit, buckets, first
):
    with time_machine.travel(utc(2026, 3, 4, 10), tick=False):
        response = client_for(max_).get(DASHBOARD, {"from": start, "to": end})
        csv_response = client_for(max_).get(
            DASHBOARD, {"from": start, "to": end, "format": "csv", "table": "trend"}
        )
    trend = response.context["trend"]
    assert len(trend) == buckets and {row["unit"] for row in trend} == {unit}
    assert trend[0]["start"].isoformat() == first
    total = response.context["totals"]
    assert sum(r["met"] for r in trend) == total["met"]
    assert sum(r["breached"] for r in trend) == total["breached"]
    rows = list(csv.reader(io.StringIO(csv_response.content.decode())))
    assert rows[0] == ["period", "unit", "start", "met", "breached", "compliance"]
    assert len(rows) == buckets + 1
    assert f'filename="sla-trend-{start}-to-{end}.csv"' in csv_response["Content-Disposition"]


def test_csv_names_carry_what_was_exported(client_for, max_, history):
    with time_machine.travel(utc(2026, 3, 4, 10, 7), tick=False):
        names = {
            table: client_for(max_).get(
                DASHBOARD,
                {"from": "2026-03-01", "to": "2026-03-31", "format": "csv", "table": table},
            )["Content-Disposition"]
            for table in ("team", "breached", "at_risk")
        }
    assert names["team"] == 'attachment; filename="sla-team-2026-03-01-to-2026-03-31.csv"'
    assert names["breached"] == 'attachment; filename="sla-breached-2026-03-04T1007.csv"'
    assert names["at_risk"] == 'attachment; filename="sla-at-risk-2026-03-04T1007.csv"'


def test_the_demo_calendars_holidays_are_named_in_the_demos_language(db):
    from sla.demo import paris_calendar

    names = set(paris_calendar().holidays.values_list("name", flat=True))
    assert "New Year's Day" in names and "Jour de l'an" not in names
