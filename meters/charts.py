"""Geometry of the server-rendered SVG consumption chart: bars for the period and for the year before.

Only numbers and CSS class names go to the template (the CSP forbids inline styles and scripts);
meters/consumption_chart.html draws them. The same figures are in the table under the chart.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format

from core.formats import format_quantity
from meters.consumption import Analysis

WIDTH = 720
HEIGHT = 280
LEFT = 64  # room for the value axis labels
RIGHT = 8
TOP = 12
BOTTOM = 36  # room for the period labels
MAX_LABELS = 12
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


def _nice_max(value: Decimal) -> Decimal:
    """The smallest 'round' number (1, 2, 2.5, 5 × 10^n) at or above value, so the gridlines read well."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in NICE_STEPS:
        candidate = Decimal(str(step)).scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent + 1)


def _period_label(analysis: Analysis, index: int) -> str:
    bucket = analysis.buckets[index]
    return str(bucket.start.year) if analysis.granularity == "year" else bucket.start.strftime("%m.%Y")


def build_chart(analysis: Analysis, *, current_label: str, last_year_label: str) -> Chart:
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_height
    top_value = _nice_max(
        max(
            (v for b in analysis.buckets for v in (b.usage.consumption, b.last_year.consumption)),
            default=Decimal(0),
        )
    )
    count = max(len(analysis.buckets), 1)
    slot = plot_width / count
    bar_width = slot * 0.38
    bars = []
    labels = []
    every = max(1, -(-count // MAX_LABELS))
    for index, bucket in enumerate(analysis.buckets):
        slot_left = LEFT + index * slot
        name = _period_label(analysis, index)
        current_css = "chart__bar chart__bar--high" if bucket.alarm else "chart__bar"
        for offset, value, css, series in (
            (0.1, bucket.last_year.consumption, "chart__bar chart__bar--last-year", last_year_label),
            (0.5, bucket.usage.consumption, current_css, current_label),
        ):
            height = float(value / top_value) * plot_height
            bars.append(
                Bar(
                    x=round(slot_left + slot * offset, 2),
                    y=round(bottom - height, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    css=css,
                    title=f"{name}, {series}: {format_quantity(value, analysis.unit)}",
                )
            )
        if index % every == 0:
            labels.append(Label(x=round(slot_left + slot / 2, 2), text=name))
    step = top_value / 4
    places = 0 if step == step.to_integral_value() else max(-step.normalize().as_tuple().exponent, 0)
    ticks = [
        Tick(
            y=round(bottom - plot_height * part / 4, 2),
            label=number_format(top_value * part / 4, places, force_grouping=True),
        )
        for part in range(5)
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_bottom=bottom,
        bars=bars,
        ticks=ticks,
        labels=labels,
    )
