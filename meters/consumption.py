"""Consumption from readings: pure arithmetic, no database, so the figures can be checked by hand.

The rules, also explained on the consumption page:
- Consumption between two readings of the same meter is the difference of their values, spread evenly over
  the days between them (half-open: from the earlier reading's day up to the later one's). A month or a
  period gets the days it shares with each interval. Two readings on the same day count as one day.
- A replaced meter's readings never mix with the new meter's: the new meter starts from its own first
  reading. A drop on the same meter (a correction) is left out rather than counted as negative use.
- Nothing before the contract began is counted: it was someone else's use.
- "Usual" use is the average daily use over the 12 months before the analysed period, known when readings
  cover at least 90 of those days. It is shown, never used to raise an alarm: use follows the season.
- Alarms compare like with like: the same days of the earlier years (up to HISTORY_YEARS), never a winter
  with a yearly average. A span of the earlier years counts when readings cover COMPARABLE_SHARE of it.
  - Water (a leak): use that never stops. An alarm needs a run of WATER_MIN_SPANS spans between readings in
    a row (so WATER_MIN_SPANS + 1 readings), together at least WATER_MIN_DAYS days, each of them using more
    than WATER_FACTOR times the same days of the earlier years. A single high reading (a filled pool, a
    catch-up after an estimate) does not make a run; a day without extra use ends it.
  - Heat: a month is compared, alone and as the HEAT_WINDOW_MONTHS months ending with it, with the same
    months of the earlier years, and both must be high (so an estimate's catch-up, a month above after months
    below, is no jump); when every interval carries the heating
    degree-days the billing system sends, use per degree-day is compared, so a cold winter is not a jump.
    An alarm needs readings covering COMPARABLE_SHARE of the window in HEAT_MIN_SPANS spans or more, and
    more than HEAT_FACTOR times the earlier years.
"""

import bisect
import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

QUANTUM = Decimal("0.001")
MIN_USUAL_DAYS = 90
HISTORY_YEARS = 3
COMPARABLE_SHARE = Decimal(2) / 3
WATER_FACTOR = Decimal("1.5")
WATER_MIN_SPANS = 3
WATER_MIN_DAYS = 28
HEAT_FACTOR = Decimal("1.5")
HEAT_WINDOW_MONTHS = 3
HEAT_MIN_SPANS = 2
HEAT = "HEAT"  # meters.models.Medium.HEAT; every other medium is water
MAX_MONTHLY_BUCKETS = 36  # longer periods are shown per year


def q3(value: Decimal) -> Decimal:
    return value.quantize(QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Interval:
    """Use measured by one meter between two readings: [start, end) with an even daily rate."""

    start: date
    end: date
    consumption: Decimal
    degree_days: Decimal | None = None  # heating degree-days of [start, end), when the billing system sends them

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def rate(self) -> Decimal:
        return self.consumption / self.days


def intervals_of(readings: Sequence[tuple], *, not_before: date | None = None) -> list[Interval]:
    """Intervals between consecutive readings of ONE meter (readings sorted by date), clipped at not_before.

    A reading is (date, value) or (date, value, degree-days since the previous reading or None).
    """
    result = []
    for earlier, later in zip(readings, readings[1:], strict=False):
        (d0, v0), (d1, v1) = earlier[:2], later[:2]
        degree_days = later[2] if len(later) > 2 else None
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
            if degree_days is not None:
                degree_days = degree_days * kept / (end - start).days
            start = not_before
        result.append(Interval(start=start, end=end, consumption=used, degree_days=degree_days))
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
class _Span:
    """Raw figures of [start, end): unrounded use, covered days, degree-days (None unless every interval has them)."""

    consumption: Decimal
    covered_days: int
    degree_days: Decimal | None
    intervals: int  # how many reading intervals it overlaps


class _Index:
    """The intervals sorted once, so a span's figures read only the intervals near it (daily readings give
    thousands of intervals, and the alarm asks for the figures of every stretch and its earlier years)."""

    def __init__(self, intervals: Sequence[Interval]):
        self.intervals = sorted(intervals, key=lambda i: i.start)
        self.starts = [i.start for i in self.intervals]
        self.longest = timedelta(days=max((i.days for i in self.intervals), default=0))
        self.covered = _merged(self.intervals)
        self.covered_starts = [s for s, _ in self.covered]

    def near(self, start: date, end: date) -> list[Interval]:
        low = bisect.bisect_left(self.starts, start - self.longest)
        return self.intervals[low : bisect.bisect_left(self.starts, end)]

    def covered_days(self, start: date, end: date) -> int:
        low = max(bisect.bisect_right(self.covered_starts, start) - 1, 0)
        high = bisect.bisect_left(self.covered_starts, end)
        return sum(_overlap(s, e, start, end) for s, e in self.covered[low:high])


def _span(index: _Index, start: date, end: date) -> _Span:
    used = degree_days = Decimal(0)
    every_interval_has_degree_days = True
    count = 0
    for interval in index.near(start, end):
        days = _overlap(interval.start, interval.end, start, end)
        if not days:
            continue
        count += 1
        used += interval.rate * days
        if interval.degree_days is None:
            every_interval_has_degree_days = False
        else:
            degree_days += interval.degree_days * days / interval.days
    covered = index.covered_days(start, end)
    return _Span(used, covered, degree_days if count and every_interval_has_degree_days else None, count)


@dataclass(frozen=True)
class _Earlier:
    """The same days of the earlier years whose readings cover enough of them."""

    consumption: Decimal
    covered_days: int
    degree_days: Decimal | None

    @property
    def per_day(self) -> Decimal:
        return self.consumption / self.covered_days


def _earlier(index: _Index, start: date, end: date) -> _Earlier | None:
    needed = (end - start).days * COMPARABLE_SHARE
    used, covered, degree_days = Decimal(0), 0, Decimal(0)
    every_year_has_degree_days = True
    for years in range(1, HISTORY_YEARS + 1):
        span = _span(index, years_before(start, years), years_before(end, years))
        if span.covered_days < needed:
            continue
        used += span.consumption
        covered += span.covered_days
        if span.degree_days is None:
            every_year_has_degree_days = False
        else:
            degree_days += span.degree_days
    if not covered:
        return None
    return _Earlier(used, covered, degree_days if every_year_has_degree_days else None)


def _heat_ratio(index: _Index, start: date, end: date, *, min_spans: int) -> Decimal | None:
    """Heat use in [start, end) against the same days of earlier years (per degree-day when known on both)."""
    current = _span(index, start, end)
    if current.covered_days < (end - start).days * COMPARABLE_SHARE or current.intervals < min_spans:
        return None
    earlier = _earlier(index, start, end)
    if earlier is None or earlier.consumption <= 0:
        return None
    if current.degree_days and earlier.degree_days:
        return (current.consumption / current.degree_days) / (earlier.consumption / earlier.degree_days)
    return (current.consumption / current.covered_days) / earlier.per_day


@dataclass(frozen=True)
class Run:
    """Reading intervals in a row, each using more than WATER_FACTOR times the same days of earlier years."""

    start: date
    end: date  # exclusive
    readings: int

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def water_runs(intervals: Sequence[Interval], *, since: date) -> tuple[list[Run], bool]:
    """Runs of steady extra use ending after `since` long enough to alarm; and whether any span could be judged.

    The spans are the stretches between consecutive reading days of all the meters together.
    """
    index = _Index(intervals)
    days = sorted({i.start for i in intervals} | {i.end for i in intervals})
    runs: list[Run] = []
    judged = False
    current: list[tuple[date, date]] = []

    def close() -> None:
        long_enough = len(current) >= WATER_MIN_SPANS and (current[-1][1] - current[0][0]).days >= WATER_MIN_DAYS
        if long_enough and current[-1][1] > since:
            runs.append(Run(start=current[0][0], end=current[-1][1], readings=len(current) + 1))
        current.clear()

    for start, end in zip(days, days[1:], strict=False):
        if end <= years_before(since):
            continue
        span = _span(index, start, end)
        earlier = _earlier(index, start, end) if span.covered_days == (end - start).days else None
        judged = judged or earlier is not None
        elevated = earlier is not None and span.consumption / span.covered_days > earlier.per_day * WATER_FACTOR
        if elevated and (not current or current[-1][1] == start):
            current.append((start, end))
            continue
        close()
        if elevated:
            current.append((start, end))
    close()
    return runs, judged


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date  # exclusive
    usage: Usage
    last_year: Usage
    alarm: bool

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
    medium: str
    granularity: str  # "month" or "year"
    buckets: list[Bucket]
    total: Usage
    last_year: Usage
    usual: Usage
    flagged: list[Bucket] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)  # water: the runs of steady extra use behind the flags
    judged: bool = False  # whether the earlier years had readings enough to compare anything with

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
    def is_heat(self) -> bool:
        return self.medium == HEAT

    @property
    def has_alarm(self) -> bool:
        return bool(self.flagged)

    @property
    def factor(self) -> Decimal:
        return HEAT_FACTOR if self.is_heat else WATER_FACTOR

    @property
    def has_data(self) -> bool:
        return self.total.has_data or self.last_year.has_data

    @property
    def change(self) -> Decimal | None:
        if not (self.total.has_data and self.last_year.has_data):
            return None
        return q3(self.total.consumption - self.last_year.consumption)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def analyse(intervals: Sequence[Interval], *, start: date, end: date, unit: str, medium: str) -> Analysis:
    """Totals, averages, last year's figures and the medium's alarm for [start, end), per month or per year.

    `intervals` should reach HISTORY_YEARS (and, for heat, HEAT_WINDOW_MONTHS) before `start`.
    """
    granularity, spans = buckets_for(start, end)
    heat = medium == HEAT
    runs, judged = ([], False) if heat else water_runs(intervals, since=start)
    index = _Index(intervals)
    buckets = []
    for b_start, b_end in spans:
        if heat:
            window_start = b_start if granularity == "year" else add_months(b_start, 1 - HEAT_WINDOW_MONTHS)
            ratios = [
                _heat_ratio(index, window_start, b_end, min_spans=HEAT_MIN_SPANS),
                _heat_ratio(index, b_start, b_end, min_spans=1),
            ]
            judged = judged or ratios[0] is not None
            alarm = all(ratio is not None and ratio > HEAT_FACTOR for ratio in ratios)
        else:
            alarm = any(_overlap(r.start, r.end, b_start, b_end) for r in runs)
        buckets.append(
            Bucket(
                start=b_start,
                end=b_end,
                usage=usage(intervals, b_start, b_end),
                last_year=usage(intervals, years_before(b_start), years_before(b_end)),
                alarm=alarm,
            )
        )
    return Analysis(
        start=start,
        end=end,
        unit=unit,
        medium=medium,
        granularity=granularity,
        buckets=buckets,
        total=usage(intervals, start, end),
        last_year=usage(intervals, years_before(start), years_before(end)),
        usual=usage(intervals, years_before(start), start),
        flagged=[b for b in buckets if b.alarm],
        runs=runs,
        judged=judged,
    )
