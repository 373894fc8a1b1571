"""The catalog API as SPEC §8 and §11 write it: ``catalog/categories/``, ``catalog/items/``
(``form`` a list of field objects), ``requests/`` (``answers`` an object; 400 with per-field
errors), ``requests/{number}/approvals/`` (the body of change approvals), ``tasks/`` (with
``request`` and ``assignment_group``, filtered by ``?request=``)."""

import pytest
import yaml

from catalog import services
from catalog.models import CatalogItem, Request

from .conftest import GOOD_ANSWERS, LAPTOP_FORM, make_category, make_item, order

pytestmark = pytest.mark.django_db


# --- The catalog ---------------------------------------------------------------------------------


def test_everyone_reads_the_active_catalog_with_the_form_as_a_list(api, rita, laptop, headset):
    make_item("Retired", form=[], active=False)
    response = api.as_(rita).get("/api/v1/catalog/items/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"results", "next"}
    names = [item["name"] for item in body["results"]]
    assert sorted(names) == ["Headset", "Laptop"]
    laptop_json = next(i for i in body["results"] if i["name"] == "Laptop")
    assert isinstance(laptop_json["form"], list)
    assert laptop_json["form"][0]["name"] == "model"
    assert laptop_json["approval"] == "manager"
    assert laptop_json["fulfillment_team"] == laptop.fulfillment_team_id


def test_the_item_list_costs_the_same_queries_for_many_items(
    api, rita, desk, django_assert_max_num_queries
):
    for index in range(30):
        make_item(f"Item {index}", form=LAPTOP_FORM)
    with django_assert_max_num_queries(5):
        response = api.as_(rita).get("/api/v1/catalog/items/", {"page_size": 30})
    assert len(response.json()["results"]) == 30


def test_items_read_in_the_callers_language(api, rita, desk):
    make_item("VPN access", form=[], translations={"fr": {"name": "Accès VPN"}})
    rita.language = "fr"
    rita.save(update_fields=["language"])
    response = api.as_(rita).get("/api/v1/catalog/items/", HTTP_ACCEPT_LANGUAGE="fr")
    (item,) = response.json()["results"]
    assert (item["name"], item["display_name"]) == ("VPN access", "Accès VPN")


def test_a_manager_creates_an_item_with_its_form(api, max_, desk):
    category = make_category()
    response = api.as_(max_).post(
        "/api/v1/catalog/items/",
        {
            "category": category.pk,
            "name": "Software licence",
            "approval": "team",
            "approval_team": desk.pk,
            "fulfillment_team": desk.pk,
            "form": LAPTOP_FORM,
            "tasks": [{"title": "Buy the licence"}, {"title": "Install it", "team": desk.pk}],
        },
    )
    assert response.status_code == 201, response.json()
    item = CatalogItem.objects.get(name="Software licence")
    assert [f["name"] for f in item.form] == [f["name"] for f in LAPTOP_FORM]
    assert item.slug == "software-licence"
    assert item.tasks[1]["team"] == desk.pk


def test_a_bad_form_definition_is_a_400_naming_the_field(api, max_, desk):
    response = api.as_(max_).post(
        "/api/v1/catalog/items/",
        {
            "category": make_category().pk,
            "name": "Broken",
            "fulfillment_team": desk.pk,
            "form": [{"name": "colour", "label": "Colour", "type": "choice"}],
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "form": ["Field 1 (“colour”): a choice field needs at least one option."]
    }


def test_team_approval_needs_a_team(api, max_, desk):
    response = api.as_(max_).post(
        "/api/v1/catalog/items/",
        {
            "category": make_category().pk,
            "name": "X",
            "fulfillment_team": desk.pk,
            "approval": "team",
        },
    )
    assert response.status_code == 400
    assert "approval_team" in response.json()


def test_end_users_and_agents_do_not_edit_the_catalog(api, rita, alice, laptop):
    for person in (rita, alice):
        response = api.as_(person).patch(f"/api/v1/catalog/items/{laptop.pk}/", {"active": False})
        assert response.status_code == 403


def test_an_ordered_item_is_deactivated_not_deleted(api, max_, rita, headset):
    order(headset, by=rita, answers={})
    response = api.as_(max_).delete(f"/api/v1/catalog/items/{headset.pk}/")
    assert response.status_code == 409
    assert (
        api.as_(max_)
        .patch(f"/api/v1/catalog/items/{headset.pk}/", {"active": False})
        .json()["active"]
        is False
    )


def test_categories_are_listed_and_edited_by_managers(api, rita, max_, headset):
    assert api.as_(rita).get("/api/v1/catalog/categories/").json()["results"][0]["name"] == (
        "Hardware"
    )
    response = api.as_(max_).post(
        "/api/v1/catalog/categories/",
        {"name": "Access", "translations": {"fr": {"name": "Accès"}}},
    )
    assert response.status_code == 201
    assert response.json()["slug"] == "access"
    assert api.as_(rita).post("/api/v1/catalog/categories/", {"name": "Mine"}).status_code == 403


# --- Ordering ------------------------------------------------------------------------------------


def test_ordering_through_the_api_answers_201_with_the_request(api, managed_rita, laptop):
    response = api.as_(managed_rita).post(
        "/api/v1/requests/", {"item": laptop.pk, "answers": GOOD_ANSWERS}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("REQ")
    assert body["state"] == "awaiting_approval"
    assert body["answers"] == GOOD_ANSWERS
    assert body["requested_for"] == managed_rita.pk
    assert "assignment_group" not in body  # the requester's view


def test_bad_answers_are_a_400_with_the_errors_of_each_field(api, managed_rita, laptop):
    response = api.as_(managed_rita).post(
        "/api/v1/requests/",
        {
            "item": laptop.pk,
            "answers": {"model": "gold", "needed_by": "soon", "quantity": 0, "dock": "maybe"},
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "answers": {
            "model": ["Choose one of: standard, power."],
            "needed_by": ["Enter a date as YYYY-MM-DD."],
            "quantity": ["Enter a number of at least 1."],
            "dock": ["Answer yes (true) or no (false)."],
        }
    }
    assert not Request.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "Mine"}, "title"),
        ({"state": "approved"}, "state"),
        ({"assignee": 1}, "assignee"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_fields_an_order_does_not_take_are_refused_by_name(api, rita, headset, body, field):
    response = api.as_(rita).post("/api/v1/requests/", {"item": headset.pk, "answers": {}, **body})
    assert response.status_code == 400
    assert field in response.json()


def test_an_end_user_orders_only_for_themself_or_their_reports(api, rita, eve, headset):
    response = api.as_(rita).post(
        "/api/v1/requests/", {"item": headset.pk, "answers": {}, "requested_for": eve.pk}
    )
    assert response.status_code == 400
    assert "requested_for" in response.json()


def test_end_users_list_only_their_requests_and_get_404_for_others(api, rita, eve, headset):
    mine = order(headset, by=rita, answers={})
    theirs = order(headset, by=eve, answers={})
    listed = [r["number"] for r in api.as_(rita).get("/api/v1/requests/").json()["results"]]
    assert listed == [mine.number]
    assert api.as_(rita).get(f"/api/v1/requests/{theirs.number}/").status_code == 404


def test_the_request_list_filters_and_costs_the_same_queries_for_many_rows(
    api, alice, rita, headset, laptop, django_assert_max_num_queries
):
    for _ in range(30):
        order(headset, by=rita, answers={})
    with django_assert_max_num_queries(10):
        response = api.as_(alice).get(
            "/api/v1/requests/", {"state": "approved", "item": headset.pk, "page_size": 30}
        )
    body = response.json()
    assert len(body["results"]) == 30
    assert {r["tasks"][0]["state"] for r in body["results"]} == {"open"}


# --- Approvals -----------------------------------------------------------------------------------


def test_the_manager_approves_with_the_body_of_change_approvals(api, managed_rita, max_, laptop):
    request = order(laptop, by=managed_rita)
    url = f"/api/v1/requests/{request.number}/approvals/"
    (pending,) = api.as_(managed_rita).get(url).json()
    assert (pending["state"], pending["approver"]) == ("pending", max_.pk)
    response = api.as_(max_).post(url, {"decision": "approve", "comment": "Go."})
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["decided_by"]) == ("approved", max_.pk)
    assert api.as_(max_).get(f"/api/v1/requests/{request.number}/").json()["state"] == "approved"
    assert api.as_(max_).post(url, {"decision": "approve"}).status_code == 409


def test_the_requester_never_approves_their_own_request(api, managed_rita, laptop):
    request = order(laptop, by=managed_rita)
    response = api.as_(managed_rita).post(
        f"/api/v1/requests/{request.number}/approvals/", {"decision": "approve"}
    )
    assert response.status_code == 403


def test_a_rejection_without_a_comment_is_a_400(api, managed_rita, max_, laptop):
    request = order(laptop, by=managed_rita)
    url = f"/api/v1/requests/{request.number}/approvals/"
    response = api.as_(max_).post(url, {"decision": "reject"})
    assert response.status_code == 400
    assert "comment" in response.json()
    assert api.as_(max_).post(url, {"decision": "maybe"}).status_code == 400
    response = api.as_(max_).post(url, {"decision": "reject", "comment": "Not this year."})
    assert response.json()["state"] == "rejected"


def test_approval_is_never_a_transition(api, managed_rita, max_, laptop):
    request = order(laptop, by=managed_rita)
    response = api.as_(max_).post(
        f"/api/v1/requests/{request.number}/transition/", {"state": "approved"}
    )
    assert response.status_code == 403


def test_the_requester_cancels_with_a_transition(api, managed_rita, laptop):
    request = order(laptop, by=managed_rita)
    response = api.as_(managed_rita).post(
        f"/api/v1/requests/{request.number}/transition/", {"state": "canceled"}
    )
    assert response.status_code == 200
    assert response.json()["state"] == "canceled"
    again = api.as_(managed_rita).post(
        f"/api/v1/requests/{request.number}/transition/", {"state": "canceled"}
    )
    assert again.status_code == 409
    assert again.json()["allowed"] == []


def test_an_end_user_reads_neither_internal_notes_nor_the_handling(api, rita, alice, headset):
    request = order(headset, by=rita, answers={})
    services.comment(request, actor=alice, body="Out of stock (internal).", internal=True)
    services.comment(request, actor=alice, body="On its way.")
    bodies = [
        c["body"] for c in api.as_(rita).get(f"/api/v1/requests/{request.number}/comments/").json()
    ]
    assert bodies == ["On its way."]
    history = api.as_(rita).get(f"/api/v1/requests/{request.number}/history/").json()
    fields = [entry["field"] for entry in history]
    assert fields.count("comment") == 1  # the public reply; the note left no trace
    assert "created" in fields and "state" in fields
    assert not {"assignee", "assignment_group", "watchers"} & set(fields)


# --- Tasks ---------------------------------------------------------------------------------------


def test_tasks_carry_their_request_and_team_and_filter_by_request(api, alice, rita, headset, desk):
    first = order(headset, by=rita, answers={})
    order(headset, by=rita, answers={})
    response = api.as_(alice).get("/api/v1/tasks/", {"request": first.number})
    (task,) = response.json()["results"]
    assert task["request"] == first.number
    assert task["assignment_group"] == desk.pk
    assert task["state"] == "open"


def test_end_users_have_no_task_area(api, rita, headset):
    request = order(headset, by=rita, answers={})
    number = request.tasks.get().number
    assert api.as_(rita).get("/api/v1/tasks/").status_code == 403
    assert api.as_(rita).get(f"/api/v1/tasks/{number}/").status_code == 403


def test_finishing_the_last_task_fulfils_the_request(api, alice, rita, headset):
    request = order(headset, by=rita, answers={})
    number = request.tasks.get().number
    assert (
        api.as_(alice).patch(f"/api/v1/tasks/{number}/", {"assignee": alice.pk}).status_code == 200
    )
    response = api.as_(alice).post(f"/api/v1/tasks/{number}/transition/", {"state": "done"})
    assert response.status_code == 200
    assert response.json()["state"] == "done"
    assert api.as_(rita).get(f"/api/v1/requests/{request.number}/").json()["state"] == "fulfilled"


def test_a_task_is_added_to_an_approved_request(api, alice, rita, headset, bob):
    request = order(headset, by=rita, answers={})
    response = api.as_(alice).post(
        "/api/v1/tasks/",
        {"request": request.number, "title": "Pair it", "assignment_group": bob.teams.get().pk},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["position"] == 2


def test_a_task_changes_request_never(api, alice, rita, headset):
    first = order(headset, by=rita, answers={})
    other = order(headset, by=rita, answers={})
    number = first.tasks.get().number
    response = api.as_(alice).patch(f"/api/v1/tasks/{number}/", {"request": other.number})
    assert response.status_code == 400
    assert "request" in response.json()


def test_the_task_list_costs_the_same_queries_for_many_rows(
    api, alice, rita, headset, django_assert_max_num_queries
):
    for _ in range(30):
        order(headset, by=rita, answers={})
    with django_assert_max_num_queries(7):
        response = api.as_(alice).get("/api/v1/tasks/", {"page_size": 30})
    assert len(response.json()["results"]) == 30


# --- The schema ----------------------------------------------------------------------------------


def test_the_schema_describes_every_catalog_endpoint(db, client):
    paths = yaml.safe_load(client.get("/api/v1/schema/").content)["paths"]
    for path in [
        "/api/v1/catalog/categories/",
        "/api/v1/catalog/items/",
        "/api/v1/catalog/items/{id}/",
        "/api/v1/requests/",
        "/api/v1/requests/{number}/",
        "/api/v1/requests/{number}/approvals/",
        "/api/v1/requests/{number}/transition/",
        "/api/v1/requests/{number}/comments/",
        "/api/v1/requests/{number}/attachments/",
        "/api/v1/requests/{number}/history/",
        "/api/v1/requests/{number}/sla/",
        "/api/v1/tasks/",
        "/api/v1/tasks/{number}/",
        "/api/v1/tasks/{number}/transition/",
    ]:
        assert path in paths, path


# --- A finished request or task keeps its fields -----------------------------------------------


def snapshot(ticket) -> dict:
    row = type(ticket).objects.get(pk=ticket.pk)
    return {f.attname: getattr(row, f.attname) for f in type(ticket)._meta.concrete_fields}


def finished_request(state, *, rita, alice, headset):
    request = order(headset, by=rita, answers={})
    if state == "canceled":
        services.cancel(request, actor=rita)
    else:
        services.complete_task(request.tasks.get(), actor=alice)
    request.refresh_from_db()
    assert request.state == state
    return request


@pytest.mark.parametrize("state", ["fulfilled", "canceled"])
def test_a_finished_request_refuses_field_edits_with_409_and_writes_nothing(
    db, api, alice, bob, rita, headset, state
):
    request = finished_request(state, rita=rita, alice=alice, headset=headset)
    before, events = snapshot(request), request.events.count()
    response = api.as_(alice).patch(
        f"/api/v1/requests/{request.number}/",
        {"description": "Edited after the end", "assignee": bob.pk},
        format="json",
    )
    assert response.status_code == 409, response.content
    assert response.json() == {
        "detail": f"{request.number} is {state}: its fields can no longer change.",
        "allowed": ["submitted", "awaiting_approval", "approved", "in_fulfillment"],
    }
    assert snapshot(request) == before
    assert request.events.count() == events


@pytest.mark.parametrize("state", ["done", "canceled"])
def test_a_finished_task_refuses_field_edits_with_409_and_writes_nothing(
    db, api, alice, bob, rita, headset, state
):
    request = order(headset, by=rita, answers={})
    task = request.tasks.get()
    if state == "done":
        services.complete_task(task, actor=alice)
    else:
        services.cancel(request, actor=rita)  # its open tasks are canceled with it
    task.refresh_from_db()
    assert task.state == state
    before, events = snapshot(task), task.events.count()
    response = api.as_(alice).patch(
        f"/api/v1/tasks/{task.number}/", {"title": "Edited after the end"}, format="json"
    )
    assert response.status_code == 409, response.content
    assert response.json()["allowed"] == ["open", "in_progress"]
    assert snapshot(task) == before
    assert task.events.count() == events
