"""Which language a scanner page is served in: the visitor's choice (`?lang=`), else their browser's
(`Accept-Language`), among the languages the trail has; else the trail's main language.

The scanner pages' own words (stop n of N, previous, next…) are translated with Django's gettext
catalogs under `locale/`, for the languages in SCANNER_LANGUAGES.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest
from django.utils.translation.trans_real import parse_accept_lang_header

# The languages the scanner pages' own words are translated into (locale/<tag>/LC_MESSAGES/django.po).
SCANNER_LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "ja", "zh", "ar")
MAX_TAG = 35  # BCP 47 tags worth matching are short; anything longer is nobody's language


def choose_language(request: HttpRequest, available: Sequence[str]) -> str:
    """The language of `available` (its first is the main one) to serve `request` in."""
    by_lower = {tag.lower(): tag for tag in available}
    asked = request.GET.get("lang", "")[:MAX_TAG].lower()
    if asked in by_lower:
        return by_lower[asked]
    for tag, quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if quality <= 0 or tag == "*":
            continue
        if tag in by_lower:
            return by_lower[tag]
        primary = tag.split("-", 1)[0]
        for candidate, original in by_lower.items():
            if candidate.split("-", 1)[0] == primary:
                return original
    return available[0]
