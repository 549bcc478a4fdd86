from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET
from django_tenants.utils import schema_context

from accounts.permissions import member_required
from scans import rollups
from scans.analytics import DayPoint, Filters, build_report
from scans.forms import AnalyticsFilterForm
from scans.models import Scan, StopDay

EXPORT_CHUNK_ROWS = 2000
# Spreadsheets run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _filters(request: HttpRequest) -> tuple[AnalyticsFilterForm, Filters]:
    form = AnalyticsFilterForm(request.GET or None, today=rollups.local_today(request.tenant))
    return form, form.filters()


@require_GET
@member_required("view_analytics")
def analytics(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    report = build_report(workspace=request.tenant, filters=filters)
    context = {
        "section": "analytics",
        "form": form,
        "report": report,
        "chart": _chart(report.days),
        "query": request.GET.urlencode(),
    }
    # A history restore asks for the whole page, though it comes from htmx.
    fragment = request.htmx and not request.htmx.history_restore_request
    response = render(request, "scans/_report.html" if fragment else "scans/analytics.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@member_required("view_analytics")
def scans_export(request: HttpRequest) -> StreamingHttpResponse:
    """The raw scans of the filtered range as CSV, streamed from a server-side cursor."""
    _, filters = _filters(request)
    workspace = request.tenant
    tz = workspace.time_zone
    scans = Scan.objects.filter(
        scanned_at__gte=rollups.local_midnight(filters.period.first, tz),
        scanned_at__lt=rollups.local_midnight(filters.period.last + rollups.ONE_DAY, tz),
    ).order_by("scanned_at", "pk")
    if filters.trail:
        scans = scans.filter(trail=filters.trail)
    if not filters.include_bots:
        scans = scans.filter(is_bot=False)
    filename = f"scans-{workspace.schema_name}-{filters.period.first}-{filters.period.last}.csv"
    return scans_csv(scans, workspace=workspace, filename=filename)


def scans_csv(scans: QuerySet[Scan], *, workspace, filename: str) -> StreamingHttpResponse:
    """Raw scans as a streamed CSV, times in the workspace's zone: the dashboard's export and the API's."""
    columns = ["scanned_at", "trail__title", "stop__title", "stop__token", "device", "browser", "os", "country"]
    columns += ["referrer", "ip", "visitor", "is_bot", "user_agent"]
    zone = ZoneInfo(workspace.time_zone)
    rows = (
        (scanned_at.astimezone(zone).isoformat(), *rest)
        for scanned_at, *rest in rows_in_schema(scans.values_list(*columns), workspace.schema_name)
    )
    header = ["scanned_at", "trail", "stop", "token", "device", "browser", "os", "country"]
    header += ["referrer", "ip_network", "visitor", "is_bot", "user_agent"]
    return csv_response(filename, header, rows)


@require_GET
@member_required("view_analytics")
def rollups_export(request: HttpRequest) -> StreamingHttpResponse:
    """Daily roll-ups per stop of the filtered range's closed days as CSV."""
    _, filters = _filters(request)
    workspace = request.tenant
    last = min(filters.period.last, rollups.local_today(workspace) - rollups.ONE_DAY)
    rollups.ensure_built(workspace=workspace, first=filters.period.first, last=last)
    days = StopDay.objects.filter(day__range=(filters.period.first, last)).order_by("day", "trail_id", "stop_id")
    if filters.trail:
        days = days.filter(trail=filters.trail)
    columns = ["day", "trail__title", "stop__title", "stop__token", "scans", "bot_scans", "visitors"]
    columns += ["all_visitors", "funnel_visitors"]
    header = ["day", "trail", "stop", "token", "scans", "bot_scans", "visitors", "visitors_with_bots"]
    header += ["visitors_from_first_stop"]
    rows = rows_in_schema(days.values_list(*columns), workspace.schema_name)
    return csv_response(f"rollups-{workspace.schema_name}-{filters.period.first}-{last}.csv", header, rows)


def rows_in_schema(queryset: QuerySet, schema: str) -> Iterator[tuple]:
    """The queryset's rows from `schema`, fetched in chunks.

    The response is streamed after the view returns, when the connection may have
    been switched to another workspace's schema (django-tenants sets search_path per
    connection). So the cursor is opened in `schema` here; rows already planned keep
    coming from it whatever the search_path becomes.
    """
    with schema_context(schema):
        rows = queryset.iterator(chunk_size=EXPORT_CHUNK_ROWS)
        first = next(rows, None)
    if first is None:
        return
    yield first
    yield from rows


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: list[str], rows: Iterable[tuple]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class Chart:
    """The daily chart's geometry in the SVG's own units, and its bars and points as SVG elements."""

    width: int
    height: int
    top: int
    bottom: int
    left: int
    peak: int
    elements: SafeString
    line: str
    labels: list[tuple[float, str]]

    @property
    def label_x(self) -> int:
        return self.left - 6

    @property
    def peak_y(self) -> int:
        return self.top + 4

    @property
    def date_y(self) -> int:
        return self.height - 8


def _chart(days: list[DayPoint], *, width: int = 720, height: int = 220) -> Chart:
    """Scans as bars, visitors as a dashed line with dots: told apart by shape, not colour.

    The bars are made here rather than in a template loop: a year of them took the
    template 150 ms.
    """
    left, top, bottom = 48, 12, height - 28
    peak = max([point.scans for point in days] + [point.visitors for point in days] + [1])
    step = (width - left) / max(len(days), 1)
    scale = (bottom - top) / peak
    bars, dots, line = [], [], []
    for i, point in enumerate(days):
        x, middle = left + i * step + step * 0.1, left + i * step + step / 2
        bar_height, dot_y = point.scans * scale, bottom - point.visitors * scale
        title = escape(f"{point.label}: {point.scans} scans, {point.visitors} visitors")
        bars.append(
            f'<rect class="scans" x="{x:.2f}" y="{bottom - bar_height:.2f}" width="{step * 0.8:.2f}" '
            f'height="{bar_height:.2f}"><title>{title}</title></rect>'
        )
        dots.append(f'<circle class="visitors" cx="{middle:.2f}" cy="{dot_y:.2f}" r="3"/>')
        line.append(f"{middle:.2f},{dot_y:.2f}")
    # Beyond two months the dots would merge into the line.
    elements = mark_safe("".join(bars + (dots if len(days) <= 62 else [])))  # noqa: S308 (numbers and escaped titles)
    picks = sorted({0, len(days) // 2, len(days) - 1}) if days else []
    labels = [(round(left + i * step + step / 2, 2), f"{days[i].day.day} {days[i].day:%b}") for i in picks]
    return Chart(width, height, top, bottom, left, peak, elements, " ".join(line), labels)
