"""The pages: problem managers' landing, the list and the problem page (query counts with many
rows), the candidates, the incident page's problem card and matches, and the portal's known
issues and live suggestions."""

import re

import pytest
from django.urls import reverse

from incidents import services as incident_services
from incidents.models import Incident
from itsm.testing import make_incident, make_user
from problems import services
from problems.models import Problem
from problems.workflow import State

from .conftest import linked_incidents, make_problem, problem_in

SECRET = "zebra-internal-7731"


@pytest.fixture
def published(db, paula):
    return make_problem(
        paula,
        title="VPN drops every ten minutes",
        workaround="Use the **TCP 443** connection in FortiClient.",
        known_error=True,
        publish_workaround=True,
    )


@pytest.fixture
def draft(db, paula):
    return make_problem(
        paula,
        title="VPN refuses new tokens",
        workaround="Draft: re-enrol the VPN token.",
        known_error=True,
    )


# --- Landing


def test_a_problem_manager_lands_on_their_problems_even_as_an_agent(db, client, alice):
    both = make_user("paul", roles=("problem_manager", "agent"))
    client.force_login(both)
    assert client.get("/").url == "/problems/"
    client.force_login(alice)
    assert client.get("/").url == "/desk/"


def test_the_list_opens_on_my_problems_for_managers_and_on_all_open_for_agents(
    db, client, paula, alice
):
    mine = make_problem(paula, title="Mine", assignee=paula)
    other = make_problem(paula, title="Someone else's")
    client.force_login(paula)
    page = client.get("/problems/").content.decode()
    assert mine.number in page and other.number not in page
    client.force_login(alice)
    page = client.get("/problems/").content.decode()
    assert mine.number in page and other.number in page


# --- The list and the problem page


def test_the_problem_list_costs_the_same_for_many_rows(
    db, client, alice, paula, django_assert_max_num_queries
):
    for index in range(40):
        problem = make_problem(paula, title=f"Problem {index}", known_error=index % 2 == 0)
        linked_incidents(problem, 1, actor=alice)
    client.force_login(alice)
    with django_assert_max_num_queries(8):
        response = client.get("/problems/", {"queue": "all"})
    assert response.content.decode().count('class="ticket-link') == 40


def test_the_list_filters_published_known_errors_and_searches(db, client, alice, published, draft):
    client.force_login(alice)
    page = client.get("/problems/", {"queue": "all", "published": "true"}).content.decode()
    assert published.number in page and draft.number not in page
    page = client.get("/problems/", {"q": "tokens"}).content.decode()
    assert draft.number in page and published.number not in page


def test_the_problem_page_costs_the_same_with_many_incidents_and_events(
    db, client, alice, paula, django_assert_max_num_queries
):
    problem = problem_in(State.ROOT_CAUSE_ANALYSIS, paula)
    linked_incidents(problem, 30, actor=alice)
    for index in range(10):
        services.comment(problem, actor=alice, body=f"Note {index}", internal=index % 2 == 0)
    client.force_login(paula)
    with django_assert_max_num_queries(30):
        response = client.get(problem.get_absolute_url())
    page = response.content.decode()
    assert page.count("VPN disconnects (") == 30
    assert "30 linked incidents" in page
    assert "Alice Agent linked 30 incidents" in page  # one line for a run of links


def test_resolving_from_the_page_resolves_the_open_incidents_with_it(db, client, alice, paula):
    problem = problem_in(State.ROOT_CAUSE_ANALYSIS, paula)
    incidents = linked_incidents(problem, 3, actor=alice)
    client.force_login(paula)
    response = client.post(
        f"/problems/{problem.number}/resolve/",
        {
            "root_cause": "Expired certificate.",
            "resolve_incidents": "on",
            "resolution_code": "fixed",
            "resolution_notes": "Certificate renewed.",
            "version": problem.version,
        },
        follow=True,
    )
    assert "Resolved, with 3 linked incidents." in response.content.decode()
    states = set(Incident.objects.filter(pk__in=[i.pk for i in incidents]).values_list("state"))
    assert states == {("resolved",)}


def test_a_resolution_refused_shows_why_and_changes_nothing(db, client, alice, paula):
    problem = problem_in(State.ROOT_CAUSE_ANALYSIS, paula)
    [incident] = linked_incidents(problem, 1, actor=alice)
    client.force_login(paula)
    response = client.post(
        f"/problems/{problem.number}/resolve/",
        {"root_cause": "Cert.", "resolve_incidents": "on", "resolution_code": "fixed"},
    )
    assert response.status_code == 200
    assert "The requesters read these notes" in response.content.decode()
    incident.refresh_from_db()
    problem.refresh_from_db()
    assert (incident.state, problem.state) == ("new", "root_cause_analysis")


def test_publishing_from_the_page_needs_a_workaround(db, client, paula):
    problem = make_problem(paula)
    client.force_login(paula)
    response = client.post(f"/problems/{problem.number}/publish/", {"publish": "1"}, follow=True)
    assert "Write the workaround before publishing it." in response.content.decode()
    problem.refresh_from_db()
    assert not problem.publish_workaround


def test_the_details_form_adds_and_removes_cis(db, client, paula):
    from cmdb.models import CI, CIClass

    server, _ = CIClass.objects.get_or_create(name="server", defaults={"label": "Server"})
    one, two = (CI.objects.create(name=n, ci_class=server) for n in ("vpn-gw-01", "vpn-gw-02"))
    problem = make_problem(paula, cis=[one])
    client.force_login(paula)
    response = client.post(
        f"/problems/{problem.number}/edit/",
        {"title": problem.title, "priority": 3, "ci": f"vpn-gw-02 #{two.pk}", "version": 1},
    )
    assert response.status_code == 302
    assert list(problem.cis.all()) == [two]  # one unticked, two added


# --- Candidates


def test_create_a_problem_from_a_candidate_group_links_its_incidents(db, client, paula):
    for _ in range(3):
        make_incident(title="Outlook keeps asking for my password")
    make_incident(title="Printer jams")
    client.force_login(paula)
    page = client.get("/problems/candidates/").content.decode()
    key = re.search(
        r'name="kind" value="title"><input type="hidden" name="key" value="(\d+)"', page
    )
    response = client.post(
        "/problems/candidates/new/",
        {"kind": "title", "key": key.group(1), "days": 30, "title": "Outlook prompts"},
    )
    problem = Problem.objects.get()
    assert response.url == problem.get_absolute_url()
    assert problem.title == "Outlook prompts"
    assert set(problem.incidents.values_list("title", flat=True)) == {
        "Outlook keeps asking for my password"
    }
    assert "Opened from 3 recurring incidents" in problem.description


def test_the_candidates_page_costs_the_same_for_many_incidents(
    db, client, paula, django_assert_max_num_queries
):
    for index in range(40):
        make_incident(title=["VPN drops", "Printer jams", "ERP unavailable"][index % 3])
    client.force_login(paula)
    with django_assert_max_num_queries(12):
        response = client.get("/problems/candidates/", {"days": 7, "sort": "trend"})
    assert response.status_code == 200
    assert "VPN drops" in response.content.decode()


# --- The incident page


def test_the_incident_page_offers_link_and_promote_to_whom_may(db, client, alice, paula):
    incident = make_incident()
    client.force_login(alice)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Link to a problem" in page and "Promote to a problem" not in page
    client.force_login(paula)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Promote to a problem" in page


def test_an_agent_links_the_incident_from_its_page_and_sees_the_problem(
    db, client, alice, published
):
    incident = make_incident()
    client.force_login(alice)
    client.post(f"/desk/incidents/{incident.number}/problem/", {"problem": published.number})
    incident.refresh_from_db()
    assert incident.problem == published
    page = client.get(incident.get_absolute_url()).content.decode()
    assert published.title in page and "Unlink from this problem" in page


def test_promoting_from_the_incident_page_opens_the_problem(db, client, paula):
    incident = make_incident(title="Badge reader refuses every card")
    client.force_login(paula)
    response = client.post(f"/desk/incidents/{incident.number}/promote/")
    problem = Problem.objects.get()
    assert response.url == problem.get_absolute_url()
    assert problem.title == "Badge reader refuses every card"


def test_the_incident_page_suggests_known_errors_and_similar_open_incidents(
    db, client, alice, published, draft
):
    incident = make_incident(title="VPN drops all the time")
    similar = make_incident(title="VPN drops again")
    closed = make_incident(title="VPN drops once")
    incident_services.resolve(closed, actor=alice, code="fixed", notes="Rebooted.")
    make_incident(title="Printer jams")  # unrelated: not suggested
    client.force_login(alice)
    page = client.get(f"/desk/incidents/{incident.number}/suggestions/").content.decode()
    assert published.number in page and draft.number in page  # agents see unpublished ones
    assert "Not published" in page
    listed = re.findall(r">(INC\d{7})</a>", page)
    assert listed == [similar.number]  # not itself, nor a resolved one, nor an unrelated one


# --- The portal


def test_typing_vpn_suggests_the_published_workaround_only(
    db, client, rita, eve, alice, published, draft
):
    services.comment(published, actor=alice, body=f"VPN {SECRET}", internal=True)
    mine = make_incident(requester=rita, title="My VPN drops at home")
    theirs = make_incident(requester=eve, title="VPN drops in the train")
    client.force_login(rita)
    page = client.get("/portal/report/suggestions/", {"title": "VPN"}).content.decode()
    assert "Use the <strong>TCP 443</strong> connection in FortiClient." in page
    assert "Draft" not in page and draft.number not in page
    assert SECRET not in page
    assert mine.number in page and theirs.number not in page


def test_nothing_is_suggested_for_a_title_too_short_to_mean_anything(db, client, rita, published):
    client.force_login(rita)
    page = client.get("/portal/report/suggestions/", {"title": "vp"}).content.decode()
    assert published.title not in page
    page = client.get("/portal/report/suggestions/", {"title": "it is not"}).content.decode()
    assert published.title not in page


def test_the_report_form_asks_for_suggestions_as_the_title_is_typed(db, client, rita):
    client.force_login(rita)
    page = client.get("/portal/report/").content.decode()
    assert 'hx-get="/portal/report/suggestions/"' in page
    assert 'id="report-suggestions"' in page and 'aria-live="polite"' in page


def test_the_portal_knowledge_search_shows_published_known_errors_only(
    db, client, eve, published, draft, django_assert_max_num_queries
):
    client.force_login(eve)
    with django_assert_max_num_queries(8):
        page = client.get("/portal/knowledge/", {"q": "vpn"}).content.decode()
    assert published.title in page and draft.title not in page
    assert client.get(f"/portal/knowledge/{published.number}/").status_code == 200
    assert client.get(f"/portal/knowledge/{draft.number}/").status_code == 404


def test_staff_read_the_portal_as_end_users_do(db, client, alice, published, draft):
    client.force_login(alice)
    page = client.get("/portal/knowledge/").content.decode()
    assert published.title in page and draft.title not in page
    page = client.get("/portal/report/suggestions/", {"title": "VPN tokens"}).content.decode()
    assert draft.title not in page


def test_end_users_are_kept_out_of_problems_whatever_they_follow(db, client, rita, paula):
    problem = make_problem(paula)
    services.watch(problem, actor=paula)
    assert not Problem.objects.visible_to(rita).exists()
    client.force_login(rita)
    assert client.get(problem.get_absolute_url()).status_code == 403


def test_a_problem_with_many_incidents_shows_the_latest_and_links_to_all(db, client, alice, paula):
    problem = make_problem(paula)
    linked_incidents(problem, 52, actor=alice)
    client.force_login(alice)
    page = client.get(problem.get_absolute_url()).content.decode()
    assert page.count("VPN disconnects (") == 50
    assert f"/desk/?queue=all&amp;problem={problem.number}" in page
    desk = client.get("/desk/", {"queue": "all", "problem": problem.number}).content.decode()
    assert desk.count('class="ticket-link') == 50  # the desk's page size; the rest on page 2
    api = client.get("/api/v1/incidents/", {"problem": problem.number, "page_size": 100})
    assert len(api.json()["results"]) == 52


def test_a_file_over_the_limit_is_a_413_naming_the_field(db, client, paula, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ATTACHMENT_MAX_BYTES = 10
    problem = make_problem(paula)
    client.force_login(paula)
    response = client.post(
        reverse("problems:problem_attach", args=[problem.number]),
        {"file": SimpleUploadedFile("dump.txt", b"x" * 11)},
    )
    assert response.status_code == 413
    html = response.content.decode()
    assert "File: dump.txt is too large (11\xa0bytes): each file can be up to 10\xa0bytes." in html
    assert 'id="attach-file" name="file"' in html  # the form is on the page again
    assert not problem.attachments.exists()


def test_the_edit_form_of_a_closed_problem_says_why_and_changes_nothing(db, client, paula):
    problem = problem_in(State.CLOSED, paula)
    events = problem.events.count()
    client.force_login(paula)
    response = client.post(
        reverse("problems:problem_update", args=[problem.number]),
        {
            "title": "Edited after the end",
            "description": problem.description,
            "priority": 1,
            "version": problem.version,
        },
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{problem.number} is closed: its fields can no longer change." in html
    assert Problem.objects.get(pk=problem.pk).title == problem.title
    assert problem.events.count() == events
