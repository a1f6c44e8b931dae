"""Geometry of the server-rendered SVG consumption chart: bars for the period and for the year before.

Only numbers and CSS class names go to the template (the CSP forbids inline styles and scripts);
meters/consumption_chart.html draws them. The same figures are in the table under the chart.
"""

from decimal import Decimal

from core.charts import Bar, Chart, Label, nice_max, value_ticks
from core.formats import format_quantity
from meters.consumption import Analysis

WIDTH = 720
HEIGHT = 280
LEFT = 64  # room for the value axis labels
RIGHT = 8
TOP = 12
BOTTOM = 36  # room for the period labels
MAX_LABELS = 12


def _period_label(analysis: Analysis, index: int) -> str:
    bucket = analysis.buckets[index]
    return str(bucket.start.year) if analysis.granularity == "year" else bucket.start.strftime("%m.%Y")


def build_chart(analysis: Analysis, *, current_label: str, last_year_label: str) -> Chart:
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_height
    top_value = nice_max(
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
    ticks = value_ticks(top_value, bottom=bottom, plot_height=plot_height)
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
