"""CSV export and import of the CMDB: one row per CI, its outgoing relationships in one cell.

Columns (``COLUMNS``): ``name, ci_class`` (class name), ``status, environment, criticality``
(their codes), ``owner`` (username), ``support_group`` (team name), ``supplier, description``,
``attributes`` (a JSON object) and ``relationships``: one ``type:class/name`` per line, e.g.
``runs_on:server/srv-erp-01`` — "this CI runs on that one". A CI is identified by its class and
name, so an export imports back into another installation as the same estate.

Import is an upsert: new (class, name) pairs are created, existing ones updated (only what
changed, each change audited). When the ``relationships`` column is present it is the CI's full
list of outgoing relationships: missing ones are added, unlisted ones removed. Columns left out
of the file are left alone. Every row is checked before anything is written; one bad row and
nothing is written, unless ``partial`` asks to write the good rows. ``dry_run`` does the whole
import inside a transaction and rolls it back, so the report is exactly what would happen.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from accounts.models import Team, User
from itsm import spreadsheet

from . import services
from .models import CI, CIClass, Relationship
from .permissions import check_import

COLUMNS = [
    "name",
    "ci_class",
    "status",
    "environment",
    "criticality",
    "owner",
    "support_group",
    "supplier",
    "description",
    "attributes",
    "relationships",
]
REQUIRED_COLUMNS = ("name", "ci_class")
Key = tuple[str, str]  # (class name, CI name)


# --- Export


def export_queryset(queryset=None):
    """The CIs to export, with everything a row needs fetched in a constant number of queries."""
    queryset = CI.objects.all() if queryset is None else queryset
    outgoing = Relationship.objects.select_related("target__ci_class").order_by(
        "type", "target__ci_class__name", "target__name"
    )
    return (
        queryset.select_related("ci_class", "owner", "support_group")
        .prefetch_related(Prefetch("outgoing", queryset=outgoing))
        .order_by("ci_class__name", "name")
    )


def export_row(ci: CI) -> dict[str, str]:
    return {
        "name": ci.name,
        "ci_class": ci.ci_class.name,
        "status": ci.status,
        "environment": ci.environment,
        "criticality": str(ci.criticality),
        "owner": ci.owner.username if ci.owner_id else "",
        "support_group": ci.support_group.name if ci.support_group_id else "",
        "supplier": ci.supplier,
        "description": ci.description,
        "attributes": json.dumps(ci.attributes, sort_keys=True, ensure_ascii=False)
        if ci.attributes
        else "",
        "relationships": "\n".join(
            f"{rel.type}:{rel.target.ci_class.name}/{rel.target.name}" for rel in ci.outgoing.all()
        ),
    }


def export_lines(queryset=None) -> Iterator[list[str]]:
    """The CSV rows, header first (streams: fetches 500 CIs at a time)."""
    yield COLUMNS
    for ci in export_queryset(queryset).iterator(chunk_size=500):
        row = export_row(ci)
        yield [row[column] for column in COLUMNS]


def write_csv(output, queryset=None) -> int:
    """Write the export to a text file object; return the number of CIs written."""
    writer = spreadsheet.writer(output)
    count = -1
    for count, line in enumerate(export_lines(queryset)):  # noqa: B007 - count is the result
        writer.writerow(line)
    return max(count, 0)


# --- Import


@dataclass(frozen=True)
class RowError:
    line: int  # the line number in the file (the header is line 1)
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    relationships_added: int = 0
    relationships_removed: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def failed_lines(self) -> list[int]:
        return sorted({error.line for error in self.errors})


@dataclass
class _Row:
    line: int
    key: Key
    values: dict  # CI fields, typed
    relationships: list[tuple[str, Key]] | None  # None: column absent, leave them alone
    errors: list[RowError] = field(default_factory=list)


def _tick(progress) -> None:
    if progress is not None:
        progress.update(1)


class _Parser:
    """Turns CSV rows into typed CI values, collecting every error with its line and column."""

    def __init__(self, header: list[str]):
        self.header = header
        self.classes = {c.name: c for c in CIClass.objects.all()}
        self.teams = {t.name: t for t in Team.objects.all()}
        self.users: dict[str, User | None] = {}

    def user(self, username: str) -> User | None:
        if username not in self.users:
            self.users[username] = User.objects.filter(username=username).first()
        return self.users[username]

    def parse(self, line: int, raw: dict[str, str]) -> _Row:
        get = {name: (raw.get(name) or "").strip() for name in self.header}
        errors: list[RowError] = []
        for column, value in get.items():
            if "\x00" in value:
                errors.append(RowError(line, column, _("Text cannot contain NUL characters.")))
                get[column] = value.replace("\x00", "")

        def error(column: str, message) -> None:
            errors.append(RowError(line, column, str(message)))

        values: dict = {}
        name, class_name = get.get("name", ""), get.get("ci_class", "")
        if not name:
            error("name", _("A name is required."))
        values["name"] = name
        ci_class = self.classes.get(class_name)
        if ci_class is None:
            error("ci_class", _("Unknown class %(name)r.") % {"name": class_name})
        values["ci_class"] = ci_class
        for column, choices in (("status", CI.Status), ("environment", CI.Environment)):
            if column in get:
                value = get[column] or CI._meta.get_field(column).default
                if value not in choices.values:
                    error(column, _("One of %(choices)s.") % {"choices": ", ".join(choices.values)})
                values[column] = value
        if "criticality" in get:
            value = get["criticality"] or "3"
            if value not in {"1", "2", "3", "4"}:
                error("criticality", _("A number from 1 (critical) to 4 (low)."))
            else:
                values["criticality"] = int(value)
        if "owner" in get:
            owner = self.user(get["owner"]) if get["owner"] else None
            if get["owner"] and owner is None:
                error("owner", _("No user %(name)r.") % {"name": get["owner"]})
            values["owner"] = owner
        if "support_group" in get:
            team = self.teams.get(get["support_group"]) if get["support_group"] else None
            if get["support_group"] and team is None:
                error("support_group", _("No team %(name)r.") % {"name": get["support_group"]})
            values["support_group"] = team
        for column in ("supplier", "description"):
            if column in get:
                values[column] = get[column]
        if "attributes" in get:
            values["attributes"] = self.attributes(get["attributes"], ci_class, error)
        relationships = None
        if "relationships" in get:
            relationships = self.relationships(get["relationships"], error)
        if ci_class is not None and name:
            self.check_fields(values, error)
        return _Row(line, (class_name, name), values, relationships, errors)

    def attributes(self, text: str, ci_class, error) -> dict:
        if not text:
            attributes = {}
        else:
            try:
                attributes = json.loads(text)
            except json.JSONDecodeError as exc:
                error("attributes", _("Not valid JSON: %(error)s") % {"error": exc.msg})
                return {}
        if not isinstance(attributes, dict):
            error("attributes", _("Attributes must be a JSON object."))
            return {}
        if ci_class is not None:
            for key, messages in ci_class.attribute_errors(attributes).items():
                for message in messages:
                    error(key, message)
        return attributes

    def relationships(self, text: str, error) -> list[tuple[str, Key]]:
        parsed = []
        for entry in (part.strip() for part in text.splitlines()):
            if not entry:
                continue
            rel_type, sep, ref = entry.partition(":")
            class_name, slash, name = ref.partition("/")
            if not sep or not slash or not name.strip():
                error("relationships", _("%(entry)r: expected type:class/name.") % {"entry": entry})
            elif rel_type.strip() not in Relationship.Type.values:
                error(
                    "relationships",
                    _("%(entry)r: unknown type; one of %(types)s.")
                    % {"entry": entry, "types": ", ".join(Relationship.Type.values)},
                )
            else:
                parsed.append((rel_type.strip(), (class_name.strip(), name.strip())))
        return parsed

    def check_fields(self, values: dict, error) -> None:
        """The model's own field checks (lengths...), without touching the database."""
        simple = {"name", "status", "environment", "criticality", "supplier", "description"}
        probe = CI(**{k: v for k, v in values.items() if k in simple})
        try:
            probe.clean_fields(
                exclude=[
                    "attributes",
                    "ci_class",
                    "owner",
                    "support_group",
                    "status",
                    "environment",
                    "criticality",
                ]
            )
        except ValidationError as exc:
            for column, messages in exc.message_dict.items():
                for message in messages:
                    error(column, message)


def _read(file) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[RowError]]:
    """The header and ``(first line, {column: cell})`` per non-blank record."""
    reader = csv.reader(file)
    header = [name.strip() for name in next(reader, [])]
    rows, errors = [], []
    previous = reader.line_num
    for cells in reader:
        line, previous = previous + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            errors.append(RowError(line, "", _("More cells than columns in the header.")))
            continue
        cells = [spreadsheet.unescape(cell) for cell in cells]
        rows.append((line, dict(zip(header, cells, strict=False))))
    return header, rows, errors


def _check_header(header: list[str]) -> list[RowError]:
    errors = []
    for column in REQUIRED_COLUMNS:
        if column not in header:
            errors.append(RowError(1, column, _("Missing column %(column)r.") % {"column": column}))
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        errors.append(
            RowError(
                1,
                "",
                _("Unknown columns: %(columns)s. Known columns: %(known)s.")
                % {"columns": ", ".join(unknown), "known": ", ".join(COLUMNS)},
            )
        )
    return errors


def _existing(keys: Iterable[Key]) -> dict[Key, CI]:
    keys = list(keys)
    found: dict[Key, CI] = {}
    names = sorted({name for _cls, name in keys})
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        for ci in CI.objects.filter(name__in=chunk).select_related("ci_class"):
            found[(ci.ci_class.name, ci.name)] = ci
    wanted = set(keys)
    return {key: ci for key, ci in found.items() if key in wanted}


def _check_relationships(rows: list[_Row], known: set[Key], existing: dict[Key, CI]) -> None:
    """Each target must be a valid row of the file or a CI already in the CMDB."""
    for row in rows:
        for rel_type, target in row.relationships or ():
            if target == row.key:
                row.errors.append(
                    RowError(row.line, "relationships", _("A CI cannot relate to itself."))
                )
            elif target not in known and target not in existing:
                row.errors.append(
                    RowError(
                        row.line,
                        "relationships",
                        _("%(type)s:%(cls)s/%(name)s: no such CI in the file or the CMDB.")
                        % {"type": rel_type, "cls": target[0], "name": target[1]},
                    )
                )


def validate(file, *, progress=None) -> tuple[list[_Row], list[RowError], dict[Key, CI]]:
    """Parse and check every row without writing anything."""
    header, raw_rows, read_errors = _read(file)
    header_errors = _check_header(header)
    if header_errors:
        return [], header_errors, {}
    parser = _Parser(header)
    rows: list[_Row] = []
    seen: dict[Key, int] = {}
    for line, raw in raw_rows:
        row = parser.parse(line, raw)
        if row.key in seen and row.key[1]:
            row.errors.append(
                RowError(
                    line,
                    "name",
                    _("Same class and name as line %(line)d.") % {"line": seen[row.key]},
                )
            )
        seen.setdefault(row.key, line)
        rows.append(row)
        _tick(progress)
    existing = _existing(row.key for row in rows) | _existing(
        target for row in rows for _type, target in (row.relationships or ())
    )
    _check_relationships(rows, {row.key for row in rows}, existing)
    return rows, read_errors + [error for row in rows for error in row.errors], existing


def import_csv(file, *, actor, dry_run=False, partial=False, progress=None) -> ImportResult:
    """Import a CMDB CSV (see the module docstring). ``progress`` is a tqdm-like bar, ticked
    once per row while checking and once per row while writing. Administrators only (the
    command line's ``actor=None`` is the operator)."""
    check_import(actor)
    rows, errors, existing = validate(file, progress=progress)
    result = ImportResult(rows=len(rows), errors=errors, dry_run=dry_run)
    if errors and not partial:
        return result
    good = [row for row in rows if not row.errors]
    if partial:  # a row whose target was refused is refused too, until nothing changes
        while True:
            known = {row.key for row in good}
            for row in good:
                row.errors.clear()
            _check_relationships(good, known, existing)
            refused = [row for row in good if row.errors]
            if not refused:
                break
            result.errors.extend(error for row in refused for error in row.errors)
            good = [row for row in good if not row.errors]
    with transaction.atomic():
        _write(good, existing, result, actor=actor, progress=progress)
        if dry_run:
            transaction.set_rollback(True)
    result.written = not dry_run and bool(good)
    result.errors.sort(key=lambda error: (error.line, error.column))
    return result


def _write(rows: list[_Row], existing: dict[Key, CI], result: ImportResult, *, actor, progress):
    cis: dict[Key, CI] = dict(existing)
    for row in rows:
        ci = existing.get(row.key)
        if ci is None:
            cis[row.key] = services.create_ci(actor=actor, **row.values)
            result.created += 1
        else:
            values = {k: v for k, v in row.values.items() if k != "ci_class"}
            if services.update_ci(ci, values, actor=actor):
                result.updated += 1
            else:
                result.unchanged += 1
        _tick(progress)
    for row in rows:
        if row.relationships is None:
            continue
        source = cis[row.key]
        wanted = {(rel_type, cis[target].pk) for rel_type, target in row.relationships}
        current = {(rel.type, rel.target_id): rel for rel in source.outgoing.all()}
        for rel_key, rel in current.items():
            if rel_key not in wanted:
                services.unrelate(rel, actor=actor)
                result.relationships_removed += 1
        targets = {cis[target].pk: cis[target] for _type, target in row.relationships}
        for rel_type, target_id in sorted(wanted - set(current)):
            services.relate(source, targets[target_id], rel_type, actor=actor)
            result.relationships_added += 1
