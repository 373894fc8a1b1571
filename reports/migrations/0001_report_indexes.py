"""The indexes the reports read through, on the tables of the apps they read.

Reports filter on instants the desk's own lists never filter on (when an incident was resolved
or rated, when a request was fulfilled) and count a service's incidents over a period. These
indexes belong to the reports, so they live here, beside the queries that use them
(``reports/figures.py``, ``reports/review.py``), not in the apps that own the tables. Partial
where most rows have no value. Built ``CONCURRENTLY`` on PostgreSQL: a large desk keeps
working while they are built.
"""

from django.db import migrations

# name: (table, columns, columns carried in the index (PostgreSQL), condition)
INDEXES = {
    # MTTR, its median, first-contact resolution, the weekly trend: incidents resolved in a
    # period, read from the index alone (with the filters' columns)
    "rpt_inc_resolved_idx": (
        "incidents_incident",
        "(resolved_at)",
        "(created_at, priority, assignment_group_id, service_id, id)",
        "WHERE resolved_at IS NOT NULL",
    ),
    # incidents opened in a period, per week, with the filters' columns
    "rpt_inc_created_idx": (
        "incidents_incident",
        "(created_at)",
        "(priority, assignment_group_id, service_id)",
        "",
    ),
    # CSAT: ratings given in a period
    "rpt_inc_rated_idx": (
        "incidents_incident",
        "(rated_at)",
        "(csat_score, priority, assignment_group_id, service_id, id)",
        "WHERE rated_at IS NOT NULL",
    ),
    # a service's incidents over a period (the service review)
    "rpt_inc_service_created_idx": (
        "incidents_incident",
        "(service_id, created_at)",
        "",
        "WHERE service_id IS NOT NULL",
    ),
    # first-contact resolution: moves between teams and reopens in an incident's trail
    "rpt_inc_event_moves_idx": (
        "incidents_incidentevent",
        "(ticket_id)",
        "",
        "WHERE field IN ('assignment_group', 'state')",
    ),
    # request fulfilment times: requests fulfilled in a period
    "rpt_req_fulfilled_idx": (
        "catalog_request",
        "(fulfilled_at)",
        "",
        "WHERE fulfilled_at IS NOT NULL",
    ),
}


def create(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    concurrently = "CONCURRENTLY " if postgresql else ""
    for name, (table, columns, carried, where) in INDEXES.items():
        include = f"INCLUDE {carried}" if carried and postgresql else ""
        schema_editor.execute(
            f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON {table} {columns} {include} {where}"
        )


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("incidents", "0009_merge_caused_by_change"),
        ("catalog", "0003_attachment_internal"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
