"""``manage.py rebuild_report_days [--all]``: roll the report days that are due now (marked
dirty, or never rolled), or with ``--all`` forget the roll-up and roll every day again."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from reports import services


class Command(BaseCommand):
    help = (
        "Roll the days of the incident reports' daily roll-up that are due (changed since they "
        "were rolled, or never rolled). --all rebuilds every day from the incidents: run it "
        "after editing incidents in SQL, an import or a change of TIME_ZONE."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="Forget the roll-up and roll every day from the first incident's to yesterday.",
        )

    def handle(self, *args, **options):
        disable = True if options.get("verbosity", 1) == 0 else None
        with tqdm(desc="Roll up", unit="day", disable=disable) as progress:
            if options["all"]:
                rolled = services.rebuild_all(progress=progress)
            else:
                rolled = services.roll_up_pending(progress=progress)
        self.stdout.write(self.style.SUCCESS(f"{rolled} day(s) rolled."))
