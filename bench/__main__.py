"""``make bench``: the speed targets, measured on a large data set (PostgreSQL only).

    python -m bench load [--size N] [--duration S] [--only NAME,NAME] [--no-scanner]
    python -m bench [incidents|cmdb|problems|changes] [--rows N]
    python -m bench soak [--minutes 10] [--clients 6]

``load`` (what ``make bench`` runs) loads the desk over HTTP with wrk and writes
``bench/results.json``; the others time one page or query at a time, in process and over HTTP,
and print a table (milliseconds, p50/p95 over repeated requests).
"""

import argparse
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "scenario",
        nargs="?",
        default="incidents",
        choices=["load", "incidents", "cmdb", "problems", "changes", "soak"],
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--max-growth-mb", type=float, default=20.0)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--size", type=int, default=1_000_000, help="incidents (load)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (load)")
    parser.add_argument("--only", default="", help="comma-separated scenario names (load)")
    parser.add_argument("--no-scanner", action="store_true", help="skip the scanner (load)")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args(argv)
    import django

    django.setup()
    if args.scenario == "load":
        from bench import load

        only = {name.strip() for name in args.only.split(",") if name.strip()}
        return load.run(
            size=args.size, duration=args.duration, only=only, scanner=not args.no_scanner
        )
    if args.scenario == "soak":
        from bench import soak

        return soak.run(
            minutes=args.minutes, clients=args.clients, max_growth_mb=args.max_growth_mb
        )
    if args.scenario == "incidents":
        from bench import incidents

        return incidents.run(rows=args.rows or 1_000_000, repeat=args.repeat)
    if args.scenario == "problems":
        from bench import problems

        return problems.run(rows=args.rows or 1_000_000, repeat=args.repeat)
    if args.scenario == "changes":
        from bench import changes

        return changes.run(rows=args.rows or 10_000, repeat=args.repeat)
    from bench import cmdb_impact

    return cmdb_impact.main([])


if __name__ == "__main__":
    sys.exit(main())
