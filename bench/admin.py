"""The office's admin at scale: every admin list and search timed in process on a large demo data set.

    .venv/bin/python bench/admin.py [--customers 20000] [--years 3] [--reuse] [--requests 15]

Loads the demo billing data (demo.batch.write_demo_batch + billing.services.batch_import) for N customers into
the database `ibok_bench_admin` (dropped and created unless --reuse finds it loaded), adds what the office's own
work leaves behind at realistic volumes (a case for every fourth customer with a short thread, ten audit entries
and three outbox messages per customer, an hourly sync run for 90 days), signs a superuser with a second factor
in, and requests each admin page through Django's test Client (the whole middleware stack and template
rendering, no network). Prints for each page the median and p90 wall time, the Python CPU time per request (what
other work on a shared machine disturbs least), the number of SQL queries, their total and the slowest one's
time, beside a bare admin page (an admin view rendering the admin's base template, nothing else) in the same run.
Target: every search and list under 150 ms at 20,000 customers.
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

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ibok_bench_admin")
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    }
)
os.environ.pop("REDIS_URL", None)  # local-memory cache: the admin never waits on Redis here
TARGET_MS = 150


def recreate_database() -> None:
    common.recreate_database(DATABASE_URL)


def database_loaded() -> int:
    return common.database_loaded(DATABASE_URL)


def load(customers: int, years: int) -> None:
    common.import_demo(customers, years)


# The office's own rows, made in SQL (set-based: seconds, not the hours the services would take row by row).
OFFICE_ROWS = """
INSERT INTO tickets_case (customer_id, case_type, status, subject, fields, opened_at, last_message_at, closed_at)
SELECT c.id,
       (ARRAY['BILLING','TECHNICAL','COMPLAINT','FAILURE','WATER_QUALITY','CONTRACT_CHANGE','OTHER'])[1 + c.id % 7],
       s.status, 'Pytanie o fakturę ' || c.number, '{}'::jsonb,
       timestamptz '2024-01-01' + (c.id * 7919 % 1050) * interval '1 day',
       timestamptz '2024-01-01' + (c.id * 7919 % 1050 + 2) * interval '1 day',
       CASE WHEN s.status = 'CLOSED' THEN timestamptz '2024-01-01' + (c.id * 7919 % 1050 + 3) * interval '1 day' END
FROM accounts_customer c
CROSS JOIN LATERAL (SELECT CASE WHEN c.id % 40 < 4 THEN 'NEW' WHEN c.id % 40 < 6 THEN 'IN_PROGRESS'
                               WHEN c.id % 40 < 7 THEN 'WAITING_FOR_CUSTOMER' ELSE 'CLOSED' END AS status) s
WHERE c.id % 4 = 0;

INSERT INTO tickets_message (case_id, sender, body, sent_at, read_at)
SELECT k.id, CASE WHEN n % 2 = 1 THEN 'CUSTOMER' ELSE 'STAFF' END, 'Treść wiadomości ' || n,
       k.opened_at + n * interval '1 hour',
       CASE WHEN k.status = 'NEW' AND n = 3 THEN NULL ELSE k.opened_at + (n + 1) * interval '1 hour' END
FROM tickets_case k CROSS JOIN generate_series(1, 3) n;

INSERT INTO core_auditlogentry (occurred_at, action, object_type, object_id, details)
SELECT timestamptz '2024-01-01' + (c.id * 31 + n * 1009) % 1050 * interval '1 day' + n * interval '1 minute',
       (ARRAY['accounts.signed_in','accounts.password_changed','billing.payment_started','tickets.case_opened',
              'meters.reading_submitted','einvoice.consent_given','accounts.unlocked','billing.customer_sync_requested',
              'accounts.contact_changed','notices.notification_sent'])[n],
       'accounts.customer', c.id::text, '{}'::jsonb
FROM accounts_customer c CROSS JOIN generate_series(1, 10) n;

INSERT INTO core_outboxmessage (created_at, kind, customer_number, idempotency_key, payload, status, attempts,
                                delivered_at, last_error)
SELECT timestamptz '2024-01-01' + (c.id * 13 + n * 401) % 1050 * interval '1 day',
       (ARRAY['reading.submitted','contact.changed','einvoice.consent'])[n], c.number,
       'bench-' || c.id || '-' || n, '{}'::jsonb,
       CASE WHEN c.id % 500 = 0 THEN 'FAILED' ELSE 'DELIVERED' END, 1,
       CASE WHEN c.id % 500 = 0 THEN NULL
            ELSE timestamptz '2024-01-01' + (c.id * 13 + n * 401) % 1050 * interval '1 day' END,
       CASE WHEN c.id % 500 = 0 THEN 'HTTP 503' ELSE '' END
FROM accounts_customer c CROSS JOIN generate_series(1, 3) n;

INSERT INTO billing_syncrun (started_at, finished_at, source, status, cursor_from, cursor_to, counts, errors)
SELECT timestamptz '2026-08-23' + h * interval '1 hour',
       timestamptz '2026-08-23' + h * interval '1 hour' + interval '40 s',
       'http', 'SUCCEEDED', '', '', '{"customers": {"read": 120, "created": 2, "updated": 118, "rejected": 0}}'::jsonb,
       '[]'::jsonb
FROM generate_series(1, 90 * 24) h;
"""


def add_office_rows() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tickets_case")
        if cursor.fetchone()[0]:
            return
        started = time.perf_counter()
        cursor.execute(OFFICE_ROWS)
        print(f"office rows (cases, messages, audit, outbox, sync runs) added in {time.perf_counter() - started:.0f} s")


def clerk():
    """A superuser with a TOTP authenticator (the admin sends staff without a second factor to set one up)."""
    from allauth.mfa.models import Authenticator

    from accounts.models import User

    user, created = User.objects.get_or_create(
        username="bench-clerk", defaults={"email": "clerk@example.pl", "is_staff": True, "is_superuser": True}
    )
    if created:
        Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return user


def pages() -> list[tuple[str, str]]:
    """(label, path) of every page measured: the lists, each kind of search, the change pages."""
    from django.db.models import Count
    from django.urls import reverse

    from accounts.models import Customer
    from billing.models import Invoice

    def changelist(name: str) -> str:
        return reverse(f"admin:{name}_changelist")

    customer = Customer.objects.exclude(email="").order_by("id")[1234]
    surname = customer.name.split()[-1] if customer.kind == "PERSON" else customer.name.split()[0]
    invoiced = Customer.objects.annotate(n=Count("invoices")).filter(n__gt=0).order_by("id")[1000]
    invoice = Invoice.objects.filter(customer=invoiced).order_by("-issue_date", "-id").first()
    this_year = "?issue_date__gte=2026-01-01&issue_date__lt=2027-01-01"
    cases = changelist("tickets_case")
    return [
        ("bare admin page", "/bench/admin-bare/"),
        ("customers", changelist("accounts_customer")),
        ("customers: number", changelist("accounts_customer") + f"?q={customer.number}"),
        ("customers: surname", changelist("accounts_customer") + f"?q={surname}"),
        ("customers: street", changelist("accounts_customer") + f"?q={customer.street.split()[-1]}"),
        ("customers: e-mail", changelist("accounts_customer") + f"?q={customer.email}"),
        ("customer change page", reverse("admin:accounts_customer_change", args=[customer.pk])),
        ("invoices", changelist("billing_invoice")),
        ("invoices: this year", changelist("billing_invoice") + this_year),
        ("invoices: number", changelist("billing_invoice") + f"?q={invoice.number}"),
        ("invoices: customer number", changelist("billing_invoice") + f"?q={invoiced.number}"),
        ("invoices: surname", changelist("billing_invoice") + f"?q={surname}"),
        ("invoice change page", reverse("admin:billing_invoice_change", args=[invoice.pk])),
        ("cases", changelist("tickets_case")),
        ("cases: new, not assigned", changelist("tickets_case") + "?status__exact=NEW&assignment=nobody"),
        ("cases: complaints in progress", cases + "?status__exact=IN_PROGRESS&case_type__exact=COMPLAINT"),
        ("cases: customer number", changelist("tickets_case") + f"?q={invoiced.number}"),
        ("payments", changelist("billing_payment")),
        ("payments: customer number", changelist("billing_payment") + f"?q={invoiced.number}"),
        ("readings", changelist("meters_reading")),
        ("readings: customer number", changelist("meters_reading") + f"?q={invoiced.number}"),
        ("meters", changelist("meters_meter")),
        ("contracts", changelist("accounts_contract")),
        ("delivery points", changelist("accounts_deliverypoint")),
        ("balances", changelist("billing_customerbalance")),
        ("outbox", changelist("core_outboxmessage")),
        ("outbox: failed", changelist("core_outboxmessage") + "?status__exact=FAILED"),
        ("audit log", changelist("core_auditlogentry")),
        ("audit log: action", changelist("core_auditlogentry") + "?action__exact=accounts.unlocked"),
        ("sync runs", changelist("billing_syncrun")),
    ]  # fmt: skip


def measure(requests: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(clerk())
    rows = []
    print(f"{'':34} {'median ms':>9} {'p90 ms':>8} {'CPU ms':>7} {'queries':>8} {'SQL ms':>7} {'slowest':>8}")
    for label, path in pages():
        for _ in range(2):  # warm up: templates, translations, query plans
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        count = len(queries.captured_queries)
        sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        slowest = max(float(q["time"]) for q in queries.captured_queries) * 1000
        times, cpu = [], time.process_time()
        for _ in range(requests):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        cpu_ms = (time.process_time() - cpu) / requests * 1000
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else median
        rows.append((label, median))
        print(f"{label:34} {median:9.1f} {p90:8.1f} {cpu_ms:7.1f} {count:8d} {sql_ms:7.1f} {slowest:8.1f}")
    worst = max(rows[1:], key=lambda row: row[1])
    verdict = "met" if worst[1] < TARGET_MS else "NOT met"
    print(
        f"slowest: {worst[0]} at {worst[1]:.0f} ms; target every list and search < {TARGET_MS} ms: {verdict} "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it holds the customers")
    args = parser.parse_args()

    loaded = database_loaded() if args.reuse else 0
    if loaded < args.customers:
        recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if loaded < args.customers:
        load(args.customers, args.years)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)  # a reused database catches up with the code (new indexes)
    print(f"migrations applied in {time.perf_counter() - started:.0f} s")
    call_command("collectstatic", interactive=False, verbosity=0)
    add_office_rows()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"machine: {os.cpu_count()} cores, PostgreSQL {connection.cursor().connection.info.server_version}; "
        f"{database_loaded():,} customers loaded; {args.requests} requests per page"
    )
    measure(args.requests)


if __name__ == "__main__":
    main()
