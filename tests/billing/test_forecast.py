"""The balance forecast: the pure functions on a monthly, a bimonthly, a new and a heat customer, and the page."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.urls import reverse

from billing import forecast
from billing.forecast import InvoiceFacts, LineFacts, PlannedReading
from tests import factories

TODAY = date(2026, 12, 4)
WATER_PRICE = Decimal("5.0000")
NEW_WATER_PRICE = Decimal("6.0000")


def water_invoice(start: date, months: int, cubic_metres: str, price: Decimal = WATER_PRICE) -> InvoiceFacts:
    end = start + relativedelta(months=months)
    return InvoiceFacts(
        number=f"FV/{start:%m/%Y}",
        issue_date=end + relativedelta(days=4),
        period_start=start,
        period_end=end,
        lines=(
            LineFacts("Woda", "m3", Decimal(cubic_metres), price, "8"),
            LineFacts("Opłata abonamentowa", "m-c", Decimal(months), Decimal("10.0000"), "8"),
        ),
    )


def monthly_history(months: int = 14, cubic_metres: str = "10") -> list[InvoiceFacts]:
    first = date(2026, 12, 1) - relativedelta(months=months)
    return [water_invoice(first + relativedelta(months=k), 1, cubic_metres) for k in range(months)]


def test_the_rhythm_is_read_from_the_issue_dates():
    assert forecast.rhythm_months([date(2026, 1, 5), date(2026, 2, 4), date(2026, 3, 6)]) == 1
    assert forecast.rhythm_months([date(2026, 1, 5), date(2026, 3, 4), date(2026, 5, 6)]) == 2
    assert forecast.rhythm_months([date(2026, 1, 5)]) is None


def test_monthly_customer_gets_six_monthly_invoices_priced_at_last_years_usage():
    result = forecast.forecast(
        invoices=monthly_history(), today=TODAY, balance=Decimal("0.00"), monthly_payment=Decimal("0.00")
    )

    assert result.rhythm_months == 1
    assert len(result.periods) == 6
    first = result.periods[0]
    assert (first.start, first.end) == (date(2026, 12, 1), date(2027, 1, 1))
    # 10 m³ × 5.00 + 1 month × 10.00, 8% VAT: 64.80; ±10% of the usage part only.
    assert first.expected == Decimal("64.80")
    assert (first.low, first.high) == (Decimal("59"), Decimal("71"))
    assert first.basis == "last_year"
    assert result.low == sum(period.low for period in result.periods)
    assert "co miesiąc" in " ".join(result.basis)


def test_current_tariff_prices_last_years_usage():
    history = monthly_history()
    history[-1] = water_invoice(history[-1].period_start, 1, "10", price=NEW_WATER_PRICE)

    result = forecast.forecast(invoices=history, today=TODAY, balance=Decimal(0), monthly_payment=Decimal(0))

    assert result.periods[0].expected == Decimal("75.60")  # (10 × 6.00 + 10.00) × 1.08
    assert result.tariff_invoice == history[-1].number


def test_bimonthly_customer_gets_three_invoices_of_two_months():
    first = date(2025, 10, 1)
    history = [water_invoice(first + relativedelta(months=2 * k), 2, "20") for k in range(7)]

    result = forecast.forecast(
        invoices=history, today=date(2026, 12, 4), balance=Decimal(0), monthly_payment=Decimal(0)
    )

    assert result.rhythm_months == 2
    assert [(p.start, p.end) for p in result.periods] == [
        (date(2026, 12, 1), date(2027, 2, 1)),
        (date(2027, 2, 1), date(2027, 4, 1)),
        (date(2027, 4, 1), date(2027, 6, 1)),
    ]
    assert result.periods[0].expected == Decimal("129.60")  # (20 × 5.00 + 2 × 10.00) × 1.08
    assert "co 2 miesiące" in " ".join(result.basis)


def test_new_customer_has_no_forecast():
    assert (
        forecast.forecast(
            invoices=[water_invoice(date(2026, 11, 1), 1, "10")],
            today=TODAY,
            balance=Decimal(0),
            monthly_payment=Decimal(0),
        )
        is None
    )


def test_short_history_uses_the_recent_average_with_a_wider_range():
    result = forecast.forecast(
        invoices=monthly_history(months=3), today=TODAY, balance=Decimal(0), monthly_payment=Decimal(0)
    )

    first = result.periods[0]
    assert first.basis == "recent"
    assert first.expected == Decimal("65.99")  # 30 m³ in 91 days, for 31 days, × 5.00 + 10.00, × 1.08
    assert (first.low, first.high) == (Decimal("52"), Decimal("80"))  # ±25% of the usage part
    assert "średnia" in " ".join(result.basis)


def test_heat_customer_is_forecast_higher_in_winter_than_in_spring():
    first = date(2025, 11, 1)
    winter = {11: "9", 12: "14", 1: "15", 2: "13", 3: "9", 4: "5", 5: "2"}
    history = []
    for k in range(13):
        start = first + relativedelta(months=k)
        gj = winter.get(start.month, "1")
        history.append(
            InvoiceFacts(
                number=f"FC/{start:%m/%Y}",
                issue_date=start + relativedelta(months=1, days=3),
                period_start=start,
                period_end=start + relativedelta(months=1),
                lines=(
                    LineFacts("Opłata za ciepło", "GJ", Decimal(gj), Decimal("60.0000"), "23"),
                    LineFacts("Opłata za moc zamówioną", "MW", Decimal("0.012"), Decimal("9000.0000"), "23"),
                ),
            )
        )

    result = forecast.forecast(invoices=history, today=TODAY, balance=Decimal(0), monthly_payment=Decimal(0))

    by_month = {period.start.month: period.expected for period in result.periods}
    assert by_month[1] > by_month[4] > by_month[5]
    assert by_month[1] == Decimal("1239.84")  # (15 × 60 + 0.012 × 9000) × 1.23


def test_a_changed_monthly_payment_changes_the_balance_not_the_invoices():
    history = monthly_history()
    without = forecast.forecast(invoices=history, today=TODAY, balance=Decimal("100.00"), monthly_payment=Decimal(0))
    paying = forecast.forecast(
        invoices=history, today=TODAY, balance=Decimal("100.00"), monthly_payment=Decimal("65.00")
    )

    assert [p.expected for p in without.periods] == [p.expected for p in paying.periods]
    assert without.periods[-1].balance_low == Decimal(100) + without.low
    assert paying.periods[-1].balance_high < without.periods[-1].balance_high


def test_a_planned_reading_replaces_the_usage_of_the_next_invoice():
    planned = PlannedReading(
        unit="m³", value=Decimal("160"), on=date(2026, 12, 31), last_value=Decimal("100"), last_on=date(2026, 12, 1)
    )

    result = forecast.forecast(
        invoices=monthly_history(), today=TODAY, balance=Decimal(0), monthly_payment=Decimal(0), planned=planned
    )

    first = result.periods[0]
    assert first.basis == "planned"
    assert first.expected == Decimal("345.60")  # 60 m³ / 30 days × 31 days × 5.00 + 10.00, × 1.08
    assert result.periods[1].basis == "last_year"


def test_the_chart_has_a_pair_of_bars_per_invoice():
    result = forecast.forecast(invoices=monthly_history(), today=TODAY, balance=Decimal(0), monthly_payment=Decimal(0))

    chart = forecast.build_chart(result)

    assert len(chart.bars) == 12
    assert chart.ticks[-1].label == "100"


# --- the page --------------------------------------------------------------------------------------------------


def _invoices_for(customer, months: int) -> None:
    for k in range(months):
        start = date(2026, 12, 1) - relativedelta(months=months - k)
        invoice = factories.InvoiceFactory(
            customer=customer,
            issue_date=start + relativedelta(months=1, days=4),
            period_start=start,
            period_end=start + relativedelta(months=1),
            outstanding=Decimal(0),
        )
        factories.InvoiceLineFactory(
            invoice=invoice, position=1, description="Woda", unit="m3", quantity=Decimal(10), unit_price_net=WATER_PRICE
        )


@pytest.mark.django_db
@time_machine.travel("2026-12-04 10:00 +01:00", tick=False)
def test_page_shows_the_range_and_the_basis(client, customer, customer_user):
    _invoices_for(customer, 14)
    client.force_login(customer_user)

    response = client.get(reverse("billing:forecast"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html
    assert "Prognoza salda" in html
    assert "co miesiąc" in html
    assert response.context["result"].periods[0].expected == Decimal("54.00")


@pytest.mark.django_db
@time_machine.travel("2026-12-04 10:00 +01:00", tick=False)
def test_page_says_plainly_there_is_no_forecast_for_a_new_customer(client, customer, customer_user):
    _invoices_for(customer, 1)
    client.force_login(customer_user)

    response = client.get(reverse("billing:forecast"))

    assert response.context["result"] is None
    assert "po drugiej fakturze" in response.content.decode()


@pytest.mark.django_db
@time_machine.travel("2026-12-04 10:00 +01:00", tick=False)
def test_planned_reading_below_the_last_one_is_refused_with_a_translated_error(client, customer, customer_user):
    _invoices_for(customer, 14)
    point = factories.DeliveryPointFactory(customer=customer)
    meter = factories.MeterFactory(delivery_point=point)
    factories.ReadingFactory(meter=meter, value=Decimal("100.000"), read_date=date(2026, 11, 30))
    client.force_login(customer_user)

    response = client.get(
        reverse("billing:forecast"),
        {"customer": customer.pk, "meter": meter.pk, "planned_value": "90", "planned_on": "2026-12-31"},
    )

    assert "nie może być niższy" in response.content.decode()
    assert response.context["result"].periods[0].basis == "last_year"


@pytest.mark.django_db
@time_machine.travel("2026-12-04 10:00 +01:00", tick=False)
def test_planned_reading_recomputes_the_forecast(client, customer, customer_user):
    _invoices_for(customer, 14)
    point = factories.DeliveryPointFactory(customer=customer)
    meter = factories.MeterFactory(delivery_point=point)
    factories.ReadingFactory(meter=meter, value=Decimal("100.000"), read_date=date(2026, 11, 30))
    client.force_login(customer_user)

    response = client.get(
        reverse("billing:forecast"),
        {"customer": customer.pk, "meter": meter.pk, "planned_value": "131", "planned_on": "2026-12-31"},
    )

    assert response.context["result"].periods[0].basis == "planned"
    assert response.context["result"].periods[0].expected == Decimal("167.40")  # 1 m³ a day × 31 days × 5.00 × 1.08


@pytest.mark.django_db
def test_another_customers_forecast_is_not_found(client, customer, customer_user):
    stranger = factories.CustomerFactory()
    client.force_login(customer_user)

    response = client.get(reverse("billing:forecast"), {"customer": stranger.pk})

    assert response.status_code == 404
