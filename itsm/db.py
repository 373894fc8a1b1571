"""Migration operations the kernel gives every app (number sequences and append-only tables),
and batch writes of many rows in one statement.

``insert_rows`` and ``recordset`` pass a batch's rows to PostgreSQL as one JSON parameter read
by ``json_to_recordset``: no model instance per row and no placeholder per value (the driver
splits and quotes every placeholder of a statement on the client, which for a few thousand
values costs more than the insert itself).
"""

import json
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, migrations
from django.utils import timezone

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


# --- Batch writes


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_rows(rows) -> str:
    """``rows`` (dicts or lists) as the JSON text ``recordset`` reads; datetimes in ISO 8601."""
    return json.dumps(rows, default=_json_default, separators=(",", ":"))


def recordset(columns: dict[str, str]) -> str:
    """A subquery of the rows of one JSON parameter (``json_rows`` of lists, each list's
    values in the order of ``columns``): one column per entry of ``columns``
    (``{name: SQL type}``), plus ``n``, each row's position from 1."""
    values = []
    for index, (column, type_) in enumerate(columns.items()):
        name = connection.ops.quote_name(column)
        if type_ in ("json", "jsonb"):  # a JSON null is SQL NULL, as the ORM writes it
            values.append(f"NULLIF(v.value->{index}, 'null'::jsonb) AS {name}")
        else:
            values.append(f"(v.value->>{index})::{type_} AS {name}")
    return (
        f"(SELECT {', '.join(values)}, v.n "  # noqa: S608 - names and types, no values
        "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS v(value, n))"
    )


def _columns(model) -> list:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def _value(field, row: dict, now):
    if field.attname in row:
        return row[field.attname]
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()


def insert_rows(model, rows: list[dict], *, returning: bool = True) -> list[int]:
    """Insert ``rows`` (``{attname: value}``; a field left out takes its default, ``auto_now``
    ones the current time) in one statement, without model instances; return their ids in
    the order of ``rows`` (``[]`` when not ``returning``). Values are taken as given: what
    ``save`` would convert (a model instance for a foreign key) must already be converted.
    Elsewhere than on PostgreSQL, ``bulk_create``."""
    if not rows:
        return []
    now = timezone.now()
    fields = _columns(model)
    if connection.vendor != "postgresql":
        objs = model.objects.bulk_create(
            [model(**{f.attname: _value(f, row, now) for f in fields}) for row in rows]
        )
        return [obj.pk for obj in objs] if returning else []
    types = {f.column: f.db_type(connection).split("(")[0] for f in fields}
    names = ", ".join(connection.ops.quote_name(column) for column in types)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) "  # noqa: S608
        f"SELECT {names} FROM {recordset(types)} AS v ORDER BY v.n"
    )
    if returning:
        sql += f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
    data = [[_value(f, row, now) for f in fields] for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(sql, [json_rows(data)])
        return [pk for (pk,) in cursor.fetchall()] if returning else []
