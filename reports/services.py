"""The one write of the reports app: loading an export into an empty instance
(``manage.py import_data DIR``; the format is in ``reports.portability`` and
docs/data-export.md).

The import is all or nothing (one transaction): rows keep their primary keys, attached files
are stored under the names their rows carry, then the id sequences and the ticket-number
sequences move past the imported rows, so the next incident gets the next number. Only an empty
instance takes an import — no user, no ticket, no CI: merging two desks is another job. The
rows ``migrate`` installs by itself (CI classes, the round-the-clock calendar, the roles) are
replaced by the exported ones, so the instance ends up as the export describes it.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from django.contrib.auth.models import Permission
from django.core.files import File
from django.core.management.color import no_style
from django.db import connection, transaction

from accounts.models import User
from cmdb.models import CI
from itsm.models import NumberCounter, TicketBase, sequence_name

from . import portability

BATCH = 1000


class NotEmpty(Exception):
    """The instance already holds records: an import would mix two desks."""


def check_empty() -> None:
    ticket_models = [m for m in portability.exported_models() if issubclass(m, TicketBase)]
    held = [
        model._meta.verbose_name_plural
        for model in (User, CI, *ticket_models)
        if model._base_manager.exists()
    ]
    if held:
        raise NotEmpty(f"this instance already has {', '.join(map(str, held))}")


def import_data(directory: Path, *, progress=None) -> dict[str, int]:
    """Load the export in ``directory``; returns the rows loaded per table."""
    directory = Path(directory)
    manifest = portability.read_manifest(directory)
    by_label = {m._meta.label_lower: m for m in portability.exported_models()}
    unknown = [t["model"] for t in manifest["tables"] if t["model"] not in by_label]
    if unknown:
        raise ValueError(f"tables this version does not know: {', '.join(unknown)}")
    if progress is not None:
        progress.reset(total=sum(t["rows"] for t in manifest["tables"]))
    loaded = {}
    with transaction.atomic():
        check_empty()
        _clear_installed_rows(by_label.values())
        permissions = {
            (app_label, codename): pk
            for pk, app_label, codename in Permission.objects.values_list(
                "pk", "content_type__app_label", "codename"
            )
        }
        for table in manifest["tables"]:
            model = by_label[table["model"]]
            with _timestamps_as_given(model):
                loaded[table["model"]] = _load(model, directory, permissions, progress)
        _reset_sequences(by_label.values())
    return loaded


def _clear_installed_rows(chosen) -> None:
    """The rows migrations installed (CI classes, the default calendar, the roles) make way
    for the exported ones."""
    for model in reversed(list(chosen)):
        if model._base_manager.exists():
            model._base_manager.all().delete()


def _rows(path: Path):
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _load(model, directory: Path, permissions, progress) -> int:
    fields = {field.attname: field for field in portability.columns(model)}
    file_columns = {f.attname: f for f in portability.file_fields(model)}
    permission_columns = {f.attname for f in portability.permission_fields(model)}
    batch, count = [], 0
    for row in _rows(directory / portability.table_name(model)):
        values = {}
        for name, value in row.items():
            field = fields[name]
            if name in permission_columns:
                value = permissions.get(tuple(value)) if value else None
                if value is None:
                    break  # a permission this instance does not have: the grant is dropped
            elif name in file_columns and value:
                value = _store(field, value, directory)
            values[name] = field.to_python(value) if value is not None else None
        else:
            batch.append(model(**values))
        if len(batch) >= BATCH:
            model._base_manager.bulk_create(batch)
            count += len(batch)
            batch = []
        if progress is not None:
            progress.update(1)
    if batch:
        model._base_manager.bulk_create(batch)
        count += len(batch)
    return count


def _store(field, name: str, directory: Path) -> str:
    """Put an exported file back in the storage under its own name (or the name the storage
    gives it, which the row then carries)."""
    source = directory / portability.FILES / name
    if not source.exists():
        return name  # the file was already missing at export: the row still says which
    storage = field.storage
    if storage.exists(name) and _same_bytes(storage, name, source):
        return name  # left by an earlier, rolled-back attempt
    with open(source, "rb") as handle:
        return storage.save(name, File(handle, name=name))


def _same_bytes(storage, name: str, source: Path) -> bool:
    with storage.open(name, "rb") as stored, open(source, "rb") as exported:
        while True:
            a, b = stored.read(1 << 20), exported.read(1 << 20)
            if a != b:
                return False
            if not a:
                return True


@contextmanager
def _timestamps_as_given(model):
    """``auto_now``/``auto_now_add`` columns take the exported instants, not the import's."""
    stamped = [
        (field, field.auto_now, field.auto_now_add)
        for field in portability.columns(model)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    for field, _now, _add in stamped:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, now, add in stamped:
            field.auto_now, field.auto_now_add = now, add


def _reset_sequences(chosen) -> None:
    """Id sequences past the imported rows; ticket numbers past the imported numbers."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(chosen))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    for model in chosen:
        if not issubclass(model, TicketBase) or not model.NUMBER_PREFIX:
            continue
        highest = _highest_number(model)
        if not highest:
            continue
        prefix = model.NUMBER_PREFIX
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT setval(%s, %s)", [sequence_name(prefix), highest])
        else:
            NumberCounter.objects.update_or_create(prefix=prefix, defaults={"last": highest})


def _highest_number(model) -> int:
    """Numbers are zero-padded to one width: the greatest is the last in text order."""
    prefix = model.NUMBER_PREFIX
    last = (
        model._base_manager.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    digits = (last or "")[len(prefix) :]
    return int(digits) if digits.isdigit() else 0
