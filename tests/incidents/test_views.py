import pytest
from django.urls import reverse

from incidents import services
from incidents.models import Incident
from itsm.testing import make_incident

SECRET = "walrus-note-5521"


def detail(incident):
    return reverse("incidents:incident_detail", args=[incident.number])


@pytest.mark.parametrize(
    ("who", "code"), [("rita", 403), ("carol", 403), ("alice", 200), ("max", 200), ("ada", 200)]
)
def test_the_desk_is_for_staff(db, client, persona, who, code):
    client.force_login(persona(who))
    assert client.get(reverse("incidents:incident_list")).status_code == code


def test_anonymous_visitors_are_sent_to_login(db, client):
    response = client.get(reverse("incidents:incident_list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_an_unknown_number_is_a_404(db, client, alice):
    client.force_login(alice)
    assert client.get("/desk/incidents/INC9999999/").status_code == 404


@pytest.mark.parametrize("queue", ["mine", "team", "open", "major", "all"])
def test_every_queue_renders(db, client, alice, queue):
    make_incident(title="Queue me")
    client.force_login(alice)
    response = client.get(reverse("incidents:incident_list"), {"queue": queue})
    assert response.status_code == 200


def test_my_teams_unassigned_queue_shows_unassigned_work_of_my_teams(db, client, alice, bob):
    mine = make_incident(title="For the service desk", assignment_group=alice.teams.get())
    other = make_incident(title="For the network team", assignment_group=bob.teams.get())
    client.force_login(alice)
    page = client.get(reverse("incidents:incident_list"), {"queue": "team"}).content.decode()
    assert mine.number in page
    assert other.number not in page


def test_the_list_page_query_count_does_not_grow_with_its_size(
    db, client, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    make_incident()
    with django_assert_max_num_queries(14):
        client.get(reverse("incidents:incident_list"), {"queue": "open"})
    for i in range(40):
        make_incident(title=f"row {i}", assignment_group=alice.teams.get())
    with django_assert_max_num_queries(14):
        response = client.get(reverse("incidents:incident_list"), {"queue": "open"})
    assert response.content.decode().count('class="ticket-link') == 41


@pytest.mark.parametrize("queue", ["team", "open"])
def test_each_queue_costs_the_same_queries_for_one_row_or_forty(
    db, client, alice, queue, django_assert_max_num_queries
):
    client.force_login(alice)
    team = alice.teams.get()
    make_incident(assignment_group=team)
    with django_assert_max_num_queries(9):
        client.get(reverse("incidents:incident_list"), {"queue": queue})
    for i in range(40):
        make_incident(title=f"row {i}", assignment_group=team)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("incidents:incident_list"), {"queue": queue})
    assert response.content.decode().count('class="ticket-link') == 41


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["1 - Critical", "In progress", "Select {number}", "Major"]),
        ("fr", ["1 - Critique", "En cours", "Sélectionner {number}", "Majeur"]),
    ],
)
def test_a_list_row_shows_its_cells_in_the_agents_language(db, client, alice, language, words):
    from cmdb.models import CI, CIClass

    business, _ = CIClass.objects.get_or_create(
        name="business_service", defaults={"label": "Business service"}
    )
    incident = make_incident(
        title="Mail <down>",
        impact=1,
        urgency=1,
        major=True,
        service=CI.objects.create(name="Email service", ci_class=business),
        assignment_group=alice.teams.get(),
    )
    services.take(incident, actor=alice)
    alice.language = language
    alice.save(update_fields=["language"])
    client.force_login(alice)
    html = client.get(reverse("incidents:incident_list"), {"queue": "open"}).content.decode()
    row = html[html.index(f'data-number="{incident.number}"') :].split("</tr>")[0]
    for word in words:
        assert word.format(number=incident.number) in row
    assert "Mail &lt;down&gt;" in row  # escaped, never raw
    assert f'href="/desk/incidents/{incident.number}/"' in row
    assert "Email service" in row and str(alice) in row and alice.teams.get().name in row
    assert 'class="badge priority-1"' in row


def test_the_ticket_page_costs_the_same_queries_for_a_short_or_a_long_history(
    db, client, alice, bob, django_assert_max_num_queries
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from itsm.services import add_attachment, watch

    def queries(incident) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(detail(incident)).status_code == 200
        return len(captured)

    client.force_login(alice)
    short = make_incident()
    long = make_incident()
    for n in range(15):
        services.comment(long, actor=alice, body=f"**reply {n}**", internal=n % 3 == 0)
        services.assign(long, actor=alice, assignee=bob if n % 2 else alice, group=bob.teams.get())
        make_incident(title=f"child {n}", parent=long)
        add_attachment(long, actor=alice, upload=SimpleUploadedFile(f"log{n}.txt", b"x"))
    services.change_state(long, "in_progress", actor=alice)
    watch(long, bob, actor=alice)
    queries(short), queries(long)  # warm the caches (Markdown, sessions)
    # At most one more query per kind of name its events show (people, teams, CIs).
    assert queries(long) <= queries(short) + 3
    # session, user, roles, incident, files (+ whose), comments, events, names, SLA, forms'
    # choices, CI, linkable problems, children, the bell's unread count: none of them grows
    # with the history
    with django_assert_max_num_queries(18):
        client.get(detail(long))


def test_the_list_pages_with_a_cursor(db, client, alice):
    for i in range(55):
        make_incident(title=f"page {i}")
    client.force_login(alice)
    first = client.get(reverse("incidents:incident_list"), {"queue": "open"})
    cursor = first.context["page"].next_cursor
    assert cursor
    second = client.get(reverse("incidents:incident_list"), {"queue": "open", "cursor": cursor})
    first_rows = {i.number for i in first.context["page"].rows}
    second_rows = {i.number for i in second.context["page"].rows}
    assert len(first_rows) == 50 and len(second_rows) == 5
    assert not first_rows & second_rows


def test_search_and_filters_narrow_the_list(db, client, alice):
    printer = make_incident(title="Printer out of toner")
    make_incident(title="Mouse broken")
    client.force_login(alice)
    page = client.get(reverse("incidents:incident_list"), {"queue": "all", "q": "toner"})
    assert [i.number for i in page.context["page"].rows] == [printer.number]


def test_the_ticket_page_shows_notes_in_a_different_style(db, client, alice):
    incident = make_incident()
    services.comment(incident, actor=alice, body="Public answer")
    services.comment(incident, actor=alice, body=SECRET, internal=True)
    client.force_login(alice)
    html = client.get(detail(incident)).content.decode()
    assert "Public answer" in html
    assert SECRET in html
    assert "timeline-item internal" in html


def test_take_assigns_to_me_and_starts_work(db, client, alice):
    incident = make_incident()
    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_take", args=[incident.number]),
        {"version": incident.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    incident.refresh_from_db()
    assert (incident.assignee, incident.state) == (alice, "in_progress")


def test_resolve_needs_notes_and_shows_the_error(db, client, alice):
    incident = make_incident()
    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_resolve", args=[incident.number]),
        {"resolution_code": "fixed", "resolution_notes": "", "version": incident.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.context["resolve_form"].errors
    incident.refresh_from_db()
    assert incident.state == "new"


def test_an_illegal_move_is_explained_not_a_crash(db, client, alice):
    incident = make_incident()
    services.cancel(incident, actor=alice)
    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_state", args=[incident.number]),
        {"state": "in_progress"},
        follow=True,
    )
    assert response.status_code == 200
    assert any(
        "not allowed" in str(m) or "Cannot move" in str(m) for m in response.context["messages"]
    )


def test_a_stale_edit_is_refused_with_a_message(db, client, alice):
    incident = make_incident()
    services.update_incident(incident, {"title": "Changed by someone else"}, actor=alice)
    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_update", args=[incident.number]),
        {"title": "Mine", "impact": 3, "urgency": 3, "version": 1},
        follow=True,
    )
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.title == "Changed by someone else"


def test_bulk_assign_is_all_or_nothing(db, client, alice, bob):
    a, b = make_incident(), make_incident()
    services.cancel(b, actor=alice)
    client.force_login(alice)
    client.post(
        reverse("incidents:incident_bulk"),
        {"numbers": f"{a.number},{b.number}", "action": "state", "state": "in_progress"},
    )
    a.refresh_from_db()
    assert a.state == "new"  # b could not move, so nothing moved
    client.post(
        reverse("incidents:incident_bulk"),
        {"numbers": a.number, "action": "assign", "assignment_group": bob.teams.get().pk},
    )
    a.refresh_from_db()
    assert a.assignment_group == bob.teams.get()


def test_an_end_user_cannot_post_desk_actions(db, client, rita):
    incident = make_incident(requester=rita)
    client.force_login(rita)
    response = client.post(reverse("incidents:incident_take", args=[incident.number]))
    assert response.status_code == 403
    assert Incident.objects.get(pk=incident.pk).assignee is None


def test_an_agent_logs_an_incident_for_someone(db, client, alice, rita):
    from accounts.forms import person_label

    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_add"),
        {
            "requester": person_label(rita),  # what the type-ahead box submits
            "title": "Called about VPN",
            "description": "",
            "impact": 2,
            "urgency": 2,
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get(title="Called about VPN")
    assert (incident.requester, incident.priority) == (rita, 3)


@pytest.mark.parametrize("typed", ["rita", "RITA", "{email}", "Rita · whatever · #{pk}"])
def test_the_requester_may_be_typed_as_a_username_an_email_or_a_picked_label(
    db, client, alice, rita, typed
):
    client.force_login(alice)
    typed = typed.format(email=rita.email, pk=rita.pk)
    data = {"requester": typed, "title": f"For {typed}", "impact": 3, "urgency": 3}
    assert client.post(reverse("incidents:incident_add"), data).status_code == 302
    assert Incident.objects.get(title=f"For {typed}").requester == rita


def test_an_unknown_or_inactive_requester_is_refused_naming_the_field(db, client, alice, eve):
    eve.is_active = False
    eve.save(update_fields=["is_active"])
    client.force_login(alice)
    for typed in ("nobody-at-all", f"Eve · eve · #{eve.pk}", "#999999"):
        data = {"requester": typed, "title": "Lost", "impact": 3, "urgency": 3}
        response = client.post(reverse("incidents:incident_add"), data)
        assert response.status_code == 200
        assert "requester" in response.context["form"].errors
    assert not Incident.objects.filter(title="Lost").exists()


def test_the_new_incident_page_does_not_list_the_directory(db, client, alice):
    from itsm.testing import make_user

    for n in range(60):
        make_user(f"person-{n:02d}", first_name="Zed", last_name=f"Person{n:02d}")
    client.force_login(alice)
    page = client.get(reverse("incidents:incident_add")).content.decode()
    assert "Person00" not in page and "person-59" not in page
    assert 'list="person-options"' in page and '<datalist id="person-options">' in page


def test_blank_filters_from_the_form_mean_any(db, client, alice):
    incident = make_incident(title="Blank filters")
    client.force_login(alice)
    response = client.get(
        reverse("incidents:incident_list"),
        {"queue": "all", "q": incident.number, "state": "", "priority": "", "assignment_group": ""},
    )
    assert [i.number for i in response.context["page"].rows] == [incident.number]


def test_an_invalid_filter_is_reported_not_silently_empty(db, client, alice):
    make_incident()
    client.force_login(alice)
    response = client.get(
        reverse("incidents:incident_list"), {"queue": "all", "state": "nope"}, follow=True
    )
    assert response.context["page"].rows == []
    assert any("State" in str(m) for m in response.context["messages"])


def test_the_breaching_soon_queue_is_sorted_by_due_time_and_pages(db, client, alice):
    from datetime import timedelta

    from django.utils import timezone

    from sla.models import Calendar, Policy, Timer

    Policy.objects.create(
        name="All",
        priorities=[],
        calendar=Calendar.objects.first(),
        response_seconds=3600,
        resolution_seconds=4 * 3600,
        order=1,
        pause_on=[],
    )
    incidents = [make_incident(title=f"due {i}", impact=1, urgency=1) for i in range(3)]
    now = timezone.now()
    for offset, incident in zip([50, 10, 30], incidents, strict=True):
        Timer.objects.filter(incident=incident).update(due_at=now + timedelta(minutes=offset))
    client.force_login(alice)
    response = client.get(reverse("incidents:incident_list"), {"queue": "breaching_soon"})
    numbers = [i.number for i in response.context["page"].rows]
    expected = [incidents[1].number, incidents[2].number, incidents[0].number]
    assert numbers[:3] == expected


def test_the_ci_is_picked_by_typing_not_from_a_list_of_the_whole_cmdb(db, client, alice):
    from cmdb.models import CI, CIClass

    server = CI.objects.create(name="srv-mail-01", ci_class=CIClass.objects.get(name="server"))
    incident = make_incident()
    client.force_login(alice)
    page = client.get(detail(incident)).content.decode()
    assert "srv-mail-01" not in page  # no <option> per CI
    assert 'list="ci-options"' in page
    options = client.get(reverse("cmdb:ci_lookup"), {"ci": "mail"}).content.decode()
    assert f"#{server.pk}" in options
    client.post(
        reverse("incidents:incident_update", args=[incident.number]),
        {
            "title": incident.title,
            "impact": 3,
            "urgency": 3,
            "version": incident.version,
            "ci": f"srv-mail-01 · Server · #{server.pk}",
        },
    )
    incident.refresh_from_db()
    assert incident.ci == server
    page = client.get(detail(incident)).content.decode()
    assert f"srv-mail-01 · Server · #{server.pk}" in page
    response = client.post(
        reverse("incidents:incident_update", args=[incident.number]),
        {
            "title": incident.title,
            "impact": 3,
            "urgency": 3,
            "version": incident.version,
            "ci": "no such thing",
        },
        HTTP_HX_REQUEST="true",
    )
    assert "ci" in response.context["form"].errors
    incident.refresh_from_db()
    assert incident.ci == server


def test_saving_the_details_without_touching_them_records_nothing(db, client, alice, rita):
    """Browsers send text areas back with CRLF line endings (and forms strip blanks): the
    stored text is unchanged, so nothing is written nor audited."""
    incident = make_incident(requester=rita, description="Line one\nLine two\n")
    events = incident.events.count()
    client.force_login(alice)
    response = client.post(
        f"/desk/incidents/{incident.number}/edit/",
        {
            "title": incident.title,
            "description": "Line one\r\nLine two",
            "impact": incident.impact,
            "urgency": incident.urgency,
            "assignment_group": incident.assignment_group_id or "",
            "version": incident.version,
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert list(incident.events.values_list("field", "old", "new")[events:]) == []
    assert incident.description == "Line one\nLine two\n"


def test_a_real_edit_is_stored_with_one_kind_of_line_ending(db, client, alice, rita):
    incident = make_incident(requester=rita, description="Before")
    client.force_login(alice)
    client.post(
        f"/desk/incidents/{incident.number}/edit/",
        {
            "title": incident.title,
            "description": "After\r\nwith two lines",
            "impact": incident.impact,
            "urgency": incident.urgency,
            "assignment_group": incident.assignment_group_id or "",
            "version": incident.version,
        },
    )
    incident.refresh_from_db()
    assert incident.description == "After\nwith two lines"
    assert incident.events.get(field="description").new == "After\nwith two lines"


def test_the_service_is_picked_by_typing_and_the_page_does_not_list_every_service(
    db, client, alice, django_assert_max_num_queries
):
    """An estate has hundreds of business services: the ticket page reads none of them (it
    used to render a ``<select>`` of all), and the lookup offers services only."""
    from cmdb.models import CI, CIClass

    business, _ = CIClass.objects.get_or_create(
        name="business_service", defaults={"label": "Business service"}
    )
    server, _ = CIClass.objects.get_or_create(name="server", defaults={"label": "Server"})
    mail = CI.objects.create(name="Mail service", ci_class=business)
    CI.objects.create(name="Mail relay", ci_class=server)
    incident = make_incident()
    client.force_login(alice)
    page = reverse("incidents:incident_detail", args=[incident.number])
    client.get(page)
    with django_assert_max_num_queries(30) as few:
        client.get(page)
    CI.objects.bulk_create(CI(name=f"Service {n:03d}", ci_class=business) for n in range(300))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(page).content.decode()
    assert "Service 042" not in html
    assert 'list="service-options"' in html

    options = client.get(reverse("cmdb:ci_lookup"), {"service": "mail"}).content.decode()
    assert f"Mail service · Business service · #{mail.pk}" in options
    assert "Mail relay" not in options  # a server is no service

    response = client.post(
        reverse("incidents:incident_update", args=[incident.number]),
        {
            "title": incident.title,
            "description": incident.description,
            "impact": incident.impact,
            "urgency": incident.urgency,
            "service": f"Mail service · Business service · #{mail.pk}",
            "version": incident.version,
        },
    )
    assert response.status_code in (200, 302)
    incident.refresh_from_db()
    assert incident.service == mail

    relay = CI.objects.get(name="Mail relay")
    response = client.post(
        reverse("incidents:incident_update", args=[incident.number]),
        {
            "title": incident.title,
            "impact": incident.impact,
            "urgency": incident.urgency,
            "service": f"Mail relay · Server · #{relay.pk}",
            "version": incident.version,
        },
    )
    incident.refresh_from_db()
    assert incident.service == mail  # refused: not a business service
    assert "Pick a business service from the list." in response.content.decode()


def test_a_refused_bulk_move_lists_every_ticket_and_why_in_the_users_words(db, client, alice):
    from incidents.workflow import HoldReason

    done = make_incident(title="Solved")
    services.resolve(done, actor=alice, code="fixed", notes="Rebooted.")
    fresh = make_incident(title="Fresh")
    waiting = make_incident(title="Waiting")
    services.hold(waiting, actor=alice, reason=HoldReason.AWAITING_VENDOR)
    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_bulk"),
        {
            "numbers": f"{done.number},{fresh.number},{waiting.number},INC9999999",
            "action": "state",
            "state": "closed",
        },
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )
    done.refresh_from_db()
    assert done.state == "resolved"  # allowed alone, undone with the rest: nothing half-applied
    message = str(list(response.context["messages"])[0])
    assert "3 incidents sur 4" in message
    assert f"<strong>{fresh.number}</strong>: Impossible de passer de l’état Nouveau" in message
    assert (
        f"<strong>{waiting.number}</strong>: Impossible de passer de l’état En attente" in message
    )
    assert "on_hold" not in message and "INC9999999" in message
    assert done.number not in message


def test_the_bulk_state_menu_knows_each_rows_allowed_moves(db, client, alice):
    incident = make_incident()
    client.force_login(alice)
    page = client.get(reverse("incidents:incident_list"), {"queue": "open"}).content.decode()
    row = page[page.index(f'data-number="{incident.number}"') :].split(">")[0]
    assert 'data-moves="in_progress on_hold resolved canceled"' in row


def test_new_incident_adds_a_caller_who_is_not_in_the_directory(db, client, alice):
    from accounts.models import User

    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_add"),
        {
            "caller_first_name": "Yann",
            "caller_last_name": "Le Goff",
            "caller_email": "yann.legoff@example.com",
            "caller_phone": "+33 6 12 34 56 78",
            "title": "Walk-in: laptop will not boot",
            "impact": 3,
            "urgency": 2,
        },
    )
    assert response.status_code == 302
    yann = User.objects.get(email="yann.legoff@example.com")
    assert (yann.get_full_name(), yann.phone, yann.roles) == (
        "Yann Le Goff",
        "+33 6 12 34 56 78",
        [],
    )
    assert not yann.has_usable_password()
    assert Incident.objects.get(title="Walk-in: laptop will not boot").requester == yann


def test_new_incident_marks_each_field_in_error_and_sums_them_up_at_the_top(
    db, client, alice, rita
):
    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_add"),
        {
            "caller_first_name": "Rita",
            "caller_last_name": "Again",
            "caller_email": rita.email,
            "title": "",
            "impact": 3,
            "urgency": 2,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-summary"' in page
    assert 'href="#id_title"' in page
    assert 'aria-invalid="true"' in page and "is-invalid" in page
    assert Incident.objects.count() == 0
    response = client.post(
        reverse("incidents:incident_add"),
        {
            "caller_first_name": "Rita",
            "caller_last_name": "Again",
            "caller_email": rita.email,
            "title": "Twice",
            "impact": 3,
            "urgency": 2,
        },
    )
    assert "pick them instead" in response.content.decode()  # no second Rita
    assert response.context["form"].errors["caller_email"]
    response = client.post(
        reverse("incidents:incident_add"), {"title": "Nobody", "impact": 3, "urgency": 2}
    )
    assert response.context["form"].errors["requester"]


def test_picking_the_caller_shows_their_open_and_recent_incidents(db, client, alice, rita):
    from accounts.forms import person_label

    open_one = make_incident(requester=rita, title="Still broken")
    done = make_incident(requester=rita, title="Long fixed")
    services.resolve(done, actor=alice, code="fixed", notes="Done.")
    client.force_login(alice)
    page = client.get(reverse("incidents:incident_caller"), {"requester": person_label(rita)})
    html = page.content.decode()
    assert open_one.number in html and done.number in html
    assert html.index(open_one.number) < html.index(done.number)
    assert (
        client.get(reverse("incidents:incident_caller"), {"requester": "zz"}).content.strip() == b""
    )


def test_resolving_never_picks_a_resolution_code_for_the_agent(db, client, alice):
    from incidents.forms import ResolveForm

    assert ResolveForm.base_fields["resolution_code"].choices[0][0] == ""
    assert not ResolveForm({"resolution_notes": "Done."}).is_valid()
    client.force_login(alice)
    page = client.get(detail(make_incident())).content.decode()
    menu = page[page.index('id="resolution-code"') :]
    assert menu.split("<option", 2)[1].startswith(' value="">')


def test_an_agent_lands_on_their_own_work_else_their_teams_else_all_open(db, client, alice):
    client.force_login(alice)
    land = lambda: client.get(reverse("incidents:incident_list")).context["queue"]["key"]  # noqa: E731
    assert land() == "open"
    team_work = make_incident(assignment_group=alice.teams.get())
    assert land() == "team"
    services.take(team_work, actor=alice)
    assert land() == "mine"


# --- A file over the size limit: 413, the form back with what was typed ----------------------


def _big(name="trace.log", size=11):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"x" * size)


OVER = "trace.log is too large (11\xa0bytes): each file can be up to 10\xa0bytes."


def test_a_comment_with_a_file_over_the_limit_is_a_413_keeping_the_text(
    db, client, alice, settings
):
    settings.ATTACHMENT_MAX_BYTES = 10
    incident = make_incident(title="Printer on fire")
    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_comment", args=[incident.number]),
        {"body": "Restarted the spooler, log attached.", "internal": "on", "files": [_big()]},
    )
    assert response.status_code == 413
    assert response.context["comment_form"].errors["files"] == [f"Files: {OVER}"]
    html = response.content.decode()
    assert f"Files: {OVER}" in html
    assert ">Restarted the spooler, log attached.</textarea>" in html
    assert 'id="comment-internal" name="internal" value="on" checked' in html
    assert not incident.comments.exists()
    assert not incident.attachments.exists()
    assert not incident.events.filter(field__in=("comment", "attachment")).exists()


def test_the_htmx_comment_form_is_sent_back_at_413_marked_for_swapping(db, client, alice, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    incident = make_incident()
    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_comment", args=[incident.number]),
        {"body": "See the trace.", "files": [_big()]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 413
    assert response["X-Form-Errors"] == "1"  # itsm.js swaps it in despite the status
    html = response.content.decode()
    assert "<html" not in html  # the ticket panel only
    assert f"Files: {OVER}" in html and ">See the trace.</textarea>" in html


def test_a_comment_within_the_limit_still_posts(db, client, alice, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    incident = make_incident()
    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_comment", args=[incident.number]),
        {"body": "Small log.", "files": [_big(size=10)]},
    )
    assert response.status_code == 302
    assert incident.comments.get().body == "Small log."
    assert incident.attachments.get().size == 10


def test_the_attach_form_answers_413_naming_the_field(db, client, alice, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    incident = make_incident()
    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_attach", args=[incident.number]), {"file": [_big()]}
    )
    assert response.status_code == 413
    assert f"File: {OVER}" in response.content.decode()
    assert not incident.attachments.exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_the_edit_form_of_a_closed_incident_says_why_and_changes_nothing(db, client, alice, htmx):
    incident = make_incident(title="Printer jammed")
    services.change_state(
        incident, "resolved", actor=alice, resolution_code="fixed", resolution_notes="Cleared."
    )
    services.change_state(incident, "closed", actor=alice)
    incident.refresh_from_db()
    events = incident.events.count()
    client.force_login(alice)
    response = client.post(
        reverse("incidents:incident_update", args=[incident.number]),
        {"title": "Edited after the end", "impact": 1, "urgency": 1, "version": incident.version},
        follow=not htmx,
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{incident.number} is closed: its fields can no longer change." in html
    assert "Allowed: New, In progress, On hold, Resolved." in html
    row = Incident.objects.get(pk=incident.pk)
    assert (row.title, row.impact, row.version) == (
        "Printer jammed",
        incident.impact,
        incident.version,
    )
    assert incident.events.count() == events
