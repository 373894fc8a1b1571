"""``manage.py cmdb_export [estate.csv] [--class server ...]``: the columns cmdb_import reads."""

from django.core.management.base import BaseCommand

from cmdb.csv_io import write_csv
from cmdb.models import CI


class Command(BaseCommand):
    help = "Export CIs and their outgoing relationships as CSV (to a file or standard output)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-", help="Output file (default: stdout).")
        parser.add_argument(
            "--class", dest="classes", action="append", default=[], help="Only this class."
        )

    def handle(self, *args, **options):
        queryset = CI.objects.all()
        if options["classes"]:
            queryset = queryset.filter(ci_class__name__in=options["classes"])
        if options["file"] == "-":
            count = write_csv(self.stdout, queryset)
        else:
            with open(options["file"], "w", encoding="utf-8", newline="") as output:
                count = write_csv(output, queryset)
            self.stderr.write(f"{count} CIs written to {options['file']}.")
