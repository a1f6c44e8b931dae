import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.batch import write_demo_batch


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today: {value!r} is not a date YYYY-MM-DD") from None


class Command(BaseCommand):
    help = (
        "Write a demo billing batch (contract v1, full) into a folder: realistic Polish customers, contracts, "
        "meters, readings, invoices, payments and balances. Same arguments, byte-identical files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, required=True, help="batch folder to write (created if missing)")
        parser.add_argument("--customers", type=int, default=200)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--years", type=int, default=3, help="years of readings, invoices and payments")
        parser.add_argument("--today", type=_day, help="the day the batch is exported (default: today in Warsaw)")

    def handle(self, *args, out: Path, customers: int, seed: int, years: int, today: date | None, **options):
        if customers < 1:
            raise CommandError("--customers must be at least 1")
        if years < 1:
            raise CommandError("--years must be at least 1")
        today = today or datetime.now(ZoneInfo("Europe/Warsaw")).date()
        started = time.perf_counter()
        counts = write_demo_batch(
            out, customers=customers, seed=seed, years=years, today=today, seller_nip=settings.IBOK_UTILITY_NIP
        )
        elapsed = time.perf_counter() - started
        total = sum(counts.values())
        for name, rows in counts.items():
            size = (out / f"{name}.jsonl").stat().st_size
            self.stdout.write(f"  {name + '.jsonl':22} {rows:>10} rows  {size / 1_000_000:>9.1f} MB")
        self.stdout.write(
            f"{out}: {total} rows for {customers} customers (seed {seed}, {years} years to {today}) "
            f"in {elapsed:.1f} s, {total / elapsed:,.0f} rows/s"
        )
