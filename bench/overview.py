"""The property manager's overview with many properties, on the demo data: render time and query count.

    .venv/bin/python bench/overview.py [--customers 5000] [--properties 500] [--requests 40] [--reuse]

Loads the demo billing data (demo.batch.write_demo_batch + billing.services.batch_import) for N customers
into a fresh PostgreSQL database `ibok_bench_overview` (kept with --reuse when it already holds them), grants one
manager 500 of those customers (every fifth one for its first delivery point only, the others in full), opens a
case for every tenth, and requests the overview through Django's test Client (the whole middleware stack and
template rendering, no network). Prints median and p95 over repeated requests, and the number of SQL queries,
for the first page (as it is served again while nothing changed, and as the first view after a change of one of
the manager's customers), a sorted and filtered page and the streamed CSV of every property, with the load
average and the Python CPU per request (the part of the time that does not wait for PostgreSQL or for a core
on a busy machine). Target: the first page's p95 under 300 ms (at --properties 5000).
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


def measure(client, url: str, requests: int, bump: int | None = None) -> tuple[list[float], float, int, int]:
    """Times of `requests` views of `url`; with `bump` (a customer id) that customer's data version is bumped
    before each (untimed): every view is the first after a change, the cached totals computed again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core import versions

    for _ in range(3):  # warm-up: templates, translations, PostgreSQL caches
        client.get(url)
    times = []
    cpu = 0.0
    for _ in range(requests):
        if bump is not None:
            versions.bump([bump])
        cpu_started = time.process_time()
        started = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        times.append((time.perf_counter() - started) * 1000)
        cpu += time.process_time() - cpu_started
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    size = len(b"".join(response.streaming_content)) if response.streaming else len(response.content)
    return times, cpu / requests * 1000, len(queries), size


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
    if not (ROOT / "bench" / "out" / "static" / "staticfiles.json").exists():
        call_command("collectstatic", "--noinput", verbosity=0)  # minutes: whitenoise compresses every file
    setup_test_environment()  # the test Client's own hosts; nothing else changes
    manager = manager_of(args.properties)
    client = Client()
    client.force_login(manager)
    overview = reverse("pages:manager-overview")
    from accounts.models import DeliveryPoint
    from accounts.permissions import scope_for

    scope = scope_for(user=manager)
    points = DeliveryPoint.objects.filter(scope.sees("customer_id")).count()
    print(
        f"manager with {args.properties} properties ({points:,} delivery points), {args.requests} requests each "
        "(Django test Client)"
    )
    first_customer = min(scope.customer_ids)
    target_met = True
    for label, url, bump in [
        ("overview, first page", overview, None),
        ("overview, first page, after a change (cold)", overview, first_customer),
        ("overview, only overdue, sorted by overdue", overview + "?show=overdue&sort=-overdue", None),
        ("overview, search by street", overview + "?q=ul.&sort=-balance", None),
        ("overview CSV, every property (streamed)", reverse("pages:manager-overview-csv"), None),
    ]:
        times, cpu, queries, size = measure(client, url, args.requests, bump)
        median = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[18]
        if label == "overview, first page":
            target_met = p95 < 300
        print(
            f"{label:45} median {median:7.1f} ms  p95 {p95:7.1f} ms  CPU {cpu:6.1f} ms  {queries} queries  "
            f"{size / 1024:.0f} KiB"
        )
    busy = os.getloadavg()
    print("target (the first page's p95 under 300 ms):", "met" if target_met else "NOT met")
    print(f"load average {busy[0]:.1f} {busy[1]:.1f} {busy[2]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
