"""The change API of SPEC §11: changes, approvals, conflicts, templates and blackouts."""

from datetime import timedelta

import pytest

from changes import services
from changes.models import Change
from itsm.testing import make_persona
from itsm.workflow import Conflict

from .builders import PLANS, make_change, make_ci, submitted, window


def body(**extra):
    start, end = window()
    return {
        "title": "Upgrade the core switch firmware",
        "type": "normal",
        "planned_start": start.isoformat(),
        "planned_end": end.isoformat(),
        **PLANS,
        **extra,
    }


def test_a_change_manager_raises_a_change_with_its_cis_cab_and_questionnaire(db, api, chris, cab):
    switch = make_ci("sw-core-01", "network_device")
    response = api.as_(chris).post(
        "/api/v1/changes/",
        body(cis=[switch.pk], cab=cab.pk, risk_answers={"tested": True, "outage": "full"}),
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["number"].startswith("CHG") and len(data["number"]) == 10
    assert (data["type"], data["state"], data["cab"], data["cis"]) == (
        "normal",
        "new",
        cab.pk,
        [switch.pk],
    )
    assert data["approval_policy"] == "all"
    assert data["risk"] in {"low", "moderate", "high"}
    assert data["risk_explanation"][0]["text"]


def test_risk_is_read_only(db, api, chris):
    response = api.as_(chris).post("/api/v1/changes/", body(risk="low"), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["risk"]


def test_end_users_get_403_for_the_whole_area_and_strangers_401(db, api, rita):
    change = make_change()
    assert api.get("/api/v1/changes/").status_code == 401
    api.as_(rita)
    for url in ("/api/v1/changes/", f"/api/v1/changes/{change.number}/", "/api/v1/blackouts/"):
        assert api.get(url).status_code == 403, url


def test_the_plan_of_a_change_before_the_cab_is_frozen(db, api, chris, members):
    change = submitted(actor=chris)
    api.as_(chris)
    response = api.patch(
        f"/api/v1/changes/{change.number}/", {"backout_plan": "Hope."}, format="json"
    )
    assert response.status_code == 409
    assert "backout_plan" in response.json()["detail"]
    assert "new" in response.json()["allowed"]
    start, end = window(days=5)
    moved = api.patch(
        f"/api/v1/changes/{change.number}/",
        {"planned_start": start.isoformat(), "planned_end": end.isoformat()},
        format="json",
    )
    assert moved.status_code == 200, moved.json()


def test_a_transition_not_in_the_table_is_409_with_the_allowed_states(db, api, chris):
    change = make_change(actor=chris)
    response = api.as_(chris).post(
        f"/api/v1/changes/{change.number}/transition/", {"state": "implement"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["allowed"] == ["assess", "canceled"]


def test_entering_authorize_without_plans_is_400_naming_them(db, api, chris, cab):
    change = services.raise_change(actor=chris, title="Swap a disk", cab=cab)
    api.as_(chris).post(f"/api/v1/changes/{change.number}/transition/", {"state": "assess"})
    response = api.post(
        f"/api/v1/changes/{change.number}/transition/", {"state": "authorize"}, format="json"
    )
    assert response.status_code == 400
    assert {"implementation_plan", "backout_plan", "test_plan", "cis"} <= set(response.json())


def test_approvals_list_and_vote(db, api, chris, members):
    change = submitted(actor=chris, approval_policy="any")
    carol = members[0]
    listed = api.as_(carol).get(f"/api/v1/changes/{change.number}/approvals/").json()
    assert sorted(a["approver"] for a in listed) == sorted(m.pk for m in members)
    assert {a["decision"] for a in listed} == {"pending"}
    response = api.post(
        f"/api/v1/changes/{change.number}/approvals/",
        {"decision": "approve", "comment": "Tested in staging last week."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["decision"] == "approved"
    assert response.json()["change_state"] == "scheduled"
    again = api.post(
        f"/api/v1/changes/{change.number}/approvals/", {"decision": "approve"}, format="json"
    )
    assert again.status_code == 409


def test_a_rejection_through_the_api_shows_its_comment_on_the_change(db, api, chris, members):
    change = submitted(actor=chris)
    response = api.as_(members[1]).post(
        f"/api/v1/changes/{change.number}/approvals/",
        {"decision": "reject", "comment": "The backout plan is missing the DNS step."},
        format="json",
    )
    assert response.json()["change_state"] == "new"
    data = api.as_(chris).get(f"/api/v1/changes/{change.number}/").json()
    assert data["state"] == "new"
    assert data["rejection"]["comment"] == "The backout plan is missing the DNS step."
    assert data["rejection"]["by"] == members[1].pk


def test_a_vote_by_someone_without_an_approval_is_403_and_for_someone_else_400(
    db, api, chris, members
):
    change = submitted(actor=chris)
    url = f"/api/v1/changes/{change.number}/approvals/"
    assert api.as_(chris).post(url, {"decision": "approve"}, format="json").status_code == 403
    for_another = api.as_(members[0]).post(
        url, {"decision": "approve", "approver": members[1].pk}, format="json"
    )
    assert for_another.status_code == 400
    assert list(for_another.json()) == ["approver"]
    assert api.as_(make_persona("rita")).post(url, {"decision": "approve"}).status_code == 403


def test_the_deciding_vote_into_a_blackout_is_409_and_the_change_stays_in_authorize(
    db, api, chris, members
):
    change = submitted(actor=chris, approval_policy="any")
    start, end = change.planned_start, change.planned_end
    api.as_(chris).post(
        "/api/v1/blackouts/",
        {
            "name": "Year-end freeze",
            "start": (start - timedelta(days=1)).isoformat(),
            "end": (end + timedelta(days=1)).isoformat(),
            "cis": [],
        },
        format="json",
    )
    response = api.as_(members[0]).post(
        f"/api/v1/changes/{change.number}/approvals/", {"decision": "approve"}, format="json"
    )
    assert response.status_code == 409
    assert "Year-end freeze" in response.json()["detail"]
    assert Change.objects.get(pk=change.pk).state == "authorize"
    conflicts = api.as_(chris).get(f"/api/v1/changes/{change.number}/conflicts/").json()
    assert [(c["kind"], c["name"]) for c in conflicts] == [("blackout", "Year-end freeze")]


def test_conflicts_name_the_other_change_and_the_cis(db, api, chris):
    server = make_ci("srv-erp-01")
    first = make_change(actor=chris, cis=[server])
    second = make_change(actor=chris, cis=[server])
    conflicts = api.as_(chris).get(f"/api/v1/changes/{second.number}/conflicts/").json()
    assert len(conflicts) == 1
    assert conflicts[0]["kind"] == "change"
    assert conflicts[0]["change"] == first.number
    assert conflicts[0]["dependent"] is False
    assert conflicts[0]["via"][0]["ci_name"] == "srv-erp-01"


def test_templates_are_read_by_all_staff_and_written_by_change_managers(db, api, chris, carol):
    created = api.as_(chris).post(
        "/api/v1/change-templates/",
        {
            "name": "Add a VLAN",
            **PLANS,
            "duration_minutes": 30,
            "cis": [make_ci("sw-access-01", "network_device").pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    template_id = created.json()["id"]
    assert api.as_(carol).get("/api/v1/change-templates/").status_code == 200
    refused = api.as_(carol).post("/api/v1/change-templates/", {"name": "x"}, format="json")
    assert refused.status_code == 403
    standard = api.as_(chris).post(
        "/api/v1/changes/", body(type="standard", template=template_id), format="json"
    )
    assert standard.status_code == 201, standard.json()
    number = standard.json()["number"]
    moved = api.post(f"/api/v1/changes/{number}/transition/", {"state": "scheduled"})
    assert moved.status_code == 200, moved.json()
    assert api.delete(f"/api/v1/change-templates/{template_id}/").status_code == 409


def test_blackouts_need_an_end_after_their_start(db, api, chris):
    start, end = window()
    response = api.as_(chris).post(
        "/api/v1/blackouts/",
        {"name": "Backwards", "start": end.isoformat(), "end": start.isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["end"]


def test_closing_from_review_needs_the_outcome(db, api, chris, members):
    change = submitted(actor=chris, approval_policy="any")
    services.vote(change, actor=members[0], decision="approve")
    api.as_(chris)
    url = f"/api/v1/changes/{change.number}/transition/"
    assert api.post(url, {"state": "implement"}).status_code == 200
    assert api.post(url, {"state": "review"}).status_code == 200
    refused = api.post(url, {"state": "closed"}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["outcome"]
    closed = api.post(url, {"state": "closed", "outcome": "successful_with_issues"}, format="json")
    assert closed.status_code == 200
    assert closed.json()["outcome"] == "successful_with_issues"


@pytest.mark.parametrize("rows", [3, 30])
def test_the_change_list_answers_in_constant_queries(
    db, api, chris, django_assert_max_num_queries, rows
):
    server = make_ci("srv-list-01")
    for _ in range(rows):
        make_change(actor=chris, cis=[server])
    api.as_(chris)
    with django_assert_max_num_queries(10):
        response = api.get("/api/v1/changes/?page_size=50")
    assert len(response.json()["results"]) == rows


# --- A finished change keeps its fields --------------------------------------------------------


def snapshot(change) -> dict:
    row = Change.objects.get(pk=change.pk)
    return {f.attname: getattr(row, f.attname) for f in Change._meta.concrete_fields}


def finished(state, chris, members):
    if state == "canceled":
        change = make_change(actor=chris)
        services.change_state(change, "canceled", actor=chris)
        return change
    change = submitted(actor=chris, approval_policy="any")
    services.vote(change, actor=members[0], decision="approve")
    for step in ("implement", "review"):
        services.change_state(change, step, actor=chris)
    services.change_state(change, "closed", actor=chris, outcome="successful")
    return change


@pytest.mark.parametrize("state", ["closed", "canceled"])
def test_a_finished_change_refuses_field_edits_with_409_and_writes_nothing(
    db, api, chris, members, state
):
    change = finished(state, chris, members)
    before, events = snapshot(change), change.events.count()
    response = api.as_(chris).patch(
        f"/api/v1/changes/{change.number}/",
        {"title": "Edited after the end", "description": "Later."},
        format="json",
    )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["allowed"] and not {"closed", "canceled"} & set(body["allowed"])
    assert snapshot(change) == before
    assert change.events.count() == events
    # the verb holds whoever calls it, the system included
    with pytest.raises(Conflict) as refused:
        services.update_change(change, {"description": "Later."}, actor=None)
    assert refused.value.allowed == [
        "new",
        "assess",
        "authorize",
        "scheduled",
        "implement",
        "review",
    ]
    assert snapshot(change) == before
