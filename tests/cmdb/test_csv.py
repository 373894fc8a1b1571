"""CSV export and import: round trip, per-line errors, nothing written on failure."""

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from cmdb import services
from cmdb.csv_io import COLUMNS, import_csv, write_csv
from cmdb.models import CI, CIEvent, Relationship
from itsm.testing import make_team

HEADER = ",".join(COLUMNS)


def estate_snapshot():
    """The estate as plain data, keyed by (class, name): what a round trip must preserve."""
    cis = {
        (ci.ci_class.name, ci.name): (
            ci.status,
            ci.environment,
            ci.criticality,
            ci.owner.username if ci.owner else "",
            ci.support_group.name if ci.support_group else "",
            ci.supplier,
            ci.description,
            ci.attributes,
        )
        for ci in CI.objects.select_related("ci_class", "owner", "support_group")
    }
    relationships = {
        ((r.source.ci_class.name, r.source.name), r.type, (r.target.ci_class.name, r.target.name))
        for r in Relationship.objects.select_related("source__ci_class", "target__ci_class")
    }
    return cis, relationships


def wipe_estate():
    """Empty the CMDB tables (the audit trail refuses deletes through the ORM, by design)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run the deferred FK checks first
            cursor.execute("TRUNCATE cmdb_cievent, cmdb_relationship, cmdb_ci CASCADE")
        else:
            for table in ("cmdb_cievent", "cmdb_relationship", "cmdb_ci"):
                cursor.execute(f"DELETE FROM {table}")


@pytest.fixture
def estate(make_ci, alice, bob):
    network = make_team("Network")
    core = make_ci("network_device", "sw-core-01", support_group=network, supplier="Cisco, Inc.")
    servers = [
        make_ci("server", f"srv-{n}", owner=bob, criticality=2, description="Line one\nline two")
        for n in range(3)
    ]
    database = make_ci("database", "db-crm", attributes={"engine": "mysql", "version": "8.0"})
    app = make_ci("application", "CRM – web", environment="staging", status="planned")
    service = make_ci(
        "business_service", "CRM", attributes={"tier": "gold", "customer_facing": True}
    )
    for server in servers:
        services.relate(server, core, "connects_to", actor=alice)
    services.relate(database, servers[0], "hosted_on", actor=alice)
    services.relate(app, database, "depends_on", actor=alice)
    services.relate(app, servers[1], "runs_on", actor=alice)
    services.relate(app, servers[2], "runs_on", actor=alice)
    services.relate(service, app, "depends_on", actor=alice)
    services.relate(servers[1], servers[2], "connects_to", actor=alice)  # a cycle
    services.relate(servers[2], servers[1], "connects_to", actor=alice)
    return service


def export_text(queryset=None) -> str:
    output = io.StringIO()
    write_csv(output, queryset)
    return output.getvalue()


def test_export_then_import_gives_the_same_estate(estate, ada):
    before = estate_snapshot()
    text = export_text()
    wipe_estate()
    assert not CI.objects.exists()
    result = import_csv(io.StringIO(text), actor=ada)
    assert result.ok, result.errors
    assert (result.created, result.relationships_added) == (7, 10)
    assert estate_snapshot() == before
    assert export_text() == text
    assert CIEvent.objects.filter(field="created", actor=ada).count() == 7


def test_importing_the_export_again_changes_nothing(estate, ada):
    text = export_text()
    events = CIEvent.objects.count()
    result = import_csv(io.StringIO(text), actor=ada)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 7)
    assert (result.relationships_added, result.relationships_removed) == (0, 0)
    assert CIEvent.objects.count() == events


def test_an_edited_export_updates_and_resyncs_relationships(estate, ada):
    rows = list(csv.DictReader(io.StringIO(export_text())))
    app = next(row for row in rows if row["name"] == "CRM – web")
    app["supplier"] = "Acme"
    app["relationships"] = "depends_on:database/db-crm"  # no longer runs on the servers
    output = io.StringIO()
    writer = csv.DictWriter(output, COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    result = import_csv(io.StringIO(output.getvalue()), actor=ada)
    assert (result.updated, result.relationships_removed, result.relationships_added) == (1, 2, 0)
    ci = CI.objects.get(name="CRM – web")
    assert ci.supplier == "Acme"
    assert list(ci.outgoing.values_list("target__name", flat=True)) == ["db-crm"]
    assert ci.events.filter(field="supplier", actor=ada).exists()


BAD = f"""{HEADER}
srv-ok,server,in_service,production,3,,,,,"{{""cpu_count"": 2}}",
,server,,,,,,,,,
srv-bad,servr,in_service,production,3,,,,,,
srv-ip,server,broken,production,9,nobody,No team,,,"{{""ip_address"": ""1.2.3""}}",
srv-json,server,,,,,,,,{{not json,
app,application,,,,,,,,,"runs_on:server/srv-ok
runs_on:server/missing
likes:server/srv-ok
app"
srv-ok,server,,,,,,,,,
"""


def test_every_bad_line_is_reported_and_nothing_is_written(db, ada):
    result = import_csv(io.StringIO(BAD), actor=ada)
    assert not result.written
    assert not CI.objects.exists()
    errors = {(error.line, error.column) for error in result.errors}
    assert errors == {
        (3, "name"),
        (4, "ci_class"),
        (5, "status"),
        (5, "criticality"),
        (5, "owner"),
        (5, "support_group"),
        (5, "attributes.ip_address"),
        (6, "attributes"),
        (7, "relationships"),
        (11, "name"),  # the same (class, name) as line 2; the record on lines 7-10 is one CI
    }
    messages = [error.message for error in result.errors if error.line == 7]
    assert any("missing" in message for message in messages)
    assert any("likes" in message for message in messages)
    assert any("'app'" in message for message in messages)


def test_partial_writes_the_good_lines_only(db, ada):
    result = import_csv(io.StringIO(BAD), actor=ada, partial=True)
    assert result.written
    assert list(CI.objects.values_list("name", flat=True)) == ["srv-ok"]
    assert result.failed_lines == [3, 4, 5, 6, 7, 11]


def test_a_dry_run_reports_and_writes_nothing(estate, ada):
    text = export_text()
    wipe_estate()
    result = import_csv(io.StringIO(text), actor=ada, dry_run=True)
    assert result.ok and not result.written
    assert (result.created, result.relationships_added) == (7, 10)
    assert not CI.objects.exists()


def test_a_relationship_target_may_already_be_in_the_cmdb(make_ci, ada):
    make_ci("server", "srv-existing")
    text = f"{HEADER}\napp,application,,,,,,,,,runs_on:server/srv-existing\n"
    assert import_csv(io.StringIO(text), actor=ada).ok
    assert Relationship.objects.get().target.name == "srv-existing"


def test_columns_left_out_are_left_alone(make_ci, ada):
    make_ci("server", "srv-1", supplier="Dell", criticality=1)
    result = import_csv(io.StringIO("name,ci_class,supplier\nsrv-1,server,HPE\n"), actor=ada)
    ci = CI.objects.get(name="srv-1")
    assert (result.updated, ci.supplier, ci.criticality) == (1, "HPE", 1)


def test_unknown_or_missing_columns_are_refused(db, ada):
    result = import_csv(io.StringIO("name,colour\nx,red\n"), actor=ada)
    assert {(error.line, error.column) for error in result.errors} == {(1, "ci_class"), (1, "")}


def test_the_commands_round_trip(estate, ada, tmp_path, capsys):
    path = tmp_path / "estate.csv"
    call_command("cmdb_export", str(path))
    before = estate_snapshot()
    wipe_estate()
    call_command("cmdb_import", str(path), "--dry-run")
    assert not CI.objects.exists()
    call_command("cmdb_import", str(path), "--actor", "ada")
    assert estate_snapshot() == before
    assert "7 created" in capsys.readouterr().out


def test_the_progress_bar_ticks_once_per_row_checked_and_written(estate, ada):
    class Bar:
        ticks = 0

        def update(self, n):
            self.ticks += n

    bar = Bar()
    import_csv(io.StringIO(export_text()), actor=ada, progress=bar)
    assert bar.ticks == 14  # 7 rows checked, 7 written


def test_the_import_command_fails_on_bad_lines(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("cmdb_import", str(path))
    assert not CI.objects.exists()


def test_admins_import_from_the_page(client, ada, estate):
    text = export_text().replace("Cisco, Inc.", "Cisco Systems")
    client.force_login(ada)
    upload = io.BytesIO(("\ufeff" + text).encode())
    upload.name = "estate.csv"
    response = client.post("/cmdb/cis/import/", {"file": upload, "dry_run": ""})
    result = response.context["result"]
    assert result.ok and result.written and result.updated == 1
    assert CI.objects.get(name="sw-core-01").supplier == "Cisco Systems"
    bad = io.BytesIO(BAD.encode())
    bad.name = "bad.csv"
    response = client.post("/cmdb/cis/import/", {"file": bad, "dry_run": ""})
    assert b"srv-bad" not in response.content and b"Unknown class" in response.content


def test_the_import_page_refuses_a_file_over_the_size_limit_naming_the_field(
    client, ada, estate, settings
):
    """The same per-file limit as attachments (ATTACHMENT_MAX_BYTES), not only the request's:
    413, the error on the file field, nothing read or written."""
    text = export_text().replace("Cisco, Inc.", "Cisco Systems")
    settings.ATTACHMENT_MAX_BYTES = len(text.encode()) - 1
    client.force_login(ada)
    upload = io.BytesIO(text.encode())
    upload.name = "estate.csv"
    response = client.post("/cmdb/cis/import/", {"file": upload, "dry_run": ""})

    assert response.status_code == 413
    assert response.context["result"] is None
    [error] = response.context["form"].errors["file"]
    assert error.startswith("CSV file: estate.csv is too large (")
    assert "each file can be up to" in error
    assert error in response.content.decode()
    assert CI.objects.get(name="sw-core-01").supplier == "Cisco, Inc."

    settings.ATTACHMENT_MAX_BYTES = len(text.encode())  # at the limit: imported
    upload.seek(0)
    response = client.post("/cmdb/cis/import/", {"file": upload, "dry_run": ""})
    assert response.status_code == 200 and response.context["result"].written
    assert CI.objects.get(name="sw-core-01").supplier == "Cisco Systems"
