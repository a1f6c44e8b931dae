"""e-Invoices of a billing month through a real Celery worker: each invoice's PDF rendered ahead and e-mailed.

    .venv/bin/python bench/einvoice.py [--customers 20000] [--years 1] [--concurrency 2] [--month 2026-11]

Loads the demo billing data of --customers customers through the real sync into the database in DATABASE_URL
(default: ibok_bench_einvoice; recreated when it holds another number of customers), switches e-invoices on for
every customer (an active consent from before the month), then announces the month's invoices as the sync does
(billing.signals.invoices_imported, a chunk at a time, in a transaction) while a real worker
(`celery -A ibok worker --queues bulk`, prefork, --concurrency processes) does the rest: deliveries, PDFs
rendered ahead (einvoice.deliveries_prepare) and the sends. The e-mails are built with their PDF attached and
handed to Django's dummy backend (nothing is written or sent). Redis in REDIS_URL (default db 0) is the broker:
give the bench a database of its own. Prints invoices per second, the worker's CPU per invoice and the projection
for a month of 200,000 e-invoices, with the load average: the machine is shared.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ibok.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ibok_bench_einvoice")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ["IBOK_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="ibok-bench-einvoice-")
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"

PROJECTED = 200_000


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its children, living or reaped (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat (11-14 after the command name).
        total += sum(int(value) for value in fields[11:15]) / ticks
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            pids.extend(int(child) for child in children)
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (prefork)")
    parser.add_argument("--month", default="2026-10", help="the billing month: invoices issued in it")
    parser.add_argument("--invoices", type=int, default=0, help="only the month's first N invoices (0: all)")
    parser.add_argument("--timeout", type=int, default=7200)
    args = parser.parse_args()

    sys.stdout.reconfigure(line_buffering=True)
    from bench.common import database_loaded, import_demo, recreate_database

    url = os.environ["DATABASE_URL"]
    if database_loaded(url) != args.customers:
        recreate_database(url)
        fresh = True
    else:
        fresh = False
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from accounts.models import Customer
    from billing import signals as billing_signals
    from billing.models import Invoice
    from core.models import QueuedTask
    from einvoice.models import Consent, ConsentSource, ConsentStatus, Delivery, DeliveryStatus, EinvoiceTerms
    from ibok.celery import app as celery_app

    if fresh:
        import_demo(args.customers, args.years)

    year, month = (int(part) for part in args.month.split("-"))
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    active_from = datetime(start.year, start.month, 1, tzinfo=UTC) - timedelta(days=1)

    # A clean month: no consents, deliveries, queued tasks or rendered PDFs from an earlier run.
    Delivery.objects.all().delete()
    Consent.objects.all().delete()
    QueuedTask.objects.all().delete()
    month_invoices = list(
        Invoice.objects.filter(issue_date__gte=start, issue_date__lt=end).order_by("id").values_list("id", flat=True)
    )
    Invoice.objects.filter(pk__in=month_invoices).update(pdf="")
    in_month = len(month_invoices)
    if args.invoices:
        month_invoices = month_invoices[: args.invoices]
    terms = EinvoiceTerms.objects.order_by("-published_at").first() or EinvoiceTerms.objects.create(
        version="bench", title="Regulamin e-faktury", body="§ 1.", published_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    Consent.objects.bulk_create(
        Consent(
            customer_id=customer_id,
            status=ConsentStatus.ACTIVE,
            source=ConsentSource.PORTAL,
            email=f"{number}@example.pl",
            terms=terms,
            accepted_at=active_from,
            active_from=active_from,
        )  # fmt: skip
        for customer_id, number in Customer.objects.values_list("id", "number")
    )
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("bulk")

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ibok.settings"}
    name = f"bench-einvoice-{os.getpid()}"
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "ibok", "worker", "--pool", "prefork",
            "--concurrency", str(args.concurrency), "--queues", "bulk", "--hostname", f"{name}@%h",
            "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
        ],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not celery_app.control.ping(destination=[f"{name}@{os.uname().nodename}"]):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the worker did not start")
        idle_cpu = cpu_seconds(worker.pid)
        load_before = os.getloadavg()
        print(
            f"machine: {os.cpu_count()} cores, load average {load_before[0]:.1f}; {args.customers:,} customers, "
            f"all on e-invoices; {in_month:,} invoices issued in {args.month}, {len(month_invoices):,} announced; "
            "worker: prefork, "
            f"{args.concurrency} process(es), queue bulk"
        )
        started = time.perf_counter()
        chunk = settings.IBOK_SYNC_BATCH_SIZE
        for first in range(0, len(month_invoices), chunk):
            with transaction.atomic():  # as the sync announces a chunk it wrote
                billing_signals.invoices_imported.send(
                    sender=Invoice, invoice_ids=month_invoices[first : first + chunk]
                )
        rendered_at = None
        last_print = 0.0
        while True:
            time.sleep(1)
            sent = Delivery.objects.filter(status=DeliveryStatus.SENT).count()
            failed = Delivery.objects.filter(status=DeliveryStatus.FAILED).count()
            elapsed = time.perf_counter() - started
            if rendered_at is None and not Invoice.objects.filter(pk__in=month_invoices, pdf="").exists():
                rendered_at = elapsed
            if elapsed - last_print >= 10:
                last_print = elapsed
                print(f"  {elapsed:6.0f} s: {sent:,} sent, {failed} failed")
            if sent + failed >= len(month_invoices) or elapsed > args.timeout or worker.poll() is not None:
                break
        elapsed = time.perf_counter() - started
        worker_cpu = cpu_seconds(worker.pid) - idle_cpu
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.send_signal(signal.SIGQUIT)  # cold shutdown: the task under way is dropped
            worker.wait(timeout=30)

    load = os.getloadavg()
    if sent < len(month_invoices):
        print(f"stopped before the end (--timeout {args.timeout} s or the worker exited)")
    rate = sent / elapsed
    print(f"load average after: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")
    print(f"e-mailed with PDF: {sent:,} of {len(month_invoices):,} ({failed} failed) in {elapsed:.0f} s")
    if rendered_at is not None:
        print(f"all PDFs rendered and stored after {rendered_at:.0f} s")
    print(f"rate: {rate:.1f} invoices/s; worker CPU {worker_cpu / max(sent, 1) * 1000:.0f} ms per invoice")
    print(
        f"projection for {PROJECTED:,} e-invoices: {PROJECTED / rate / 3600:.1f} h at this rate on this machine, "
        f"{PROJECTED * worker_cpu / max(sent, 1) / 3600:.1f} CPU-hours of the worker"
    )


if __name__ == "__main__":
    main()
