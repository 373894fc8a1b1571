"""``manage.py sla_repair``: bring running and paused timers in line with the configuration
now in force (after edits, a restore or a bug fix) and attach missing timers. Idempotent: a
second run changes nothing. Met and breached timers are never touched."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from sla import services
from sla.models import Timer


class Command(BaseCommand):
    help = "Recompute running/paused SLA timers and attach timers to open tickets lacking them."

    def add_arguments(self, parser):
        parser.add_argument("--calendar", type=int, help="Only timers on this calendar id.")
        parser.add_argument("--no-attach", action="store_true", help="Do not attach new timers.")
        parser.add_argument(
            "--notify-past",
            action="store_true",
            help="Escalate levels that attached timers crossed already (default: do not).",
        )
        parser.add_argument("--chunk", type=int, default=200)

    def handle(self, *args, calendar=None, no_attach=False, notify_past=False, chunk=200, **kw):
        timers = Timer.objects.unfrozen()
        if calendar is not None:
            timers = timers.filter(calendar_id=calendar)
        changed, cursor = 0, 0
        disable = kw.get("verbosity", 1) == 0
        with tqdm(total=timers.count(), desc="Recompute", unit="timer", disable=disable) as bar:
            while cursor is not None:
                done, cursor = services.recompute_batch(
                    calendar_id=calendar, after_id=cursor, limit=chunk, progress=bar
                )
                changed += done
                bar.set_postfix_str(f"changed {changed}")
        attached = 0
        if not no_attach:
            with tqdm(desc="Attach", unit="ticket", disable=disable) as bar:
                attached = services.attach_missing(notify_past=notify_past, progress=bar)
        self.stdout.write(
            self.style.SUCCESS(f"{changed} timer(s) recomputed, {attached} ticket(s) attached.")
        )
