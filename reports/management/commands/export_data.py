"""``manage.py export_data DIR``: every record as JSON Lines, every attachment as a file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from reports.portability import export_data


class Command(BaseCommand):
    help = (
        "Write every record of the desk (tickets, comments, history, attachments, CMDB, "
        "catalog, SLA configuration and timers, users and teams) to DIR as JSON Lines plus "
        "the attached files; see docs/data-export.md. Reads from the replica when "
        "DATABASE_REPLICA_URL is set."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="A new or empty directory.")

    def handle(self, *args, **options):
        directory = Path(options["directory"])
        with tqdm(desc="Export", unit="row", disable=None) as progress:
            try:
                manifest = export_data(directory, progress=progress)
            except FileExistsError as exc:
                raise CommandError(f"{exc}: choose a new or empty directory.") from exc
        rows = sum(table["rows"] for table in manifest["tables"])
        self.stdout.write(
            self.style.SUCCESS(
                f"{rows} rows in {len(manifest['tables'])} tables and {manifest['files']} "
                f"files written to {directory}."
            )
        )
