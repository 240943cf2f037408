"""Run benchmarks: `python -m bench [--keep] [--households N] [name ...]` (default: every bench/<name>.py).

Each benchmark is a module with `run() -> list[dict]`; its rows are printed as a table. All of
them run against a throwaway database, hardship_bench (BENCH_DATABASE to use another name, e.g.
when two people bench on one server), on the same server as the default connection, so the dev
data is never touched. It is dropped afterwards unless --keep is given. --households sets
BENCH_HOUSEHOLDS, the scale of the benches that generate households (each has its own default).
--reuse runs against the database an earlier --keep run left (and keeps it): a bench that generates
data skips the generation when the data is already there, so a change can be timed again in minutes.
"""

import argparse
import importlib
import os
import pkgutil
import sys
import time
import unicodedata
from pathlib import Path

BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "hardship_bench")


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))


def server_connection(db: dict):
    import psycopg

    return psycopg.connect(
        host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"], password=db["PASSWORD"] or None,
        dbname="postgres", autocommit=True,
    )


def recreate_database(db: dict) -> None:
    # Always start empty: a run never depends on what an earlier --keep run left behind.
    with server_connection(db) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')


def drop_database(db: dict) -> None:
    from django.db import connections

    connections.close_all()
    with server_connection(db) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def format_cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.{3 if value < 1 else 2 if value < 10 else 1 if value < 100 else 0}f}"
    return str(value)


def display_width(text: str) -> int:
    # Chinese characters take two terminal columns.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def print_table(rows: list[dict]) -> None:
    if not rows:
        return
    headers = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[format_cell(row.get(h, "")) for h in headers] for row in rows]
    widths = [max(display_width(h), *(display_width(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row.get(h), int | float) for row in rows) for h in headers]

    def line(values: list[str]) -> str:
        return "  ".join(pad(v, w, n) for v, w, n in zip(values, widths, numeric))

    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in cells:
        print(line(row))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(available())})")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help=f"reuse the {BENCH_DATABASE} database an earlier --keep run left (implies --keep)")
    parser.add_argument("--households", type=int, metavar="N",
                        help="households to generate (sets BENCH_HOUSEHOLDS; dossiers 2,500,000, imports 100,000)")
    args = parser.parse_args(argv)
    if args.households is not None:
        if args.households < 1:
            parser.error("--households must be at least 1")
        os.environ["BENCH_HOUSEHOLDS"] = str(args.households)
    unknown = sorted(set(args.names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    os.environ["DJANGO_SETTINGS_MODULE"] = "hardship.settings"
    import django
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    if db["NAME"] == BENCH_DATABASE:
        parser.error(f"the default database is already named {BENCH_DATABASE}; refusing to drop it")
    if args.reuse:
        args.keep = True
        os.environ["BENCH_REUSE"] = "1"
    else:
        recreate_database(db)
    db["NAME"] = BENCH_DATABASE
    # Debug cursors record every query; measure what production runs.
    settings.DEBUG = False
    django.setup()
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"{BENCH_DATABASE}: migrated in {time.perf_counter() - started:.1f} s")
        for name in args.names or available():
            print(f"\n## {name}")
            print_table(importlib.import_module(f"bench.{name}").run())
    finally:
        if args.keep:
            print(f"\nkept database {BENCH_DATABASE}")
        else:
            drop_database(db)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
