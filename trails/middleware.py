"""The scanner page's fast lane: answered right after the host has chosen the workspace.

A scanner page is the same for every visitor and uses nothing the rest of the middleware provides:
no session, no log-in, no CSRF token, no messages, no static file. Those layers cost about as much
as the page itself (bench/scanner.py), so scanner pages skip them. The URL configuration still
decides what is a scanner page (the lane asks it), and the security headers are already set by
the middleware before this one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve


def scanner_fast_lane(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    from trails.views import stop_page

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD") and request.path_info[1:3] in ("qr", "QR"):
            try:
                match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
            except Resolver404:
                match = None
            if match is not None and match.func is stop_page:
                return stop_page(request, *match.args, **match.kwargs)
        return get_response(request)

    return middleware
