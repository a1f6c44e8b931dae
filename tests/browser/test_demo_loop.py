"""The README's first command tells the whole story. On the demo's own start-up (`scripts/demo`: its settings,
no REDIS_URL, a real worker and beat on the filesystem broker, the demo billing system), a customer pays an
invoice through the sandbox broker; the outbox takes the payment to the demo billing system, which books it; the
next sync shows the invoice paid. One Ctrl+C then ends every process the demo started."""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LOGIN = re.compile(r"Demo login: customer number (\S+) \(.*\), password (\S+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    port, billing_port = free_port(), free_port()
    # The demo's own environment: nothing of the test settings (which put values into os.environ) leaks in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "IBOK_", "DATABASE_", "REDIS_"))}
    env |= {"PORT": str(port), "IBOK_VAR_DIR": str(folder / "var"), "IBOK_DEMO_CUSTOMERS": "12",
            "IBOK_DEMO_BILLING_PORT": str(billing_port)}  # fmt: skip
    log_path = folder / "demo.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([str(ROOT / "scripts" / "demo")], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 240
    while not (answers(port) and LOGIN.search(log_path.read_text())):
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, "the demo did not start:\n" + log_path.read_text()
        time.sleep(0.5)
    number, password = LOGIN.search(log_path.read_text()).groups()
    yield {"url": f"http://127.0.0.1:{port}", "number": number, "password": password, "process": process,
           "ports": (port, billing_port), "log": log_path}  # fmt: skip
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)


def status_of(page: Page, url: str, number: str) -> str:
    page.goto(url + "/billing/")
    return page.locator("tbody tr").filter(has_text=number).first.inner_text()


def test_a_payment_in_the_demo_reaches_billing_and_comes_back_paid_after_the_next_sync(page, demo):
    url = demo["url"]
    page.goto(url + "/account/login/")
    page.get_by_label("Numer odbiorcy lub e-mail").fill(demo["number"])
    page.get_by_label("Hasło", exact=True).fill(demo["password"])
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(url + "/")

    page.goto(url + "/billing/pay/")
    choice = page.locator("input[name=invoices]").first
    number = page.locator(f"label[for={choice.get_attribute('id')}]").inner_text().strip()
    choice.check()
    page.get_by_role("button", name="Przejdź do płatności").click()
    page.wait_for_url(re.compile(r".*/sandbox-broker/trnRequest/.*"))
    page.get_by_role("button", name="Zapłać", exact=True).click()
    page.wait_for_url(re.compile(r".*/billing/pay/IBOK-.*"))
    assert "Płatność w toku" in status_of(page, url, number)

    # The outbox delivery and the sync each run every minute on beat: the booking is back within about two.
    deadline = time.monotonic() + 300
    while "Opłacona" not in (row := status_of(page, url, number)):
        assert time.monotonic() < deadline, f"{number} is still {row!r}:\n" + demo["log"].read_text()[-3000:]
        time.sleep(5)
    assert "Płatność w toku" not in row


def test_one_ctrl_c_ends_every_process_of_the_demo(demo):
    os.killpg(demo["process"].pid, signal.SIGINT)  # what the terminal sends on Ctrl+C
    demo["process"].wait(timeout=60)

    deadline = time.monotonic() + 30
    while any(answers(port) for port in demo["ports"]):
        assert time.monotonic() < deadline, "a process of the demo is still serving"
        time.sleep(0.5)
    leftovers = subprocess.run(["pgrep", "-f", str(demo["log"].parent / "var")], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
