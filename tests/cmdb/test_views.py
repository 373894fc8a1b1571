"""The CMDB pages: who sees them, what they show, the forms, query counts."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cmdb import services
from cmdb.models import CI, Relationship
from itsm.testing import make_incident, make_team

READERS = ["alice", "chris", "paula", "max_", "ada"]
OUTSIDERS = ["rita", "carol"]


@pytest.fixture
def people(rita, carol, alice, chris, paula, max_, ada):
    return locals()


@pytest.fixture
def estate(make_ci, alice):
    service = make_ci("business_service", "Email", owner=alice)
    app = make_ci("application", "Exchange")
    server = make_ci("server", "srv-mail-01", supplier="Dell")
    services.relate(service, app, "depends_on", actor=alice)
    services.relate(app, server, "runs_on", actor=alice)
    return {"service": service, "app": app, "server": server}


def page_urls(estate):
    server, service = estate["server"].pk, estate["service"].pk
    return [
        "/cmdb/",
        "/cmdb/cis/",
        f"/cmdb/cis/{server}/",
        f"/cmdb/cis/{server}/?depth=4",
        "/cmdb/services/",
        f"/cmdb/services/{service}/",
        "/cmdb/cis/export/",
        "/cmdb/cis/lookup/?other=srv",
    ]


@pytest.mark.parametrize("who", READERS + OUTSIDERS)
def test_who_sees_the_cmdb_pages(client, people, estate, who):
    client.force_login(people[who])
    for url in page_urls(estate):
        response = client.get(url)
        expected = 403 if who in OUTSIDERS else (302 if url == "/cmdb/" else 200)
        assert response.status_code == expected, url


def test_anonymous_visitors_are_sent_to_sign_in(client, estate):
    for url in page_urls(estate):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", READERS + OUTSIDERS)
def test_who_may_open_the_forms(client, people, estate, who):
    client.force_login(people[who])
    server = estate["server"].pk
    editor = who in {"alice", "ada"}
    assert client.get("/cmdb/cis/add/").status_code == (200 if editor else 403)
    assert client.get(f"/cmdb/cis/{server}/edit/").status_code == (200 if editor else 403)
    assert client.get("/cmdb/cis/import/").status_code == (200 if who == "ada" else 403)


def test_missing_cis_and_non_services_are_404(client, alice, estate):
    client.force_login(alice)
    assert client.get("/cmdb/cis/999999/").status_code == 404
    assert client.get("/cmdb/services/999999/").status_code == 404
    assert client.get(f"/cmdb/services/{estate['server'].pk}/").status_code == 404
    assert client.get("/cmdb/cis/999999/edit/").status_code == 404


def test_the_list_filters_and_searches(client, alice, make_ci):
    team = make_team("Network")
    make_ci("server", "srv-a", environment="test", supplier="Dell", support_group=team)
    make_ci("server", "srv-b", supplier="HPE", criticality=1)
    make_ci("database", "db-crm", description="CRM data")
    client.force_login(alice)

    def names(query):
        response = client.get(f"/cmdb/cis/?{query}")
        assert response.status_code == 200
        return [ci.name for ci in response.context["page"].object_list]

    assert names("") == ["db-crm", "srv-a", "srv-b"]
    assert names("ci_class=server&environment=test") == ["srv-a"]
    assert names("status=in_service&criticality=1") == ["srv-b"]
    assert names(f"support_group={team.pk}") == ["srv-a"]
    assert names("supplier=Dell&supplier=HPE") == ["srv-a", "srv-b"]
    assert names("q=crm") == ["db-crm"]
    assert names("status=lost") == []
    partial = client.get("/cmdb/cis/?q=srv", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"srv-a" in partial.content


def test_the_list_page_query_count_does_not_grow_with_the_page(
    client, alice, make_ci, django_assert_max_num_queries, settings
):
    team = make_team("Infrastructure")
    for index in range(60):
        make_ci("server", f"srv-{index:02d}", owner=alice, support_group=team, supplier="Dell")
    client.force_login(alice)
    client.get("/cmdb/cis/")
    counts = []
    for query in ("ci_class=server&q=srv-0", "ci_class=server"):  # 10 rows, then 50 rows
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/cmdb/cis/?{query}")
        counts.append(len(queries))
    assert len(response.context["page"].object_list) == 50
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(14):
        client.get("/cmdb/cis/?ci_class=server&page=2")


def test_the_ci_page_draws_the_neighbourhood_and_the_impact(client, alice, estate):
    make_incident(title="Mail server down", ci=estate["server"])
    client.force_login(alice)
    response = client.get(f"/cmdb/cis/{estate['server'].pk}/")
    content = response.content.decode()
    graph = json.loads(
        content.split('id="ci-graph-data" type="application/json">')[1].split("</script>")[0]
    )
    assert {node["name"]: node["side"] for node in graph["nodes"]} == {
        "srv-mail-01": "focus",
        "Exchange": "down",
        "Email": "down",
    }
    assert len(graph["edges"]) == 2
    assert [row.name for row in response.context["impact"].services] == ["Email"]
    assert "Mail server down" in content
    assert "As a list" in content and "Exchange" in content
    assert [row["field"] for row in response.context["history"]] == ["relationship", "created"]


def test_the_service_page_shows_owner_dependencies_and_incidents(client, alice, estate):
    make_incident(title="Exchange slow", ci=estate["app"])
    make_incident(title="Cannot send mail", service=estate["service"])
    client.force_login(alice)
    response = client.get(f"/cmdb/services/{estate['service'].pk}/")
    content = response.content.decode()
    assert str(alice) in content
    assert [row.name for row in response.context["dependencies"].cis] == ["Exchange", "srv-mail-01"]
    assert "Exchange slow" in content and "Cannot send mail" in content


def test_an_agent_adds_a_ci_and_sees_attribute_errors_per_field(client, alice, classes):
    client.force_login(alice)
    data = {
        "name": "srv-new",
        "ci_class": classes["server"].pk,
        "status": "in_service",
        "environment": "production",
        "criticality": 2,
        "attributes": json.dumps({"cpu_count": 0, "colour": "red"}),
    }
    response = client.post("/cmdb/cis/add/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors["attributes"]
    assert any(error.startswith("cpu_count:") for error in errors)
    assert any(error.startswith("colour:") for error in errors)
    assert not CI.objects.exists()
    data["attributes"] = json.dumps({"cpu_count": 8})
    response = client.post("/cmdb/cis/add/", data)
    ci = CI.objects.get(name="srv-new")
    assert response["Location"] == ci.get_absolute_url()
    assert ci.events.get().actor == alice


def test_editing_with_a_stale_version_is_refused(client, alice, estate, classes):
    server = estate["server"]
    services.update_ci(server, {"supplier": "HPE"}, actor=alice)
    client.force_login(alice)
    response = client.post(
        f"/cmdb/cis/{server.pk}/edit/",
        {
            "name": server.name,
            "ci_class": classes["server"].pk,
            "status": "in_service",
            "environment": "production",
            "criticality": 3,
            "supplier": "Lenovo",
            "attributes": json.dumps(server.attributes),
            "version": 1,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert CI.objects.get(pk=server.pk).supplier == "HPE"


def test_relationships_are_added_and_removed_from_the_ci_page(client, alice, estate, make_ci):
    database = make_ci("database", "db-mail")
    app = estate["app"]
    client.force_login(alice)
    url = f"/cmdb/cis/{app.pk}/relationships/"
    client.post(
        url,
        {
            "direction": "outgoing",
            "type": "depends_on",
            "other": f"db-mail · Database · #{database.pk}",
        },
    )
    relationship = Relationship.objects.get(source=app, target=database)
    client.post(url, {"direction": "incoming", "type": "depends_on", "other": app.name})  # itself
    client.post(url, {"direction": "outgoing", "type": "depends_on", "other": "db-mail"})  # again
    assert Relationship.objects.filter(source=app, target=database).count() == 1
    client.post(f"/cmdb/cis/{app.pk}/relationships/{relationship.pk}/delete/")
    assert not Relationship.objects.filter(pk=relationship.pk).exists()


def test_readers_who_are_not_agents_cannot_write(client, chris, estate):
    client.force_login(chris)
    server = estate["server"]
    assert client.post(f"/cmdb/cis/{server.pk}/retire/").status_code == 403
    assert (
        client.post(
            f"/cmdb/cis/{server.pk}/relationships/",
            {"direction": "outgoing", "type": "depends_on", "other": "Exchange"},
        ).status_code
        == 403
    )
    rel = Relationship.objects.first()
    assert client.post(f"/cmdb/cis/{server.pk}/relationships/{rel.pk}/delete/").status_code in {
        403,
        404,
    }
    assert CI.objects.get(pk=server.pk).status == "in_service"


def test_an_agent_retires_a_ci(client, alice, estate):
    client.force_login(alice)
    server = estate["server"]
    client.post(f"/cmdb/cis/{server.pk}/retire/", {"version": server.version})
    assert CI.objects.get(pk=server.pk).status == "retired"


def test_the_export_download_is_csv_of_the_filtered_list(client, max_, estate):
    client.force_login(max_)
    response = client.get("/cmdb/cis/export/?ci_class=server")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("name,ci_class,status")
    assert len(lines) == 2 and lines[1].startswith("srv-mail-01,server")
