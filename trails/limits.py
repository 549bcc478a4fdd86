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


def count_preview(request: HttpRequest, *, caller: str) -> None:
    """Count one preview for `caller` (e.g. "user:12", "key:3"); raise TooManyPreviews past the limit."""
    if not ratelimit.consume(request, action=ACTION, key=caller):
        raise TooManyPreviews
