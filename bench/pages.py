"""Six customer pages under load, beside a bare Django view: gunicorn over PostgreSQL on a large demo data set.

    .venv/bin/python bench/pages.py [--customers 200000] [--years 3] [--reuse] [--seconds 10] [--rounds 3] [--cpu 100]
                                    [--pages TEXT] [--profile PREFIX] [--collect]

Loads the demo billing data (demo.batch) for N customers into the database `ibok_bench_pages`
(dropped and created unless --reuse finds it loaded; BENCH_DATABASE_URL names another), signs in the customer with
the median invoice count and the one with the longest history, and measures the dashboard, the invoice list,
settlements, payments, meters and consumption of each, beside a bare Django view through the same middleware:

- in process (Django's test client: the whole middleware stack and the templates, no network), in rounds over
  every page so that a change of the machine's load falls on all alike: Python CPU per warm request (nothing
  changed since the last view) and per cold one (the customer's data version bumped first), the queries of one
  request and its size as sent, gzip -6 and brotli 6; with --profile a cProfile of each page (CPU time);
- over HTTP (unless --seconds 0; needs wrk): gunicorn with 2 sync workers per core and a bench-only URLconf that
  adds the bare view, wrk with 16 connections from loopback: requests per second, their ratio to the bare
  view's, p95; each page right after a run of the bare view, in --rounds rounds, the medians printed (the shared
  machine's speed drifts within a minute: the same page measured 0.43 and 0.66 of the bare view a minute apart).

Prints one table with the load average and the issue's targets (req/s at least 1/2 of the bare view's for the
dashboard, 1/3 for the invoice list and settlements).
"""

import argparse
import gzip
import os
import re
import secrets
import shutil
import signal
import statistics
import string
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
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


def customers_to_bench() -> list[tuple[str, int, int]]:
    """(label, customer id, invoices) of the customer with the median invoice count and of the one with the most."""
    from django.db.models import Count

    from accounts.models import Customer

    counted = Customer.objects.annotate(n=Count("invoices")).filter(n__gt=0).order_by("n", "id")
    total = counted.count()
    median, longest = counted[total // 2], counted.order_by("-n", "id").first()
    return [("median", median.pk, median.n), ("longest", longest.pk, longest.n)]


def signed_in(customer_id: int) -> str:
    """A login owning the customer, signed in: its session id (stored in the database)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts import setup
    from accounts.models import Customer, User

    customer = Customer.objects.get(pk=customer_id)
    user, _ = User.objects.get_or_create(username=f"bench-{customer.number}", defaults={"email": "bench@example.pl"})
    setup.owner_access_ensure(user=user, customer=customer, now=timezone.now())
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(24 * 3600)
    session.create()
    return session.session_key


def cookie_name() -> str:
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME


# A browser sends its CSRF cookie back with every page; without it a page with a form makes a new secret and sets
# the cookie on every request, which no browser's second page does.
CSRF_SECRET = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def wrk(url: str, session_key: str, seconds: int, connections: int = 16) -> dict[str, float]:
    from django.conf import settings

    cookies = f"{cookie_name()}={session_key}; {settings.CSRF_COOKIE_NAME}={CSRF_SECRET}"
    command = [
        "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(ROOT / "bench" / "p95.lua"), "-H", f"Cookie: {cookies}", url,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    return {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", line)}


BARE = ("bare Django view", "/bench/bare/")
PAGES = (
    ("dashboard", "/"),
    ("invoice list", "/billing/"),
    ("settlements", "/billing/settlements/"),
    ("payments", "/billing/payments/"),
    ("meters", "/meters/"),
    ("consumption", "/meters/consumption/"),
)
# The targets: a page's req/s at least this share of the bare view's.
TARGETS = {"dashboard": 0.5, "invoice list": 1 / 3, "settlements": 1 / 3}


@dataclass
class Row:
    label: str
    path: str
    session_key: str
    customer_id: int | None = None
    cpu_ms: float = 0.0
    cold_cpu_ms: float = 0.0
    queries: int = 0
    size: int = 0
    gzip_size: int = 0  # gzip -6, as a reverse proxy would send it (docs/operations.md)
    brotli_size: int = 0  # brotli at quality 6 (0: the brotli module is missing)
    http: dict = field(default_factory=dict)


def in_process(rows: list[Row], requests: int, profile: str | None) -> None:
    """Python CPU per request through Django's test client (the whole middleware stack and the templates, no
    network), the SQL queries and the size of one response: warm (the data unchanged since the last view: the
    cached fragments) and cold (the customer's data version bumped before every request, untimed: the first view
    after a change). With `profile`, cProfile statistics of the warm requests are written there (one file per
    page, .prof: `python -m pstats` or snakeviz reads them)."""
    import cProfile

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from core import versions

    clients = {}
    for row in rows:
        client = clients[row.label] = Client(HTTP_HOST="127.0.0.1")
        client.cookies[settings.SESSION_COOKIE_NAME] = row.session_key
        for _ in range(5):  # warm up: templates, translations, the connection, the cache
            response = client.get(row.path)
            assert response.status_code == 200, (row.path, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(row.path)
        row.queries, row.size = len(queries.captured_queries), len(response.content)
        row.gzip_size = len(gzip.compress(response.content, compresslevel=6))
        try:
            import brotli

            row.brotli_size = len(brotli.compress(response.content, quality=6))
        except ImportError:
            pass
    # Warm: in rounds over every page, so that a change in the machine's load falls on all of them alike.
    rounds = 5
    for _ in range(rounds):
        for row in rows:
            client = clients[row.label]
            cpu = time.process_time()
            for _ in range(requests // rounds):
                client.get(row.path)
            row.cpu_ms += (time.process_time() - cpu) / (requests // rounds * rounds) * 1000
    for row in rows:
        client = clients[row.label]
        if profile:  # a pass of its own: the profiler slows every call it counts
            profiler = cProfile.Profile(time.process_time)  # CPU, not the wait for PostgreSQL
            profiler.enable()
            for _ in range(requests):
                client.get(row.path)
            profiler.disable()
            Path(profile).parent.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(f"{profile}-{re.sub(r'\W+', '-', row.label).strip('-')}.prof")
    for row in rows:  # cold last: a bump makes every page of the customer cold
        if row.customer_id is None:
            continue
        client = clients[row.label]
        cold = max(requests // 10, 5)  # a cold view costs several times a warm one
        spent = 0.0
        for _ in range(cold):
            versions.bump([row.customer_id])
            cpu = time.process_time()
            client.get(row.path)
            spent += time.process_time() - cpu
        row.cold_cpu_ms = spent / cold * 1000


def http(rows: list[Row], seconds: int, workers: int, threads: int, rounds: int) -> None:
    """Each page over HTTP: gunicorn on loopback, wrk with 16 connections (requests per second, p95).

    The machine is shared and its speed drifts within a minute, so each page is measured right after the bare
    view, in `rounds` rounds over every page: a page's ratio is the median of its rounds' ratios to the bare view
    measured just before it (its req/s and p95 the medians of its rounds)."""
    worker_class = "gthread" if threads > 1 else "sync"
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"), "ibok.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
            "--workers", str(workers), "--threads", str(threads), "--worker-class", worker_class,
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
        print(
            f"gunicorn: {workers} {worker_class} workers x {threads} threads; wrk: 16 connections, {seconds} s each, "
            f"{rounds} rounds, the bare view before every page"
        )
        bare, pages = rows[0], rows[1:]
        for row in rows:
            wrk(base + row.path, row.session_key, 2)  # warm up every worker: connections, caches, query plans
        runs: dict[str, list[dict[str, float]]] = {row.label: [] for row in rows}
        for _ in range(rounds):
            for row in pages:
                before = wrk(base + bare.path, bare.session_key, seconds)
                measured = wrk(base + row.path, row.session_key, seconds)
                runs[bare.label].append(before)
                runs[row.label].append({**measured, "ratio": measured["rps"] / before["rps"]})
        for row in rows:
            row.http = {key: statistics.median(run[key] for run in runs[row.label]) for key in runs[row.label][0]}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def report(rows: list[Row], requests: int) -> None:
    bare = rows[0]
    have_http = bool(bare.http)
    print()
    print(
        f"{'page':34} {'req/s':>7} {'vs bare':>7} {'p95 ms':>7} {'CPU ms':>7} {'vs bare':>7} "
        f"{'cold ms':>7} {'queries':>7} {'KiB':>7} {'gzip':>6} {'brotli':>6}"
    )
    verdicts = []
    for row in rows:
        rps = row.http.get("rps", 0.0)
        ratio = row.http.get("ratio", 1.0) if have_http else 0.0
        errors = int(row.http.get("errors", 0))
        print(
            f"{row.label:34} {rps:7.0f} {ratio:7.2f} {row.http.get('p95_ms', 0.0):7.1f} {row.cpu_ms:7.2f} "
            f"{row.cpu_ms / bare.cpu_ms:7.1f} {row.cold_cpu_ms or 0:7.2f} {row.queries:7d} {row.size / 1024:7.1f} "
            f"{row.gzip_size / 1024:6.1f} {row.brotli_size / 1024:6.1f}" + (f"  {errors} errors" if errors else "")
        )
        page = row.label.split(",")[0]
        if have_http and page in TARGETS and row.label.endswith("median"):
            verdict = "met" if ratio >= TARGETS[page] else "NOT met"
            verdicts.append(f"{page} {ratio:.2f} >= {TARGETS[page]:.2f}: {verdict}")
    load = os.getloadavg()
    print(
        f"CPU ms: Python CPU per warm request in process ({requests} requests), cold: the first view after a change; "
        "req/s and p95 over HTTP; KiB: the HTML as Django sends it, gzip -6 and brotli 6 as a proxy would"
    )
    if verdicts:
        print("targets (req/s vs the bare view, median customer): " + "; ".join(verdicts))
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="wrk's duration per page (0: no HTTP load)")
    parser.add_argument("--rounds", type=int, default=3, help="HTTP rounds over every page (medians are printed)")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it holds the customers")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: 2 per core)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync workers)")
    parser.add_argument("--cpu", type=int, default=100, help="warm requests of each page timed in this process")
    parser.add_argument("--profile", metavar="PREFIX", help="write cProfile statistics of each page to PREFIX-*.prof")
    parser.add_argument("--collect", action="store_true", help="collect the static files again (changed CSS)")
    parser.add_argument("--pages", help="only the pages whose label contains this text")
    args = parser.parse_args()
    if shutil.which("wrk") is None and args.seconds:
        sys.exit("wrk is missing: apt-get install wrk (or measure in process only: --seconds 0)")

    loaded = database_loaded() if args.reuse else 0
    if loaded < args.customers:
        recreate_database()
    import django

    django.setup()
    if loaded < args.customers:
        load(args.customers, args.years)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)  # a reused database catches up with the code
    if args.collect or not (ROOT / "bench" / "out" / "static" / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)  # minutes: whitenoise compresses every file
    benched = customers_to_bench()
    rows = [Row(BARE[0], BARE[1], signed_in(benched[0][1]))]
    for who, customer_id, _invoices in benched:
        session_key = signed_in(customer_id)
        rows += [
            Row(f"{label}, {who}", path, session_key, customer_id)
            for label, path in PAGES
            if not args.pages or args.pages in label
        ]
    print(
        f"machine: {os.cpu_count()} cores, PostgreSQL {connection.cursor().connection.info.server_version}; "
        f"{database_loaded():,} customers loaded; "
        + ", ".join(f"{who}: customer id {pk} with {n} invoices" for who, pk, n in benched)
    )
    in_process(rows, args.cpu, args.profile)
    connection.close()
    if args.seconds:
        http(rows, args.seconds, args.workers or 2 * (os.cpu_count() or 1), args.threads, args.rounds)
    report(rows, args.cpu)


if __name__ == "__main__":
    main()
