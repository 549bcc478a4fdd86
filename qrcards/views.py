from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django_tenants.utils import get_public_schema_name

from accounts.permissions import member_required

log = logging.getLogger(__name__)


@require_safe
def ping(request: HttpRequest) -> HttpResponse:
    """A bare answer through the whole middleware stack: uptime checks, and the benchmarks' baseline."""
    return HttpResponse("pong", content_type="text/plain")


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the database and (when REDIS_URL is set) Redis, each "ok" or "unavailable"; 503 if one is.

    Answered on every host (qrcards.middleware.HealthCheckMiddleware), since probes bring host names of their own.
    """
    checks = {"database": _database_answers()}
    if settings.REDIS_URL:
        checks["redis"] = _redis_answers()
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"} | {
        name: "ok" if up else "unavailable" for name, up in checks.items()
    }
    return JsonResponse(body, status=200 if healthy else 503)


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        log.warning("health check: the database does not answer", exc_info=True)
        return False
    return True


def _redis_answers() -> bool:
    import redis

    try:
        # A connection of its own with short time-outs: a stuck Redis must not hold the probe past its deadline.
        with redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2) as client:
            client.ping()
    except Exception:
        log.warning("health check: Redis does not answer", exc_info=True)
        return False
    return True


# What crawlers may read. The public site is for everyone. On a workspace host the API and the staff admin
# are kept out; the dashboard is not listed because no crawler ever sees it: it answers a visitor without a
# session with a redirect to the log-in page, and that page says `noindex` (search engines drop a page on
# `noindex`; a robots.txt line only stops the crawl, and a blocked URL can still be listed from links to it).
# Scanner pages (/qr/) stay open: they are what the organisation put up in public, and the bot scans
# crawlers make are flagged and left out of the analytics anyway.
PUBLIC_ROBOTS = "User-agent: *\nDisallow: /admin/\nDisallow: /workspaces/\nAllow: /\n"
WORKSPACE_ROBOTS = "User-agent: *\nDisallow: /api/\nDisallow: /admin/\nAllow: /\n"


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    public = getattr(request, "tenant", None) is None or request.tenant.schema_name == get_public_schema_name()
    response = HttpResponse(PUBLIC_ROBOTS if public else WORKSPACE_ROBOTS, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico on every host, for the browsers and crawlers that ask for it whatever the page links."""
    response = HttpResponse(_favicon_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=604800"
    return response


@lru_cache(maxsize=1)
def _favicon_bytes() -> bytes:
    return (settings.BASE_DIR / "static" / "icons" / "favicon.ico").read_bytes()


@require_safe
@member_required("view_trails")
def styleguide(request: HttpRequest) -> HttpResponse:
    """The design system's components, each as the pages use it: for anyone who changes a template.

    Every member may see it (it shows no data of the workspace), so it needs no rule of its own.
    """
    from django import forms

    from scans.chart import sparkline

    class SampleForm(forms.Form):
        name = forms.CharField(help_text="Shown on your cards.")
        address = forms.CharField(label="Address", help_text="3 to 30 lower-case letters, digits and hyphens.")
        notify = forms.BooleanField(label="E-mail me about new scans", required=False)

    form = SampleForm({"name": "Old Town Walk", "address": "Old Town"})
    form.add_error("address", "Use lower-case letters only.")
    context = {"form": form, "spark": sparkline([3, 5, 4, 8, 6, 9, 12, 10, 14, 13, 17, 15]), "section": "styleguide"}
    return render(request, "styleguide.html", context)
