"""Meters and self-readings: meters.selectors and meters.services under the pages' Scope."""

from datetime import date
from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema

from accounts.permissions import request_scope
from api import problems
from api.common import conditional, form_invalid, paginate, require_write, with_headers
from meters import forms as meter_forms
from meters import selectors as meters
from meters import services as meter_services

router = Router(tags=["meters"])


class ReadingIn(Schema):
    value: Decimal
    confirm_unusual: bool = False  # the page's "yes, the value is right" for an unusually high reading


class ReadingOut(Schema):
    portal_reference: str
    meter_id: int
    read_date: date
    value: str
    status: str


@router.post(
    "/meters/{meter_id}/readings",
    response={201: ReadingOut},
    summary="Submit a self-reading, validated as on the page (window, previous value, unusual use)",
)
def reading_submit(request: HttpRequest, meter_id: int, reading: ReadingIn):
    require_write(request)
    meter = meters.access_meter(request_scope(request), meter_id)
    try:
        saved = meter_services.self_reading_submit(
            meter=meter, value=reading.value, now=timezone.now(), user=request.user,
            confirmed_jump=reading.confirm_unusual,
        )  # fmt: skip
    except meter_services.ReadingRejected as exc:
        raise problems.HttpError(422, str(exc)) from None
    return 201, {
        "portal_reference": saved.portal_reference, "meter_id": meter.pk, "read_date": saved.read_date,
        "value": f"{saved.value:.3f}", "status": saved.status,
    }  # fmt: skip


# --- contracts, delivery points, meters and their readings (the meters and contract pages) ----------------------


def q3(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.3f}"


class MeterOut(Schema):
    id: int
    delivery_point_id: int
    serial_number: str
    kind: str
    medium: str
    unit: str
    installed_date: date
    removed_date: date | None
    legalization_valid_until: date
    legalization_expired: bool
    legalization_expiring: bool
    last_read_date: date | None
    last_value: str | None
    pending_read_date: date | None
    can_take_reading: bool


class PointOut(Schema):
    id: int
    code: str
    customer_id: int
    contract_id: int
    service: str
    tariff_group: str
    address: str
    meters: list[MeterOut]


class ContractOut(Schema):
    id: int
    number: str
    customer_id: int
    kind: str
    signed_date: date
    valid_from: date
    valid_until: date | None
    has_ended: bool
    delivery_points: list[PointOut]  # only the points the user may see


def meter_out(row: meters.MeterRow) -> dict:
    meter = row.meter
    return {
        "id": meter.pk, "delivery_point_id": meter.delivery_point_id, "serial_number": meter.serial_number,
        "kind": meter.kind, "medium": meter.medium, "unit": meter.unit, "installed_date": meter.installed_date,
        "removed_date": meter.removed_date, "legalization_valid_until": meter.legalization_valid_until,
        "legalization_expired": row.legalization_expired, "legalization_expiring": row.legalization_expiring,
        "last_read_date": row.last_read_date, "last_value": q3(row.last_value),
        "pending_read_date": row.pending_read_date, "can_take_reading": row.can_take_reading,
    }  # fmt: skip


def point_out(row: meters.PointRow) -> dict:
    point = row.point
    return {
        "id": point.pk, "code": point.code, "customer_id": point.customer_id, "contract_id": point.contract_id,
        "service": point.service, "tariff_group": point.tariff_group, "address": point.address,
        "meters": [meter_out(m) for m in row.meters],
    }  # fmt: skip


def _fresh(request: HttpRequest, response: HttpResponse):
    scope = request_scope(request)
    not_modified, headers = conditional(request, scope.customer_ids)
    if not_modified is None:
        with_headers(response, headers)
    return scope, not_modified


class PageQuery(Schema):
    page: int = 1


@router.get(
    "/contracts",
    response={200: list[ContractOut], 304: None},
    summary="The contract page: contracts with the delivery points the user may see, and their meters",
)
def contracts(request: HttpRequest, response: HttpResponse):
    scope, not_modified = _fresh(request, response)
    if not_modified:
        return not_modified
    return [
        {
            "id": row.contract.pk,
            "number": row.contract.number,
            "customer_id": row.customer.pk,
            "kind": row.contract.kind,
            "signed_date": row.contract.signed_date,
            "valid_from": row.contract.valid_from,
            "valid_until": row.contract.valid_until,
            "has_ended": row.has_ended,
            "delivery_points": [point_out(p) for p in row.points],
        }  # fmt: skip
        for row in meters.contracts_with_points(access=scope, today=timezone.localdate())
    ]


class PointPage(Schema):
    count: int
    page: int
    pages: int
    results: list[PointOut]


@router.get(
    "/delivery-points",
    response={200: PointPage, 304: None},
    summary="The meters page: the delivery points the user may see, each with its meters and last readings",
)
def delivery_points(request: HttpRequest, query: Query[PageQuery], response: HttpResponse):
    scope, not_modified = _fresh(request, response)
    if not_modified:
        return not_modified
    rows = meters.points_with_meters(access=scope, today=timezone.localdate())
    return paginate(rows, query.page, point_out)


class MeterPage(Schema):
    count: int
    page: int
    pages: int
    results: list[MeterOut]


@router.get(
    "/meters",
    response={200: MeterPage, 304: None},
    summary="Every meter the user may see, by delivery point, with its last confirmed and pending reading",
)
def meter_list(request: HttpRequest, query: Query[PageQuery], response: HttpResponse):
    scope, not_modified = _fresh(request, response)
    if not_modified:
        return not_modified
    rows = [m for point in meters.points_with_meters(access=scope, today=timezone.localdate()) for m in point.meters]
    return paginate(rows, query.page, meter_out)


class HistoryOut(Schema):
    id: int
    read_date: date
    value: str
    status: str
    source: str
    portal_reference: str
    consumption: str | None  # since the previous accepted reading
    days: int | None
    average_per_day: str | None


class HistoryPage(Schema):
    count: int
    page: int
    pages: int
    results: list[HistoryOut]


@router.get(
    "/meters/{meter_id}/readings",
    response={200: HistoryPage, 304: None},
    summary="The meter's readings, the latest first, with the use since the previous one (the meter's page)",
)
def reading_list(request: HttpRequest, meter_id: int, query: Query[PageQuery], response: HttpResponse):
    meter = meters.access_meter(request_scope(request), meter_id)
    not_modified, headers = conditional(request, [meter.delivery_point.customer_id])
    if not_modified:
        return not_modified
    with_headers(response, headers)
    return paginate(
        meters.reading_history(meter=meter),
        query.page,
        lambda row: {
            "id": row.reading.pk, "read_date": row.reading.read_date, "value": q3(row.reading.value),
            "status": row.reading.status, "source": row.reading.source,
            "portal_reference": row.reading.portal_reference, "consumption": q3(row.consumption),
            "days": row.days, "average_per_day": q3(row.average_per_day),
        },
    )  # fmt: skip


# --- consumption (the consumption page) -------------------------------------------------------------------------


class UsageOut(Schema):
    consumption: str | None  # null: no readings cover the span
    covered_days: int
    average_per_day: str | None


class BucketOut(Schema):
    start: date
    last_day: date
    usage: UsageOut
    last_year: UsageOut  # the same span a year earlier
    alarm: bool  # far above earlier years


class ScopeOut(Schema):
    key: str  # "point-12" (a delivery point's main meters) or "meter-34"
    label: str
    delivery_point_id: int
    meter_ids: list[int]


class ConsumptionOut(Schema):
    scope: ScopeOut
    date_from: date
    date_to: date
    unit: str
    medium: str
    granularity: str  # "month" or "year"
    total: UsageOut
    last_year: UsageOut
    change: str | None
    has_alarm: bool
    buckets: list[BucketOut]
    scopes: list[ScopeOut]  # every point and meter the user may analyse


class ConsumptionQuery(Schema):
    scope: str | None = None  # default: the first delivery point
    date_from: date | None = None  # default: the last twelve months, as on the page
    date_to: date | None = None


def usage_out(usage) -> dict:
    return {
        "consumption": q3(usage.consumption) if usage.has_data else None,
        "covered_days": usage.covered_days,
        "average_per_day": q3(usage.average_per_day),
    }


def scope_out(scope: meters.Scope) -> dict:
    return {
        "key": scope.key, "label": scope.label, "delivery_point_id": scope.point.pk,
        "meter_ids": [m.pk for m in scope.meters],
    }  # fmt: skip


@router.get(
    "/consumption",
    response={200: ConsumptionOut, 304: None},
    summary="Use over a period with the same period a year earlier: the consumption page's figures",
)
def consumption(request: HttpRequest, query: Query[ConsumptionQuery], response: HttpResponse):
    access = request_scope(request)
    scopes = meters.consumption_scopes(access=access)
    if not scopes or (query.scope and query.scope not in {s.key for s in scopes}):
        raise Http404  # no meters, or another customer's point or meter
    data = {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in (("scope", query.scope), ("date_from", query.date_from), ("date_to", query.date_to))
        if value
    }
    form = meter_forms.ConsumptionForm(data, scopes=scopes, today=timezone.localdate())
    if not form.is_valid():
        raise form_invalid(form)
    selected = form.selected_scope
    not_modified, headers = conditional(request, [selected.point.customer_id])
    if not_modified:
        return not_modified
    with_headers(response, headers)
    analysis = meters.consumption_analysis(scope=selected, start=form.start, end=form.end)
    return {
        "scope": scope_out(selected), "date_from": analysis.start, "date_to": analysis.last_day,
        "unit": analysis.unit, "medium": analysis.medium, "granularity": analysis.granularity,
        "total": usage_out(analysis.total), "last_year": usage_out(analysis.last_year),
        "change": q3(analysis.change), "has_alarm": analysis.has_alarm,
        "buckets": [
            {"start": b.start, "last_day": b.last_day, "usage": usage_out(b.usage),
             "last_year": usage_out(b.last_year), "alarm": b.alarm}
            for b in analysis.buckets
        ],
        "scopes": [scope_out(s) for s in scopes],
    }  # fmt: skip
