"""Import speed: a demo data set of N customers into a fresh PostgreSQL database, then the same again.

    .venv/bin/python bench/import.py [--customers 20000] [--years 3]

Prints rows per second for the first load and for the repeated (no-op) load, and the same rows copied
with plain PostgreSQL COPY as the physical reference. Uses the database `ibok_bench` (dropped and created).
"""

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ibok.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ibok_bench")


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from billing import services
    from billing.sync import demo

    call_command("migrate", verbosity=0)
    folder = ROOT / "bench" / "out" / f"demo-{args.customers}-{args.years}-{args.seed}"
    today = date(2026, 11, 21)
    started = time.perf_counter()
    demo.write_demo_batch(folder, customers=args.customers, seed=args.seed, years=args.years, today=today)
    generated = time.perf_counter() - started
    records = sum(1 for path in folder.glob("*.jsonl") for _ in path.open(encoding="utf-8"))
    print(f"machine: {os.cpu_count()} cores, PostgreSQL {connection.cursor().connection.info.server_version}")
    print(
        f"demo data: {args.customers} customers, {args.years} years, {records:,} records, "
        f"generated in {generated:.1f} s"
    )

    for label in ("first load", "same batch again"):
        started = time.perf_counter()
        run = services.batch_import(folder=folder, clock=timezone.now, source="bench")
        seconds = time.perf_counter() - started
        rows = run.total("created") + run.total("updated")
        print(
            f"{label:18} {seconds:7.1f} s  {records / seconds:9,.0f} records/s  "
            f"written {rows:,}  rejected {run.total('rejected')}"
        )

    # The physical reference: the same number of rows through plain COPY into an unindexed table.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copy_reference (id text, changed_at timestamptz, payload text)")
        started = time.perf_counter()
        with cursor.cursor.copy("COPY copy_reference FROM STDIN") as copy:
            for path in sorted(folder.glob("*.jsonl")):
                with path.open(encoding="utf-8") as handle:
                    for number, line in enumerate(handle):
                        copy.write_row((f"{path.stem}{number}", "2026-11-21T10:00:00+00:00", line))
        seconds = time.perf_counter() - started
        print(f"{'plain COPY':18} {seconds:7.1f} s  {records / seconds:9,.0f} records/s  (physical reference)")


if __name__ == "__main__":
    main()
