"""Shared geometry of the server-rendered SVG charts (consumption, balance forecast): shapes and the value axis.

Only numbers and CSS class names go to the templates (the CSP forbids inline styles and scripts).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format

NICE_STEPS = (1, 2, 2.5, 5, 10)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_bottom: float
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[Label]


def nice_max(value: Decimal) -> Decimal:
    """The smallest 'round' number (1, 2, 2.5, 5 × 10^n) at or above value, so the gridlines read well."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in NICE_STEPS:
        candidate = Decimal(str(step)).scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent + 1)


def value_ticks(top_value: Decimal, *, bottom: float, plot_height: float) -> list[Tick]:
    """Five gridlines from 0 to top_value, labelled with as few decimals as the step needs."""
    step = top_value / 4
    places = 0 if step == step.to_integral_value() else max(-step.normalize().as_tuple().exponent, 0)
    return [
        Tick(
            y=round(bottom - plot_height * part / 4, 2),
            label=number_format(top_value * part / 4, places, force_grouping=True),
        )
        for part in range(5)
    ]
