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
