"""Money: PLN as Decimal with two places, rounded once, half-up."""

from decimal import ROUND_HALF_UP, Decimal

from num2words import num2words

CENT = Decimal("0.01")


def round_money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_for(net: Decimal, rate_percent: Decimal | None) -> Decimal:
    """VAT on a net amount at a percentage rate; None means exempt (zw)."""
    if rate_percent is None:
        return Decimal("0.00")
    return round_money(Decimal(net) * Decimal(rate_percent) / 100)


def amount_in_words_pl(value: Decimal) -> str:
    """'123,45' -> 'sto dwadzieścia trzy złote 45/100', as printed on Polish invoices."""
    value = round_money(value)
    sign = "minus " if value < 0 else ""
    whole = int(abs(value))
    cents = int((abs(value) - whole) * 100)
    return f"{sign}{num2words(whole, lang='pl')} zł {cents:02d}/100"
