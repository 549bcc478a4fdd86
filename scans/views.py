"""The dashboard's home (live counters) and its analytics page and exports."""

from __future__ import annotations

from dataclasses import replace

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import condition, require_GET

from accounts.models import PrintedCard
from accounts.permissions import member_required
from qrcards.routers import analytics_database
from scans import rollups
from scans.analytics import Filters, TooLongToCount, build_report, home_summary
from scans.chart import daily_chart, sparkline
from scans.export import rollups_csv, scans_csv
from scans.forms import AnalyticsFilterForm
from scans.models import Scan, StopDay
from trails.models import Trail


def _live_etag(request: HttpRequest) -> str:
    workspace = request.tenant
    last = Scan.objects.people().order_by("-pk").values_list("pk", flat=True).first()
    return f"{workspace.schema_name}-{workspace.today():%Y%m%d}-{last or 0}"


def _live_context(request: HttpRequest) -> dict:
    """The home page's live part: scans today, this week, this month (a sparkline), the latest scans, top stops."""
    summary = home_summary(workspace=request.tenant)
    latest = Scan.objects.people().select_related("stop", "trail").order_by("-scanned_at", "-pk")[:6]
    return {"summary": summary, "spark": sparkline([point.scans for point in summary.days]), "latest": latest}


def _onboarding(request: HttpRequest) -> list[tuple[str, bool, str]]:
    """A new workspace's first steps, each (what, done, where to do it), ticked from what is stored."""
    workspace = request.tenant
    trails = Trail.objects.live()
    # Showing, printing or downloading a trail's cards is recorded (trails/downloads.py: card_host).
    printed = PrintedCard.objects.filter(domain__tenant=workspace).exists()
    return [
        ("Write a trail", trails.exists(), reverse("trails:trail-create")),
        ("Publish it", trails.filter(status=Trail.Status.PUBLISHED).exists(), reverse("trails:trail-list")),
        ("Print its cards", printed, reverse("trails:trail-list")),
        ("Scan a card with your phone", Scan.objects.people().exists(), reverse("trails:trail-list")),
        (
            "Invite a teammate",
            workspace.memberships.count() > 1 or workspace.invitations.exists(),
            reverse("accounts:team"),
        ),
    ]


@require_GET
@member_required("view_trails")
def dashboard(request: HttpRequest) -> HttpResponse:
    recent = Trail.objects.live().exclude(status=Trail.Status.ARCHIVED).order_by("-updated_at")[:5]
    steps = _onboarding(request)
    context = {
        "section": "home",
        "recent": recent,
        "steps": steps,
        "steps_done": sum(done for _, done, _ in steps),
        **_live_context(request),
    }
    return render(request, "scans/dashboard.html", context)


@require_GET
@member_required("view_trails")
@condition(etag_func=lambda request: _live_etag(request))
def live_counts(request: HttpRequest) -> HttpResponse:
    """The dashboard's live part; polled by htmx, answered 304 while no scan came in."""
    response = render(request, "scans/_live_counts.html", _live_context(request))
    response["Cache-Control"] = "no-cache, private"
    return response


def _filters(request: HttpRequest) -> tuple[AnalyticsFilterForm, Filters]:
    form = AnalyticsFilterForm(request.GET or None, today=request.tenant.today())
    return form, form.filters()


@require_GET
@member_required("view_analytics")
def analytics(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    notice = ""
    try:
        report = build_report(workspace=request.tenant, filters=filters)
    except TooLongToCount:
        # The language stays chosen in the form, with the reason in the report; its numbers are every language's.
        notice = (
            "There are too many scans in this range to count one language in time, so every language is "
            "shown. Choose a shorter range to count one language."
        )
        report = build_report(workspace=request.tenant, filters=replace(filters, language=""))
    context = {
        "section": "analytics",
        "notice": notice,
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
    if filters.language:
        scans = scans.filter(language=filters.language)
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
