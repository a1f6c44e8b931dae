"""The property manager's overview with 500 properties, on the demo data: render time and query count.

    .venv/bin/python bench/overview.py [--customers 5000] [--properties 500] [--requests 40] [--reuse]

Loads the demo billing data (demo.batch.write_demo_batch + billing.services.batch_import) for N customers
into a fresh PostgreSQL database `ibok_bench_overview` (kept with --reuse when it already holds them), grants one
manager 500 of those customers (every fifth one for its first delivery point only, the others in full), opens a
case for every tenth, and requests the overview through Django's test Client (the whole middleware stack and
template rendering, no network). Prints median and p95 over repeated requests, and the number of SQL queries,
for the first page, a sorted and filtered page and the CSV of all 500. Target: under 300 ms.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import common  # noqa: E402 - after the path

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ibok_bench_overview")
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    }
)
os.environ.pop("REDIS_URL", None)  # local-memory cache: the overview never waits on Redis


def recreate_database() -> None:
    common.recreate_database(DATABASE_URL)


def database_loaded() -> int:
    return common.database_loaded(DATABASE_URL)


def load(customers: int, years: int) -> None:
    from django.db import connection

    common.import_demo(customers, years)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def manager_of(properties: int):
    """The bench manager with `properties` customers (every fifth one partial), created once."""
    from django.utils import timezone

    from accounts import setup
    from accounts.models import Customer, DeliveryPoint, User
    from tickets.models import Case, CaseType

    user, _created = User.objects.get_or_create(username="bench-zarzadca", defaults={"email": "zarzadca@example.pl"})
    if setup.access_count(user=user) == properties:
        return user
    customers = list(Customer.objects.order_by("id")[:properties])
    now = timezone.now()
    first_points = {}
    for point in DeliveryPoint.objects.filter(customer__in=customers).order_by("customer_id", "id"):
        first_points.setdefault(point.customer_id, point.pk)
    # Every fifth customer partial (its first point only), the others whole.
    grants = [(c.pk, first_points.get(c.pk) if i % 5 == 0 else None) for i, c in enumerate(customers)]
    setup.manager_accesses_replace(user=user, grants=grants, now=now)
    Case.objects.bulk_create(
        Case(
            customer=c,
            case_type=CaseType.BILLING,
            subject="Pytanie o rozliczenie",
            opened_at=now,
            last_message_at=now,
        )
        for c in customers[::10]
    )
    return user


def measure(client, url: str, requests: int) -> tuple[list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm-up: templates, translations, PostgreSQL caches
        client.get(url)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return times, len(queries), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=5000, help="demo customers in the database")
    parser.add_argument("--properties", type=int, default=500, help="customers the manager manages")
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it holds the customers")
    args = parser.parse_args()

    loaded = database_loaded() if args.reuse else 0
    if loaded < args.customers:
        recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    if loaded < args.customers:
        load(args.customers, args.years)
    call_command("collectstatic", "--noinput", verbosity=0)
    setup_test_environment()  # the test Client's own hosts; nothing else changes
    manager = manager_of(args.properties)
    client = Client()
    client.force_login(manager)
    overview = reverse("pages:manager-overview")
    print(f"manager with {args.properties} properties, {args.requests} requests each (Django test Client)")
    target_met = True
    for label, url in [
        ("overview, first page", overview),
        ("overview, only overdue, sorted by overdue", overview + "?show=overdue&sort=-overdue"),
        ("overview, search by street", overview + "?q=ul.&sort=-balance"),
        ("overview CSV, every property", reverse("pages:manager-overview-csv")),
    ]:
        times, queries, size = measure(client, url, args.requests)
        median = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[18]
        target_met &= p95 < 300
        print(f"{label:45} median {median:6.1f} ms  p95 {p95:6.1f} ms  {queries} queries  {size / 1024:.0f} KiB")
    print("target (p95 under 300 ms):", "met" if target_met else "NOT met")


if __name__ == "__main__":
    main()
