"""The CMDB's writes: audited like tickets, optimistic locking, relationship rules."""

import pytest
from django.core.exceptions import ValidationError

from cmdb import services
from cmdb.models import CI, CIEvent, Relationship
from itsm.workflow import StaleVersion


def fields(ci):
    return list(ci.events.order_by("id").values_list("field", "old", "new"))


def test_creating_a_ci_records_who_created_it(make_ci, alice):
    ci = make_ci("server", "srv-01", actor=alice)
    event = ci.events.get()
    assert (event.field, event.new, event.actor) == ("created", "srv-01", alice)


def test_updating_records_each_changed_field_with_old_and_new(make_ci, alice, bob):
    ci = make_ci("server", "srv-01", supplier="Dell")
    team = bob.teams.get()
    changes = services.update_ci(
        ci,
        {
            "supplier": "HPE",
            "support_group": team,
            "criticality": 3,
            "attributes": {"cpu_count": 8},
        },
        actor=alice,
    )
    assert set(changes) == {"supplier", "support_group", "attributes"}  # criticality was 3
    assert ci.version == 2
    history = fields(ci)[1:]
    assert ("supplier", "Dell", "HPE") in history
    assert ("support_group", None, team.pk) in history
    assert (
        "attributes",
        {"hostname": "srv-01", "ip_address": "10.0.0.1", "cpu_count": 4},
        {"cpu_count": 8},
    ) in history
    assert all(event.actor == alice for event in ci.events.exclude(field="created"))


def test_an_update_that_changes_nothing_writes_nothing(make_ci, alice):
    ci = make_ci("server", "srv-01", supplier="Dell")
    assert services.update_ci(ci, {"supplier": "Dell"}, actor=alice) == {}
    assert ci.events.count() == 1
    assert CI.objects.get(pk=ci.pk).version == 1


def test_a_stale_version_is_refused_and_nothing_is_written(make_ci, alice):
    ci = make_ci("server", "srv-01", supplier="Dell")
    services.update_ci(ci, {"supplier": "HPE"}, actor=alice, version=1)
    with pytest.raises(StaleVersion):
        services.update_ci(ci, {"supplier": "Lenovo"}, actor=alice, version=1)
    assert CI.objects.get(pk=ci.pk).supplier == "HPE"


def test_changing_the_class_checks_the_attributes_against_the_new_schema(make_ci, classes, alice):
    ci = make_ci("server", "srv-01")
    with pytest.raises(ValidationError) as caught:
        services.update_ci(ci, {"ci_class": classes["database"]}, actor=alice)
    assert "attributes.engine" in caught.value.message_dict
    assert CI.objects.get(pk=ci.pk).ci_class.name == "server"


def test_the_same_name_twice_in_a_class_is_refused_on_the_name(make_ci, classes):
    make_ci("server", "srv-01")
    with pytest.raises(ValidationError) as caught:
        make_ci("server", "srv-01")
    assert list(caught.value.message_dict) == ["name"]
    assert make_ci("database", "srv-01")  # another class may use it


def test_retiring_keeps_the_ci_and_its_relationships(make_ci, alice):
    app, server = make_ci("application"), make_ci("server")
    services.relate(app, server, "runs_on", actor=alice)
    services.retire_ci(server, actor=alice)
    server.refresh_from_db()
    assert server.status == CI.Status.RETIRED
    assert ("status", "in_service", "retired") in fields(server)
    assert Relationship.objects.filter(source=app, target=server).exists()


def test_relating_records_it_on_both_cis(make_ci, alice):
    app, server = make_ci("application"), make_ci("server")
    relationship = services.relate(app, server, "runs_on", actor=alice)
    value = {"type": "runs_on", "source": app.pk, "target": server.pk}
    assert ("relationship", None, value) in fields(app)
    assert ("relationship", None, value) in fields(server)
    services.unrelate(relationship, actor=alice)
    assert ("relationship", value, None) in fields(app)
    assert ("relationship", value, None) in fields(server)
    assert not Relationship.objects.exists()


def test_a_ci_cannot_relate_to_itself(make_ci, alice):
    ci = make_ci()
    with pytest.raises(ValidationError) as caught:
        services.relate(ci, ci, "depends_on", actor=alice)
    assert "target" in caught.value.message_dict
    assert not Relationship.objects.exists()


def test_a_duplicate_relationship_is_refused(make_ci, alice):
    app, server = make_ci("application"), make_ci("server")
    services.relate(app, server, "runs_on", actor=alice)
    with pytest.raises(ValidationError):
        services.relate(app, server, "runs_on", actor=alice)
    services.relate(app, server, "depends_on", actor=alice)  # another type is another fact
    assert Relationship.objects.count() == 2


def test_an_unknown_relationship_type_is_refused(make_ci, alice):
    with pytest.raises(ValidationError) as caught:
        services.relate(make_ci(), make_ci(), "likes", actor=alice)
    assert "type" in caught.value.message_dict


def test_the_history_is_append_only(make_ci):
    event = make_ci().events.get()
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        CIEvent.objects.update(field="x")
    with pytest.raises(PermissionError):
        event.delete()
