"""The catalog's pages: the portal (browse, search, order, follow, approve), the desk (request,
task and approval queues, the request and task pages) and the catalog editor."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from catalog import services
from catalog.models import CatalogItem, Request
from itsm.testing import make_persona

from .conftest import make_item, order

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


REQUIRED = re.compile(r"\srequired[\s>]")


def tag(page: str, name: str) -> str:
    """The opening tag of the widget of question ``name``."""
    return re.search(rf'<(?:input|select|textarea)[^>]*name="answer__{name}"[^>]*>', page).group(0)


# --- Portal: browse, search, order ---------------------------------------------------------------


def test_the_portal_home_offers_to_order_something(client, rita, headset):
    client.force_login(rita)
    page = text(client.get(reverse("portal:home")))
    assert reverse("catalog:portal_catalog") in page


def test_the_catalog_lists_categories_with_something_to_order(client, rita, headset):
    make_item("Hidden", category=None, form=[], active=False)
    client.force_login(rita)
    page = text(client.get(reverse("catalog:portal_catalog")))
    assert "Hardware" in page and "1 item" in page


def test_browsing_the_catalog_costs_the_same_queries_for_many_items(
    client, rita, desk, django_assert_max_num_queries
):
    for index in range(30):
        make_item(f"Item {index}", form=[])
    client.force_login(rita)
    with django_assert_max_num_queries(8):
        page = text(client.get(reverse("catalog:portal_catalog"), {"q": "item"}))
    assert page.count('class="catalog-card"') == 30
    with django_assert_max_num_queries(8):
        page = text(client.get(reverse("catalog:portal_category", args=["hardware"])))
    assert page.count('class="catalog-card"') == 30


def test_a_category_page_lists_its_active_items(client, rita, laptop, headset):
    make_item("Old phone", form=[], active=False)
    client.force_login(rita)
    page = text(client.get(laptop.category.get_portal_url()))
    assert "Laptop" in page and "Headset" in page
    assert "Old phone" not in page


def test_the_catalog_search_finds_items_by_any_word_in_any_language(client, rita, desk):
    make_item(
        "VPN access",
        form=[],
        summary="Work from home",
        translations={"fr": {"name": "Accès VPN", "summary": "Travailler de chez soi"}},
    )
    make_item("Headset", form=[])
    client.force_login(rita)
    found = text(client.get(reverse("catalog:portal_catalog"), {"q": "chez soi"}))
    assert "VPN access" in found and "Headset" not in found
    assert "1 item matches" in found


def test_the_item_page_renders_each_field_type_with_browser_checks(client, rita, laptop):
    client.force_login(rita)
    page = text(client.get(laptop.get_portal_url()))
    model, needed_by, quantity, dock, reason = (
        tag(page, name) for name in ("model", "needed_by", "quantity", "dock", "reason")
    )
    assert model.startswith("<select") and REQUIRED.search(model)
    assert 'type="date"' in needed_by and REQUIRED.search(needed_by)
    assert 'type="number"' in quantity and 'min="1"' in quantity and 'max="5"' in quantity
    assert not REQUIRED.search(quantity)
    assert 'type="checkbox"' in dock
    assert reason.startswith("<textarea") and 'maxlength="10000"' in reason
    assert 'data-msg-required="This field is required."' in page
    assert 'data-msg-max="Enter a number of at most 5."' in page
    assert "data-validate" in page and "js/catalog.js" in page


def test_the_item_page_speaks_french(client, rita, laptop):
    rita.language = "fr"
    rita.save(update_fields=["language"])
    client.force_login(rita)
    with translation.override("fr"):
        page = text(client.get(laptop.get_portal_url(), HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Modèle" in page


def test_ordering_from_the_portal_files_the_request_and_shows_it(client, managed_rita, laptop):
    client.force_login(managed_rita)
    response = client.post(
        laptop.get_portal_url(),
        {"answer__model": "power", "answer__needed_by": "2027-01-04", "answer__dock": "on"},
    )
    request = Request.objects.get()
    assert response.status_code == 302
    assert response["Location"] == request.get_portal_url()
    assert request.answers == {"model": "power", "needed_by": "2027-01-04", "dock": True}
    page = text(client.get(request.get_portal_url()))
    assert "Waiting for approval" in page and "Max Manager" in page


def test_bad_answers_come_back_on_their_fields(client, managed_rita, laptop):
    client.force_login(managed_rita)
    response = client.post(
        laptop.get_portal_url(),
        {"answer__model": "", "answer__needed_by": "31/12/2026", "answer__quantity": "9"},
    )
    assert response.status_code == 400
    page = text(response)
    assert "This field is required." in page
    assert "Enter a date as YYYY-MM-DD." in page
    assert "Enter a number of at most 5." in page
    assert 'aria-invalid="true"' in page
    assert not Request.objects.exists()


def test_an_inactive_item_cannot_be_opened_by_end_users(client, rita, headset):
    services.save_item(headset, {"active": False}, actor=None)
    client.force_login(rita)
    assert client.get(headset.get_portal_url()).status_code == 404


# --- Portal: my requests -------------------------------------------------------------------------


def test_my_requests_shows_progress_in_plain_words(client, managed_rita, laptop, headset):
    order(laptop, by=managed_rita)
    order(headset, by=managed_rita, answers={})
    client.force_login(managed_rita)
    page = text(client.get(reverse("catalog:portal_request_list")))
    assert "Waiting for approval" in page and "Approved" in page
    assert page.count('class="progress-steps progress-compact"') == 2


def test_my_requests_holds_only_mine(client, rita, eve, headset):
    mine = order(headset, by=rita, answers={})
    theirs = order(headset, by=eve, answers={})
    client.force_login(rita)
    page = text(client.get(reverse("catalog:portal_request_list")))
    assert mine.number in page and theirs.number not in page


def test_someone_elses_request_is_a_404(client, rita, eve, headset):
    request = order(headset, by=eve, answers={})
    client.force_login(rita)
    assert client.get(request.get_portal_url()).status_code == 404


def test_the_list_costs_the_same_queries_for_one_request_or_thirty(
    client, rita, headset, django_assert_max_num_queries
):
    order(headset, by=rita, answers={})
    client.force_login(rita)
    with django_assert_max_num_queries(9):
        client.get(reverse("catalog:portal_request_list"))
    for _ in range(29):
        order(headset, by=rita, answers={})
    with django_assert_max_num_queries(9):
        page = text(client.get(reverse("catalog:portal_request_list")))
    assert page.count("ticket-item request-item") == 20  # one page


# --- Portal: approvals ---------------------------------------------------------------------------


def test_an_end_user_approver_decides_from_the_portal(client, rita, approvers, licence):
    carol = make_persona("carol")
    request = order(licence, by=rita, answers={"software": "Visio"})
    client.force_login(carol)
    assert "1 request waits for your approval" in text(client.get(reverse("portal:home")))
    queue = text(client.get(reverse("catalog:portal_approvals")))
    assert request.number in queue and "Visio" in queue
    assert "Approve" in text(client.get(request.get_portal_url()))
    response = client.post(
        reverse("catalog:portal_request_decide", args=[request.number]),
        {"decision": "approve", "comment": "OK for a year."},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == "approved"


def test_a_rejection_without_a_reason_is_sent_back(client, managed_rita, max_, laptop):
    request = order(laptop, by=managed_rita)
    client.force_login(max_)
    response = client.post(
        reverse("catalog:portal_request_decide", args=[request.number]), {"decision": "reject"}
    )
    assert response.status_code == 400
    assert "Say why you reject it" in text(response)


# --- The desk ------------------------------------------------------------------------------------


@pytest.mark.parametrize("queue", ["team", "approval", "fulfil", "open", "all"])
def test_every_request_queue_renders(client, alice, rita, headset, queue):
    order(headset, by=rita, answers={})
    client.force_login(alice)
    assert client.get(reverse("catalog:request_list"), {"queue": queue}).status_code == 200


def test_the_request_list_costs_the_same_queries_for_one_row_or_forty(
    client, alice, rita, headset, django_assert_max_num_queries
):
    client.force_login(alice)
    order(headset, by=rita, answers={})
    with django_assert_max_num_queries(12):
        client.get(reverse("catalog:request_list"), {"queue": "open"})
    for _ in range(39):
        order(headset, by=rita, answers={})
    with django_assert_max_num_queries(12):
        page = text(client.get(reverse("catalog:request_list"), {"queue": "open"}))
    assert page.count('class="ticket-link') == 40


def test_the_task_queue_costs_the_same_queries_for_one_row_or_forty(
    client, alice, rita, headset, django_assert_max_num_queries
):
    client.force_login(alice)
    order(headset, by=rita, answers={})
    with django_assert_max_num_queries(10):
        client.get(reverse("catalog:task_list"))
    for _ in range(39):
        order(headset, by=rita, answers={})
    with django_assert_max_num_queries(10):
        page = text(client.get(reverse("catalog:task_list")))
    assert page.count('class="ticket-link') == 40


def test_the_approval_queue_costs_the_same_queries_for_one_or_twenty(
    client, managed_rita, max_, laptop, django_assert_max_num_queries
):
    client.force_login(max_)
    order(laptop, by=managed_rita)
    with django_assert_max_num_queries(10):
        client.get(reverse("catalog:approval_list"))
    for _ in range(19):
        order(laptop, by=managed_rita)
    with django_assert_max_num_queries(10):
        page = text(client.get(reverse("catalog:approval_list")))
    assert page.count('class="card mb-3 approval-card"') == 20


def test_the_request_page_shows_answers_approvals_tasks_and_sla(
    client, alice, managed_rita, max_, laptop
):
    request = order(laptop, by=managed_rita, answers={"model": "power", "needed_by": "2027-01-04"})
    services.approve(request, actor=max_, comment="Fine.")
    client.force_login(alice)
    page = text(client.get(request.get_absolute_url()))
    assert "Performance 16-inch" in page
    assert "Max Manager" in page and "Fine." in page
    assert request.tasks.get().number in page


def test_the_manager_decides_on_the_desk_request_page(client, managed_rita, max_, laptop):
    request = order(laptop, by=managed_rita)
    client.force_login(max_)
    assert "Your approval is needed" in text(client.get(request.get_absolute_url()))
    client.post(
        reverse("catalog:request_decide", args=[request.number]),
        {"decision": "reject", "comment": "Next year.", "version": request.version},
    )
    request.refresh_from_db()
    assert request.state == "rejected"


def test_an_agent_completes_a_task_from_its_page(client, alice, rita, headset):
    request = order(headset, by=rita, answers={})
    task = request.tasks.get()
    client.force_login(alice)
    assert "Assign to me" in text(client.get(task.get_absolute_url()))
    client.post(reverse("catalog:task_take", args=[task.number]))
    client.post(
        reverse("catalog:task_state", args=[task.number]), {"state": "done", "note": "Given."}
    )
    request.refresh_from_db()
    assert request.state == "fulfilled"


# --- The catalog editor --------------------------------------------------------------------------


def builder_post(item_form, fields=(), tasks=()):
    data = {
        **item_form,
        "fields-TOTAL_FORMS": len(fields),
        "fields-INITIAL_FORMS": 0,
        "tasks-TOTAL_FORMS": len(tasks),
        "tasks-INITIAL_FORMS": 0,
    }
    for index, field in enumerate(fields):
        for key, value in field.items():
            data[f"fields-{index}-{key}"] = value
    for index, task in enumerate(tasks):
        for key, value in task.items():
            data[f"tasks-{index}-{key}"] = value
    return data


def test_a_manager_builds_an_item_and_its_form_without_writing_json(client, max_, desk, bob):
    network = bob.teams.get()
    category = make_item("Seed", form=[]).category
    client.force_login(max_)
    assert client.get(reverse("catalog:item_add")).status_code == 200
    response = client.post(
        reverse("catalog:item_add"),
        builder_post(
            {
                "name": "VPN access",
                "category": category.pk,
                "icon": "shield-lock",
                "order": 10,
                "approval": "manager",
                "fulfillment_team": desk.pk,
                "active": "on",
                "name_fr": "Accès VPN",
            },
            fields=[
                {
                    "label": "Device",
                    "type": "choice",
                    "required": "on",
                    "ORDER": 2,
                    "choices": "Company laptop | Ordinateur de l’entreprise\nPersonal device",
                },
                {"label": "Needed until", "type": "date", "ORDER": 1, "label_fr": "Jusqu’au"},
                {"label": "Removed", "type": "text", "DELETE": "on"},
            ],
            tasks=[{"title": "Open the VPN account", "team": network.pk, "ORDER": 1}],
        ),
    )
    assert response.status_code == 302, text(response)
    item = CatalogItem.objects.get(name="VPN access")
    assert [f["name"] for f in item.form] == ["needed_until", "device"]
    device = item.form[1]
    assert device["required"] and device["type"] == "choice"
    assert device["choices"][0] == {
        "value": "company_laptop",
        "label": "Company laptop",
        "translations": {"fr": "Ordinateur de l’entreprise"},
    }
    assert item.form[0]["translations"] == {"fr": {"label": "Jusqu’au"}}
    assert item.translations == {"fr": {"name": "Accès VPN"}}
    assert item.tasks == [{"title": "Open the VPN account", "description": "", "team": network.pk}]


def test_the_builder_explains_a_choice_without_options(client, max_, desk):
    category = make_item("Seed", form=[]).category
    client.force_login(max_)
    response = client.post(
        reverse("catalog:item_add"),
        builder_post(
            {
                "name": "Broken",
                "category": category.pk,
                "icon": "x",
                "order": 1,
                "approval": "none",
                "fulfillment_team": desk.pk,
            },
            fields=[{"label": "Colour", "type": "choice"}],
        ),
    )
    assert response.status_code == 400
    assert "a choice field needs at least one option" in text(response)


def test_editing_keeps_option_values_when_only_their_translation_changes(client, max_, laptop):
    client.force_login(max_)
    page = text(client.get(laptop.get_edit_url()))
    assert "Standard 14-inch | Standard" in page
    assert 'name="fields-TOTAL_FORMS"' in page


def test_the_no_script_builder_adds_a_card_when_asked(client, max_, laptop):
    client.force_login(max_)
    page = text(client.get(laptop.get_edit_url()))
    data = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
    data["add_field"] = "1"
    response = client.post(laptop.get_edit_url(), data)
    assert response.status_code == 200
    assert 'name="fields-6-label"' in text(response)


def test_the_editor_is_for_managers_and_admins(client, alice, rita):
    for person in (alice, rita):
        client.force_login(person)
        assert client.get(reverse("catalog:item_list")).status_code == 403


# --- A file over the size limit: 413 on every form that takes files ---------------------------

TOO_LARGE = "big.png is too large (11\xa0bytes): each file can be up to 10\xa0bytes."


def big_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("big.png", b"x" * 11)


def test_the_request_page_answers_413_for_a_file_over_the_limit(
    client, alice, rita, headset, settings
):
    settings.ATTACHMENT_MAX_BYTES = 10
    request = order(headset, by=rita, answers={})
    client.force_login(alice)
    response = client.post(
        reverse("catalog:request_attach", args=[request.number]), {"file": big_file()}
    )
    assert response.status_code == 413
    html = text(response)
    assert f"File: {TOO_LARGE}" in html and 'id="attach-file"' in html
    assert not request.attachments.exists()


def test_the_task_page_answers_413_for_a_file_over_the_limit(
    client, alice, rita, headset, settings
):
    settings.ATTACHMENT_MAX_BYTES = 10
    task = order(headset, by=rita, answers={}).tasks.get()
    client.force_login(alice)
    response = client.post(reverse("catalog:task_attach", args=[task.number]), {"file": big_file()})
    assert response.status_code == 413
    html = text(response)
    assert f"File: {TOO_LARGE}" in html and 'id="attach-file"' in html
    assert not task.attachments.exists()


def test_the_portal_request_page_answers_413_for_a_file_over_the_limit(
    client, rita, headset, settings
):
    settings.ATTACHMENT_MAX_BYTES = 10
    request = order(headset, by=rita, answers={})
    client.force_login(rita)
    response = client.post(
        reverse("catalog:portal_request_attach", args=[request.number]),
        {"attachments": [big_file()]},
    )
    assert response.status_code == 413
    assert response.context["attach_form"].errors["attachments"] == [f"Add files: {TOO_LARGE}"]
    assert f"Add files: {TOO_LARGE}" in text(response)
    assert not request.attachments.exists()


def test_the_assign_form_of_a_finished_request_says_why_and_changes_nothing(
    client, alice, rita, headset
):
    request = order(headset, by=rita, answers={})
    services.cancel(request, actor=rita)
    request.refresh_from_db()
    events = request.events.count()
    client.force_login(alice)
    response = client.post(
        reverse("catalog:request_update", args=[request.number]),
        {"assignee": alice.pk, "version": request.version},
        follow=True,
    )
    assert response.status_code == 200
    html = text(response)
    assert f"{request.number} is canceled: its fields can no longer change." in html
    assert "Allowed: Submitted, Awaiting approval, Approved, In fulfilment." in html
    assert Request.objects.get(pk=request.pk).assignee_id == request.assignee_id
    assert request.events.count() == events
