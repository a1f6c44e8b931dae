"""The production configuration, started as the image starts it, on this machine (no Docker engine needed):
production settings (no DEBUG, no demo app), migrations first, gunicorn, a Celery worker per queue and beat, on
real PostgreSQL and Redis; the demo billing system as a separate process plays the utility's billing system
over HTTP. Then a smoke test through Chromium: sign in, pay through the sandbox broker, see the payment booked
after a sync, download the invoice's PDF.

The sandbox broker is the one switch away from production (IBOK_PAYMENT_SANDBOX=1): no real payment is made."""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Smoke-test-passphrase-2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Stack:
    """The processes of one production start; each writes its log into the stack's folder."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder, self.env, self.processes = folder, env, []

    def run(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        with (self.folder / f"{name}.log").open("w") as log:
            done = subprocess.run(args, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT)
        assert done.returncode == 0, f"{name} failed:\n" + (self.folder / f"{name}.log").read_text()[-3000:]

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        log = (self.folder / f"{name}.log").open("w")
        self.processes.append(subprocess.Popen(args, cwd=ROOT, env=env or self.env, stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True))  # fmt: skip

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted(self.folder.glob("*.log")))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    folder = tmp_path_factory.mktemp("production")
    port, billing_port = free_port(), free_port()
    database = f"ibok_smoke_{uuid.uuid4().hex[:8]}"
    server = settings.DATABASES["default"]
    admin_url = f"postgres://{server['USER']}@{server['HOST']}:{server['PORT']}/postgres"
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {database}"], check=True)
    redis = settings.REDIS_URL.rsplit("/", 1)[0] + "/" + os.environ.get("IBOK_SMOKE_REDIS_DB", "12")
    subprocess.run(["redis-cli", "-u", redis, "flushdb"], check=True, capture_output=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "IBOK_", "DATABASE_", "REDIS_"))}
    secret = secrets.token_urlsafe(40)
    env = base | {
        "DJANGO_SETTINGS_MODULE": "ibok.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # the TLS proxy redirects; Chromium keeps Secure cookies on localhost
        "DATABASE_URL": f"postgres://{server['USER']}@{server['HOST']}:{server['PORT']}/{database}",
        "REDIS_URL": redis,
        "IBOK_VAR_DIR": str(folder / "var"),
        "IBOK_PORTAL_URL": f"http://localhost:{port}",
        "IBOK_RECAPTCHA_ENABLED": "0",
        "IBOK_SMS_BACKEND": "notices.sms.LocalBackend",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(folder / "mail"),
        "IBOK_PAYMENT_SANDBOX": "1",
        "IBOK_BILLING_SOURCE": "http", "IBOK_BILLING_URL": f"http://127.0.0.1:{billing_port}",
        "IBOK_BILLING_TOKEN": "smoke-token",
        "IBOK_OUTBOX_TRANSPORT": "http", "IBOK_OUTBOX_URL": f"http://127.0.0.1:{billing_port}/v1/inbox",
        "IBOK_OUTBOX_TOKEN": "smoke-token", "IBOK_OUTBOX_SECRET": secret,
        "IBOK_SYNC_INTERVAL_MINUTES": "1",
    }  # fmt: skip
    # The utility's billing system: the demo one, in its own process with its own (demo) settings.
    billing_env = base | {"DJANGO_DEBUG": "1", "IBOK_VAR_DIR": str(folder / "billing")}
    stack = Stack(folder, env)
    manage = [sys.executable, "manage.py"]
    try:
        stack.run("batch", *manage, "demo_billing_source", "--out", str(folder / "batch"), "--customers", "8",
                  env=billing_env)  # fmt: skip
        stack.start("billing", *manage, "demo_billing_server", str(folder / "batch"), "--port", str(billing_port),
                    "--token", "smoke-token", "--secret", secret, env=billing_env)  # fmt: skip
        stack.run("migrate", *manage, "migrate", "--no-input")  # first, as the one-shot service / the Job
        stack.run("collectstatic", *manage, "collectstatic", "--no-input")  # done at build time in the image
        stack.start("web", sys.executable, "-m", "gunicorn", "ibok.wsgi", "--bind", f"127.0.0.1:{port}",
                    "--workers", "3")  # fmt: skip
        for queue in settings.IBOK_TASK_QUEUES:
            stack.start(f"worker-{queue}", sys.executable, "-m", "celery", "-A", "ibok", "worker", "-Q", queue,
                        "--hostname", f"{queue}-smoke@%h", "--concurrency", "1", "--loglevel", "INFO")  # fmt: skip
        stack.start("beat", sys.executable, "-m", "celery", "-A", "ibok", "beat", "--loglevel", "INFO",
                    "--schedule", str(folder / "beat-schedule"))  # fmt: skip
        deadline = time.monotonic() + 60
        while not (answers(port) and answers(billing_port)):
            assert time.monotonic() < deadline, "the stack did not start:\n" + stack.logs()
            time.sleep(0.5)
        yield {"url": f"http://localhost:{port}", "stack": stack, "env": env, "manage": manage}
    finally:
        stack.stop()
        subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=False)


def shell(production, code: str) -> str:
    done = subprocess.run([*production["manage"], "shell", "-v", "0", "-c", code], cwd=ROOT, env=production["env"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def wait_until(production, what: str, check, seconds: float = 240) -> str:
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n" + production["stack"].logs()
        time.sleep(3)
    return value


def test_sign_in_pay_see_it_booked_and_download_the_pdf(page, production):
    url = production["url"]
    # The first sync brings the billing system's customers: queued now, as staff would from the admin ("sync
    # now"), rather than waiting for beat's first minute; the sync queue's worker runs it.
    shell(production, "from billing.tasks import billing_sync; billing_sync.delay()")
    customer = wait_until(production, "the first sync", lambda: shell(production, (
        "from billing.models import Invoice; i = Invoice.objects.filter(outstanding__gt=0, customer__kind='PERSON')"
        ".order_by('customer__number').first(); print(i.customer.number if i else '')")))  # fmt: skip
    # An account as the office would set one up (registration by e-mail is covered by its own tests).
    shell(production, (
        "from accounts.models import User, Customer, CustomerAccess, AccessRole; from django.utils import timezone;"
        f"c = Customer.objects.get(number='{customer}'); u = User.objects.create_user('{customer}', 'smoke@example.pl',"
        f" '{PASSWORD}'); CustomerAccess.objects.create(user=u, customer=c, role=AccessRole.OWNER, "
        "granted_at=timezone.now()); from allauth.account.models import EmailAddress;"
        "EmailAddress.objects.create(user=u, email=u.email, verified=True, primary=True)"))  # fmt: skip

    page.goto(url + "/account/login/")
    page.get_by_label("Numer odbiorcy lub e-mail").fill(customer)
    page.get_by_label("Hasło", exact=True).fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    if "/terms/" in page.url:  # the current terms, accepted once
        page.locator("form button[type=submit]").last.click()
    page.goto(url + "/billing/pay/")
    choice = page.locator("input[name=invoices]").first
    number = page.locator(f"label[for={choice.get_attribute('id')}]").inner_text().strip()
    choice.check()
    page.get_by_role("button", name="Przejdź do płatności").click()
    page.wait_for_url(re.compile(r".*/sandbox-broker/trnRequest/.*"))
    page.get_by_role("button", name="Zapłać", exact=True).click()
    page.wait_for_url(re.compile(r".*/billing/pay/IBOK-.*"))
    # Beat delivers the outbox and syncs every minute; queued now, the sync queue's worker does both in order.
    shell(production, "from core.tasks import outbox_deliver; from billing.tasks import billing_sync; "
                      "outbox_deliver.delay(); billing_sync.delay()")  # fmt: skip

    def row() -> str:
        page.goto(url + "/billing/")
        text = page.locator("tbody tr").filter(has_text=number).first.inner_text()
        return text if "Opłacona" in text else ""

    assert "Płatność w toku" not in wait_until(production, f"{number} booked and synced", row)
    page.locator("tbody tr").filter(has_text=number).first.get_by_role("link").first.click()
    pdf_link = page.locator("a[href$='/pdf/']").first.get_attribute("href")
    pdf = page.request.get(url + pdf_link)
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
