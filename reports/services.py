"""The writes of the reports app: loading an export into an empty instance
(``manage.py import_data DIR``; the format is in ``reports.portability`` and
docs/data-export.md), and the daily roll-up of the incident figures (below).

The import is all or nothing (one transaction): rows keep their primary keys, attached files
are stored under the names their rows carry, then the id sequences and the ticket-number
sequences move past the imported rows, so the next incident gets the next number. Only an empty
instance takes an import — no user, no ticket, no CI: merging two desks is another job. The
rows ``migrate`` installs by itself (CI classes, the round-the-clock calendar, the roles) are
replaced by the exported ones, so the instance ends up as the export describes it.
"""

from __future__ import annotations

import json
import time as _time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from django.contrib.auth.models import Permission
from django.core.files import File
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from cmdb.models import CI
from incidents.models import Incident
from itsm.models import NumberCounter, TicketBase, sequence_name

from . import portability, rollup
from .models import DirtyDay, IncidentDay, IncidentDayTime, RolledDay

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


# --- The daily roll-up of the incident figures (``reports.rollup``) ----------------------------

# Days rolled together in one transaction (a month: one aggregation per measure).
ROLL_CHUNK_DAYS = 31
# A day is rolled once it has been over for this long, so that a write begun just before
# midnight has committed (and found nothing to mark: its day was still today) before its day is
# read.
ROLL_GRACE = timedelta(minutes=10)
_ROLL_LOCK = 0x7265706F  # the advisory lock that serialises roll-ups on PostgreSQL


def mark_days_dirty(days) -> int:
    """Record that incidents counting on ``days`` changed: those days are read live until rolled
    again. Today (never read from the roll-up) and later days are not recorded. One insert,
    without a lock, so concurrent writers never wait on each other."""
    today = timezone.localdate()
    past = sorted({day for day in days if day is not None and day < today})
    if past:
        DirtyDay.objects.bulk_create(DirtyDay(day=day) for day in past)
    return len(past)


def rollable_until(now=None) -> date:
    """The last day the roll-up may hold: yesterday, once it has been over for ``ROLL_GRACE``."""
    now = now or timezone.now()
    return timezone.localtime(now - ROLL_GRACE).date() - timedelta(days=1)


def first_incident_day():
    first = Incident.objects.order_by("created_at").values_list("created_at", flat=True).first()
    return rollup.local_day(first) if first else None


def pending_days(now=None) -> list[date]:
    """Days to roll, newest first: days marked dirty, and days from the first incident's to
    ``rollable_until`` that were never rolled."""
    last = rollable_until(now)
    dirty = set(DirtyDay.objects.filter(day__lte=last).values_list("day", flat=True).distinct())
    first = first_incident_day()
    missing = set()
    if first is not None and first <= last:
        rolled = set(
            RolledDay.objects.filter(day__gte=first, day__lte=last).values_list("day", flat=True)
        )
        missing = {day for day in rollup.days_between(first, last) if day not in rolled}
    return sorted(dirty | missing, reverse=True)


def roll_up(days, *, progress=None, budget: float | None = None) -> int:
    """Roll ``days`` (any order): their ``IncidentDay`` rows are replaced by what the incidents
    say now (``rollup.live`` grouped by day, team, service and priority), the days are marked
    rolled and their dirty marks read before the computation are removed (a mark written during
    it stays, and the day is rolled again next time). One transaction per run of up to
    ``ROLL_CHUNK_DAYS`` consecutive days; stops after ``budget`` seconds. Returns the days
    rolled."""
    started = _time.monotonic()
    chunks = []
    for first, last in rollup.runs_of(days):
        while first <= last:
            end = min(last, first + timedelta(days=ROLL_CHUNK_DAYS - 1))
            chunks.append((first, end))
            first = end + timedelta(days=1)
    done = 0
    for first, last in sorted(chunks, reverse=True):  # the most recent days first
        if budget is not None and _time.monotonic() - started > budget:
            break
        _roll_chunk(first, last)
        count = (last - first).days + 1
        done += count
        if progress is not None:
            progress.update(count)
    return done


@transaction.atomic(savepoint=False)  # alone, or inside rebuild_all's transaction
def _roll_chunk(first: date, last: date) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ROLL_LOCK])
    marks = list(
        DirtyDay.objects.filter(day__gte=first, day__lte=last).values_list("pk", flat=True)
    )
    found = rollup.live(Incident.objects.order_by(), [(first, last)], rollup.ALL_KEYS)
    IncidentDay.objects.filter(day__gte=first, day__lte=last).delete()
    IncidentDay.objects.bulk_create(
        (
            IncidentDay(
                day=rollup.as_date(day),
                team_id=team,
                service_id=service,
                priority=priority,
                opened=value.opened,
                resolved=value.resolved,
                resolve_microseconds=value.resolve_microseconds,
                first_contact=value.first_contact,
                **{f"csat_{s}": n for s, n in zip(rollup.SCORES, value.csat, strict=True)},
            )
            for (day, team, service, priority), value in found.items()
            if not value.empty
        ),
        batch_size=1000,
    )
    if connection.vendor == "postgresql":  # the median's buckets (rollup.median_ttr)
        IncidentDayTime.objects.filter(day__gte=first, day__lte=last).delete()
        times = rollup.live_times(Incident.objects.order_by(), [(first, last)], by_day=True)
        IncidentDayTime.objects.bulk_create(
            (
                IncidentDayTime(day=rollup.as_date(day), bucket=bucket, resolved=n)
                for (day, bucket), n in times.items()
            ),
            batch_size=1000,
        )
    now = timezone.now()
    RolledDay.objects.filter(day__gte=first, day__lte=last).update(rolled_at=now)
    have = set(
        RolledDay.objects.filter(day__gte=first, day__lte=last).values_list("day", flat=True)
    )
    RolledDay.objects.bulk_create(
        RolledDay(day=day, rolled_at=now)
        for day in rollup.days_between(first, last)
        if day not in have
    )
    for start in range(0, len(marks), 500):
        DirtyDay.objects.filter(pk__in=marks[start : start + 500]).delete()


def roll_up_pending(*, now=None, progress=None, budget: float | None = None) -> int:
    """Roll the days marked dirty and the days never rolled (beat's ``roll_up_days``)."""
    days = pending_days(now)
    if progress is not None:
        progress.reset(total=len(days))
    return roll_up(days, progress=progress, budget=budget)


@transaction.atomic
def rebuild_all(*, now=None, progress=None) -> int:
    """Forget the roll-up and roll every day from the first incident's to yesterday again (after
    direct SQL edits, an import, a change of ``TIME_ZONE``). One transaction: the reports keep
    reading the old roll-up until it is replaced."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ROLL_LOCK])
    IncidentDay.objects.all().delete()
    IncidentDayTime.objects.all().delete()
    RolledDay.objects.all().delete()
    DirtyDay.objects.all().delete()
    first, last = first_incident_day(), rollable_until(now)
    days = rollup.days_between(first, last) if first is not None and first <= last else []
    if progress is not None:
        progress.reset(total=len(days))
    return roll_up(days, progress=progress)
