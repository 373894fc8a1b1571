"""Reports and exports read from the replica when ``DATABASE_REPLICA_URL`` adds one, and from
the primary otherwise; writes always go to the primary."""

import pytest

from incidents.models import Incident
from reports.replica import ReplicaRouter, reading


@pytest.fixture
def with_replica(monkeypatch):
    """As if ``DATABASE_REPLICA_URL`` had added the ``replica`` database (the router asks
    ``replica_configured``; no query runs in these tests)."""
    monkeypatch.setattr("reports.replica.replica_configured", lambda: True)


def test_without_a_replica_everything_reads_the_primary(settings):
    assert "replica" not in settings.DATABASES
    with reading() as alias:
        assert alias == "default"
        assert Incident.objects.all().db == "default"


def test_reports_read_the_replica_inside_the_block_only(with_replica):
    assert Incident.objects.all().db == "default"
    with reading() as alias:
        assert alias == "replica"
        assert Incident.objects.all().db == "replica"
        assert ReplicaRouter().db_for_write(Incident) == "default"
    assert Incident.objects.all().db == "default"


def test_the_replica_is_never_migrated(with_replica):
    router = ReplicaRouter()
    assert router.allow_migrate("replica", "incidents") is False
    assert router.allow_migrate("default", "incidents") is True


SHOW = """
import json, django
django.setup()
from django.conf import settings as s
replica = s.DATABASES.get("replica") or {}
mirror = (replica.get("TEST") or {}).get("MIRROR")
print(json.dumps({"replica": [replica.get("HOST"), replica.get("USER"), mirror],
                  "routers": s.DATABASE_ROUTERS}))
"""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://reader:pw@replica.example:5432/itsm",
            ["replica.example", "reader", "default"],
        ),
        ("", [None, None, None]),
    ],
)
def test_the_settings_add_the_replica_from_the_environment(url, expected):
    """In a fresh process, as each configuration starts."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_REPLICA_URL": url, "DJANGO_SETTINGS_MODULE": "itsm.settings"}
    out = subprocess.run(
        [sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True
    ).stdout
    shown = json.loads(out.strip().splitlines()[-1])
    assert shown["replica"] == expected
    assert "reports.replica.ReplicaRouter" in shown["routers"]
