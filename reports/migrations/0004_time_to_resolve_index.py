"""The median time to resolve (``reports.rollup.median_ttr``) reads, in order, the incidents
resolved in a period whose time to resolve falls in one bucket: an index on that time, carrying
the resolution instant to check the period. PostgreSQL only (SQLite sorts in Python), built
``CONCURRENTLY`` so a large desk keeps working meanwhile."""

from django.db import migrations

NAME = "rpt_inc_time_to_resolve_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON incidents_incident "
        "((resolved_at - created_at)) INCLUDE (resolved_at, created_at, service_id, "
        "assignment_group_id, priority) WHERE resolved_at IS NOT NULL"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("reports", "0003_incident_day_times")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
