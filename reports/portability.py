"""Data portability: every record of the desk as JSON Lines, every attachment as a file
(``manage.py export_data DIR``), loaded back into an empty instance by ``import_data``
(``reports.services.import_data``). The format is documented in docs/data-export.md.

A table is a model: each model of the project's apps, their many-to-many link tables, and the
roles (``auth.Group``), written in an order where a row's foreign keys point to rows written
before it (a cycle or a self-reference is loaded in one transaction whose foreign-key checks
run at commit). Each line holds one row, its columns by name (``assignee_id`` for a foreign
key); primary keys are kept, so every reference survives. What is left out, and why:
sessions, API tokens (credentials: people sign in again and make new tokens), sign-in
lock-out records, Django admin's log, the reports' daily roll-up (derived from the tickets,
rolled again after an import), content types and permissions (rebuilt by
``migrate``; a permission granted to a role or a user is written by its natural key).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import connections, models, transaction
from django.utils import timezone

from .replica import reading

FORMAT = "itsm-export"
VERSION = 1
MANIFEST = "manifest.json"
FILES = "files"
CHUNK = 2000


def project_apps() -> list[str]:
    """The labels of the project's own apps, in INSTALLED_APPS order."""
    root = Path(settings.BASE_DIR).resolve()
    labels = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(root) and ".venv" not in path.parts:
            labels.append(config.label)
    return labels


def exported_models() -> list[type[models.Model]]:
    """Every table an export holds, parents before the rows that point at them."""
    own = set(project_apps())
    chosen = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in own  # with the link tables of their many-to-many fields
        or model is Group
        or model is Group.permissions.through
    ]
    return _ordered(
        [
            m
            for m in chosen
            if not m._meta.proxy and m._meta.managed and m._meta.label_lower not in DERIVED
        ]
    )


# Tables computed from the others (the reports' daily roll-up): left out of an export, rebuilt
# by the instance that imports it (its roll-up task rolls every day it has not rolled yet).
DERIVED = {
    "reports.incidentday",
    "reports.incidentdaytime",
    "reports.rolledday",
    "reports.dirtyday",
}


def _ordered(chosen: list[type[models.Model]]) -> list[type[models.Model]]:
    """Topological order on foreign keys (self-references and cycles ignored)."""
    remaining = {model._meta.label_lower: model for model in chosen}
    done: list[type[models.Model]] = []
    seen: set[str] = set()

    def visit(model, path=()):
        label = model._meta.label_lower
        if label in seen or label in path:
            return
        for field in model._meta.concrete_fields:
            target = field.related_model if field.is_relation else None
            if target is not None and target._meta.label_lower in remaining and target != model:
                visit(remaining[target._meta.label_lower], (*path, label))
        if label not in seen:
            seen.add(label)
            done.append(model)

    for model in chosen:
        visit(model)
    return done


def table_name(model) -> str:
    return f"{model._meta.label_lower}.jsonl"


def columns(model) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def file_fields(model) -> list[models.Field]:
    return [f for f in columns(model) if isinstance(f, models.FileField)]


def permission_fields(model) -> list[models.Field]:
    return [f for f in columns(model) if f.is_relation and f.related_model is Permission]


# --- Values ------------------------------------------------------------------------------------


def encode(value):
    """JSON for what ``json`` cannot write itself, without loss (microseconds kept)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"cannot export {type(value).__name__}")


def dumps(row: dict) -> str:
    return json.dumps(row, default=encode, ensure_ascii=False, sort_keys=True)


def permission_keys(using: str) -> dict[int, list[str]]:
    return {
        pk: [app_label, codename]
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }


# --- Export -------------------------------------------------------------------------------------


def rows_of(model, using: str) -> Iterator[dict]:
    names = [field.attname for field in columns(model)]
    query = model._base_manager.using(using).order_by("pk").values_list(*names)
    for values in query.iterator(chunk_size=CHUNK):
        yield dict(zip(names, values, strict=True))


def export_data(directory: Path, *, progress=None) -> dict:
    """Write every record and every attached file under ``directory`` (empty or new); returns
    the manifest. Reads from the replica when one is configured, in one snapshot."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty")
    with reading() as using:
        connection = connections[using]
        snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
        with transaction.atomic(using=using):
            if snapshot:  # every table as of one instant
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return _export(directory, using, progress)


def _export(directory: Path, using: str, progress) -> dict:
    chosen = exported_models()
    counts = {m: m._base_manager.using(using).count() for m in chosen}
    if progress is not None:
        progress.reset(total=sum(counts.values()))
    permissions = permission_keys(using)
    tables, files = [], 0
    for model in chosen:
        file_columns = [f.attname for f in file_fields(model)]
        permission_columns = [f.attname for f in permission_fields(model)]
        with open(directory / table_name(model), "w", encoding="utf-8") as out:
            for row in rows_of(model, using):
                for name in permission_columns:
                    row[name] = permissions.get(row[name])
                for name in file_columns:
                    if row[name]:
                        files += _copy_out(model, name, row[name], directory)
                out.write(dumps(row) + "\n")
                if progress is not None:
                    progress.update(1)
        tables.append(
            {"model": model._meta.label_lower, "file": table_name(model), "rows": counts[model]}
        )
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "tables": tables,
        "files": files,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _copy_out(model, attname: str, name: str, directory: Path) -> int:
    storage = model._meta.get_field(attname).storage
    target = directory / FILES / name
    if not storage.exists(name):
        return 0  # a row whose file was lost: the row is kept, there is nothing to copy
    target.parent.mkdir(parents=True, exist_ok=True)
    with storage.open(name, "rb") as source, open(target, "wb") as out:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            out.write(chunk)
    return 1


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: not an export directory")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValueError(f"{path}: not an {FORMAT} version {VERSION} export")
    return manifest
