"""The invoice list over the API beside a bare Django view in the same server: gunicorn over PostgreSQL.

    .venv/bin/python bench/api.py [--customers 20000] [--years 3] [--reuse] [--seconds 20] [--cpu 200]

Loads the demo billing data for N customers into `ibok_bench_api` (as bench/pages.py does, whose helpers it
uses), gives a typical customer's login a personal access token, starts gunicorn (2 sync workers per core) with
the bench URLconf (its bare view) and loads /bench/bare/, GET /api/v1/invoices and the page /billing/ from
loopback with wrk (16 connections), the token in every request. Prints req/s, p50/p95/p99, the ratio to the bare
view and the SQL queries of one request of each (counted in process), with the load average.
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
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ibok_bench_api")
from bench import pages  # noqa: E402 - after the path and the database

PORT = pages.PORT + 3
URLS = (("bare Django view", "/bench/bare/"), ("API invoice list", "/api/v1/invoices"), ("invoice page", "/billing/"))


def token_for(customer_number: str) -> str:
    from django.utils import timezone

    from accounts.models import User
    from api import services

    user = User.objects.get(username=f"bench-{customer_number}")
    return services.token_create(user=user, name="bench", days=1, can_write=False, now=timezone.now())[1]


def wrk(url: str, headers: list[str], seconds: int) -> dict[str, float]:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "10s", "-s", str(ROOT / "bench" / "p95.lua")]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    return {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", line)}


def queries(headers: dict[str, str]) -> dict[str, int]:
    """The SQL queries of one request of each URL (after a warm-up), through Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", **headers)
    counts = {}
    for label, path in URLS:
        for _ in range(3):
            assert client.get(path).status_code == 200, path
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        counts[label] = len(captured.captured_queries)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it holds the customers")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")

    loaded = pages.database_loaded() if args.reuse else 0
    if loaded < args.customers:
        pages.recreate_database()
    import django

    django.setup()
    if loaded < args.customers:
        pages.load(args.customers, args.years)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    number, session_key, invoices, _ = pages.signed_in_customer()
    token = token_for(number)
    cookie = f"{pages.cookie_name()}={session_key}"
    counted = queries({"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_COOKIE": cookie})
    print(
        f"machine: {os.cpu_count()} cores, PostgreSQL {connection.cursor().connection.info.server_version}; "
        f"{pages.database_loaded():,} customers; customer {number} with {invoices} invoices"
    )
    connection.close()

    workers = 2 * (os.cpu_count() or 1)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"), "ibok.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
            "--workers", str(workers), "--worker-class", "sync", "--backlog", "64", "--log-level", "warning",
        ],
        cwd=ROOT, env={**os.environ, **pages.ENV}, start_new_session=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{PORT}"
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/bench/bare/", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.2)
        print(f"gunicorn: {workers} sync workers; wrk: 16 connections, {args.seconds} s per URL")
        results = {}
        for label, path in URLS:
            # The API by its token; the page by the same user's session (the bare view ignores both).
            headers = [f"Authorization: Bearer {token}"] if path.startswith("/api/") else [f"Cookie: {cookie}"]
            wrk(base + path, headers, 3)  # warm up: connections, caches, query plans
            results[label] = wrk(base + path, headers, args.seconds)
        bare = results["bare Django view"]
        columns = ("req/s", "p50 ms", "p95 ms", "p99 ms", "vs bare", "queries")
        print(f"{'':18} " + " ".join(f"{c:>8}" for c in columns) + f" {'errors':>7}")
        for label, r in results.items():
            print(
                f"{label:18} {r['rps']:8.0f} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['p99_ms']:8.1f} "
                f"{r['rps'] / bare['rps']:8.2f} {counted[label]:8d} {int(r['errors']):7d}"
            )
        load = os.getloadavg()
        print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
