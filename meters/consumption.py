"""Consumption from readings: pure arithmetic, no database, so the figures can be checked by hand.

The rules, also explained on the consumption page:
- Consumption between two readings of the same meter is the difference of their values, spread evenly over
  the days between them (half-open: from the earlier reading's day up to the later one's). A month or a
  period gets the days it shares with each interval. Two readings on the same day count as one day.
- A replaced meter's readings never mix with the new meter's: the new meter starts from its own first
  reading. A drop on the same meter (a correction) is left out rather than counted as negative use.
- Nothing before the contract began is counted: it was someone else's use.
- "Usual" use is the average daily use over the 12 months before the analysed period, known when readings
  cover at least 90 of those days. A month (or year) whose average daily use is more than twice the usual
  is flagged as a possible leak.
"""

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

QUANTUM = Decimal("0.001")
LEAK_FACTOR = Decimal(2)
MIN_USUAL_DAYS = 90
MAX_MONTHLY_BUCKETS = 36  # longer periods are shown per year


def q3(value: Decimal) -> Decimal:
    return value.quantize(QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Interval:
    """Use measured by one meter between two readings: [start, end) with an even daily rate."""

    start: date
    end: date
    consumption: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def rate(self) -> Decimal:
        return self.consumption / self.days


def intervals_of(readings: Sequence[tuple[date, Decimal]], *, not_before: date | None = None) -> list[Interval]:
    """Intervals between consecutive readings of ONE meter (readings sorted by date), clipped at not_before."""
    result = []
    for (d0, v0), (d1, v1) in zip(readings, readings[1:], strict=False):
        used = v1 - v0
        if used < 0:
            continue
        end = max(d1, d0 + timedelta(days=1))
        start = d0
        if not_before is not None and start < not_before:
            if end <= not_before:
                continue
            # Keep only the share of the days on or after the contract's start.
            kept = (end - not_before).days
            used = used * kept / (end - start).days
            start = not_before
        result.append(Interval(start=start, end=end, consumption=used))
    return result


def _overlap(a_start: date, a_end: date, b_start: date, b_end: date) -> int:
    return max((min(a_end, b_end) - max(a_start, b_start)).days, 0)


def _merged(intervals: Iterable[Interval]) -> list[tuple[date, date]]:
    spans: list[list[date]] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if spans and interval.start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], interval.end)
        else:
            spans.append([interval.start, interval.end])
    return [(s, e) for s, e in spans]


@dataclass(frozen=True)
class Usage:
    consumption: Decimal
    covered_days: int  # days of the span for which readings exist (on any of the meters)

    @property
    def average_per_day(self) -> Decimal | None:
        return q3(self.consumption / self.covered_days) if self.covered_days else None

    @property
    def has_data(self) -> bool:
        return self.covered_days > 0


def usage(intervals: Sequence[Interval], start: date, end: date) -> Usage:
    """Consumption in [start, end), apportioned by days, and how many of those days readings cover."""
    used = sum((i.rate * _overlap(i.start, i.end, start, end) for i in intervals), Decimal(0))
    covered = sum(_overlap(s, e, start, end) for s, e in _merged(intervals))
    return Usage(consumption=q3(used), covered_days=covered)


def years_before(day: date, years: int = 1) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1) + timedelta(days=last)


def buckets_for(start: date, end: date) -> tuple[str, list[tuple[date, date]]]:
    """Months of [start, end), or years when that would be more than MAX_MONTHLY_BUCKETS months."""
    months = (end.year - start.year) * 12 + end.month - start.month + (1 if end.day > 1 else 0)
    granularity = "month" if months <= MAX_MONTHLY_BUCKETS else "year"
    spans = []
    cursor = start
    while cursor < end:
        boundary = next_month(cursor) if granularity == "month" else date(cursor.year + 1, 1, 1)
        spans.append((cursor, min(boundary, end)))
        cursor = boundary
    return granularity, spans


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date  # exclusive
    usage: Usage
    last_year: Usage
    above_usual: bool

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def change(self) -> Decimal | None:
        if not (self.usage.has_data and self.last_year.has_data):
            return None
        return q3(self.usage.consumption - self.last_year.consumption)


@dataclass(frozen=True)
class Analysis:
    start: date
    end: date  # exclusive
    unit: str
    granularity: str  # "month" or "year"
    buckets: list[Bucket]
    total: Usage
    last_year: Usage
    usual: Usage
    flagged: list[Bucket] = field(default_factory=list)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def usual_per_day(self) -> Decimal | None:
        return self.usual.average_per_day if self.usual.covered_days >= MIN_USUAL_DAYS else None

    @property
    def leak_threshold_per_day(self) -> Decimal | None:
        usual = self.usual_per_day
        return q3(usual * LEAK_FACTOR) if usual else None

    @property
    def possible_leak(self) -> bool:
        return bool(self.flagged)

    @property
    def has_data(self) -> bool:
        return self.total.has_data or self.last_year.has_data

    @property
    def change(self) -> Decimal | None:
        if not (self.total.has_data and self.last_year.has_data):
            return None
        return q3(self.total.consumption - self.last_year.consumption)


def analyse(intervals: Sequence[Interval], *, start: date, end: date, unit: str) -> Analysis:
    """Totals, averages, last year's figures and leak flags for [start, end), per month or per year."""
    usual = usage(intervals, years_before(start), start)
    usual_per_day = usual.average_per_day if usual.covered_days >= MIN_USUAL_DAYS else None
    threshold = usual_per_day * LEAK_FACTOR if usual_per_day else None
    granularity, spans = buckets_for(start, end)
    buckets = []
    for b_start, b_end in spans:
        current = usage(intervals, b_start, b_end)
        average = current.average_per_day
        buckets.append(
            Bucket(
                start=b_start,
                end=b_end,
                usage=current,
                last_year=usage(intervals, years_before(b_start), years_before(b_end)),
                above_usual=bool(threshold is not None and average is not None and average > threshold),
            )
        )
    return Analysis(
        start=start,
        end=end,
        unit=unit,
        granularity=granularity,
        buckets=buckets,
        total=usage(intervals, start, end),
        last_year=usage(intervals, years_before(start), years_before(end)),
        usual=usual,
        flagged=[b for b in buckets if b.above_usual],
    )
