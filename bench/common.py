"""What the benches share: a database of their own, loaded with the demo billing data through the real sync."""

import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_loaded(url: str) -> int:
    """How many customers the database holds (0 when it does not exist yet)."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT count(*) FROM accounts_customer").fetchone()[0]
    except psycopg.Error:
        return 0


def import_demo(customers: int, years: int) -> None:
    """Migrate, write the demo batch (kept in bench/out/ for the next run) and load it through the real sync."""
    from django.core.management import call_command
    from django.utils import timezone

    from billing import services
    from demo import batch as demo

    call_command("migrate", verbosity=0)
    folder = ROOT / "bench" / "out" / f"demo-{customers}-{years}-1"
    started = time.perf_counter()
    if not (folder / "manifest.json").exists():
        demo.write_demo_batch(folder, customers=customers, seed=1, years=years, today=date(2026, 11, 21))
    print(f"demo data generated in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    run = services.batch_import(folder=folder, clock=timezone.now, source="bench")
    print(f"imported in {time.perf_counter() - started:.0f} s: {run.total('created'):,} rows")
