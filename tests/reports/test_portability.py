"""Data portability (SPEC §10): export → import into an empty instance → export again gives the
same files, byte for byte; attachments come back; numbering goes on after the imported ones."""

import filecmp
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import User
from incidents import services as incidents
from incidents.models import Incident, IncidentAttachment
from itsm.testing import make_incident, make_persona
from reports import portability

pytestmark = pytest.mark.django_db


def export(directory: Path) -> Path:
    call_command("export_data", str(directory), stdout=io.StringIO(), stderr=io.StringIO())
    return directory


def empty_the_instance() -> None:
    """What a fresh instance looks like after ``migrate`` (and less: even the rows migrations
    install are gone, which the import must restore from the export too)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending checks
    call_command("flush", interactive=False, verbosity=0)


def same_tree(first: Path, second: Path) -> list[str]:
    """Files that differ between two exports (the manifest's export time aside)."""
    differences = []
    names = {p.relative_to(first) for p in first.rglob("*") if p.is_file()}
    names |= {p.relative_to(second) for p in second.rglob("*") if p.is_file()}
    for name in sorted(names):
        a, b = first / name, second / name
        if not (a.exists() and b.exists()):
            differences.append(f"{name}: in one export only")
        elif name.name == portability.MANIFEST:
            one, two = json.loads(a.read_text()), json.loads(b.read_text())
            one.pop("exported_at"), two.pop("exported_at")
            if one != two:
                differences.append(str(name))
        elif not filecmp.cmp(a, b, shallow=False):
            pairs = zip(a.read_bytes().splitlines(), b.read_bytes().splitlines(), strict=False)
            first_change = next(((x, y) for x, y in pairs if x != y), ("(length)", ""))
            differences.append(f"{name}: {first_change[0][:300]!r} → {first_change[1][:300]!r}")
    return differences


@pytest.fixture
def seeded(settings):
    """The demo desk (every app's records: tickets, comments, history, SLA timers, CMDB,
    catalog, changes and approvals...) plus an attached file and an internal note."""
    call_command("seed_demo", "--quiet-logins", stdout=io.StringIO(), stderr=io.StringIO())
    agent = User.objects.get(username="agent")
    incident = make_incident(actor=agent, title="Printer on fire =SUM(A1)", impact=1)
    incidents.comment(incident, actor=agent, body="Smoke seen.", internal=True)
    incidents.watch(incident, actor=User.objects.get(username="manager"))
    incidents.attach(
        incident,
        actor=agent,
        upload=SimpleUploadedFile("photo.png", b"\x89PNG fake bytes", "image/png"),
    )
    return incident


def test_export_then_import_into_an_empty_instance_loses_nothing(seeded, tmp_path):
    first = export(tmp_path / "first")
    manifest = json.loads((first / portability.MANIFEST).read_text())
    written = {table["model"]: table["rows"] for table in manifest["tables"]}
    for table in (
        "incidents.incident",
        "incidents.incidentevent",
        "incidents.incidentcomment",
        "incidents.incidentattachment",
        "incidents.incident_watchers",
        "problems.problem",
        "changes.change",
        "changes.approval",
        "cmdb.ci",
        "cmdb.relationship",
        "catalog.catalogitem",
        "catalog.request",
        "catalog.task",
        "sla.calendar",
        "sla.policy",
        "sla.timer",
        "accounts.user",
        "accounts.team",
        "accounts.team_members",
        "accounts.user_groups",
        "auth.group",
    ):
        assert written.get(table), f"{table}: nothing exported"
    assert manifest["files"] == 1

    empty_the_instance()
    assert not Incident.objects.exists()
    call_command("import_data", str(first), stdout=io.StringIO(), stderr=io.StringIO())

    second = export(tmp_path / "second")
    differences = same_tree(first, second)
    assert differences == [], "\n".join(differences)
    attachment = IncidentAttachment.objects.get(ticket__title__startswith="Printer on fire")
    with attachment.file.open("rb") as stored:
        assert stored.read() == b"\x89PNG fake bytes"
    newest = Incident.objects.order_by("-number").first().number
    again = make_incident(actor=User.objects.get(username="agent"), title="After the move")
    assert again.number > newest


def test_an_instance_with_records_refuses_an_import(tmp_path):
    make_incident()
    export(tmp_path / "out")
    with pytest.raises(CommandError, match="empty instance"):
        call_command("import_data", str(tmp_path / "out"), stdout=io.StringIO())
    assert Incident.objects.count() == 1


def test_export_refuses_a_directory_that_is_not_empty(tmp_path):
    make_persona("rita")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CommandError, match="not empty"):
        export(tmp_path)


def test_every_table_of_the_project_is_exported():
    labels = {model._meta.label_lower for model in portability.exported_models()}
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in portability.project_apps() and not model._meta.proxy:
            derived = model._meta.label_lower in portability.DERIVED
            assert (model._meta.label_lower in labels) is not derived
    assert {"auth.group", "auth.group_permissions"} <= labels
    # the reports' roll-up is derived from the tickets: rolled again by the importing instance
    assert {
        "reports.incidentday",
        "reports.incidentdaytime",
        "reports.rolledday",
        "reports.dirtyday",
    } == portability.DERIVED
    assert not labels & {"sessions.session", "authtoken.token", "admin.logentry"}
