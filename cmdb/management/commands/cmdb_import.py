"""``manage.py cmdb_import estate.csv [--dry-run] [--partial] [--actor USERNAME]``."""

import csv
import io
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import User
from cmdb.csv_io import import_csv


class Command(BaseCommand):
    help = (
        "Import CIs and their relationships from a CSV file (the columns cmdb_export writes). "
        "Every line is checked first; if any line is wrong nothing is written, unless --partial."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8), or - for standard input.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report; write nothing."
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="Write the lines that are correct even when others are not.",
        )
        parser.add_argument(
            "--actor", help="Username recorded in the CI history (default: no user, 'system')."
        )

    def handle(self, *args, **options):
        actor = None
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"No user {options['actor']!r}.")
        text = self.read(options["file"])
        records = max(sum(1 for _record in csv.reader(io.StringIO(text))) - 1, 0)
        with tqdm(total=records * 2, desc="CMDB import", unit="row", disable=None) as progress:
            result = import_csv(
                io.StringIO(text),
                actor=actor,
                dry_run=options["dry_run"],
                partial=options["partial"],
                progress=progress,
            )
        for error in result.errors:
            self.stderr.write(str(error))
        summary = (
            f"{result.rows} rows: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged; relationships {result.relationships_added} added, "
            f"{result.relationships_removed} removed."
        )
        if result.errors and not options["partial"]:
            raise CommandError(
                f"{len(result.failed_lines)} line(s) with errors; nothing was written. "
                "Fix them, or use --partial to write the correct lines."
            )
        prefix = "Dry run, nothing written. Would have: " if options["dry_run"] else ""
        self.stdout.write(self.style.SUCCESS(prefix + summary))
        if result.errors:
            self.stdout.write(
                self.style.WARNING(f"{len(result.failed_lines)} line(s) skipped (see above).")
            )

    def read(self, path: str) -> str:
        if path == "-":
            return sys.stdin.read()
        try:
            with open(path, encoding="utf-8-sig", newline="") as file:
                return file.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text: {exc}") from exc
