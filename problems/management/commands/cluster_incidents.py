"""``manage.py cluster_incidents``: file the incidents not in a title cluster yet.

New and retitled incidents are filed as they are written; this is for incidents that existed
before problem management was installed, or that an import wrote past the verbs.
"""

from django.core.management.base import BaseCommand

from problems import services


class Command(BaseCommand):
    help = "File the incidents that have no title cluster yet (for problem candidates)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=1000, help="Incidents read at a time.")

    def handle(self, *args, **options):
        done = services.cluster_unclustered(batch=options["batch"])
        self.stdout.write(self.style.SUCCESS(f"{done} incident(s) filed."))
