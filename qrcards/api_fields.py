"""What the API's routers share (trails/api.py, scans/api.py): ids, text PostgreSQL can store, request bodies
that refuse unknown fields, and cursor pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet
from ninja import Field, Path, Schema
from ninja.errors import ValidationError as RequestValidationError
from pydantic import ConfigDict

MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints: a larger number can name nothing
Id = Path[int, {"ge": 1, "le": MAX_ID}]
DEFAULT_PAGE = 100
MAX_PAGE = 1000


def storable_text(text: str) -> str:
    """PostgreSQL stores no NUL character, and UTF-8 has no lone surrogates: refuse both as bad input."""
    if "\x00" in text:
        raise ValueError("Text can't contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Text must be valid Unicode (it has a lone surrogate).") from None
    return text


class Body(Schema):
    """A request body: a field the API doesn't know is refused (422 naming it), never silently dropped,
    so a misspelt `stauts` can't look like it worked."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=500, description="`next_cursor` of the page before.")
    limit: int = Field(DEFAULT_PAGE, ge=1, le=MAX_PAGE, description="How many items a page holds at most.")


def page_of(queryset: QuerySet, *, order: Sequence[str], types: Sequence[type], query: PageQuery) -> dict[str, Any]:
    """A page of `queryset` after `query.cursor`, in `order` (whose last field is unique, so no row is skipped
    or repeated when rows are added between pages): {"items", "next_cursor", "has_more"}.

    The cursor is the last item's values of `order`, so it keeps its place however the rows before it change.
    """
    rows = queryset.order_by(*order)
    if query.cursor:
        rows = rows.filter(_after(order, _decode_cursor(query.cursor, types)))
    found = list(rows[: query.limit + 1])
    items = found[: query.limit]
    next_cursor = _encode_cursor([getattr(items[-1], field) for field in order]) if items else query.cursor
    return {"items": items, "next_cursor": next_cursor, "has_more": len(found) > query.limit}


def _after(order: Sequence[str], values: list) -> Q:
    """Rows after `values` in `order`: (a > x) or (a = x and b > y) or ..."""
    condition = Q()
    for i, field in enumerate(order):
        step = Q(**{f"{field}__gt": values[i]}, **{name: values[j] for j, name in enumerate(order[:i])})
        condition |= step
    return condition


def _encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def _plausible(value: int | str) -> bool:
    if isinstance(value, int):
        return 0 <= value <= MAX_ID
    storable_text(value)
    return True


def _decode_cursor(cursor: str, types: Sequence[type]) -> list:
    """The values a cursor holds; one this API didn't make is a 422 naming the cursor."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = (
            isinstance(values, list)
            and len(values) == len(types)
            and all(type(value) is kind for value, kind in zip(values, types, strict=True))
            and all(_plausible(value) for value in values)
        )
    except (ValueError, TypeError):  # base64, UTF-8, JSON and storable_text all fail with one
        valid = False
    if not valid:
        error = {"loc": ("query", "cursor"), "msg": "Not a cursor this API gave.", "type": "invalid_cursor"}
        raise RequestValidationError([error])
    return values
