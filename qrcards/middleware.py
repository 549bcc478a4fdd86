"""Refuse, at the door, what no page of ours can take: a NUL character in the address.

PostgreSQL stores no NUL in text, so a NUL that reaches a query (a search, a token lookup) is a
database error, a 500. No honest link has one. Form fields need no such guard: Django's form
fields refuse NUL with a message beside the field, keeping what was typed, and the trail
documents that views read directly get a `bad-character` diagnostic from DAP. The API's JSON
strings are checked by its schemas (`trails.api.storable_text`). Headers we store are cleaned
where they are stored (`scans.recording`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

MESSAGE = "The address has a NUL character (%00), which no page takes."


def refuse_nul_in_address(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """A 400 for a NUL in the path or query string, in the API's error shape under /api/."""

    def middleware(request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path_info or "%00" in query or "\x00" in query:
            if request.path_info.startswith("/api/"):
                from qrcards.api import error_response  # the API's one error shape; imported late, as it loads the API

                return error_response(400, "bad_request", MESSAGE)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return get_response(request)

    return middleware
