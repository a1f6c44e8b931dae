"""Numbers and units as people read them: one function each, used by templates, messages, charts and PDFs."""

from decimal import Decimal

from django.utils.formats import number_format

NBSP = "\u00a0"

# Billing systems write units in plain ASCII; the portal shows the symbols.
_UNIT_SYMBOLS = {"m3": "m³", "m2": "m²", "m^3": "m³", "dm3": "dm³"}


def unit_label(unit: str) -> str:
    """'m3' -> 'm³'; other units (GJ, kWh, szt.) as they come."""
    return _UNIT_SYMBOLS.get((unit or "").strip(), unit or "")


def format_quantity(value: Decimal | int | float, unit: str = "", places: int = 3) -> str:
    """99768 -> '99 768,000 m³' in Polish, '99,768.000 m³' in English: grouped, `places` decimals, a no-break space."""
    text = number_format(value, places, force_grouping=True)
    label = unit_label(unit)
    return f"{text}{NBSP}{label}" if label else text
