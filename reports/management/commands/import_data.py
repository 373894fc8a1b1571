"""``manage.py import_data DIR``: load an export into an empty instance (all or nothing)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from reports.services import NotEmpty, import_data


class Command(BaseCommand):
    help = (
        "Load an export written by export_data into this instance, which must be empty (no "
        "user, ticket or CI yet: run migrate, then import_data). All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="The directory export_data wrote.")

    def handle(self, *args, **options):
        directory = Path(options["directory"])
        with tqdm(desc="Import", unit="row", disable=None) as progress:
            try:
                loaded = import_data(directory, progress=progress)
            except NotEmpty as exc:
                raise CommandError(
                    f"Nothing imported: {exc}. Import into an empty instance."
                ) from exc
            except (FileNotFoundError, ValueError) as exc:
                raise CommandError(f"Nothing imported: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"{sum(loaded.values())} rows in {len(loaded)} tables imported.")
        )
