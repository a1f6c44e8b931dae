"""The pages the browser tests visit, checked against the HTML standard by the Nu Html Checker (vnu).

The checker is the `vnu-jar` package from npm (scripts/test installs it into .tools/vnu), run once over every
page's HTML with the machine's Java: public pages as a visitor, the rest signed in as a customer and as a
property manager. Public pages also carry a meta description for search engines; signed-in ones need none.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.billing.conftest import SANDBOX_CRC
from tests.managers.world import World, build_world

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = Path(os.environ.get("IBOK_VNU_JAR") or ROOT / ".tools/vnu/node_modules/vnu-jar/build/dist/vnu.jar")

PUBLIC = [
    ("account_login", {}),
    ("account_reset_password", {}),
    ("accounts:register", {}),
    ("accounts:register-sent", {}),
    ("accounts:manager-request", {}),
    ("accounts:terms", {}),
    ("pages:accessibility", {}),
    ("einvoice:terms", {}),
    ("einvoice:verified", {}),
    ("reports:create", {}),
]


def customer_pages(w: World) -> list[tuple[str, dict]]:
    a = w.a
    return [
        ("pages:dashboard", {}),
        ("pages:accessibility", {}),
        ("billing:index", {}),
        ("billing:invoice-detail", {"invoice_id": a.invoices[0].pk}),
        ("billing:settlements", {}),
        ("billing:payments", {}),
        ("billing:payment-detail", {"payment_id": a.customer.payments.get().pk}),
        ("billing:transfer", {}),
        ("billing:pay", {}),
        ("billing:calendar", {}),
        ("billing:refund", {}),
        ("billing:forecast", {}),
        ("billing:payment-plan", {}),
        ("billing:online-payment-detail", {"reference": a.online_payment.reference}),
        ("meters:index", {}),
        ("meters:meter", {"meter_id": a.meters[0].pk}),
        ("meters:reading-create", {"meter_id": a.meters[0].pk}),
        ("meters:consumption", {}),
        ("meters:contract", {}),
        ("tickets:index", {}),
        ("tickets:case-create", {}),
        ("tickets:case-detail", {"case_id": a.cases[0].pk}),
        ("tickets:message-list", {}),
        ("tickets:request-list", {}),
        ("tickets:request-create", {"kind": "meter-problem"}),
        ("einvoice:index", {}),
        ("einvoice:detail", {"customer_id": a.customer.pk}),
        ("einvoice:request", {"customer_id": a.customer.pk}),
        ("notices:settings", {}),
        ("notices:sent", {}),
        ("notices:announcements", {}),
        ("notices:documents", {}),
        ("accounts:settings", {}),
        ("api-tokens:list", {}),
        ("account_email", {}),
        ("mfa_index", {}),
    ]


def manager_pages(w: World) -> list[tuple[str, dict]]:
    return [
        ("pages:dashboard", {}),
        ("pages:manager-overview", {}),
        ("pages:manager-pay", {}),
        ("accounts:customer-switch", {}),
        ("billing:index", {}),
        ("billing:invoice-detail", {"invoice_id": w.a.invoices[1].pk}),
        ("meters:index", {}),
        ("tickets:index", {}),
    ]


def fetch(client: Client, name: str, kwargs: dict) -> str:
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200, f"{name}: {response.status_code}"
    return response.content.decode()


def meta_description(html: str) -> str | None:
    found = re.search(r'<meta name="description"\s+content="([^"]*)"', html)
    return found.group(1) if found else None


def vnu(files: list[Path]) -> list[dict]:
    """The Nu Html Checker's errors over all the files, in one run of the JVM."""
    assert VNU_JAR.exists(), f"{VNU_JAR} is missing: scripts/test installs vnu-jar from npm"
    java = shutil.which("java")
    assert java, "the Nu Html Checker needs Java (Debian's default-jre-headless)"
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: errors found, reported below
    return json.loads(result.stderr)["messages"]


@pytest.fixture
def sandbox_page(settings, client):
    """The sandbox broker's payment page, which the browser's payment test goes through."""
    settings.IBOK_PAYMENT_SANDBOX = True
    settings.GETPAID_BACKEND_SETTINGS = {
        "przelewy24": {"merchant_id": 100001, "pos_id": 100001, "crc": SANDBOX_CRC, "transport": "sandbox"}
    }

    def open_for(w: World) -> str:
        client.force_login(w.a.owner)
        started = client.post(reverse("billing:pay"), {"invoices": [w.a.invoices[0].pk]})
        assert started.status_code == 302, started.content.decode()[:500]
        return client.get(started["Location"]).content.decode()

    return open_for


def test_the_pages_the_browser_visits_have_no_html_error(tmp_path, sandbox_page):
    world = build_world()
    pages: dict[str, str] = {}
    visitor = Client()
    for name, kwargs in PUBLIC:
        pages[f"public {name}"] = fetch(visitor, name, kwargs)
    for role, user, listed in [
        ("customer", world.a.owner, customer_pages(world)),
        ("manager", world.full_manager, manager_pages(world)),
    ]:
        client = Client()
        client.force_login(user)
        for name, kwargs in listed:
            pages[f"{role} {name}"] = fetch(client, name, kwargs)
    pages["customer billing:sandbox-broker"] = sandbox_page(world)
    files = []
    for label, html in pages.items():
        path = tmp_path / (re.sub(r"[^a-z0-9]+", "-", label.lower()) + ".html")
        path.write_text(html, encoding="utf-8")
        files.append(path)

    errors = vnu(files)

    assert errors == [], "\n".join(
        f"{Path(e.get('url', '')).name}:{e.get('lastLine')}: {e.get('message')} [{e.get('extract', '').strip()}]"
        for e in errors
    )
    assert all("T" not in time or re.fullmatch(r"[\d-]+T[\d:]+Z", time) for time in _times(pages))


def _times(pages: dict[str, str]) -> list[str]:
    return [time for html in pages.values() for time in re.findall(r'<time datetime="([^"]*)"', html)]


def test_public_pages_have_a_translated_meta_description_and_signed_in_pages_none(client, customer_user):
    polish = meta_description(fetch(client, "account_login", {}))
    client.cookies["django_language"] = "uk"
    ukrainian = meta_description(fetch(client, "account_login", {}))
    register = meta_description(fetch(client, "accounts:register", {}))
    client.force_login(customer_user)
    signed_in = fetch(client, "pages:dashboard", {})

    assert polish.startswith("Zaloguj się")
    assert "\n" not in polish and "  " not in polish
    assert ukrainian.startswith("Увійдіть")
    assert register != ukrainian
    assert meta_description(signed_in) is None
