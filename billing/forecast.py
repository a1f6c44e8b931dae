"""The balance forecast: what the customer will owe over the next months. Pure functions over plain facts.

The rhythm of the invoices (monthly or bimonthly) comes from their issue dates, the usage of each priced item from
the same days a year earlier (or, without that, the recent daily average) and the price from the latest invoice's
lines: the current tariff. The answer is a range, not a figure to the grosz: the usage part is uncertain, the fixed
charges are not. No history (fewer than two invoices): no forecast.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from statistics import median

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.charts import Bar, Chart, Label, nice_max, value_ticks
from core.formats import format_quantity
from core.money import round_money
from core.templatetags.ibok import format_money

ZERO = Decimal(0)
USAGE_UNITS = {"m3": "m3", "m³": "m3", "gj": "GJ", "kwh": "kWh", "mwh": "MWh"}
HORIZON_MONTHS = 6
# How far off the usage may be, by what it rests on: the same months a year ago, a recent average, the customer's own
# planned reading.
SPREAD = {"last_year": Decimal("0.10"), "recent": Decimal("0.25"), "planned": Decimal("0.05")}
MIN_COVERAGE = Decimal("0.8")  # of a period's days the history must cover to be used


@dataclass(frozen=True)
class LineFacts:
    description: str
    unit: str
    quantity: Decimal
    unit_price_net: Decimal
    vat_rate: str  # "8", "23", "zw"


@dataclass(frozen=True)
class InvoiceFacts:
    number: str
    issue_date: date
    period_start: date
    period_end: date  # exclusive
    lines: tuple[LineFacts, ...]


@dataclass(frozen=True)
class PlannedReading:
    """The customer expects a meter (of `unit`) to show `value` on `on`; last known: `last_value` on `last_on`."""

    unit: str
    value: Decimal
    on: date
    last_value: Decimal
    last_on: date


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive
    issue_date: date
    low: Decimal
    expected: Decimal
    high: Decimal
    basis: str  # "last_year", "recent" or "planned": the weakest the period's usage rests on
    balance_low: Decimal = ZERO
    balance_high: Decimal = ZERO

    @property
    def is_range(self) -> bool:
        return self.low != self.high


@dataclass(frozen=True)
class Forecast:
    rhythm_months: int
    periods: list[Period]
    basis: list[str]  # the forecast's basis in words, for the page
    balance: Decimal
    monthly_payment: Decimal
    tariff_invoice: str
    low: Decimal = ZERO
    high: Decimal = ZERO
    usage: dict[str, Decimal] = field(default_factory=dict)


def usage_key(unit: str) -> str | None:
    """The consumption unit of a line (m³, GJ, kWh, MWh), or None for a fixed charge (subscription, capacity)."""
    return USAGE_UNITS.get(unit.strip().lower())


def rhythm_months(issue_dates: list[date]) -> int | None:
    """1 for monthly invoices, 2 for bimonthly (from the median gap of the last issue dates); None before two."""
    dates = sorted(set(issue_dates))[-7:]
    if len(dates) < 2:
        return None
    gap = median((later - earlier).days for earlier, later in zip(dates, dates[1:], strict=False))
    return max(1, round(gap / 30.4))


def _overlap(start: date, end: date, other_start: date, other_end: date) -> int:
    return max(0, (min(end, other_end) - max(start, other_start)).days)


def _usage_between(invoices: list[InvoiceFacts], item: tuple[str, str], start: date, end: date) -> Decimal | None:
    """The item's quantity in [start, end), pro rata of the invoices' periods; None when history covers too little."""
    total, covered = ZERO, 0
    for invoice in invoices:
        days = (invoice.period_end - invoice.period_start).days
        overlap = _overlap(start, end, invoice.period_start, invoice.period_end)
        if not overlap or days <= 0:
            continue
        quantity = sum(
            (line.quantity for line in invoice.lines if (line.description, usage_key(line.unit)) == item), ZERO
        )
        total += quantity * overlap / days
        covered += overlap
    wanted = (end - start).days
    if wanted <= 0 or Decimal(covered) / wanted < MIN_COVERAGE:
        return None
    return total * wanted / covered


def _vat_factor(rate: str) -> Decimal:
    try:
        return 1 + Decimal(rate) / 100
    except ArithmeticError:
        return Decimal(1)  # "zw": exempt


def _period_charge(
    *, invoices: list[InvoiceFacts], tariff: InvoiceFacts, start: date, end: date, planned: PlannedReading | None
) -> tuple[Decimal, Decimal, str, dict[str, Decimal]]:
    """(fixed gross, usage gross, basis, usage per unit) of one future period at the current tariff."""
    days = (end - start).days
    # Fixed charges are per month whatever the month's length: scaled by months, not days.
    months = relativedelta(end, start).months + 12 * relativedelta(end, start).years
    tariff_months = max(1, round((tariff.period_end - tariff.period_start).days / 30.4))
    fixed = usage = ZERO
    basis = "last_year"
    quantities: dict[str, Decimal] = {}
    recent_start = tariff.period_end - timedelta(days=365)
    for line in tariff.lines:
        gross_price = line.unit_price_net * _vat_factor(line.vat_rate)
        unit = usage_key(line.unit)
        if unit is None:
            fixed += line.quantity * months / tariff_months * gross_price
            continue
        item = (line.description, unit)
        if planned is not None and usage_key(planned.unit) == unit and start < planned.on + timedelta(days=1):
            rate = (planned.value - planned.last_value) / max((planned.on - planned.last_on).days, 1)
            quantity, line_basis = max(rate, ZERO) * days, "planned"
        else:
            quantity = _usage_between(invoices, item, start - relativedelta(years=1), end - relativedelta(years=1))
            line_basis = "last_year"
            if quantity is None:
                recent = _usage_between(invoices, item, max(recent_start, invoices[0].period_start), tariff.period_end)
                span = (tariff.period_end - max(recent_start, invoices[0].period_start)).days
                quantity = (recent or ZERO) * days / max(span, 1)
                line_basis = "recent"
        if line_basis == "recent" or (line_basis == "planned" and basis == "last_year"):
            basis = line_basis
        quantities[unit] = max(quantities.get(unit, ZERO), quantity)
        usage += quantity * gross_price
    return fixed, usage, basis, quantities


def forecast(
    *,
    invoices: list[InvoiceFacts],
    today: date,
    balance: Decimal,
    monthly_payment: Decimal,
    planned: PlannedReading | None = None,
    months: int = HORIZON_MONTHS,
) -> Forecast | None:
    """The next `months` of invoices and the balance after each; None without two invoices with periods."""
    invoices = sorted(invoices, key=lambda invoice: (invoice.period_start, invoice.issue_date))
    rhythm = rhythm_months([invoice.issue_date for invoice in invoices])
    if rhythm is None:
        return None
    tariff = max(invoices, key=lambda invoice: (invoice.period_end, invoice.issue_date))
    issue_lag = tariff.issue_date - tariff.period_end
    periods: list[Period] = []
    start = tariff.period_end
    while start + relativedelta(months=rhythm) <= today:  # invoices the portal has not seen yet: from today's period
        start += relativedelta(months=rhythm)
    horizon = start + relativedelta(months=months)
    running_low = running_high = balance
    paid_until = today
    usage_total: dict[str, Decimal] = {}
    while start < horizon:
        end = start + relativedelta(months=rhythm)
        fixed, usage, basis, quantities = _period_charge(
            invoices=invoices, tariff=tariff, start=start, end=end, planned=planned
        )
        spread = SPREAD[basis]
        expected = round_money(fixed + usage)
        low = (fixed + usage * (1 - spread)).quantize(Decimal(1), rounding=ROUND_FLOOR)
        high = (fixed + usage * (1 + spread)).quantize(Decimal(1), rounding=ROUND_CEILING)
        issue_date = end + issue_lag
        # Payments made in the months up to this invoice's issue date lower the balance.
        payments = monthly_payment * _months_between(paid_until, issue_date)
        paid_until = max(paid_until, issue_date)
        running_low += low - payments
        running_high += high - payments
        periods.append(
            Period(
                start=start,
                end=end,
                issue_date=issue_date,
                low=low,
                expected=expected,
                high=high,
                basis=basis,
                balance_low=round_money(running_low),
                balance_high=round_money(running_high),
            )
        )
        for unit, quantity in quantities.items():
            usage_total[unit] = usage_total.get(unit, ZERO) + quantity
        start = end
    return Forecast(
        rhythm_months=rhythm,
        periods=periods,
        basis=describe(rhythm=rhythm, invoices=invoices, tariff=tariff, periods=periods, planned=planned),
        balance=balance,
        monthly_payment=monthly_payment,
        tariff_invoice=tariff.number,
        low=sum((period.low for period in periods), ZERO),
        high=sum((period.high for period in periods), ZERO),
        usage={unit: quantity.quantize(Decimal("0.001")) for unit, quantity in usage_total.items()},
    )


def _months_between(start: date, end: date) -> int:
    """Whole months from start to end (a payment a month, on the day of `start`)."""
    if end <= start:
        return 0
    delta = relativedelta(end, start)
    return delta.years * 12 + delta.months


def describe(
    *, rhythm: int, invoices: list[InvoiceFacts], tariff: InvoiceFacts, periods: list[Period], planned
) -> list[str]:
    """The forecast's basis in words, so the customer can judge it."""
    count = len(invoices)
    lines = [
        (
            ngettext(
                "You get an invoice every month: we see it in the issue dates of your last %(count)d invoice.",
                "You get an invoice every month: we see it in the issue dates of your last %(count)d invoices.",
                count,
            )
            if rhythm == 1
            else ngettext(
                "You get an invoice every %(months)d months: we see it in the issue dates of your last %(count)d "
                "invoice.",
                "You get an invoice every %(months)d months: we see it in the issue dates of your last %(count)d "
                "invoices.",
                count,
            )
        )
        % {"count": count, "months": rhythm},
        _("Prices: the current tariff, as on invoice %(number)s.") % {"number": tariff.number},
    ]
    bases = {period.basis for period in periods}
    if "last_year" in bases:
        lines.append(_("Usage: what you used in the same months a year ago."))
    if "recent" in bases:
        lines.append(
            _("Usage: your average over the last months, because we have no invoices from a year ago for them.")
        )
    if "planned" in bases and planned is not None:
        lines.append(
            _("Usage: your planned reading of %(value)s on %(day)s.")
            % {"value": format_quantity(planned.value, planned.unit), "day": planned.on.strftime("%d.%m.%Y")}
        )
    lines.append(
        _(
            "The range allows for your usage differing from its basis: by up to a tenth when it rests on last year, "
            "a quarter on an average, a twentieth on your planned reading. Fixed charges do not change."
        )
    )
    return lines


# --- the chart: for each invoice, the lower end of the range and, stacked on it, the rest of the range -------------

WIDTH = 720
HEIGHT = 260
LEFT = 64
RIGHT = 8
TOP = 12
BOTTOM = 36


def build_chart(result: Forecast) -> Chart:
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_height
    top_value = nice_max(max((period.high for period in result.periods), default=ZERO))
    slot = plot_width / max(len(result.periods), 1)
    bars, labels = [], []
    for index, period in enumerate(result.periods):
        left = round(LEFT + index * slot + slot * 0.2, 2)
        width = round(slot * 0.6, 2)
        low_height = float(period.low / top_value) * plot_height
        range_height = float((period.high - period.low) / top_value) * plot_height
        name = period.issue_date.strftime("%m.%Y")
        range_text = f"{format_money(period.low)} – {format_money(period.high)}"
        bars.append(
            Bar(
                x=left,
                y=round(bottom - low_height, 2),
                width=width,
                height=round(low_height, 2),
                css="chart__bar",
                title=f"{name}: {range_text}",
            )
        )
        bars.append(
            Bar(
                x=left,
                y=round(bottom - low_height - range_height, 2),
                width=width,
                height=round(range_height, 2),
                css="chart__bar chart__bar--range",
                title=f"{name}: {range_text}",
            )
        )
        labels.append(Label(x=round(LEFT + index * slot + slot / 2, 2), text=name))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_bottom=bottom,
        bars=bars,
        ticks=value_ticks(top_value, bottom=bottom, plot_height=plot_height),
        labels=labels,
    )
