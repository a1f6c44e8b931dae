"""Meters and readings, self-reading, consumption analysis and the contract page."""

import csv
import mimetypes
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts import http
from accounts.permissions import request_scope
from core.methods import require_GET, require_http_methods
from core.models import SecurityEventKind
from core.security import security_event_record
from meters import charts, forms, selectors, services
from meters.window import window_state

POINTS_PER_PAGE = 10  # delivery points on the meters page


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The delivery points with their meters, POINTS_PER_PAGE at a time with "show more"; removed meters collapsed."""
    today = timezone.localdate()
    page = Paginator(selectors.points_for_meters(access=request_scope(request)), POINTS_PER_PAGE)
    page = page.get_page(request.GET.get("page"))
    context = {
        "points": selectors.point_rows(page, today=today),
        "page": page,
        "window": window_state(today),
        "today": today,
    }
    return render(request, "meters/index.html", context)


@login_required
@require_GET
def meter_detail(request: HttpRequest, meter_id: int) -> HttpResponse:
    meter = selectors.access_meter(request_scope(request), meter_id)
    history = selectors.reading_history(meter=meter)
    context = {
        "meter": meter,
        "point": meter.delivery_point,
        "history": history,
        "has_pending": any(row.reading.is_pending for row in history),
    }
    return render(request, "meters/meter_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def reading_create(request: HttpRequest, meter_id: int) -> HttpResponse:
    meter = selectors.access_meter(request_scope(request), meter_id)
    if not meter.is_active:
        raise Http404
    form = forms.SelfReadingForm(request.POST or None, request.FILES or None)
    needs_confirmation = False
    if request.method == "POST" and form.is_valid():
        try:
            reading = services.self_reading_submit(
                meter=meter,
                value=form.cleaned_data["value"],
                photo=form.cleaned_data["photo"],
                confirmed_jump=form.cleaned_data["confirm"],
                user=request.user,
                now=timezone.now(),
            )
        except services.ReadingNeedsConfirmation as exc:
            needs_confirmation = True
            form.add_error("value", str(exc))
        except services.ReadingRejected as exc:
            form.add_error("value", str(exc))
        else:
            messages.success(
                request,
                _("Thank you. Your reading has been sent to the billing system and is pending until it is confirmed."),
            )
            if note := services.photo_check_message(reading):
                messages.add_message(request, messages.WARNING if reading.photo_is_flagged else messages.INFO, note)
            return redirect("meters:meter", meter_id=meter.pk)
    if form.errors.get("photo"):
        security_event_record(
            now=timezone.now(),
            kind=SecurityEventKind.UPLOAD_REFUSED,
            ip_address=http.client_ip(request),
            identifier=request.user.get_username(),
            details={"view": "meters:reading-create", "why": [str(error) for error in form.errors["photo"]]},
        )
    today = timezone.localdate()
    context = {
        "meter": meter,
        "point": meter.delivery_point,
        "form": form,
        "needs_confirmation": needs_confirmation or bool(request.POST.get("confirm")),
        "last_reading": selectors.last_accepted_reading(meter=meter),
        "window": window_state(today),
    }
    return render(request, "meters/reading_form.html", context)


@login_required
@require_GET
def reading_photo(request: HttpRequest, reading_id: int) -> FileResponse:
    """The photo a customer attached to a reading; only for users who may see the meter."""
    reading = selectors.access_reading_photo(request_scope(request), reading_id)
    content_type = mimetypes.guess_type(reading.photo.name)[0] or "application/octet-stream"
    response = FileResponse(reading.photo.open("rb"), content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    return response


def _consumption_form(request: HttpRequest) -> tuple[forms.ConsumptionForm, list[selectors.Scope]]:
    scopes = selectors.consumption_scopes(access=request_scope(request))
    requested = request.GET.get("scope")
    if requested and requested not in {scope.key for scope in scopes}:
        raise Http404  # another customer's point or meter
    return forms.ConsumptionForm(request.GET, scopes=scopes, today=timezone.localdate()), scopes


@login_required
@require_GET
def consumption(request: HttpRequest) -> HttpResponse:
    form, scopes = _consumption_form(request)
    context = {"form": form, "has_meters": bool(scopes), "analysis": None}
    if scopes and form.is_valid():
        analysis = selectors.consumption_analysis(scope=form.selected_scope, start=form.start, end=form.end)
        context.update(
            analysis=analysis,
            scope=form.selected_scope,
            chart=charts.build_chart(
                analysis,
                current_label=_("Selected period"),
                last_year_label=_("Same period a year earlier"),
            ),
            csv_query=urlencode({key: form.data[key] for key in ("scope", "date_from", "date_to")}),
        )
    return render(request, "meters/consumption.html", context)


@login_required
@require_GET
def consumption_csv(request: HttpRequest) -> HttpResponse:
    form, scopes = _consumption_form(request)
    if not scopes or not form.is_valid():
        raise Http404
    analysis = selectors.consumption_analysis(scope=form.selected_scope, start=form.start, end=form.end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"consumption-{form.start:%Y%m%d}-{form.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # spreadsheets then read the file as UTF-8
    writer = csv.writer(response, delimiter=";")

    def figure(value) -> str:
        return "" if value is None else number_format(value, 3)

    writer.writerow(
        [
            _("From"),
            _("To"),
            _("Consumption (%(unit)s)") % {"unit": analysis.unit},
            _("Days with readings"),
            _("Average per day (%(unit)s)") % {"unit": analysis.unit},
            _("Same period a year earlier (%(unit)s)") % {"unit": analysis.unit},
            _("Far above earlier years"),
        ]
    )
    for bucket in analysis.buckets:
        writer.writerow(
            [
                bucket.start.isoformat(),
                bucket.last_day.isoformat(),
                figure(bucket.usage.consumption if bucket.usage.has_data else None),
                bucket.usage.covered_days,
                figure(bucket.usage.average_per_day),
                figure(bucket.last_year.consumption if bucket.last_year.has_data else None),
                _("yes") if bucket.alarm else "",
            ]
        )
    writer.writerow(
        [
            analysis.start.isoformat(),
            analysis.last_day.isoformat(),
            figure(analysis.total.consumption),
            analysis.total.covered_days,
            figure(analysis.total.average_per_day),
            figure(analysis.last_year.consumption if analysis.last_year.has_data else None),
            _("yes") if analysis.has_alarm else "",
        ]
    )
    return response


@login_required
@require_GET
def contract(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    context = {"contracts": selectors.contracts_with_points(access=request_scope(request), today=today), "today": today}
    return render(request, "meters/contract.html", context)
