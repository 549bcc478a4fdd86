from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

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
