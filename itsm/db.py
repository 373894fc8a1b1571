"""Migration operations the kernel gives every app: number sequences and append-only tables."""

from django.db import migrations

from .models import sequence_name


def number_sequence(prefix: str) -> migrations.RunPython:
    """Create the PostgreSQL sequence behind ``next_number(prefix)`` (nothing elsewhere)."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {sequence_name(prefix)}")

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP SEQUENCE IF EXISTS {sequence_name(prefix)}")

    return migrations.RunPython(create, drop, elidable=False)


def append_only(table: str) -> migrations.RunPython:
    """Triggers that refuse changes to the rows of ``table`` (audit trails).

    PostgreSQL refuses UPDATE and DELETE (TRUNCATE, used only by test teardown, stays
    possible). SQLite refuses UPDATE only: Django's test flush there deletes rows, and the
    model layer already refuses deletes.
    """

    def create(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(
                """
                CREATE OR REPLACE FUNCTION itsm_append_only() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION USING
                        MESSAGE = 'append-only table: ' || TG_TABLE_NAME,
                        ERRCODE = 'insufficient_privilege';
                END;
                $$ LANGUAGE plpgsql
                """
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION itsm_append_only()"
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'append-only table: {table}'); END"
            )

    def drop(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")

    return migrations.RunPython(create, drop, elidable=False)
