"""The problem API as SPEC §5 and §11 write it: the incident's ``problem`` field,
``problems/{number}/incidents/``, ``incidents/{number}/promote/``, ``resolve_incidents`` on
the move to ``resolved``, and ``known-errors/?search=``."""

import pytest

from incidents.models import Incident
from itsm.testing import make_incident
from problems import services
from problems.models import Problem
from problems.workflow import State

from .conftest import linked_incidents, make_problem, problem_in

SECRET = "zebra-internal-7731"


def url(problem, suffix=""):
    return f"/api/v1/problems/{problem.number}/{suffix}"


# --- The incident's problem field


def test_the_incident_reads_and_writes_its_problem_by_number(db, api, alice, paula):
    problem, incident = make_problem(paula), make_incident()
    response = api.as_(alice).patch(
        f"/api/v1/incidents/{incident.number}/", {"problem": problem.number}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["problem"] == problem.number
    incident.refresh_from_db()
    assert incident.problem == problem

    response = api.patch(f"/api/v1/incidents/{incident.number}/", {"problem": None})
    assert (response.status_code, response.json()["problem"]) == (200, None)


def test_a_problem_manager_links_from_the_incident_side_too(db, api, paula):
    problem, incident = make_problem(paula), make_incident()
    response = api.as_(paula).patch(
        f"/api/v1/incidents/{incident.number}/", {"problem": problem.number}, format="json"
    )
    assert response.status_code == 200, response.content
    # but may not edit the rest of an incident
    response = api.patch(f"/api/v1/incidents/{incident.number}/", {"title": "Reworded"})
    assert response.status_code == 403


def test_end_users_never_read_nor_set_an_incidents_problem(db, api, rita, alice, paula):
    problem, incident = make_problem(paula), make_incident()
    services.link(problem, incident, actor=alice)
    body = api.as_(rita).get(f"/api/v1/incidents/{incident.number}/").json()
    assert "problem" not in body
    assert problem.number not in str(body)
    response = api.patch(f"/api/v1/incidents/{incident.number}/", {"problem": None})
    assert response.status_code == 400
    assert list(response.json()) == ["problem"]


def test_linking_to_a_problem_linked_elsewhere_is_a_409(db, api, alice, paula):
    first, second = make_problem(paula), make_problem(paula, title="Printer jams")
    incident = make_incident()
    services.link(first, incident, actor=alice)
    response = api.as_(alice).patch(
        f"/api/v1/incidents/{incident.number}/", {"problem": second.number}, format="json"
    )
    assert response.status_code == 409
    assert first.number in response.json()["detail"]


# --- problems/{number}/incidents/


def test_linked_incidents_are_listed_linked_and_unlinked(db, api, alice, paula):
    problem = make_problem(paula)
    linked = linked_incidents(problem, 2, actor=alice)
    api.as_(alice)

    listed = api.get(url(problem, "incidents/")).json()
    assert set(listed) == {"results", "next", "previous"}
    assert sorted(i["number"] for i in listed["results"]) == sorted(i.number for i in linked)
    assert {i["problem"] for i in listed["results"]} == {problem.number}

    incident = make_incident(title="VPN again")
    response = api.post(url(problem, "incidents/"), {"incident": incident.number}, format="json")
    assert (response.status_code, response.json()["number"]) == (201, incident.number)
    again = api.post(url(problem, "incidents/"), {"incident": incident.number}, format="json")
    assert again.status_code == 200

    response = api.delete(url(problem, f"incidents/{linked[0].number}/"))
    assert response.status_code == 204
    assert Incident.objects.get(pk=linked[0].pk).problem is None
    assert api.delete(url(problem, f"incidents/{linked[0].number}/")).status_code == 404


def test_linking_an_unknown_incident_is_a_400_naming_the_field(db, api, alice, paula):
    problem = make_problem(paula)
    response = api.as_(alice).post(url(problem, "incidents/"), {"incident": "INC9999999"})
    assert response.status_code == 400
    assert list(response.json()) == ["incident"]


def test_a_closed_problem_takes_no_more_incidents(db, api, alice, paula):
    problem = problem_in(State.CLOSED, paula)
    response = api.as_(alice).post(url(problem, "incidents/"), {"incident": make_incident().number})
    assert response.status_code == 409


# --- incidents/{number}/promote/


def test_promote_answers_201_with_the_new_problem_and_links_the_incident(db, api, paula):
    incident = make_incident(title="VPN drops", description="Every *ten* minutes.")
    response = api.as_(paula).post(f"/api/v1/incidents/{incident.number}/promote/")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["title"], body["description"], body["state"]) == (
        "VPN drops",
        "Every *ten* minutes.",
        "new",
    )
    assert body["incident_count"] == 1
    incident.refresh_from_db()
    assert incident.problem.number == body["number"]
    assert api.post(f"/api/v1/incidents/{incident.number}/promote/").status_code == 409


# --- Creating, editing, moving


def test_a_problem_is_created_with_its_services_and_cis_as_ids(db, api, paula):
    from cmdb.models import CI, CIClass

    service_class, _ = CIClass.objects.get_or_create(
        name="business_service", defaults={"label": "Business service"}
    )
    server, _ = CIClass.objects.get_or_create(name="server", defaults={"label": "Server"})
    vpn = CI.objects.create(name="VPN", ci_class=service_class)
    gateway = CI.objects.create(name="vpn-gw-01", ci_class=server)
    response = api.as_(paula).post(
        "/api/v1/problems/",
        {"title": "VPN drops", "services": [vpn.pk], "cis": [gateway.pk], "priority": 2},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"][:3], body["services"], body["cis"]) == ("PRB", [vpn.pk], [gateway.pk])
    history = api.get(f"/api/v1/problems/{body['number']}/history/").json()
    assert {"services", "cis"} <= {entry["field"] for entry in history}
    refused = api.post("/api/v1/problems/", {"title": "x", "services": [gateway.pk]})
    assert list(refused.json()) == ["services"]


def test_state_and_computed_fields_are_refused_by_name(db, api, paula):
    problem = make_problem(paula)
    response = api.as_(paula).patch(url(problem), {"state": "closed", "published": True})
    assert response.status_code == 400
    assert set(response.json()) == {"state", "published"}


def test_a_stale_version_is_a_409_and_changes_nothing(db, api, paula):
    problem = make_problem(paula)
    response = api.as_(paula).patch(url(problem), {"priority": 1, "version": problem.version - 1})
    assert response.status_code == 409
    problem.refresh_from_db()
    assert problem.priority == 3


def test_resolve_incidents_on_the_transition_resolves_them_all(db, api, alice, paula):
    problem = problem_in(State.ROOT_CAUSE_ANALYSIS, paula)
    incidents = linked_incidents(problem, 3, actor=alice)
    response = api.as_(paula).post(
        url(problem, "transition/"),
        {
            "state": "resolved",
            "root_cause": "Expired certificate.",
            "resolve_incidents": True,
            "resolution_code": "fixed",
            "resolution_notes": "Certificate renewed.",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["open_incident_count"] == 0
    states = Incident.objects.filter(pk__in=[i.pk for i in incidents]).values_list(
        "state", "resolution_notes"
    )
    assert set(states) == {("resolved", "Certificate renewed.")}
    history = api.get(url(problem, "history/")).json()
    resolved = [e for e in history if e["field"] == "resolved_incidents"]
    assert resolved[0]["new"] == sorted(i.number for i in incidents)
    assert resolved[0]["actor"] == "paula"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"resolve_incidents": True}, {"resolution_code", "resolution_notes"}),
        ({"resolve_incidents": "yes"}, {"resolve_incidents"}),
        ({"resolution_notes": "Done."}, {"resolution_notes"}),
    ],
)
def test_resolve_incidents_errors_name_their_fields(db, api, alice, paula, body, fields):
    problem = problem_in(State.ROOT_CAUSE_ANALYSIS, paula)
    [incident] = linked_incidents(problem, 1, actor=alice)
    response = api.as_(paula).post(
        url(problem, "transition/"),
        {"state": "resolved", "root_cause": "Cert.", **body},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == fields
    incident.refresh_from_db()
    problem.refresh_from_db()
    assert (incident.state, problem.state) == ("new", "root_cause_analysis")


def test_resolve_incidents_is_refused_on_other_moves(db, api, paula):
    problem = problem_in(State.ASSESS, paula)
    response = api.as_(paula).post(
        url(problem, "transition/"),
        {"state": "root_cause_analysis", "resolve_incidents": True},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["resolve_incidents"]


def test_comments_keep_internal_notes_for_staff(db, api, alice, paula):
    problem = make_problem(paula)
    api.as_(alice).post(url(problem, "comments/"), {"body": SECRET, "internal": True})
    comments = api.get(url(problem, "comments/")).json()
    assert [c["internal"] for c in comments] == [True]


# --- Known errors


def _known(paula, title, workaround, *, published=True, **fields):
    return make_problem(
        paula,
        title=title,
        workaround=workaround,
        known_error=True,
        publish_workaround=published,
        **fields,
    )


@pytest.fixture
def known_errors(db, paula, alice):
    vpn = _known(paula, "VPN drops every ten minutes", "Use the **TCP 443** connection.")
    printer = _known(paula, "Printer jams on duplex", "Print one side at a time.")
    draft = _known(
        paula, "VPN refuses new tokens", "Draft: re-enrol the VPN token.", published=False
    )
    services.comment(vpn, actor=alice, body=f"VPN root cause {SECRET}", internal=True)
    return {"vpn": vpn, "printer": printer, "draft": draft}


def test_end_users_read_published_known_errors_only_in_the_spec_shape(db, api, rita, known_errors):
    response = api.as_(rita).get("/api/v1/known-errors/", {"search": "VPN"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"results", "next"}
    [result] = body["results"]
    assert result["number"] == known_errors["vpn"].number
    assert {"number", "title", "workaround", "services", "updated_at"} <= set(result)
    assert not {"root_cause", "description", "known_error", "published"} & set(result)
    assert "Draft" not in str(body)


def test_the_search_never_matches_internal_notes_nor_unpublished_text(db, api, rita, known_errors):
    api.as_(rita)
    assert api.get("/api/v1/known-errors/", {"search": SECRET}).json()["results"] == []
    assert api.get("/api/v1/known-errors/", {"search": "tokens"}).json()["results"] == []
    listed = api.get("/api/v1/known-errors/").json()["results"]
    assert known_errors["draft"].number not in {r["number"] for r in listed}


def test_withdrawing_a_workaround_takes_it_out_of_the_search_at_once(
    db, api, rita, paula, known_errors
):
    services.withdraw(known_errors["vpn"], actor=paula)
    results = api.as_(rita).get("/api/v1/known-errors/", {"search": "VPN"}).json()["results"]
    assert results == []


def test_agents_read_every_known_error_with_its_publication(db, api, alice, known_errors):
    results = api.as_(alice).get("/api/v1/known-errors/", {"search": "VPN"}).json()["results"]
    assert {(r["number"], r["published"]) for r in results} == {
        (known_errors["vpn"].number, True),
        (known_errors["draft"].number, False),
    }


def test_results_are_ranked_best_match_first(db, api, rita, paula):
    weak = _known(paula, "Slow laptops", "Close the VPN client when in the office.")
    strong = _known(paula, "VPN drops at home", "Use the VPN TCP connection.")
    _known(paula, "Printer jams", "Print one side at a time.")
    results = api.as_(rita).get("/api/v1/known-errors/", {"search": "vpn drops"}).json()
    assert [r["number"] for r in results["results"]] == [strong.number, weak.number]


def test_the_ranked_search_pages_with_a_cursor(db, api, rita, paula):
    made = [_known(paula, f"VPN issue {n}", "Reconnect.") for n in range(5)]
    api.as_(rita)
    first = api.get("/api/v1/known-errors/", {"search": "vpn", "page_size": 3}).json()
    second = api.get(first["next"]).json()
    numbers = [r["number"] for r in first["results"] + second["results"]]
    assert sorted(numbers) == sorted(p.number for p in made)
    assert second["next"] is None


def test_anonymous_callers_get_a_401(db, api):
    assert api.get("/api/v1/known-errors/").status_code == 401


# --- Query counts


def test_the_problem_list_costs_the_same_for_many_rows(
    db, api, alice, paula, django_assert_max_num_queries
):
    for index in range(30):
        problem = make_problem(paula, title=f"Problem {index}")
        linked_incidents(problem, 1, actor=alice)
    api.as_(alice)
    with django_assert_max_num_queries(10):
        response = api.get("/api/v1/problems/")
    assert len(response.json()["results"]) == 30


def test_the_linked_incidents_list_costs_the_same_for_many_rows(
    db, api, alice, paula, django_assert_max_num_queries
):
    problem = make_problem(paula)
    linked_incidents(problem, 25, actor=alice)
    api.as_(alice)
    with django_assert_max_num_queries(14):
        response = api.get(url(problem, "incidents/"))
    assert len(response.json()["results"]) == 25


def test_the_knowledge_search_costs_the_same_for_many_rows(
    db, api, rita, paula, django_assert_max_num_queries
):
    for index in range(30):
        _known(paula, f"VPN issue {index}", "Reconnect.")
    api.as_(rita)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/known-errors/", {"search": "vpn"})
    assert len(response.json()["results"]) == 30


def test_the_schema_describes_the_problem_endpoints(db, client):
    import yaml

    paths = yaml.safe_load(client.get("/api/v1/schema/").content)["paths"]
    for path in (
        "/api/v1/problems/",
        "/api/v1/problems/{number}/",
        "/api/v1/problems/{number}/transition/",
        "/api/v1/problems/{number}/incidents/",
        "/api/v1/problems/{number}/incidents/{incident}/",
        "/api/v1/incidents/{number}/promote/",
        "/api/v1/known-errors/",
    ):
        assert path in paths, path


# --- A finished problem keeps its fields -------------------------------------------------------


def snapshot(problem) -> dict:
    row = Problem.objects.get(pk=problem.pk)
    return {f.attname: getattr(row, f.attname) for f in Problem._meta.concrete_fields}


@pytest.mark.parametrize("state", [State.CLOSED, State.CANCELED])
def test_a_finished_problem_refuses_field_edits_with_409_and_writes_nothing(db, api, paula, state):
    problem = problem_in(state, paula)
    before, events = snapshot(problem), problem.events.count()
    response = api.as_(paula).patch(
        url(problem), {"title": "Edited after the end", "workaround": "Reboot."}, format="json"
    )
    assert response.status_code == 409, response.content
    assert response.json() == {
        "detail": f"{problem.number} is {state}: its fields can no longer change.",
        "allowed": ["new", "assess", "root_cause_analysis", "fix_in_progress", "resolved"],
    }
    assert snapshot(problem) == before
    assert problem.events.count() == events
