"""Sync speed on PostgreSQL: a first import, an incremental hour (1% of customers changed), and plain COPY
of the same rows into identical tables as the physical reference.

    .venv/bin/python bench/sync.py [--customers 200000] [--years 3] [--fraction 0.01]

Uses the database `ibok_bench_sync` (dropped and created) and caches the generated batches in bench/out/. The
loaded database is left behind, analysed, for bench/pages.py: BENCH_DATABASE_URL=.../ibok_bench_sync --reuse.
Follow-up tasks (new-invoice notices, e-invoice deliveries) run in-process, as without a broker.
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ibok.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ibok_bench_sync")


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--fraction", type=float, default=0.01)
    args = parser.parse_args()

    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from billing.sync import runner
    from billing.sync.sources import FileDropSource
    from demo import batch as demo
    from tests.billing.snapshots import SYNCED_MODELS

    call_command("migrate", verbosity=0)
    today = date(2026, 11, 21)
    # The same cached batch as bench/import.py and bench/pages.py use.
    full = ROOT / "bench" / "out" / f"demo-{args.customers}-{args.years}-1"
    changes = ROOT / "bench" / "out" / f"demo-{args.customers}-{args.years}-1-changes-{args.fraction}"
    if not (full / "manifest.json").exists():
        started = time.perf_counter()
        demo.write_demo_batch(full, customers=args.customers, seed=1, years=args.years, today=today)
        print(f"generated the full batch in {time.perf_counter() - started:.0f} s")
    if not (changes / "manifest.json").exists():
        demo.write_demo_changes(full, changes, fraction=args.fraction, seed=1, changed_at="2026-11-21T10:00:00+00:00")
    from django.conf import settings

    print(
        f"machine: {os.cpu_count()} cores; PostgreSQL {connection.cursor().connection.info.server_version}; "
        f"chunks of {settings.IBOK_SYNC_BATCH_SIZE} on {settings.IBOK_SYNC_WORKERS} connections"
    )

    def table_rows() -> int:
        with connection.cursor() as cursor:
            total = 0
            for model in SYNCED_MODELS:
                cursor.execute(f"SELECT count(*) FROM {model._meta.db_table}")
                total += cursor.fetchone()[0]
            return total

    def sync_folder(folder: Path) -> tuple[float, list]:
        with tempfile.TemporaryDirectory() as drop:
            (Path(drop) / folder.name).symlink_to(folder, target_is_directory=True)
            started = time.perf_counter()
            runs = runner.sync_run(source=FileDropSource(Path(drop)), clock=timezone.now)
            return time.perf_counter() - started, runs

    seconds, runs = sync_folder(full)
    rows = table_rows()
    print(
        f"first import      {seconds:8.1f} s  {rows:>12,} rows  {rows / seconds:>9,.0f} rows/s  "
        f"(records read {runs[0].total('read'):,}, rejected {runs[0].total('rejected')})"
    )
    first_rate = rows / seconds

    before = table_rows()
    seconds, runs = sync_folder(changes)
    run = runs[0]
    written = run.total("created") + run.total("updated")
    print(
        f"incremental hour  {seconds:8.1f} s  {run.total('read'):>12,} records read, {written:,} written, "
        f"{table_rows() - before:,} rows added  ({args.fraction:.0%} of customers changed)"
    )

    # The physical reference: the same rows through plain COPY into empty tables with the same indexes.
    copied, started_total = 0, 0.0
    with connection.cursor() as cursor, tempfile.TemporaryDirectory() as scratch:
        for model in SYNCED_MODELS:
            table = model._meta.db_table
            dump = Path(scratch) / f"{table}.copy"
            with dump.open("wb") as out, cursor.cursor.copy(f"COPY {table} TO STDOUT") as copy:
                for chunk in copy:
                    out.write(chunk)
            cursor.execute(f"CREATE TABLE ref_{table} (LIKE {table} INCLUDING ALL)")
            started = time.perf_counter()
            with dump.open("rb") as data, cursor.cursor.copy(f"COPY ref_{table} FROM STDIN") as copy:
                while chunk := data.read(1 << 20):
                    copy.write(chunk)
            started_total += time.perf_counter() - started
            cursor.execute(f"SELECT count(*) FROM ref_{table}")
            copied += cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE ref_{table}")
            dump.unlink()
    copy_rate = copied / started_total
    print(
        f"plain COPY        {started_total:8.1f} s  {copied:>12,} rows  {copy_rate:>9,.0f} rows/s  (physical reference)"
    )
    print(f"first import reaches {first_rate / copy_rate:.0%} of COPY's rate")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # ready for bench/pages.py


if __name__ == "__main__":
    main()
