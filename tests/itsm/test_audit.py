import pytest
from django.db import DatabaseError, connection, transaction

from incidents.models import IncidentEvent
from itsm import services
from itsm.testing import make_incident


@pytest.fixture
def event(db, alice):
    incident = make_incident()
    services.update_ticket(incident, {"title": "Printer on fire"}, actor=alice)
    return incident.events.get(field="title")


def test_every_field_change_is_recorded_with_actor_old_and_new(event, alice):
    assert event.actor == alice
    assert event.old == "Outlook keeps asking for my password"
    assert event.new == "Printer on fire"


def test_an_event_cannot_be_saved_again(event):
    event.new = "rewritten"
    with pytest.raises(PermissionError):
        event.save()


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(PermissionError):
        event.delete()


def test_events_cannot_be_updated_or_deleted_in_bulk(event):
    with pytest.raises(PermissionError):
        IncidentEvent.objects.filter(pk=event.pk).update(new="x")
    with pytest.raises(PermissionError):
        IncidentEvent.objects.filter(pk=event.pk).delete()


def test_the_database_refuses_an_update_made_in_sql(event):
    table = IncidentEvent._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET new = %s WHERE id = %s", ['"x"', event.pk])
    event.refresh_from_db()
    assert event.new == "Printer on fire"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite keeps DELETE possible for Django's test flush; the model layer refuses it",
)
def test_the_database_refuses_a_delete_made_in_sql(event):
    table = IncidentEvent._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])
    assert IncidentEvent.objects.filter(pk=event.pk).exists()


def test_the_admin_cannot_change_or_delete_history(event, ada, rf):
    from django.contrib.admin.sites import site

    from incidents.models import Incident

    admin = site._registry[Incident]
    request = rf.get("/")
    request.user = ada
    inline = admin.get_inline_instances(request, event.ticket)[0]
    assert not inline.has_change_permission(request, event.ticket)
    assert not inline.has_delete_permission(request, event.ticket)
    assert not admin.has_delete_permission(request, event.ticket)


@pytest.mark.parametrize("kind", ["incidents", "problems"])
def test_an_api_patch_that_sends_the_stored_text_back_records_nothing(api, alice, kind):
    """Every path reaches the kernel's diff: other line endings or surrounding blanks are the
    same text, so nothing is written nor audited (issue 18, item 1)."""
    from itsm.testing import make_user
    from problems import services as problem_services

    worker = alice
    if kind == "incidents":
        ticket = make_incident(description="Line one\nLine two\n")
    else:
        worker = make_user("paula", roles=("problem_manager", "agent"))
        ticket = problem_services.open_problem(
            actor=worker, title="Printers", description="Line one\nLine two\n"
        )
    api.force_authenticate(worker)
    before = ticket.events.count()
    response = api.patch(
        f"/api/v1/{kind}/{ticket.number}/",
        {"description": "Line one\r\nLine two", "title": f"  {ticket.title}  "},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert ticket.events.count() == before
    ticket.refresh_from_db()
    assert ticket.description == "Line one\nLine two\n"


def test_a_ci_saved_with_its_text_unchanged_records_nothing(db, alice):
    from cmdb import services as cmdb_services
    from cmdb.classes import ensure_default_classes
    from cmdb.models import CIClass

    ensure_default_classes()
    ci = cmdb_services.create_ci(
        actor=alice,
        name="srv-app-01",
        ci_class=CIClass.objects.get(name="server"),
        description="Runs the\napp.",
    )
    before = ci.events.count()
    assert cmdb_services.update_ci(ci, {"description": "Runs the\r\napp. "}, actor=alice) == {}
    assert ci.events.count() == before
