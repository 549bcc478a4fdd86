"""The dashboard's home (live counters) and its analytics page and exports."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import condition, require_GET

from accounts.permissions import member_required
from qrcards.routers import analytics_database
from scans import rollups
from scans.analytics import Filters, build_report
from scans.chart import daily_chart
from scans.export import rollups_csv, scans_csv
from scans.forms import AnalyticsFilterForm
from scans.models import Scan, StopDay
from trails.models import Trail


def _live_etag(request: HttpRequest) -> str:
    workspace = request.tenant
    last = Scan.objects.people().order_by("-pk").values_list("pk", flat=True).first()
    return f"{workspace.schema_name}-{workspace.today():%Y%m%d}-{last or 0}"


@require_GET
@member_required("view_trails")
def dashboard(request: HttpRequest) -> HttpResponse:
    recent = Trail.objects.live().exclude(status=Trail.Status.ARCHIVED).order_by("-updated_at")[:5]
    counts = Scan.objects.people().recent_counts(workspace=request.tenant)
    return render(request, "scans/dashboard.html", {"section": "home", "counts": counts, "recent": recent})


@require_GET
@member_required("view_trails")
@condition(etag_func=lambda request: _live_etag(request))
def live_counts(request: HttpRequest) -> HttpResponse:
    """The dashboard's live counters; polled by htmx, answered 304 while no scan came in."""
    counts = Scan.objects.people().recent_counts(workspace=request.tenant)
    response = render(request, "scans/_live_counts.html", {"counts": counts})
    response["Cache-Control"] = "no-cache, private"
    return response


def _filters(request: HttpRequest) -> tuple[AnalyticsFilterForm, Filters]:
    form = AnalyticsFilterForm(request.GET or None, today=request.tenant.today())
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
        "chart": daily_chart(report.days),
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
    # From the replica when there is one (qrcards/routers.py): the export ends where replication has got to.
    scans = (
        Scan.objects.using(analytics_database())
        .filter(
            scanned_at__gte=workspace.midnight(filters.period.first),
            scanned_at__lt=workspace.midnight(filters.period.last + rollups.ONE_DAY),
        )
        .order_by("scanned_at", "pk")
    )
    if filters.trail:
        scans = scans.filter(trail=filters.trail)
    if not filters.include_bots:
        scans = scans.people()
    filename = f"scans-{workspace.schema_name}-{filters.period.first}-{filters.period.last}.csv"
    return scans_csv(scans, workspace=workspace, filename=filename)


@require_GET
@member_required("view_analytics")
def rollups_export(request: HttpRequest) -> StreamingHttpResponse:
    """Daily roll-ups per stop of the filtered range's closed days as CSV."""
    _, filters = _filters(request)
    workspace = request.tenant
    last = min(filters.period.last, workspace.today() - rollups.ONE_DAY)
    rollups.ensure_built(workspace=workspace, first=filters.period.first, last=last)
    days = StopDay.objects.filter(day__range=(filters.period.first, last)).order_by("day", "trail_id", "stop_id")
    if filters.trail:
        days = days.filter(trail=filters.trail)
    filename = f"rollups-{workspace.schema_name}-{filters.period.first}-{last}.csv"
    return rollups_csv(days, workspace=workspace, filename=filename)
