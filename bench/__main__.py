"""``make bench``: the speed targets, measured on a large data set (PostgreSQL only).

    python -m bench [incidents|cmdb|problems|changes] [--rows N]

Results are printed as a table (milliseconds, p50/p95 over repeated requests).
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
        choices=["incidents", "cmdb", "problems", "changes"],
    )
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args(argv)
    import django

    django.setup()
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
