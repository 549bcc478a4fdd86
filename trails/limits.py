"""How often one caller may have a document assembled without saving it (the editor's live preview, the API's).

Assembling the largest document allowed takes a good part of a second; the dashboard's viewers and the API's
read keys may ask for it, so each caller (a user, an API key) gets ACCOUNT_RATE_LIMITS["preview_trail"].
"""

from __future__ import annotations

from allauth.core import ratelimit
from django.http import HttpRequest

ACTION = "preview_trail"
RETRY_AFTER_SECONDS = 60


class TooManyPreviews(Exception):
    """The caller asked for more previews than its limit allows; it may try again after `retry_after` seconds."""

    retry_after = RETRY_AFTER_SECONDS


def count_preview(request: HttpRequest, *, api_key=None) -> None:
    """Count one preview for its caller: `api_key`, else the logged-in person (the dashboard's editor and the
    API's session share one count). Raises TooManyPreviews past the limit."""
    caller = f"key:{api_key.pk}" if api_key is not None else f"user:{request.user.pk}"
    if not ratelimit.consume(request, action=ACTION, key=caller):
        raise TooManyPreviews
