from django.db import migrations


def uncovered_index() -> migrations.RunPython:
    """The index the problem candidates read (PostgreSQL only): incidents no problem covers, by
    date, with the columns they are grouped by, so that counting a window is an index-only
    scan. On the incidents' table, but only problem management reads it."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                "CREATE INDEX IF NOT EXISTS inc_uncovered_created_idx "
                "ON incidents_incident (created_at) INCLUDE (id, service_id, ci_id, state) "
                "WHERE problem_id IS NULL"
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("DROP INDEX IF EXISTS inc_uncovered_created_idx")

    return migrations.RunPython(create, drop, elidable=False)


class Migration(migrations.Migration):
    dependencies = [
        ("problems", "0002_sequence_audit_search"),
        ("incidents", "0007_incident_problem"),
    ]
    operations = [uncovered_index()]
