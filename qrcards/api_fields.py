"""Field types the API's routers share (trails/api.py, scans/api.py): ids and text PostgreSQL can store."""

from __future__ import annotations

from ninja import Path

MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints: a larger number can name nothing
Id = Path[int, {"ge": 1, "le": MAX_ID}]


def storable_text(text: str) -> str:
    """PostgreSQL stores no NUL character, and UTF-8 has no lone surrogates: refuse both as bad input."""
    if "\x00" in text:
        raise ValueError("Text can't contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Text must be valid Unicode (it has a lone surrogate).") from None
    return text
