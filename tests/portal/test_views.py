"""The self-service portal: report an issue, my tickets, the ticket page and its actions
(SPEC §1 visibility, §3 requester moves, §2 internal notes never shown)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cmdb.models import CI, CIClass
from incidents import services
from incidents.models import Incident, IncidentAttachment, IncidentComment
from incidents.workflow import HoldReason, State
from itsm import extensions
from itsm import services as kernel
from itsm.testing import make_incident

NOTE = "SECRET-NOTE-7f3a9c"  # an internal work note: must never reach a portal page


def url(name, *args):
    return reverse(f"portal:{name}", args=args)


def resolved(incident, agent, notes="Replaced the toner cartridge."):
    services.resolve(incident, actor=agent, code="fixed", notes=notes)
    return incident


def files_in(tmp_path):
    return [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def ticket(rita):
    return make_incident(requester=rita, title="Printer on floor 3 jams")


@pytest.fixture
def attachment(ticket, rita):
    return kernel.add_attachment(
        ticket, actor=rita, upload=SimpleUploadedFile("error.png", b"\x89PNG fake")
    )


@pytest.fixture
def service(db):
    business, _ = CIClass.objects.get_or_create(
        name="business_service", defaults={"label": "Business service"}
    )
    return CI.objects.create(name="Email", ci_class=business)


# --- Who may see what ---------------------------------------------------------------------


PAGES = ["home", "report", "ticket_list"]
TICKET_GETS = ["ticket_detail", "ticket_cancel"]
TICKET_POSTS = [
    "ticket_comment",
    "ticket_attach",
    "ticket_confirm",
    "ticket_reopen",
    "ticket_cancel",
    "ticket_rate",
]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(db, client, name):
    response = client.get(url(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", [*TICKET_GETS, *TICKET_POSTS, "attachment_download"])
def test_anonymous_visitors_never_reach_a_ticket(client, ticket, attachment, name):
    args = (ticket.number, attachment.pk) if name == "attachment_download" else (ticket.number,)
    response = client.post(url(name, *args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("who", ["rita", "alice"])
def test_every_signed_in_user_opens_the_portal_pages(client, persona, alice, name, who):
    client.force_login(persona(who))
    assert client.get(url(name)).status_code == 200


def test_the_requester_opens_their_ticket(client, rita, ticket):
    client.force_login(rita)
    response = client.get(ticket.get_portal_url())
    assert response.status_code == 200
    assert ticket.title in response.content.decode()
    assert ticket.number in response.content.decode()


def test_another_users_ticket_is_not_found_for_every_page_and_action(
    client, eve, ticket, attachment
):
    client.force_login(eve)
    for name in TICKET_GETS:
        assert client.get(url(name, ticket.number)).status_code == 404, name
    for name in TICKET_POSTS:
        response = client.post(url(name, ticket.number), {"body": "hi", "score": 1})
        assert response.status_code == 404, name
    download = url("attachment_download", ticket.number, attachment.pk)
    assert client.get(download).status_code == 404
    ticket.refresh_from_db()
    assert ticket.state == State.NEW
    assert not ticket.comments.exists()


def test_an_attachment_of_another_ticket_is_not_found_under_my_ticket_number(
    client, rita, eve, attachment
):
    mine = make_incident(requester=eve)
    client.force_login(eve)
    response = client.get(url("attachment_download", mine.number, attachment.pk))
    assert response.status_code == 404


def test_an_unknown_ticket_is_not_found(client, rita):
    client.force_login(rita)
    assert client.get(url("ticket_detail", "INC9999999")).status_code == 404


def test_a_watcher_sees_the_ticket_but_cannot_confirm_it(client, eve, alice, ticket):
    kernel.watch(ticket, eve, actor=alice)
    resolved(ticket, alice)
    client.force_login(eve)
    page = client.get(ticket.get_portal_url()).content.decode()
    assert "Yes, it's solved" not in page
    assert ticket.number in client.get(url("ticket_list")).content.decode()
    response = client.post(url("ticket_confirm", ticket.number), follow=True)
    assert messages_of(response) == [
        "Only the person who reported this ticket can confirm the fix."
    ]
    ticket.refresh_from_db()
    assert ticket.state == State.RESOLVED


def test_an_agent_sees_only_their_own_tickets_in_my_tickets(client, alice, rita, ticket):
    own = make_incident(requester=alice, title="My laptop fan is loud")
    client.force_login(alice)
    page = client.get(url("ticket_list")).content.decode()
    assert own.number in page
    assert ticket.number not in page
    # ... and may still open any incident, with a link to the desk.
    detail = client.get(ticket.get_portal_url()).content.decode()
    assert ticket.get_absolute_url() in detail


# --- Internal notes never show ---------------------------------------------------------------


def test_internal_notes_never_reach_any_portal_page(client, rita, alice, ticket, attachment):
    services.comment(ticket, actor=alice, body="We are looking at it.")
    services.comment(
        ticket, actor=alice, body=f"{NOTE} the user is on the old driver", internal=True
    )
    services.hold(ticket, actor=alice, reason=HoldReason.AWAITING_CALLER)
    client.force_login(rita)
    pages = [
        client.get(url("home")),
        client.get(url("ticket_list")),
        client.get(url("ticket_list") + "?tab=closed"),
        client.get(ticket.get_portal_url()),
        client.get(url("ticket_cancel", ticket.number), follow=True),
        client.post(
            url("ticket_comment", ticket.number), {"body": "Here it is"}, HTTP_HX_REQUEST="true"
        ),
        client.post(url("ticket_comment", ticket.number), {"body": ""}),
    ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert NOTE not in html
        assert "internal note" not in html.lower()
    detail = client.get(ticket.get_portal_url()).content.decode()
    assert "We are looking at it." in detail
    # Two public replies and two status changes (on hold, then back in progress when the
    # requester answered): the note is not counted either.
    assert "4 updates" in detail
    ticket.refresh_from_db()
    assert ticket.state == "in_progress"


def test_staff_reading_the_portal_see_the_public_conversation_only(client, alice, ticket):
    services.comment(ticket, actor=alice, body=NOTE, internal=True)
    client.force_login(alice)
    assert NOTE not in client.get(ticket.get_portal_url()).content.decode()


# --- Report an issue ---------------------------------------------------------------------------


def test_reporting_an_issue_opens_an_incident_for_me(client, rita, service, tmp_path):
    client.force_login(rita)
    response = client.post(
        url("report"),
        {
            "title": "VPN drops every hour",
            "description": "Since **Monday**.",
            "urgency": "1",
            "service": service.pk,
            "attachments": [
                SimpleUploadedFile("log.txt", b"disconnected"),
                SimpleUploadedFile("screen.png", b"\x89PNG"),
            ],
        },
        follow=True,
    )
    incident = Incident.objects.get()
    assert response.redirect_chain[-1][0] == incident.get_portal_url()
    assert incident.requester == rita
    assert (incident.urgency, incident.impact, incident.priority) == (1, 3, 3)
    assert incident.service == service
    assert incident.state == State.NEW
    assert sorted(incident.attachments.values_list("name", flat=True)) == [
        "log.txt",
        "screen.png",
    ]
    assert len(files_in(tmp_path)) == 2
    assert any(incident.number in m for m in messages_of(response))
    assert "<strong>Monday</strong>" in response.content.decode()


@pytest.mark.parametrize(("urgency", "priority"), [("1", 3), ("2", 4), ("3", 5)])
def test_the_urgency_in_plain_words_sets_the_priority(client, rita, urgency, priority):
    client.force_login(rita)
    client.post(url("report"), {"title": "t", "description": "d", "urgency": urgency})
    assert Incident.objects.get().priority == priority


def test_the_report_form_speaks_plain_words(client, rita, service):
    client.force_login(rita)
    page = client.get(url("report")).content.decode()
    for words in ("It stops my work completely", "It slows me down", "minor inconvenience"):
        assert words in page
    assert "Email" in page  # the business services to choose from
    assert "multiple" in page and 'enctype="multipart/form-data"' in page


def test_a_too_large_attachment_is_refused_on_its_field_and_nothing_is_created(
    client, rita, settings, tmp_path
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    client.force_login(rita)
    response = client.post(
        url("report"),
        {
            "title": "Scanner broken",
            "description": "It beeps.",
            "urgency": "2",
            "attachments": [
                SimpleUploadedFile("small.txt", b"ok"),
                SimpleUploadedFile("huge.bin", b"x" * 1025),
            ],
        },
    )
    assert response.status_code == 413  # as the API answers
    errors = response.context["form"].errors["attachments"]
    assert errors == [
        "Attachments: huge.bin is too large (1.0\xa0KB): each file can be up to 1.0\xa0KB."
    ]
    html = response.content.decode()
    assert 'id="id_attachments_errors"' in html
    # what was typed comes back in the form
    assert 'value="Scanner broken"' in html
    assert ">\nIt beeps.</textarea>" in html
    assert re.search(r'<input type="radio" name="urgency" value="2"[^>]* checked', html)
    assert not Incident.objects.exists()
    assert not IncidentAttachment.objects.exists()
    assert not files_in(tmp_path)


def test_a_failure_while_storing_files_creates_nothing_and_leaves_no_file(
    client, rita, monkeypatch, tmp_path
):
    real = kernel.add_attachment
    calls = []

    def fail_on_second(ticket, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(ticket, **kwargs)

    monkeypatch.setattr(kernel, "add_attachment", fail_on_second)
    client.force_login(rita)
    with pytest.raises(RuntimeError):
        client.post(
            url("report"),
            {
                "title": "t",
                "description": "d",
                "urgency": "3",
                "attachments": [
                    SimpleUploadedFile("a.txt", b"a"),
                    SimpleUploadedFile("b.txt", b"b"),
                ],
            },
        )
    assert not Incident.objects.exists()
    assert not files_in(tmp_path)


def test_the_report_form_requires_a_title_a_description_and_an_urgency(client, rita):
    client.force_login(rita)
    response = client.post(url("report"), {})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"title", "description", "urgency"}
    assert not Incident.objects.exists()


# --- My tickets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("move", "words"),
    [
        (lambda i, a: None, "Received"),
        (lambda i, a: services.take(i, actor=a), "We&#x27;re working on it"),
        (
            lambda i, a: services.hold(i, actor=a, reason=HoldReason.AWAITING_CALLER),
            "Waiting for your reply",
        ),
        (
            lambda i, a: services.hold(i, actor=a, reason=HoldReason.AWAITING_VENDOR),
            "We&#x27;re working on it",
        ),
        (lambda i, a: resolved(i, a), "Solved — please confirm"),
    ],
)
def test_open_tickets_show_their_state_in_plain_words(client, rita, alice, ticket, move, words):
    move(ticket, alice)
    client.force_login(rita)
    assert words in client.get(url("ticket_list")).content.decode()
    assert words in client.get(ticket.get_portal_url()).content.decode()


def test_the_closed_tab_lists_closed_and_canceled_tickets(client, rita, alice):
    closed = resolved(make_incident(requester=rita, title="Closed one"), alice)
    services.confirm(closed, actor=rita)
    canceled = make_incident(requester=rita, title="Canceled one")
    services.cancel(canceled, actor=rita)
    still_open = make_incident(requester=rita, title="Open one")
    client.force_login(rita)
    open_page = client.get(url("ticket_list")).content.decode()
    closed_page = client.get(url("ticket_list") + "?tab=closed").content.decode()
    assert still_open.number in open_page
    assert closed.number not in open_page and canceled.number not in open_page
    assert closed.number in closed_page and canceled.number in closed_page
    assert "Closed" in closed_page and "Canceled" in closed_page
    assert still_open.number not in closed_page


def test_my_tickets_never_lists_someone_elses(client, rita, eve, ticket):
    theirs = make_incident(requester=eve, title="Eve's keyboard")
    client.force_login(rita)
    page = client.get(url("ticket_list")).content.decode()
    assert ticket.number in page
    assert theirs.number not in page


def test_my_tickets_pages_through_the_list(client, rita):
    numbers = [make_incident(requester=rita, title=f"Issue {n}").number for n in range(25)]
    client.force_login(rita)
    first = client.get(url("ticket_list"))
    page = first.context["page"]
    assert [t.number for t in page.rows] == numbers[::-1][:20]
    assert page.next_cursor and not page.previous_cursor
    second = client.get(url("ticket_list"), {"cursor": page.next_cursor}).context["page"]
    assert [t.number for t in second.rows] == numbers[::-1][20:]
    back = client.get(url("ticket_list"), {"cursor": second.previous_cursor}).context["page"]
    assert [t.number for t in back.rows] == numbers[::-1][:20]


def test_a_forged_cursor_is_not_found(client, rita):
    client.force_login(rita)
    assert client.get(url("ticket_list"), {"cursor": "not-a-cursor"}).status_code == 404


def test_my_tickets_searches_by_title_or_number(client, rita):
    vpn = make_incident(requester=rita, title="VPN drops")
    printer = make_incident(requester=rita, title="Printer jams")
    client.force_login(rita)
    page = client.get(url("ticket_list"), {"q": "vpn"}).content.decode()
    assert vpn.number in page and printer.number not in page
    page = client.get(url("ticket_list"), {"q": printer.number}).content.decode()
    assert printer.number in page and vpn.number not in page


def test_my_tickets_costs_the_same_queries_for_5_or_25_tickets(
    client, rita, alice, service, django_assert_max_num_queries
):
    def load():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("ticket_list")).status_code == 200
        return len(queries)

    for n in range(5):
        make_incident(requester=rita, service=service, title=f"Issue {n}")
    client.force_login(rita)
    load()  # warm the session and the user
    with django_assert_max_num_queries(8):
        few = load()
    for n in range(20):
        incident = make_incident(requester=rita, service=service, title=f"More {n}")
        if n % 2:
            services.hold(incident, actor=alice, reason=HoldReason.AWAITING_CALLER)
    with django_assert_max_num_queries(8):
        many = load()
    assert few == many


# --- The ticket page ---------------------------------------------------------------------------


def test_the_description_is_rendered_as_sanitised_markdown(client, rita):
    incident = make_incident(requester=rita, description="**Bold** and <script>alert('x')</script>")
    client.force_login(rita)
    page = client.get(incident.get_portal_url()).content.decode()
    assert "<strong>Bold</strong>" in page
    assert "<script>alert" not in page


def test_the_conversation_shows_public_replies_with_author_and_time(client, rita, alice, ticket):
    services.comment(ticket, actor=alice, body="Which printer exactly?")
    services.comment(ticket, actor=rita, body="The one near the kitchen.")
    client.force_login(rita)
    page = client.get(ticket.get_portal_url()).content.decode()
    assert page.index("Which printer exactly?") < page.index("The one near the kitchen.")
    assert "Alice Agent" in page
    assert "Service desk" in page
    assert "<time" in page


def test_panels_of_other_apps_are_included(client, rita, ticket, monkeypatch):
    def panel(incident, user):
        return "portal/_breadcrumb.html", {"current": f"PANEL for {incident.number}"}

    monkeypatch.setattr(extensions, "_panels", [panel])
    client.force_login(rita)
    assert f"PANEL for {ticket.number}" in client.get(ticket.get_portal_url()).content.decode()


def test_a_reply_without_javascript_posts_and_comes_back(client, rita, ticket):
    client.force_login(rita)
    response = client.post(url("ticket_comment", ticket.number), {"body": "More details"})
    assert response.status_code == 302
    assert response["Location"] == ticket.get_portal_url() + "#conversation"
    comment = IncidentComment.objects.get()
    assert (comment.author, comment.body, comment.internal) == (rita, "More details", False)


def test_a_reply_with_htmx_answers_the_conversation_only(client, rita, ticket):
    client.force_login(rita)
    response = client.post(
        url("ticket_comment", ticket.number), {"body": "Sent with htmx"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="conversation"' in html
    assert "Sent with htmx" in html
    assert 'hx-swap-oob="true"' in html
    assert IncidentComment.objects.filter(internal=False).count() == 1


def test_an_empty_reply_is_refused_on_its_field(client, rita, ticket):
    client.force_login(rita)
    response = client.post(
        url("ticket_comment", ticket.number), {"body": "  "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="id_body_errors"' in response.content.decode()
    assert not IncidentComment.objects.exists()


def test_a_finished_ticket_takes_no_more_replies(client, rita, alice, ticket):
    services.cancel(ticket, actor=rita)
    client.force_login(rita)
    page = client.get(ticket.get_portal_url()).content.decode()
    assert "replies are closed" in page
    response = client.post(url("ticket_comment", ticket.number), {"body": "hello"}, follow=True)
    assert response.status_code == 200
    assert any("no more replies" in m for m in messages_of(response))
    assert not IncidentComment.objects.exists()


def test_files_are_added_and_downloaded_as_attachments(client, rita, ticket, tmp_path):
    client.force_login(rita)
    response = client.post(
        url("ticket_attach", ticket.number),
        {"attachments": [SimpleUploadedFile("notes.txt", b"hello")]},
    )
    assert response.status_code == 302
    attachment = ticket.attachments.get()
    page = client.get(ticket.get_portal_url()).content.decode()
    download = url("attachment_download", ticket.number, attachment.pk)
    assert download in page
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == b"hello"


def test_a_too_large_file_on_the_ticket_page_is_refused_on_its_field(
    client, rita, ticket, settings, tmp_path
):
    settings.ATTACHMENT_MAX_BYTES = 10
    client.force_login(rita)
    response = client.post(
        url("ticket_attach", ticket.number),
        {"attachments": [SimpleUploadedFile("big.txt", b"x" * 11)]},
    )
    assert response.status_code == 413
    assert response.context["attach_form"].errors["attachments"] == [
        "Add files: big.txt is too large (11\xa0bytes): each file can be up to 10\xa0bytes."
    ]
    assert "Add files: big.txt is too large" in response.content.decode()
    assert not ticket.attachments.exists()
    assert not files_in(tmp_path)


# --- Confirm, reopen, cancel, rate -------------------------------------------------------------


def test_the_requester_confirms_the_resolution(client, rita, alice, ticket):
    resolved(ticket, alice, notes="Cleared the **paper jam**.")
    client.force_login(rita)
    page = client.get(ticket.get_portal_url()).content.decode()
    assert "<strong>paper jam</strong>" in page
    assert "Yes, it's solved" in page and "No, it's still broken" in page
    response = client.post(url("ticket_confirm", ticket.number), follow=True)
    ticket.refresh_from_db()
    assert ticket.state == State.CLOSED
    assert any("closed" in m for m in messages_of(response))


def test_confirming_a_closed_ticket_is_explained_not_a_crash(client, rita, alice, ticket):
    resolved(ticket, alice)
    services.confirm(ticket, actor=rita)
    client.force_login(rita)
    response = client.post(url("ticket_confirm", ticket.number), follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["This ticket is now “Closed”: there is no fix to confirm."]


def test_a_move_refused_by_the_service_becomes_a_message(client, rita, alice, ticket, monkeypatch):
    # The ticket is closed by someone else between the page's check and the service call.
    resolved(ticket, alice)
    real = services.confirm

    def closed_meanwhile(incident, **kwargs):
        real(Incident.objects.get(pk=incident.pk), actor=alice)
        return real(incident, **kwargs)

    monkeypatch.setattr(services, "confirm", closed_meanwhile)
    client.force_login(rita)
    response = client.post(url("ticket_confirm", ticket.number), follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [
        "Nothing was changed: this ticket moved on in the meantime and is now “Closed”."
    ]


def test_staff_confirm_and_cancel_only_their_own_tickets_from_the_portal(client, alice, ticket):
    client.force_login(alice)
    page = client.get(ticket.get_portal_url()).content.decode()
    assert "Cancel this request" not in page
    response = client.post(url("ticket_cancel", ticket.number), follow=True)
    assert messages_of(response) == ["Only the person who reported this ticket can cancel it."]
    ticket.refresh_from_db()
    assert ticket.state == State.NEW


def test_the_requester_reopens_with_a_reason(client, rita, alice, ticket):
    resolved(ticket, alice)
    client.force_login(rita)
    response = client.post(url("ticket_reopen", ticket.number), {"reason": ""})
    assert response.status_code == 200
    assert 'id="id_reason_errors"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.state == State.RESOLVED

    response = client.post(
        url("ticket_reopen", ticket.number), {"reason": "Still jams on A3."}, follow=True
    )
    ticket.refresh_from_db()
    assert ticket.state == State.IN_PROGRESS
    assert not ticket.resolution_notes
    comment = ticket.comments.get()
    assert (comment.author, comment.body, comment.internal) == (rita, "Still jams on A3.", False)
    assert any("reopened" in m for m in messages_of(response))


def test_reopening_an_open_ticket_is_refused_with_a_message(client, rita, ticket):
    client.force_login(rita)
    response = client.post(url("ticket_reopen", ticket.number), {"reason": "x"}, follow=True)
    assert messages_of(response) == ["This ticket is now “Received”: it cannot be reopened."]
    ticket.refresh_from_db()
    assert ticket.state == State.NEW


def test_the_requester_cancels_a_new_ticket_after_confirming(client, rita, ticket):
    client.force_login(rita)
    page = client.get(ticket.get_portal_url()).content.decode()
    assert "Cancel this request" in page
    confirmation = client.get(url("ticket_cancel", ticket.number))
    assert confirmation.status_code == 200
    assert "You cannot undo this." in confirmation.content.decode()
    ticket.refresh_from_db()
    assert ticket.state == State.NEW
    client.post(url("ticket_cancel", ticket.number))
    ticket.refresh_from_db()
    assert ticket.state == State.CANCELED


def test_a_ticket_in_progress_cannot_be_canceled_by_its_requester(client, rita, alice, ticket):
    services.take(ticket, actor=alice)
    client.force_login(rita)
    assert "Cancel this request" not in client.get(ticket.get_portal_url()).content.decode()
    response = client.post(url("ticket_cancel", ticket.number), follow=True)
    assert messages_of(response) == [
        "This ticket is now “We're working on it”: it can no longer be canceled."
    ]
    ticket.refresh_from_db()
    assert ticket.state == State.IN_PROGRESS


def test_the_requester_rates_and_changes_the_rating(client, rita, alice, ticket):
    resolved(ticket, alice)
    client.force_login(rita)
    page = client.get(ticket.get_portal_url()).content.decode()
    assert 'name="score"' in page and 'type="radio"' in page
    client.post(url("ticket_rate", ticket.number), {"score": "4", "comment": "Quick, thanks"})
    ticket.refresh_from_db()
    assert (ticket.csat_score, ticket.csat_comment) == (4, "Quick, thanks")
    services.confirm(ticket, actor=rita)
    page = client.get(ticket.get_portal_url()).content.decode()
    assert "You gave 4 stars out of 5." in page
    client.post(url("ticket_rate", ticket.number), {"score": "5"})
    ticket.refresh_from_db()
    assert ticket.csat_score == 5


def test_a_rating_out_of_range_is_refused_on_its_field(client, rita, alice, ticket):
    resolved(ticket, alice)
    client.force_login(rita)
    response = client.post(url("ticket_rate", ticket.number), {"score": "9"})
    assert response.status_code == 200
    assert "score" in response.context["rating_form"].errors
    ticket.refresh_from_db()
    assert ticket.csat_score is None


def test_an_open_ticket_cannot_be_rated(client, rita, ticket):
    client.force_login(rita)
    assert 'name="score"' not in client.get(ticket.get_portal_url()).content.decode()
    response = client.post(url("ticket_rate", ticket.number), {"score": "5"}, follow=True)
    assert messages_of(response) == [
        "This ticket is now “Received”: you can rate it once it is solved."
    ]
    ticket.refresh_from_db()
    assert ticket.csat_score is None


def test_posts_need_their_csrf_token(rita, ticket):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(rita)
    assert client.post(url("ticket_comment", ticket.number), {"body": "x"}).status_code == 403
    assert client.post(url("report"), {"title": "x"}).status_code == 403


def test_the_ticket_page_costs_the_same_queries_for_a_short_or_long_conversation(
    client, rita, alice, attachment, ticket, django_assert_max_num_queries
):
    def load():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(ticket.get_portal_url()).status_code == 200
        return len(queries)

    services.comment(ticket, actor=alice, body="First question")
    client.force_login(rita)
    load()
    with django_assert_max_num_queries(12):
        short = load()
    for n in range(10):
        services.comment(ticket, actor=alice if n % 2 else rita, body=f"Reply {n}")
        services.comment(ticket, actor=alice, body=f"Note {n}", internal=True)
        kernel.add_attachment(ticket, actor=rita, upload=SimpleUploadedFile(f"{n}.txt", b"x"))
    services.hold(ticket, actor=alice, reason=HoldReason.AWAITING_CALLER)
    with django_assert_max_num_queries(12):
        long = load()
    assert short == long


def test_the_tab_counts_stop_counting_past_the_cap(client, rita, alice, monkeypatch):
    """An account that opened a great many tickets (a monitoring feed) gets "999+" on its
    tabs, read from at most a thousand rows, not a count of every ticket it ever opened."""
    from itsm import pagination

    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    for n in range(5):
        make_incident(requester=rita, title=f"Disk alert {n}")
    for n in range(2):
        services.cancel(make_incident(requester=rita, title=f"Gone {n}"), actor=alice)
    client.force_login(rita)
    html = client.get(reverse("portal:ticket_list")).content.decode()
    assert '<span class="badge tab-count">3+</span>' in html  # 5 open
    assert '<span class="badge tab-count">2</span>' in html  # 2 closed
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("portal:ticket_list"))
    counting = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counting and all("LIMIT 4" in sql for sql in counting if "incidents_incident" in sql)


def test_home_lists_what_waits_for_the_requester_before_the_rest(client, rita, alice):
    quiet = make_incident(requester=rita, title="Quiet ticket")
    question = make_incident(requester=rita, title="Which printer?")
    services.hold(question, actor=alice, reason=HoldReason.AWAITING_CALLER)
    solved = resolved(make_incident(requester=rita, title="Toner replaced"), alice)
    vendor = make_incident(requester=rita, title="Waiting for the vendor")
    services.hold(vendor, actor=alice, reason=HoldReason.AWAITING_VENDOR)
    client.force_login(rita)
    response = client.get(url("home"))
    waiting = [t.number for t in response.context["waiting"]]
    others = [t.number for t in response.context["tickets"]]
    assert sorted(waiting) == sorted([question.number, solved.number])
    assert sorted(others) == sorted([quiet.number, vendor.number])
    html = response.content.decode()
    assert html.index("Waiting for your reply") < html.index("Report an issue")


def test_the_demo_gives_its_end_user_a_fix_to_confirm_and_a_question(db):
    from incidents import demo
    from itsm.management.commands.seed_demo import Command

    seed = Command()
    users = seed.seed_people()
    seed.seed_teams(users)
    demo._for_the_end_user_login({"Service Desk": users["agent"].teams.get()}, demo.timezone.now())
    mine = Incident.objects.filter(requester=users["enduser"])
    assert {(t.state, t.hold_reason) for t in mine} == {
        (State.RESOLVED, ""),
        (State.ON_HOLD, HoldReason.AWAITING_CALLER),
    }


def test_a_portal_report_on_a_demo_service_goes_to_that_services_support_group(db, client):
    """On the demo estate, a report naming "Office network & Wi-Fi" lands with Network (the
    service's support group), not with the team every demo service used to carry."""
    from cmdb import demo as cmdb_demo
    from itsm.management.commands.seed_demo import Command

    seed = Command()
    users = seed.seed_people()
    seed.seed_teams(users)
    cmdb_demo.seed_demo()
    expected = {
        "Office network & Wi-Fi": "Network",
        "VPN & remote access": "Network",
        "ERP": "Applications",
        "Backup & restore": "Infrastructure",
    }
    client.force_login(users["enduser"])
    for name, team in expected.items():
        service = CI.objects.get(name=name)
        response = client.post(
            url("report"),
            {
                "title": f"Trouble with {name}",
                "description": "It stopped working.",
                "urgency": 3,
                "service": service.pk,
            },
        )
        assert response.status_code == 302, response.context["form"].errors
        incident = Incident.objects.get(title=f"Trouble with {name}")
        assert incident.assignment_group.name == team, name
