"""The notification centre: the bell on every page (one COUNT at most), the list with links
to the tickets, marking read, the preferences page, and the API of SPEC §11."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import services
from itsm import notify
from itsm.models import Notification
from itsm.testing import make_incident


def notification_counts(queries) -> list[str]:
    return [
        q["sql"] for q in queries if 'FROM "itsm_notification"' in q["sql"] and "COUNT" in q["sql"]
    ]


def test_the_bell_shows_the_unread_count_on_desk_and_portal_pages(db, client, rita, alice):
    incident = make_incident(requester=rita)
    services.comment(incident, actor=alice, body="On it")
    unread = Notification.objects.unread_count(rita)
    assert unread == 2  # "logged" and alice's reply
    client.force_login(rita)
    for url in (reverse("portal:home"), reverse("portal:ticket_detail", args=[incident.number])):
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url)
        assert page.status_code == 200
        assert len(notification_counts(queries)) == 1
        html = page.content.decode()
        assert 'class="app-bell-count" aria-hidden="true">2</span>' in html
        assert "Notifications: 2 unread" in html
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("incidents:incident_detail", args=[incident.number]))
    assert len(notification_counts(queries)) == 1
    assert 'href="/notifications/"' in page.content.decode()


def test_a_page_without_the_bell_counts_nothing(db, client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("login")).status_code == 200
    assert notification_counts(queries) == []


def test_the_list_shows_ones_own_notifications_with_links_to_the_tickets(
    db, client, rita, eve, alice
):
    mine = make_incident(requester=rita, title="Mine")
    make_incident(requester=eve, title="Hers")
    client.force_login(rita)
    html = client.get(reverse("notifications:list")).content.decode()
    assert "Mine" in html and "Hers" not in html
    [row] = Notification.objects.filter(recipient=rita)
    assert f'action="{reverse("notifications:read", args=[row.pk])}"' in html
    assert mine.number in html


def test_the_list_costs_the_same_queries_for_five_or_sixty_rows(
    db, client, rita, django_assert_max_num_queries
):
    incident = make_incident(requester=rita)
    for _ in range(60):
        notify.notify([rita], kind="state", ticket=incident, subject="s %(number)s", message="m")
    client.force_login(rita)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("notifications:list"))
    assert page.content.decode().count('class="list-group-item notification-row') == 30
    assert "Older" in page.content.decode()
    older = page.context["page"].next_cursor
    assert client.get(reverse("notifications:list"), {"cursor": older}).status_code == 200


def test_opening_a_notification_marks_it_read_and_goes_to_its_ticket(db, client, rita):
    incident = make_incident(requester=rita)
    row = Notification.objects.get(recipient=rita, kind="created")
    client.force_login(rita)
    answer = client.post(reverse("notifications:read", args=[row.pk]), {"open": "1"})
    assert answer.status_code == 302
    assert answer.url == f"/portal/tickets/{incident.number}/"
    row.refresh_from_db()
    assert row.read


def test_mark_read_through_htmx_answers_the_row(db, client, rita):
    make_incident(requester=rita)
    row = Notification.objects.get(recipient=rita, kind="created")
    client.force_login(rita)
    answer = client.post(reverse("notifications:read", args=[row.pk]), HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert f'id="notification-{row.pk}"' in answer.content.decode()
    assert "is-unread" not in answer.content.decode()


def test_someone_elses_notification_is_not_found(db, client, rita, eve):
    make_incident(requester=rita)
    row = Notification.objects.get(recipient=rita, kind="created")
    client.force_login(eve)
    assert client.post(reverse("notifications:read", args=[row.pk])).status_code == 404
    row.refresh_from_db()
    assert not row.read


def test_a_next_address_elsewhere_is_not_followed(db, client, rita):
    make_incident(requester=rita)
    row = Notification.objects.get(recipient=rita, kind="created")
    client.force_login(rita)
    answer = client.post(
        reverse("notifications:read", args=[row.pk]), {"next": "https://evil.example/"}
    )
    assert answer.url == reverse("notifications:list")


def test_mark_all_read(db, client, rita, alice):
    incident = make_incident(requester=rita)
    services.comment(incident, actor=alice, body="x")
    client.force_login(rita)
    answer = client.post(reverse("notifications:read_all"))
    assert answer.status_code == 302
    assert Notification.objects.unread_count(rita) == 0
    assert Notification.objects.unread_count(alice) > 0  # only one's own


def test_the_unread_filter(db, client, rita, alice):
    incident = make_incident(requester=rita)
    services.comment(incident, actor=alice, body="first")
    first = Notification.objects.filter(recipient=rita).order_by("id").first()
    notify.mark_read(first, actor=rita)
    client.force_login(rita)
    page = client.get(reverse("notifications:list"), {"unread": "1"})
    assert [n.pk for n in page.context["notifications"]] == list(
        Notification.objects.filter(recipient=rita, read_at__isnull=True)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )


def test_the_preferences_page_saves_each_choice(db, client, rita):
    client.force_login(rita)
    page = client.get(reverse("notifications:preferences"))
    assert page.status_code == 200
    assert page.content.decode().count('type="checkbox"') == 14
    form = {f"{kind}-{channel}": "on" for kind in notify.KINDS for channel in ("email", "in_app")}
    del form["comment-email"], form["sla_warning-in_app"]
    assert client.post(reverse("notifications:preferences"), form).status_code == 302
    chosen = {item["kind"]: (item["email"], item["in_app"]) for item in notify.preferences_of(rita)}
    assert chosen["comment"] == (False, True)
    assert chosen["sla_warning"] == (True, False)
    assert chosen["created"] == (True, True)


# --- API (SPEC §11)


def test_the_api_lists_the_callers_notifications_in_the_spec_shape(db, api, rita, eve):
    incident = make_incident(requester=rita)
    make_incident(requester=eve)
    body = api.as_(rita).get("/api/v1/notifications/").json()
    [item] = body["results"]
    assert {"id", "kind", "ticket", "message", "created_at", "read"} <= set(item)
    assert item["kind"] == "created" and item["ticket"] == incident.number
    assert item["read"] is False
    assert item["url"] == f"/portal/tickets/{incident.number}/"
    assert body["next"] is None


def test_rows_kept_for_email_only_are_not_listed(db, api, rita):
    notify.set_preferences(rita, {"created": {"in_app": False}}, actor=rita)
    make_incident(requester=rita)
    assert api.as_(rita).get("/api/v1/notifications/").json()["results"] == []


def test_the_api_marks_one_and_all_read(db, api, rita, alice):
    incident = make_incident(requester=rita)
    services.comment(incident, actor=alice, body="x")
    first, *_rest = Notification.objects.filter(recipient=rita)
    answer = api.as_(rita).post(f"/api/v1/notifications/{first.pk}/read/")
    assert answer.status_code == 200 and answer.json()["read"] is True
    assert api.as_(rita).post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    unread = api.as_(rita).get("/api/v1/notifications/", {"unread": "1"}).json()
    assert unread["results"] == []


def test_the_api_preferences_read_and_change_per_kind(db, api, rita):
    url = "/api/v1/users/me/notification-preferences/"
    body = api.as_(rita).get(url).json()
    assert [item["kind"] for item in body] == notify.KINDS
    assert all(item["email"] and item["in_app"] for item in body)
    answer = api.as_(rita).patch(url, [{"kind": "comment", "email": False}], format="json")
    assert answer.status_code == 200
    changed = {item["kind"]: item for item in answer.json()}
    assert (changed["comment"]["email"], changed["comment"]["in_app"]) == (False, True)
    refused = api.as_(rita).patch(url, [{"kind": "gossip"}, {"kind": "state", "sms": True}])
    assert refused.status_code == 400
    assert "sms" in str(refused.json())
