"""Meter reads, always scoped to the delivery points the acting user may see.

Each page's data comes from a fixed number of queries whatever the number of points, meters, readings or
the length of the analysed period; templates get plain rows and run no queries.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from accounts.models import Contract, Customer, DeliveryPoint
from accounts.permissions import Scope as AccessScope
from core.formats import unit_label
from meters import consumption
from meters.models import Meter, MeterKind, Reading, ReadingStatus


def access_reading_photo(access: AccessScope, reading_id: int) -> Reading:
    """A reading with a photo, of a meter the user may see, or Http404."""
    reading = Reading.objects.filter(meter__in=access.everything().meters(), pk=reading_id).exclude(photo="").first()
    if reading is None:
        raise Http404
    return reading


def _confirmed_twin() -> Exists:
    """A synced reading that carries this portal reading's reference: the pending one is already confirmed."""
    return Exists(
        Reading.objects.filter(
            external_id__isnull=False, portal_reference=OuterRef("portal_reference"), meter_id=OuterRef("meter_id")
        )
    )


def shown_readings() -> QuerySet[Reading]:
    """Readings to show: a self-reading the billing system already confirmed is shown once, as the synced row."""
    return Reading.objects.exclude(Q(external_id__isnull=True) & Q(_confirmed_twin()))


# --- meters and their legalization ------------------------------------------------------------------------


@dataclass(frozen=True)
class MeterRow:
    meter: Meter
    today: date
    warning_days: int
    last_read_date: date | None = None
    last_value: Decimal | None = None
    pending_read_date: date | None = None

    @property
    def legalization_expired(self) -> bool:
        return self.meter.legalization_valid_until < self.today

    @property
    def legalization_expiring(self) -> bool:
        """Expires within the warning period (IBOK_LEGALIZATION_WARNING_DAYS) but has not yet."""
        limit = self.today + timedelta(days=self.warning_days)
        return not self.legalization_expired and self.meter.legalization_valid_until <= limit

    @property
    def legalization_days_left(self) -> int:
        return (self.meter.legalization_valid_until - self.today).days

    @property
    def has_pending(self) -> bool:
        return self.pending_read_date is not None

    @property
    def can_take_reading(self) -> bool:
        return self.meter.is_active and not self.has_pending


@dataclass(frozen=True)
class PointRow:
    point: DeliveryPoint
    meters: list[MeterRow]

    @property
    def active_meters(self) -> list[MeterRow]:
        return [row for row in self.meters if row.meter.is_active]

    @property
    def removed_meters(self) -> list[MeterRow]:
        return [row for row in self.meters if not row.meter.is_active]


def _meters_with_last_reading() -> QuerySet[Meter]:
    confirmed = Reading.objects.filter(meter_id=OuterRef("pk"), status=ReadingStatus.CONFIRMED).order_by(
        "-read_date", "-id"
    )
    pending = (
        shown_readings().filter(meter_id=OuterRef("pk"), status=ReadingStatus.PENDING).order_by("-read_date", "-id")
    )
    return Meter.objects.annotate(
        last_read_date=Subquery(confirmed.values("read_date")[:1]),
        last_value=Subquery(confirmed.values("value")[:1]),
        pending_read_date=Subquery(pending.values("read_date")[:1]),
    ).order_by(F("removed_date").desc(nulls_first=True), "kind", "serial_number", "id")


def _meter_row(meter: Meter, today: date) -> MeterRow:
    return MeterRow(
        meter=meter,
        today=today,
        warning_days=settings.IBOK_LEGALIZATION_WARNING_DAYS,
        last_read_date=meter.last_read_date,
        last_value=meter.last_value,
        pending_read_date=meter.pending_read_date,
    )


def points_for_meters(*, access: AccessScope) -> QuerySet[DeliveryPoint]:
    """The user's delivery points in a stable order, each with its meters and their last readings (prefetched: one
    more query for whatever slice of the points is read)."""
    return (
        access.points()
        .select_related("customer", "contract")
        .prefetch_related(Prefetch("meters", queryset=_meters_with_last_reading()))
        .order_by("customer__number", "code", "id")
    )


def point_rows(points, *, today: date) -> list[PointRow]:
    """Rows of points read with points_for_meters (all of them, or a page)."""
    return [PointRow(point=point, meters=[_meter_row(m, today) for m in point.meters.all()]) for point in points]


def points_with_meters(*, access: AccessScope, today: date) -> list[PointRow]:
    """The user's delivery points, each with its meters, last confirmed reading and legalization state."""
    return point_rows(points_for_meters(access=access), today=today)


# --- the contract page ------------------------------------------------------------------------------------


@dataclass
class ContractRow:
    contract: Contract
    customer: Customer
    today: date
    points: list[PointRow] = field(default_factory=list)

    @property
    def fixed_term_days_left(self) -> int | None:
        if self.contract.valid_until is None:
            return None
        return (self.contract.valid_until - self.today).days

    @property
    def has_ended(self) -> bool:
        return self.contract.valid_until is not None and self.contract.valid_until < self.today


def contracts_with_points(*, access: AccessScope, today: date) -> list[ContractRow]:
    """Contracts of the user's visible delivery points (only those points), with their meters."""
    rows: dict[int, ContractRow] = {}
    for point_row in points_with_meters(access=access, today=today):
        point = point_row.point
        row = rows.get(point.contract_id)
        if row is None:
            row = rows[point.contract_id] = ContractRow(contract=point.contract, customer=point.customer, today=today)
        row.points.append(point_row)
    return sorted(rows.values(), key=lambda r: (r.customer.number, r.contract.signed_date, r.contract.number))


# --- a meter's reading history ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    reading: Reading
    consumption: Decimal | None  # since the previous reading of this meter; None for the first one
    days: int | None

    @property
    def average_per_day(self) -> Decimal | None:
        if self.consumption is None or not self.days:
            return None
        return consumption.q3(self.consumption / self.days)


def access_meter(access: AccessScope, meter_id: int) -> Meter:
    """One of the user's meters with its point and contract, or Http404."""
    meter = (
        access.everything()
        .meters()
        .select_related("delivery_point__contract", "delivery_point__customer")
        .filter(pk=meter_id)
        .first()
    )
    if meter is None:
        raise Http404
    return meter


def reading_history(*, meter: Meter) -> list[HistoryRow]:
    """Readings since the contract began, the latest first, with the use since the previous reading.

    Rejected readings are listed but do not count: the next reading is compared with the last accepted one.
    """
    readings = list(
        shown_readings()
        .filter(meter=meter, read_date__gte=meter.delivery_point.contract.valid_from)
        .order_by("read_date", "id")
    )
    rows = []
    previous: Reading | None = None
    for reading in readings:
        if reading.is_rejected or previous is None:
            rows.append(HistoryRow(reading=reading, consumption=None, days=None))
        else:
            rows.append(
                HistoryRow(
                    reading=reading,
                    consumption=reading.value - previous.value,
                    days=(reading.read_date - previous.read_date).days,
                )
            )
        if not reading.is_rejected:
            previous = reading
    rows.reverse()
    return rows


def last_accepted_reading(*, meter: Meter) -> Reading | None:
    """The meter's latest reading that counts: confirmed or still pending (never a rejected one)."""
    return (
        shown_readings()
        .filter(meter=meter, status__in=[ReadingStatus.CONFIRMED, ReadingStatus.PENDING])
        .order_by("-read_date", "-id")
        .first()
    )


def usual_daily_use(*, meter: Meter, before: date) -> Decimal | None:
    """The meter's average daily use over the 12 months before `before` (None with under 90 days of data)."""
    start = consumption.years_before(before)
    values = list(
        Reading.objects.filter(meter=meter, status=ReadingStatus.CONFIRMED)
        .filter(Q(read_date__gte=start, read_date__lte=before) | Q(pk=Subquery(_nearest_before(start))))
        .order_by("read_date", "id")
        .values_list("read_date", "value")
    )
    usual = consumption.usage(consumption.intervals_of(values), start, before)
    return usual.average_per_day if usual.covered_days >= consumption.MIN_USUAL_DAYS else None


def _nearest_before(day: date) -> QuerySet[Reading]:
    return (
        Reading.objects.filter(meter_id=OuterRef("meter_id"), status=ReadingStatus.CONFIRMED, read_date__lt=day)
        .order_by("-read_date", "-id")
        .values("pk")[:1]
    )


def _nearest_after(day: date) -> QuerySet[Reading]:
    return (
        Reading.objects.filter(meter_id=OuterRef("meter_id"), status=ReadingStatus.CONFIRMED, read_date__gt=day)
        .order_by("read_date", "id")
        .values("pk")[:1]
    )


# --- consumption analysis ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What is analysed: one meter, or a delivery point (the sum of its main meters)."""

    key: str  # "point-12" or "meter-34": the value of the scope select
    label: str
    point: DeliveryPoint
    meters: tuple[Meter, ...]

    @property
    def unit(self) -> str:
        return unit_label(self.meters[0].unit)

    @property
    def medium(self) -> str:
        return self.meters[0].medium

    @property
    def medium_label(self) -> str:
        return self.meters[0].get_medium_display()

    @property
    def is_point(self) -> bool:
        return self.key.startswith("point-")


def visible_points(*, access: AccessScope) -> QuerySet[DeliveryPoint]:
    """The delivery points the user may see, with their contracts and customers."""
    return access.points().select_related("contract", "customer")


def consumption_scopes(*, access: AccessScope) -> list[Scope]:
    """Every delivery point and every meter the user may analyse, in two queries.

    Restricted first, then joined: the visible points (an index read by the scope's customer or point ids) with
    their contracts and customers, then the meters of those points by id. Filtering meters joined to points on the
    point's customer let PostgreSQL read every meter in the database for each request.
    """
    points = {point.pk: point for point in visible_points(access=access)}
    if not points:
        return []
    meters = list(Meter.objects.filter(delivery_point_id__in=sorted(points)))
    for meter in meters:
        meter.delivery_point = points[meter.delivery_point_id]
    meters.sort(
        key=lambda m: (
            m.delivery_point.customer.number,
            m.delivery_point.code,
            m.delivery_point_id,
            m.kind,
            -m.installed_date.toordinal(),
            m.pk,
        )
    )
    by_point: dict[int, list[Meter]] = defaultdict(list)
    for meter in meters:
        by_point[meter.delivery_point_id].append(meter)
    scopes = []
    for point_meters in by_point.values():
        point = point_meters[0].delivery_point
        main = [m for m in point_meters if m.kind == MeterKind.MAIN] or point_meters
        # A point's total adds up its main meters (a submeter measures part of the same water); they share a unit.
        latest = max(main, key=lambda m: (m.installed_date, m.pk))
        summed = tuple(m for m in main if m.unit == latest.unit)
        scopes.append(Scope(key=f"point-{point.pk}", label=point.address_line, point=point, meters=summed))
        for meter in point_meters:
            scopes.append(Scope(key=f"meter-{meter.pk}", label=str(meter), point=point, meters=(meter,)))
    return scopes


def consumption_analysis(*, scope: Scope, start: date, end: date) -> consumption.Analysis:
    """Use in [start, end) for the scope, with last year's figures, the usual use and the alarm, in one query.

    Fetches only the readings from HISTORY_YEARS (and the heat window) before `start` to `end`, plus each
    meter's nearest readings outside that span, which close the intervals crossing its edges.
    """
    since = consumption.add_months(
        consumption.years_before(start, consumption.HISTORY_YEARS), -consumption.HEAT_WINDOW_MONTHS
    )
    readings = (
        Reading.objects.filter(meter__in=[m.pk for m in scope.meters], status=ReadingStatus.CONFIRMED)
        .filter(
            Q(read_date__gte=since, read_date__lte=end)
            | Q(pk=Subquery(_nearest_before(since)))
            | Q(pk=Subquery(_nearest_after(end)))
        )
        .order_by("meter_id", "read_date", "id")
        .values_list("meter_id", "read_date", "value", "degree_days")
    )
    per_meter: dict[int, list[tuple[date, Decimal, Decimal | None]]] = defaultdict(list)
    for meter_id, read_date, value, degree_days in readings:
        per_meter[meter_id].append((read_date, value, degree_days))
    intervals = []
    for meter in scope.meters:
        not_before = max(meter.delivery_point.contract.valid_from, meter.installed_date)
        intervals.extend(consumption.intervals_of(per_meter.get(meter.pk, []), not_before=not_before))
    return consumption.analyse(intervals, start=start, end=end, unit=scope.unit, medium=scope.medium)
