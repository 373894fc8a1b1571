"""``/api/v1/cmdb/``: who may do what, the error format, impact answers, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cmdb import services
from cmdb.models import CI, CIClass, Relationship
from itsm.testing import make_team

READERS = ["alice", "chris", "paula", "max_", "ada"]
WRITERS = ["alice", "ada"]
OUTSIDERS = ["rita", "carol"]  # an end user; a CAB member without another role
EVERYONE = READERS + OUTSIDERS


@pytest.fixture
def people(rita, carol, alice, chris, paula, max_, ada):
    return {
        "rita": rita,
        "carol": carol,
        "alice": alice,
        "chris": chris,
        "paula": paula,
        "max_": max_,
        "ada": ada,
    }


@pytest.fixture
def estate(make_ci, alice):
    service = make_ci("business_service", "Email")
    app = make_ci("application", "Exchange")
    server = make_ci("server", "srv-mail-01")
    services.relate(service, app, "depends_on", actor=alice)
    services.relate(app, server, "runs_on", actor=alice)
    return {"service": service, "app": app, "server": server}


def read_urls(estate):
    server = estate["server"].pk
    relationship = Relationship.objects.first().pk
    return [
        "/api/v1/cmdb/classes/",
        "/api/v1/cmdb/cis/",
        f"/api/v1/cmdb/cis/{server}/",
        f"/api/v1/cmdb/cis/{server}/impact/",
        f"/api/v1/cmdb/cis/{server}/dependencies/",
        f"/api/v1/cmdb/cis/{server}/history/",
        "/api/v1/cmdb/relationships/",
        f"/api/v1/cmdb/relationships/{relationship}/",
    ]


@pytest.mark.parametrize("who", EVERYONE)
def test_who_reads_the_cmdb(api, people, estate, who):
    expected = 200 if who in READERS else 403
    for url in read_urls(estate):
        assert api.as_(people[who]).get(url).status_code == expected, url


def test_anonymous_callers_are_refused(api, estate):
    for url in read_urls(estate):
        assert api.get(url).status_code in {401, 403}, url


@pytest.mark.parametrize("who", EVERYONE)
def test_who_writes_cis_and_relationships(api, people, estate, classes, who):
    client = api.as_(people[who])
    server = estate["server"]
    allowed = who in WRITERS
    created = client.post(
        "/api/v1/cmdb/cis/",
        {"name": f"db-{who}", "ci_class": "database", "attributes": {"engine": "mysql"}},
        format="json",
    )
    assert created.status_code == (201 if allowed else 403)
    patched = client.patch(f"/api/v1/cmdb/cis/{server.pk}/", {"supplier": who}, format="json")
    assert patched.status_code == (200 if allowed else 403)
    related = client.post(
        "/api/v1/cmdb/relationships/",
        {"source": estate["app"].pk, "type": "depends_on", "target": server.pk},
        format="json",
    )
    assert related.status_code == (201 if allowed else 403)
    relationship = Relationship.objects.first()
    deleted = client.delete(f"/api/v1/cmdb/relationships/{relationship.pk}/")
    assert deleted.status_code == (204 if allowed else 403)
    retired = client.post(f"/api/v1/cmdb/cis/{server.pk}/retire/", {}, format="json")
    assert retired.status_code == (200 if allowed else 403)


@pytest.mark.parametrize("who", EVERYONE)
def test_only_admins_manage_classes(api, people, classes, who):
    client = api.as_(people[who])
    schema = {"type": "object", "properties": {"colour": {"type": "boolean"}}}
    response = client.post(
        "/api/v1/cmdb/classes/",
        {"name": f"printer-{who}", "label": "Printer", "attribute_schema": schema},
        format="json",
    )
    assert response.status_code == (201 if who == "ada" else 403)
    patched = client.patch(
        f"/api/v1/cmdb/classes/{classes['server'].pk}/", {"label": "Host"}, format="json"
    )
    assert patched.status_code == (200 if who == "ada" else 403)


def test_a_class_with_an_unusable_schema_is_a_400(api, ada):
    response = api.as_(ada).post(
        "/api/v1/cmdb/classes/",
        {"name": "bad", "label": "Bad", "attribute_schema": {"type": "array"}},
        format="json",
    )
    assert response.status_code == 400
    assert "attribute_schema" in response.json()


def test_a_class_still_used_cannot_be_deleted(api, ada, make_ci, classes):
    make_ci("server")
    assert api.as_(ada).delete(f"/api/v1/cmdb/classes/{classes['server'].pk}/").status_code == 409
    unused = CIClass.objects.create(name="printer", label="Printer")
    assert api.as_(ada).delete(f"/api/v1/cmdb/classes/{unused.pk}/").status_code == 204


@pytest.mark.parametrize(
    "suffix", ["", "impact/", "dependencies/", "history/"], ids=["ci", "impact", "deps", "history"]
)
def test_a_ci_that_does_not_exist_is_a_404(api, alice, rita, suffix):
    assert api.as_(alice).get(f"/api/v1/cmdb/cis/999999/{suffix}").status_code == 404
    # the area answers first: an end user learns nothing about which ids exist
    assert api.as_(rita).get(f"/api/v1/cmdb/cis/999999/{suffix}").status_code == 403


def test_create_answers_the_ci_with_ids_and_display_fields(api, alice, bob):
    team = make_team("Network")
    response = api.as_(alice).post(
        "/api/v1/cmdb/cis/",
        {
            "name": "sw-core-01",
            "ci_class": CIClass.objects.get(name="network_device").pk,
            "criticality": 1,
            "support_group": team.pk,
            "owner": bob.pk,
            "attributes": {"device_type": "switch", "ports": 48},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["ci_class_name"] == "network_device"
    assert (body["support_group"], body["support_group_display"]) == (team.pk, "Network")
    assert (body["owner"], body["version"], body["status"]) == (bob.pk, 1, "in_service")
    assert CI.objects.get(pk=body["id"]).events.get().actor == alice


def test_bad_attributes_answer_400_per_attribute(api, alice):
    response = api.as_(alice).post(
        "/api/v1/cmdb/cis/",
        {"name": "srv", "ci_class": "server", "attributes": {"cpu_count": 0, "ip_address": "x"}},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"attributes.cpu_count", "attributes.ip_address"}
    assert all(isinstance(messages, list) for messages in body.values())


def test_a_duplicate_name_in_a_class_is_a_400_on_the_name(api, alice, estate):
    response = api.as_(alice).post(
        "/api/v1/cmdb/cis/", {"name": "srv-mail-01", "ci_class": "server"}, format="json"
    )
    assert response.status_code == 400
    assert "name" in response.json()


def test_a_patch_with_a_stale_version_is_a_409_and_changes_nothing(api, alice, estate):
    url = f"/api/v1/cmdb/cis/{estate['server'].pk}/"
    first = api.as_(alice).patch(url, {"supplier": "Dell", "version": 1}, format="json")
    assert first.status_code == 200
    assert first.json()["version"] == 2
    stale = api.as_(alice).patch(url, {"supplier": "HPE", "version": 1}, format="json")
    assert stale.status_code == 409
    assert "detail" in stale.json()
    assert CI.objects.get(pk=estate["server"].pk).supplier == "Dell"


def test_self_and_duplicate_relationships_are_400(api, alice, estate):
    app, server = estate["app"].pk, estate["server"].pk
    client = api.as_(alice)
    itself = client.post(
        "/api/v1/cmdb/relationships/",
        {"source": app, "type": "depends_on", "target": app},
        format="json",
    )
    assert itself.status_code == 400
    assert "target" in itself.json()
    twice = client.post(
        "/api/v1/cmdb/relationships/",
        {"source": app, "type": "runs_on", "target": server},
        format="json",
    )
    assert twice.status_code == 400
    assert Relationship.objects.count() == 2


def test_impact_lists_ids_nearest_first_and_the_services(api, alice, estate):
    response = api.as_(alice).get(f"/api/v1/cmdb/cis/{estate['server'].pk}/impact/")
    assert response.status_code == 200
    body = response.json()
    assert body["cis"] == [estate["app"].pk, estate["service"].pk]
    assert body["services"] == [estate["service"].pk]
    assert [(row["name"], row["depth"]) for row in body["cis_display"]] == [
        ("Exchange", 1),
        ("Email", 2),
    ]
    assert body["services_display"][0]["ci_class"] == "business_service"
    limited = api.as_(alice).get(f"/api/v1/cmdb/cis/{estate['server'].pk}/impact/?max_depth=1")
    assert limited.json()["cis"] == [estate["app"].pk]
    assert (
        api.as_(alice)
        .get(f"/api/v1/cmdb/cis/{estate['server'].pk}/impact/?max_depth=x")
        .status_code
        == 400
    )


def test_dependencies_walk_the_other_way(api, alice, estate):
    body = api.as_(alice).get(f"/api/v1/cmdb/cis/{estate['service'].pk}/dependencies/").json()
    assert body["cis"] == [estate["app"].pk, estate["server"].pk]
    assert body["services"] == []


def test_history_lists_the_audit_trail(api, alice, estate):
    api.as_(alice).patch(
        f"/api/v1/cmdb/cis/{estate['server'].pk}/", {"criticality": 1}, format="json"
    )
    history = api.as_(alice).get(f"/api/v1/cmdb/cis/{estate['server'].pk}/history/").json()
    assert [row["field"] for row in history] == ["created", "relationship", "criticality"]
    assert history[-1] == {**history[-1], "actor": "alice", "old": 3, "new": 1}


def test_filters_combine_and_take_several_values(api, alice, make_ci):
    team = make_team("Network")
    make_ci("server", "srv-a", environment="test", supplier="Dell", support_group=team)
    make_ci("server", "srv-b", environment="production", supplier="HPE")
    make_ci("database", "db-a", environment="test", description="CRM database")
    client = api.as_(alice)

    def names(query):
        response = client.get(f"/api/v1/cmdb/cis/?{query}")
        assert response.status_code == 200, response.content
        return sorted(row["name"] for row in response.json()["results"])

    assert names("ci_class=server") == ["srv-a", "srv-b"]
    assert names("ci_class=server,database&environment=test") == ["db-a", "srv-a"]
    assert names("supplier=dell&supplier=HPE") == ["srv-a", "srv-b"]
    assert names(f"support_group={team.pk}") == ["srv-a"]
    assert names("support_group=Network") == ["srv-a"]
    assert names("q=crm") == ["db-a"]
    assert names("search=srv-") == ["srv-a", "srv-b"]
    assert names("criticality=1") == []
    assert client.get("/api/v1/cmdb/cis/?status=lost").status_code == 400
    assert client.get("/api/v1/cmdb/relationships/?source=abc").status_code == 400


def test_the_ci_list_pages_with_a_cursor(api, alice, make_ci):
    for index in range(7):
        make_ci("server", f"srv-{index}")
    first = api.as_(alice).get("/api/v1/cmdb/cis/?page_size=5").json()
    assert [row["name"] for row in first["results"]] == [f"srv-{i}" for i in range(5)]
    second = api.as_(alice).get(first["next"]).json()
    assert [row["name"] for row in second["results"]] == ["srv-5", "srv-6"]
    assert second["next"] is None


def test_the_list_query_count_does_not_grow_with_the_page(
    api, alice, make_ci, django_assert_max_num_queries
):
    team = make_team("Infrastructure")
    for index in range(60):
        make_ci("server", f"srv-{index:02d}", owner=alice, support_group=team)
    client = api.as_(alice)
    client.get("/api/v1/cmdb/cis/?page_size=1")  # the roles are cached on the user after this
    counts = []
    for size in (5, 50):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/v1/cmdb/cis/?page_size={size}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(6):
        client.get("/api/v1/cmdb/cis/?page_size=50&ci_class=server")


def test_the_schema_documents_the_cmdb(api, ada):
    schema = api.as_(ada).get("/api/v1/schema/?format=json").json()
    for path in (
        "/api/v1/cmdb/cis/",
        "/api/v1/cmdb/cis/{id}/impact/",
        "/api/v1/cmdb/relationships/",
    ):
        assert path in schema["paths"], path
