"""The SLA scanner's throughput when every timer notifies someone (PostgreSQL only).

    .venv/bin/python -m bench.sla_notify [--timers 2000] [--rounds 3]

Works in its own database, ``<DATABASE_URL's name>_sla_notify_bench`` (created and migrated on
the first run, kept afterwards). Each round opens ``--timers`` incidents assigned to one agent
under a policy whose warnings notify the assignee (one notification per timer), commits, then
times ``claim_batch`` at the 50 % instant until no timer is due: every timer takes its warning,
writes one notification and queues its email task, as in production (the tasks go to the broker
of ``REDIS_URL``, whose queue is emptied afterwards). Prints timers per second per round and
the median.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")


def use_bench_database() -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench.sla_notify needs PostgreSQL: set DATABASE_URL.")
    name = f"{connection.settings_dict['NAME']}_sla_notify_bench"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=True)
    return name


def scene(timers: int, start):
    """``timers`` incidents opened at ``start``, assigned to one agent; a policy whose
    resolution warnings notify the assignee."""
    import time_machine

    from itsm.notify import without_mail
    from itsm.testing import make_incident, make_persona, make_team
    from sla.models import Calendar, Policy, Timer

    Timer.objects.update(next_check_at=None)  # earlier rounds' timers are not due
    Policy.objects.filter(name__startswith="bench").update(active=False)
    calendar, _created = Calendar.objects.get_or_create(
        name="bench 24x7",
        defaults={
            "timezone": "UTC",
            "hours": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
        },
    )
    Policy.objects.create(
        name=f"bench notify {start:%Y%m%d%H%M%S}",
        calendar=calendar,
        order=-1000,
        response_seconds=100 * 3600,
        resolution_seconds=3600,
        warn_at=[50],
        warning_notify=["assignee"],
        breach_notify=[],
        pause_on=[],
    )
    agent = make_persona("alice")
    team = make_team("bench team", members=[agent])
    with time_machine.travel(start, tick=False), without_mail():
        for _ in range(timers):
            make_incident(actor=agent, assignee=agent, assignment_group=team)


def run_round(timers: int, start) -> tuple[float, int]:
    from itsm.models import Notification
    from sla.scanner import claim_batch

    scene(timers, start)
    before = Notification.objects.filter(kind="sla_warning").count()
    at = start + timedelta(minutes=31)
    tick = time.perf_counter()
    done = 0
    while True:
        claimed = claim_batch(at)
        done += claimed
        if not claimed:
            break
    elapsed = time.perf_counter() - tick
    notified = Notification.objects.filter(kind="sla_warning").count() - before
    return done / elapsed, notified


def warm_broker() -> None:
    """Open the producer connection the mail tasks go through, as a running worker has it: the
    first send of a fresh process (imports, connecting) took 340 ms, a fifth of a round."""
    from itsm.celery import app

    try:
        with app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1)
    except Exception as exc:  # measured without a broker: each send fails fast instead
        print(f"(broker not reached: {exc})")


def purge_broker() -> None:
    from itsm.celery import app

    try:
        app.control.purge()
    except Exception as exc:  # a broker that is not there has nothing queued either
        print(f"(broker not purged: {exc})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sla_notify")
    parser.add_argument("--timers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    import django

    django.setup()
    from django.utils import timezone

    name = use_bench_database()
    warm_broker()
    print(f"database {name}: {args.timers} timers per round, one notification each")
    rates = []
    for index in range(args.rounds):
        start = timezone.now().replace(microsecond=0) + timedelta(days=index + 1)
        rate, notified = run_round(args.timers, start)
        purge_broker()
        rates.append(rate)
        print(f"round {index + 1}: {rate:8.1f} timers/s ({notified} notifications)")
    print(f"median: {statistics.median(rates):.1f} timers/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
