"""The dashboard and the invoice list under load: gunicorn over PostgreSQL on a large demo data set.

    .venv/bin/python bench/pages.py [--customers 200000] [--years 3] [--reuse] [--seconds 20] [--cpu 300]

Loads the demo billing data (demo.batch) for N customers into the database `ibok_bench_pages`
(dropped and created unless --reuse finds it loaded), signs a typical customer in, starts gunicorn (2 sync workers
per core unless told otherwise) with a bench-only URLconf that adds a bare Django view, and loads each URL
from loopback with wrk (16 connections). Prints requests per second, p50/p95/p99 latency and the ratio to the
bare view. Needs `wrk` (Debian: apt-get install wrk).

With --cpu N it first requests each URL N times in this process through Django's test client (the whole
middleware stack and template rendering, no network) and prints the Python CPU time per request, its ratio to the
bare view's and the SQL queries, for a warm cache and a cold one, with the load average: a figure that other work on
the machine disturbs much less than wrk's (PostgreSQL's CPU not counted). Without wrk it stops there.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import common  # noqa: E402 - after the path

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ibok_bench_pages")
ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DATABASE_URL": DATABASE_URL,
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DATABASE_CONN_MAX_AGE": "600",
}
os.environ.update(ENV)
os.environ.pop("REDIS_URL", None)  # the cache is local memory per worker; the pages never wait on Redis here
PORT = 8765 + 17


def recreate_database() -> None:
    common.recreate_database(DATABASE_URL)


def database_loaded() -> int:
    return common.database_loaded(DATABASE_URL)


def load(customers: int, years: int) -> None:
    common.import_demo(customers, years)
    with __import__("django.db", fromlist=["connection"]).connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def signed_in_customer() -> tuple[str, str, int, int]:
    """A typical customer (the median invoice count) with a login; returns its number, a session id, invoices, id."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Count
    from django.utils import timezone

    from accounts import setup
    from accounts.models import Customer, User

    counted = Customer.objects.annotate(n=Count("invoices")).filter(n__gt=0).order_by("n", "id")
    total = counted.count()
    customer = counted[total // 2]
    user, _ = User.objects.get_or_create(username=f"bench-{customer.number}", defaults={"email": "bench@example.pl"})
    setup.owner_access_ensure(user=user, customer=customer, now=timezone.now())
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(24 * 3600)
    session.create()
    return customer.number, session.session_key, customer.n, customer.pk


def cookie_name() -> str:
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME


def wrk(url: str, session_key: str, seconds: int, connections: int = 16) -> dict[str, float]:
    command = [
        "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(ROOT / "bench" / "p95.lua"), "-H", f"Cookie: {cookie_name()}={session_key}", url,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    return {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", line)}


PAGES = (("bare Django view", "/bench/bare/"), ("dashboard", "/"), ("invoice list", "/billing/"))


def in_process(session_key: str, customer_id: int, requests: int) -> None:
    """Python CPU and wall time per request through Django's test client, and the SQL queries of one request: each
    page side by side with the bare view through the same middleware, warm (the data unchanged since the last view:
    the cached fragment) and cold (the customer's data version bumped before every request, untimed: the first view
    after a change)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from core import versions

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key

    def measure(path: str, cold: bool) -> tuple[float, float, int]:
        for _ in range(10):  # warm up: templates, translations, the connection, the cache
            assert client.get(path).status_code == 200, path
        if cold:
            versions.bump([customer_id])
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        count = len(queries.captured_queries)  # read now: the next request clears the connection's log
        cpu = wall = 0.0
        for _ in range(requests):
            if cold:
                versions.bump([customer_id])
            started, cpu_started = time.perf_counter(), time.process_time()
            client.get(path)
            wall += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
        return cpu / requests * 1000, wall / requests * 1000, count

    rows = [(label, *measure(path, cold=False)) for label, path in PAGES]
    rows += [(f"{label}, cold cache", *measure(path, cold=True)) for label, path in PAGES[1:]]
    bare_cpu = rows[0][1]
    print(f"in process, {requests} requests each: {'CPU ms':>8} {'vs bare':>8} {'wall ms':>8} {'queries':>8}")
    for label, cpu_ms, wall_ms, count in rows:
        print(f"{label:34} {cpu_ms:8.2f} {cpu_ms / bare_cpu:8.1f} {wall_ms:8.2f} {count:8d}")
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it holds the customers")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: 2 per core)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync workers)")
    parser.add_argument("--cpu", type=int, default=0, help="first time N requests of each page in this process")
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.cpu:
        sys.exit("wrk is missing: apt-get install wrk (or measure in process only: --cpu N)")

    loaded = database_loaded() if args.reuse else 0
    if loaded < args.customers:
        recreate_database()
    import django

    django.setup()
    if loaded < args.customers:
        load(args.customers, args.years)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a reused database catches up with the code
    call_command("collectstatic", interactive=False, verbosity=0)
    number, session_key, invoices, customer_id = signed_in_customer()
    from django.db import connection

    print(
        f"machine: {os.cpu_count()} cores, PostgreSQL {connection.cursor().connection.info.server_version}; "
        f"{database_loaded():,} customers loaded; signed in as customer {number} with {invoices} invoices"
    )
    if args.cpu:
        in_process(session_key, customer_id, args.cpu)
    connection.close()
    if shutil.which("wrk") is None:
        print("wrk is missing: no load test over HTTP (apt-get install wrk)")
        return

    workers = args.workers or 2 * (os.cpu_count() or 1)
    worker_class = "gthread" if args.threads > 1 else "sync"
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"), "ibok.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
            "--workers", str(workers), "--threads", str(args.threads), "--worker-class", worker_class,
            "--backlog", "64", "--log-level", "warning",
        ],
        cwd=ROOT, env={**os.environ, **ENV}, start_new_session=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{PORT}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/bench/bare/", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.2)
        print(f"gunicorn: {workers} {worker_class} workers x {args.threads} threads; wrk: 16 connections")
        results = {}
        for label, path in PAGES:
            wrk(base + path, session_key, 3)  # warm up: connections, caches, query plans
            results[label] = wrk(base + path, session_key, args.seconds)
        bare = results["bare Django view"]
        print(f"{'':18} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'vs bare':>8} {'errors':>7}")
        for label, r in results.items():
            ratio = r["rps"] / bare["rps"]
            print(
                f"{label:18} {r['rps']:8.0f} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['p99_ms']:8.1f} "
                f"{ratio:8.2f} {int(r['errors']):7d}"
            )
        verdict = "met" if results["dashboard"]["p95_ms"] < 100 else "NOT met"
        busy = os.getloadavg()[0]
        print(f"target dashboard p95 < 100 ms: {verdict} (load average {busy:.1f} on {os.cpu_count()} cores)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
