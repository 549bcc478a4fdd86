from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.permissions import member_required
from scans.recording import record_scan
from trails.models import Stop, Trail, normalize_token

# Scanner pages are the same for everyone, so each process keeps the rendered HTML
# for settings.SCANNER_PAGE_CACHE_SECONDS. Saving a trail or stop here forgets them
# at once (see TrailsConfig.ready); other processes show the change within that time.
PAGE_CACHE_SIZE = 20_000
SCANNER_CSP = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


@dataclass(frozen=True, slots=True)
class ScannerPage:
    status: int
    html: str
    stop_id: int | None = None
    trail_id: int | None = None


_pages: dict[tuple[str, str], tuple[float, ScannerPage]] = {}


def forget_pages(**kwargs) -> None:
    _pages.clear()


def _scanner_page(request: HttpRequest, token: str) -> ScannerPage:
    key = (connection.schema_name, token)
    now = time.monotonic()
    cached = _pages.get(key)
    if cached and cached[0] > now:
        return cached[1]
    page = _render_scanner_page(request, token)
    if page.stop_id is not None or page.status == 410:
        if len(_pages) >= PAGE_CACHE_SIZE:
            _pages.clear()
        _pages[key] = (now + settings.SCANNER_PAGE_CACHE_SECONDS, page)
    return page


def _render_scanner_page(request: HttpRequest, token: str) -> ScannerPage:
    workspace = request.tenant
    stop = Stop.objects.select_related("trail").filter(token=token).first()
    if stop is None:
        return ScannerPage(404, render_to_string("trails/stop_missing.html", {"workspace": workspace}))
    trail = stop.trail
    if stop.is_retired:
        first = trail.live_stops().first() if trail.is_open else None
        context = {"workspace": workspace, "trail": trail, "first": first}
        return ScannerPage(410, render_to_string("trails/stop_retired.html", context))
    if not trail.is_open:
        return ScannerPage(404, render_to_string("trails/stop_not_open.html", {"workspace": workspace, "trail": trail}))
    stops = list(trail.live_stops().only("token", "title", "position"))
    index = next(i for i, s in enumerate(stops) if s.pk == stop.pk)
    context = {
        "workspace": workspace,
        "trail": trail,
        "stop": stop,
        "number": index + 1,
        "count": len(stops),
        "previous": stops[index - 1] if index > 0 else None,
        "next": stops[index + 1] if index + 1 < len(stops) else None,
    }
    return ScannerPage(200, render_to_string("trails/stop.html", context), stop_id=stop.pk, trail_id=trail.pk)


@require_safe
def stop_page(request: HttpRequest, token: str) -> HttpResponse:
    """The page a phone lands on when it scans a card. Tokens match in any case."""
    canonical = normalize_token(token)
    if canonical is None:
        page = ScannerPage(404, render_to_string("trails/stop_missing.html", {"workspace": request.tenant}))
    else:
        page = _scanner_page(request, canonical)
    if page.stop_id is not None:
        record_scan(stop_id=page.stop_id, trail_id=page.trail_id, request=request)
    response = HttpResponse(page.html, status=page.status)
    # Each visit must reach us to be counted; the CSS is what gets cached.
    response["Cache-Control"] = "no-cache, private"
    response["Content-Security-Policy"] = SCANNER_CSP
    return response


@require_GET
@member_required("view_trails")
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "trails/dashboard.html", {"section": "home", "trails": Trail.objects.live()})


@require_GET
@member_required("view_trails")
def trail_list(request: HttpRequest) -> HttpResponse:
    return render(request, "trails/trail_list.html", {"section": "trails", "trails": Trail.objects.live()})
