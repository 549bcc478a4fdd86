"""Scans and stats in the REST API (mounted, with auth and errors, by qrcards/api.py).

Stats come from scans/analytics.py's build_report, so they are the analytics page's numbers;
the CSV is the dashboard's export with the API's filters.
"""

from __future__ import annotations

import base64
import datetime
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError as RequestValidationError
from pydantic import AfterValidator, model_validator

from qrcards.api_fields import DEFAULT_PAGE, MAX_ID, MAX_PAGE
from scans import rollups
from scans.analytics import Report, Row, build_report
from scans.export import scans_csv
from scans.forms import AnalyticsFilterForm
from scans.models import Scan

router = Router()

# Days far outside any scan's life would overflow date arithmetic; refuse them as bad input.
FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2999, 12, 31)


def _plausible_day(day: datetime.date | None) -> datetime.date | None:
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"Days must be between {FIRST_DAY} and {LAST_DAY}.")
    return day


Day = Annotated[datetime.date | None, AfterValidator(_plausible_day)]
OptionalId = Annotated[int | None, Field(ge=1, le=MAX_ID)]


# Schemas --------------------------------------------------------------------------------------------------


class ScanFilters(Schema):
    start: Day = Field(None, description="First day, in the workspace's time zone; omit for the first scan.")
    end: Day = Field(None, description="Last day, included; omit for today.")
    trail: OptionalId = None
    stop: OptionalId = None
    include_bots: bool = Field(False, description="Crawlers and link previews are kept, flagged, and left out.")

    @model_validator(mode="after")
    def _ordered(self) -> ScanFilters:
        if self.start and self.end and self.start > self.end:
            raise ValueError("The first day must come before the last.")
        return self


class ScanPageQuery(ScanFilters):
    cursor: str | None = Field(None, max_length=200, description="`next_cursor` of the page before.")
    limit: int = Field(DEFAULT_PAGE, ge=1, le=MAX_PAGE)


class ScanOut(Schema):
    id: int
    scanned_at: datetime.datetime
    trail_id: int
    stop_id: int
    stop_token: str
    device: str
    browser: str
    os: str
    country: str
    referrer: str
    ip_network: str | None = Field(description="Truncated: IPv4 /24, IPv6 /48.")
    visitor: str = Field(description="A daily-salted hash: the same person on the same day, never across days.")
    is_bot: bool
    user_agent: str
    language: str = Field(description="The language the page was served in (a BCP 47 tag; empty before languages).")


class ScanPage(Schema):
    items: list[ScanOut]
    next_cursor: str | None = Field(
        description="Pass it as `cursor` for the scans after these; keep it to poll for new scans later."
    )
    has_more: bool


class StatsQuery(Schema):
    start: Day = Field(None, description="First day; default: 29 days before `end`.")
    end: Day = Field(None, description="Last day, included; default: today in the workspace's time zone.")
    trail: OptionalId = None
    include_bots: bool = False


class PeriodOut(Schema):
    first: datetime.date
    last: datetime.date


class Totals(Schema):
    scans: int
    visitors: int = Field(description="Visitor-days: someone who comes back another day counts again.")
    bot_scans: int
    previous_scans: int = Field(description="The same number of days just before.")
    previous_visitors: int


class DayOut(Schema):
    day: datetime.date
    scans: int
    visitors: int


class FunnelStepOut(Schema):
    position: int
    title: str
    visitors: int
    share: float = Field(description="Percent of the starters (visitors of the first stop).")


class FunnelOut(Schema):
    trail_id: int
    trail_title: str
    starters: int
    steps: list[FunnelStepOut]


class RowOut(Schema):
    id: int
    label: str
    scans: int
    visitors: int | None
    share: float


class Stats(Schema):
    period: PeriodOut
    trail_id: int | None
    include_bots: bool
    totals: Totals
    daily: list[DayOut]
    funnels: list[FunnelOut]
    trails: list[RowOut]
    stops: list[RowOut] = Field(description="The 20 most scanned.")


# Scans ----------------------------------------------------------------------------------------------------

SCAN_FIELDS = (
    "id",
    "scanned_at",
    "trail_id",
    "stop_id",
    "stop__token",
    "device",
    "browser",
    "os",
    "country",
    "referrer",
    "ip",
    "visitor",
    "is_bot",
    "user_agent",
    "language",
)
SCAN_KEYS = tuple(ScanOut.model_fields)


def _filtered_scans(request: HttpRequest, filters: ScanFilters) -> QuerySet[Scan]:
    """The scans the filters choose, oldest first; days start at midnight in the workspace's time zone."""
    workspace = request.tenant
    scans = Scan.objects.order_by("scanned_at", "pk")
    if filters.start:
        scans = scans.filter(scanned_at__gte=workspace.midnight(filters.start))
    if filters.end:
        scans = scans.filter(scanned_at__lt=workspace.midnight(filters.end + rollups.ONE_DAY))
    if filters.trail:
        scans = scans.filter(trail_id=filters.trail)
    if filters.stop:
        scans = scans.filter(stop_id=filters.stop)
    if not filters.include_bots:
        scans = scans.filter(is_bot=False)
    return scans


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id of the last scan a page gave; a cursor we didn't make is a 422.

    Cursors made before scans were listed in the order they were stored carry the scan's time too
    ("<time>|<id>"); they are still read, by their id.
    """
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, pk = text.split("|")
        valid = kind == "id" or datetime.datetime.fromisoformat(kind).tzinfo is not None
        pk = int(pk) if valid else 0
    except ValueError:  # base64, UTF-8, the split, the date and the number all fail with one
        pk = 0
    if not 0 < pk <= MAX_ID:
        error = {"loc": ("query", "cursor"), "msg": "Not a cursor this API gave.", "type": "invalid_cursor"}
        raise RequestValidationError([error])
    return pk


@router.get("/scans", response=ScanPage, url_name="scan-list", summary="List scans in the order they were stored")
def list_scans(request: HttpRequest, query: Query[ScanPageQuery]) -> dict:
    """A page of scans after `cursor`, in the order they were stored (their ids).

    A scan is stored a moment after it is made, and after an outage much later; ids rise in the order
    scans are committed, so a client that keeps the last `next_cursor` and asks again never misses one.
    """
    scans = _filtered_scans(request, query).order_by("pk")
    if query.cursor:
        scans = scans.filter(pk__gt=decode_cursor(query.cursor))
    rows = list(scans.values_list(*SCAN_FIELDS)[: query.limit + 1])
    items = [dict(zip(SCAN_KEYS, row, strict=True)) for row in rows[: query.limit]]
    last = items[-1] if items else None
    return {
        "items": items,
        "next_cursor": encode_cursor(last["id"]) if last else query.cursor,
        "has_more": len(rows) > query.limit,
    }


CSV_DOC = {
    "responses": {200: {"description": "CSV, streamed", "content": {"text/csv": {"schema": {"type": "string"}}}}}
}


@router.get("/scans/export.csv", url_name="scan-export", summary="Export scans as CSV", openapi_extra=CSV_DOC)
def export_scans(request: HttpRequest, filters: Query[ScanFilters]) -> StreamingHttpResponse:
    """The dashboard's CSV export (times in the workspace's time zone), streamed however many rows there are."""
    workspace = request.tenant
    filename = f"scans-{workspace.schema_name}-{filters.start or 'first'}-{filters.end or 'last'}.csv"
    return scans_csv(_filtered_scans(request, filters), workspace=workspace, filename=filename)


# Stats ----------------------------------------------------------------------------------------------------


@router.get("/stats", response=Stats, url_name="stats", summary="Totals, daily series and funnels")
def stats(request: HttpRequest, query: Query[StatsQuery]) -> dict:
    """The analytics page's numbers for the same days, trail and bot choice."""
    today = request.tenant.today()
    # The page's own form checks the range (not in the future, at most three years) and the trail.
    form = AnalyticsFilterForm(_form_data(query, today=today), today=today)
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    return _stats_out(build_report(workspace=request.tenant, filters=form.filters()))


def _form_data(query: StatsQuery, *, today: datetime.date) -> dict[str, str]:
    data = {"trail": str(query.trail or ""), "bots": "on" if query.include_bots else ""}
    if query.start is None and query.end is None:
        return data | {"range": "30"}
    end = query.end or today
    start = query.start or end - datetime.timedelta(days=29)
    return data | {"range": "custom", "start": start.isoformat(), "end": end.isoformat()}


def _stats_out(report: Report) -> dict:
    filters = report.filters
    return {
        "period": {"first": filters.period.first, "last": filters.period.last},
        "trail_id": filters.trail.pk if filters.trail else None,
        "include_bots": filters.include_bots,
        "totals": {
            "scans": report.scans,
            "visitors": report.visitors,
            "bot_scans": report.bot_scans,
            "previous_scans": report.previous_scans,
            "previous_visitors": report.previous_visitors,
        },
        "daily": [{"day": point.day, "scans": point.scans, "visitors": point.visitors} for point in report.days],
        "funnels": [
            {
                "trail_id": funnel.trail.pk,
                "trail_title": funnel.trail.title,
                "starters": funnel.starters,
                "steps": [vars(step) for step in funnel.steps],
            }
            for funnel in report.funnels
        ],
        "trails": [_row(row) for row in report.trails],
        "stops": [_row(row) for row in report.stops],
    }


def _row(row: Row) -> dict:
    return {"id": row.key, "label": row.label, "scans": row.scans, "visitors": row.visitors, "share": row.share}
