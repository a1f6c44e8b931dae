"""Words and numbers (issue 19): m³, grouped figures, one money format per language, the utility's invoice number
format, the dashboard's times explained, wording that does not assume a man, accessible names without stray spaces."""

import json
import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from core.formats import format_quantity, unit_label
from core.templatetags.ibok import format_money
from tests import factories

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
LOCALE = Path(settings.BASE_DIR) / "locale"


def test_quantities_are_grouped_and_cubic_metres_have_their_symbol():
    with translation.override("pl"):
        assert format_quantity(Decimal("99768"), "m3") == f"99{NBSP}768,000{NBSP}m³"
    with translation.override("en"):
        assert format_quantity(Decimal("99768"), "m3") == f"99,768.000{NBSP}m³"
    with translation.override("uk"):
        assert format_quantity(Decimal("1234.5"), "GJ") == f"1{NBSP}234,500{NBSP}GJ"
    assert unit_label("m3") == "m³" and unit_label("GJ") == "GJ"


@pytest.fixture
def big_meter(customer):
    meter = factories.MeterFactory(delivery_point=customer.delivery_points.get(), unit="m3")  # as the billing sends
    factories.ReadingFactory(meter=meter, read_date=date(2026, 10, 1), value=Decimal("99768.000"))
    return meter


@pytest.mark.parametrize(("language", "figure"), [("pl", f"99{NBSP}768,000{NBSP}m³"), ("en", f"99,768.000{NBSP}m³")])
def test_the_meters_page_shows_grouped_readings_in_cubic_metres(client, customer_user, big_meter, language, figure):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(customer_user)

    html = client.get(reverse("meters:index")).content.decode()

    assert figure in html
    assert not re.search(r"\dm3\b|\sm3\b", html)


def test_money_is_written_one_way_in_each_language():
    assert format_money(Decimal("264.5"), "en") == f"PLN{NBSP}264.50"
    assert format_money(Decimal("264.5"), "pl") == f"264,50{NBSP}zł"
    assert format_money(Decimal("264.5"), "uk") == f"264,50{NBSP}зл"


def test_the_registration_hint_shows_the_utilitys_invoice_number_format(client, settings):
    settings.IBOK_INVOICE_NUMBER_EXAMPLE = "FW/123456/2026"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get(reverse("accounts:register")).content.decode()

    assert "for example FW/123456/2026." in html
    assert "for example 184.32." in html  # the English decimal point, as the field accepts in English
    assert "FV/02291/11/2026" not in html


def test_the_default_example_has_the_demo_billing_systems_invoice_number_format(tmp_path):
    from demo import batch as demo

    demo.write_demo_batch(tmp_path, customers=3, seed=1, years=1, today=date(2026, 11, 21))
    numbers = [json.loads(line)["number"] for line in (tmp_path / "invoices.jsonl").open()]
    shape = re.sub(r"[0-9]", "0", settings.IBOK_INVOICE_NUMBER_EXAMPLE)

    assert numbers
    assert all(re.sub(r"[0-9]", "0", number)[2:] == shape[2:] for number in numbers)  # FV, FK, NO share the layout


def test_the_dashboard_says_what_each_time_means(client, customer, customer_user):
    factories.SyncRunFactory()
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("10.00"))
    client.force_login(customer_user)

    html = client.get(reverse("pages:dashboard")).content.decode()

    assert "Ostatnia aktualizacja z systemu rozliczeniowego" in html
    assert "System rozliczeniowy wyliczył to saldo" in html
    assert "Dane według stanu na" not in html and "Saldo na dzień" not in html


# The reader in the past tense: Polish "zapłaciłeś", "zapoznałem się", "Sprawdziłem(-am)"; Ukrainian "Я ознайомився".
# Staff log verbs ("created by": utworzył(a), створив(ла)) are about someone else and keep both forms.
READER_AS_A_MAN = {
    "pl": re.compile(r"\b\w+ł(eś|em|byś|bym)\b|\(-?am\)"),
    "uk": re.compile(r"\b[Яя] \w+(вся|ив|ав)\b|\(-?ла\) [\w]"),
}
NOUNS = {"hasłem", "działem", "źródłem"}  # instrumental nouns that end like a verb


@pytest.mark.parametrize("language", ["pl", "uk"])
def test_no_text_addresses_the_reader_as_a_man(language):
    catalog = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))

    offending = [
        entry.msgstr
        for entry in catalog.translated_entries()
        for match in READER_AS_A_MAN[language].finditer(entry.msgstr)
        if match.group(0) not in NOUNS
    ]

    assert offending == []


def test_the_einvoice_checkbox_and_the_printed_request_do_not_assume_a_man(client, customer_user):
    client.force_login(customer_user)

    customer = customer_user.customer_accesses.get().customer
    html = client.get(reverse("einvoice:request", args=[customer.pk])).content.decode()
    form = (Path(settings.BASE_DIR) / "templates" / "einvoice" / "pdf" / "form.html").read_text(encoding="utf-8")

    assert "Znam regulamin e-faktury i akceptuję go" in html
    assert "Zapoznałem" not in html and "zapoznałem" not in form


class Names(HTMLParser):
    """The text of links, buttons, labels and headers as a screen reader reads them (spaces collapsed)."""

    NAMED = {"a", "button", "label", "th", "caption", "legend", "summary"}

    def __init__(self):
        super().__init__()
        self.open: list[list[str]] = []
        self.names: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.NAMED:
            self.open.append([tag, ""])
        for key, value in attrs:
            if key in ("aria-label", "title", "alt") and value:
                self.names.append(" ".join(value.split()))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                _, text = self.open.pop(index)
                self.names.append(" ".join(text.split()))
                for outer in self.open:
                    outer[1] += text
                break

    def handle_data(self, data):
        if self.open:
            self.open[-1][1] += data


def test_accessible_names_have_no_stray_space_before_punctuation(client, customer, customer_user, big_meter):
    factories.InvoiceFactory(customer=customer, delivery_point=customer.delivery_points.get())
    client.force_login(customer_user)
    pages = [
        reverse("pages:dashboard"),
        reverse("billing:index"),
        reverse("billing:payments"),
        reverse("meters:index"),
        reverse("meters:meter", args=[big_meter.pk]),
        reverse("notices:documents"),
        reverse("accounts:settings"),
    ]

    for language in ("pl", "en", "uk"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for url in pages:
            parser = Names()
            parser.feed(client.get(url).content.decode())
            assert parser.names, url
            stray = [name for name in parser.names if re.search(r"\s[,.;:)]|\(\s", name)]
            assert stray == [], (language, url)
