"""``manage.py ingest_email``: one message on standard input (an MTA pipe, e.g. Postfix's
``desk: "|/app/manage.py ingest_email"``), or every message of a Maildir (``--maildir DIR``).

Exit codes follow sysexits: 0 when the message was handled (opened, commented, ignored,
rejected or recorded as failed), 75 (EX_TEMPFAIL: the MTA keeps the message and tries again)
when it could not be handled now (the database is down), 65 (EX_DATAERR) for empty input.
"""

import mailbox
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from mailgate.services import ingest

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Ingest one RFC 5322 message from standard input, or every message of a Maildir."

    def add_arguments(self, parser):
        parser.add_argument("--maildir", help="Read every message of this Maildir instead.")
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (logs, cron)."
        )

    def handle(self, *args, maildir=None, no_progress=False, **options):
        if maildir:
            return self.ingest_maildir(maildir, progress=not no_progress)
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            self.stderr.write("No message on standard input.")
            sys.exit(EX_DATAERR)
        try:
            record = ingest(raw, source="stdin")
        except Exception as exc:  # the MTA keeps the message and retries
            self.stderr.write(f"Not ingested, try again later: {exc}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(self.describe(record))

    def describe(self, record) -> str:
        ticket = f" {record.ticket}" if record.ticket else ""
        return f"{record.outcome} ({record.reason}){ticket}"

    def ingest_maildir(self, path: str, *, progress: bool):
        try:
            box = mailbox.Maildir(path, factory=None, create=False)
            keys = list(box.keys())
        except (FileNotFoundError, mailbox.Error) as exc:
            raise CommandError(f"Not a Maildir: {path}") from exc
        outcomes: dict[str, int] = {}
        failed = 0
        for key in tqdm(keys, desc="ingest", unit="msg", disable=not progress, file=self.stderr):
            try:
                raw = box.get_bytes(key)
                record = ingest(raw, source="maildir")
            except Exception as exc:
                failed += 1
                self.stderr.write(f"{key}: not ingested: {exc}")
                continue
            name = record.outcome if record.pk else "duplicate"
            outcomes[name] = outcomes.get(name, 0) + 1
        summary = ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items()))
        self.stdout.write(f"{len(keys)} message(s): {summary or 'none'}")
        if failed:
            raise CommandError(f"{failed} message(s) could not be ingested; run it again.")
