"""One way to show time (issue 18): every instant in the viewer's time zone, one format per
language, the calendar's zone only as a hint where it differs, relative times where people
scan."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from accounts.services import update_profile
from itsm.templatetags.itsm import instant, time_left, zone_hint

NOON_UTC = datetime(2026, 12, 2, 12, 5, tzinfo=UTC)


def test_an_instant_reads_in_the_active_zone_in_the_languages_one_format():
    with timezone.override(ZoneInfo("Europe/Paris")):
        with translation.override("en"):
            assert instant(NOON_UTC) == "Dec. 2, 2026, 1:05 p.m."
        with translation.override("fr"):
            assert instant(NOON_UTC) == "2 décembre 2026 13:05"
    with timezone.override(UTC), translation.override("en"):
        assert instant(NOON_UTC) == "Dec. 2, 2026, 12:05 p.m."
    assert instant(None) == ""


def test_the_calendars_zone_is_a_hint_only_where_it_differs():
    with timezone.override(ZoneInfo("Europe/Paris")), translation.override("en"):
        assert zone_hint("Europe/Paris") == ""
        assert zone_hint("America/New_York") == " (calendar: America/New_York)"


def test_time_left_and_overdue_read_at_a_glance():
    with time_machine.travel(NOON_UTC, tick=False), translation.override("en"):
        assert time_left(NOON_UTC + timedelta(hours=3, minutes=20)) == "3 h left"
        assert time_left(NOON_UTC - timedelta(minutes=20)) == "20 min overdue"
        assert time_left(None) == ""


@pytest.mark.parametrize(("zone", "shown"), [("", "12:05"), ("Asia/Tokyo", "21:05")])
def test_pages_show_times_in_the_users_own_zone(client, alice, settings, zone, shown):
    settings.TIME_ZONE = "UTC"
    update_profile(alice, {"time_zone": zone}, actor=alice)
    client.force_login(alice)
    with time_machine.travel(NOON_UTC, tick=False):
        response = client.get(reverse("time_zone"), HTTP_ACCEPT_LANGUAGE="fr")
    assert f"2 décembre 2026 {shown}" in response.content.decode()


def test_a_person_chooses_their_time_zone_and_an_unknown_one_is_refused(client, rita):
    client.force_login(rita)
    response = client.post(reverse("time_zone"), {"time_zone": "Europe/Paris"})
    assert response.status_code == 302
    rita.refresh_from_db()
    assert rita.time_zone == "Europe/Paris"
    response = client.post(reverse("time_zone"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    rita.refresh_from_db()
    assert rita.time_zone == "Europe/Paris"


def test_the_api_me_takes_a_time_zone(api, rita):
    api.force_authenticate(rita)
    response = api.patch("/api/v1/users/me/", {"time_zone": "Nowhere/City"}, format="json")
    assert response.status_code == 400
    assert "time_zone" in response.json()
    response = api.patch("/api/v1/users/me/", {"time_zone": "Asia/Tokyo"}, format="json")
    assert response.status_code == 200
    assert response.json()["time_zone"] == "Asia/Tokyo"
