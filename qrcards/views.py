from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe


@require_safe
def ping(request: HttpRequest) -> HttpResponse:
    """A bare answer through the whole middleware stack: uptime checks, and the benchmarks' baseline."""
    return HttpResponse("pong", content_type="text/plain")
