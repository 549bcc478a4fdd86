"""Trails, stops and QR images in the REST API (mounted, with auth and errors, by qrcards/api.py).

Errors are raised as the models raise them (InvalidDocument, StaleVersion, InvalidQrOptions,
Http404, ValidationError); qrcards/api.py turns each into its HTTP answer.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Paginator
from django.core.paginator import Page as DjangoPage
from django.db import transaction
from django.db.models import Count, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import AfterValidator, ConfigDict

import dap
from qrcards.api_fields import Body, Id, PageQuery, page_of, storable_text
from trails.downloads import card_host, cards_pdf_download, qr_download, qr_zip_download
from trails.forms import PrintForm, QrOptionsForm
from trails.limits import count_preview
from trails.models import Stop, Trail, assemble, normalize_token
from trails.qr import MAX_BORDER, MIN_BORDER, PNG_SIZE_PX, PRINT_SIZE_MM

router = Router()
# Mounted with read auth: assembling a preview changes nothing, so a read key may ask for one.
preview_router = Router()
# Mounted at /stops: a stop found by the token on its card.
stops_router = Router()

TrailStatus = Literal["draft", "published", "archived"]


Markdown = Annotated[
    str,
    Field(max_length=dap.MAX_DOCUMENT_BYTES, description="The whole trail as one Markdown document."),
    AfterValidator(storable_text),
]
Theme = Literal[dap.THEMES]  # type: ignore[valid-type]
Title = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(storable_text)]

# Drawing a card takes ~10 ms, a 512 px PNG ~20 ms (on a busy 2-core machine; 500 stops of cards were 4 s):
# a long trail's downloads come in pages of under a second's work, so no request holds a worker long.
# Each page's Link: <…>; rel="next" header names the next.
CARDS_PER_PDF = 48  # six sheets of eight
CODES_PER_ZIP = 50
PNG_PIXELS_PER_ZIP = 25 * 512 * 512

SAMPLE_TRAIL = """+++
title = "Old Town Walk"
language = "en"
theme = "classic"
+++
Two hours through the old town, from the fountain to the river.

## The Fountain {#fountain}
Built in 1820, when the town first had running water.

## Clock Tower {#clock-tower}
Its clock has run fast since 1907. ![The tower at dusk](tower.jpg)

## The Bridge {#bridge}
The last stop: the river, and the way back.
"""


def _examples(*examples: dict) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


# Schemas --------------------------------------------------------------------------------------------------


class Diagnostic(Schema):
    line: int = Field(description="1-based; 0 for the whole document.")
    severity: Literal["error", "warning"]
    code: str
    message: str


class AssembledStop(Schema):
    id: str
    title: str
    html: str
    excerpt: str
    line: int


class Assembly(Schema):
    ok: bool = Field(description="False when errors keep the document from being saved.")
    title: str
    language: str
    theme: str
    call_to_action: str = Field(description="Printed under each card's code; empty for the default line.")
    intro_html: str
    stops: list[AssembledStop]
    diagnostics: list[Diagnostic]


class StopOut(Schema):
    id: int
    trail_id: int
    key: str = Field(description="The stable id from the document's {#id}.")
    token: str = Field(description="What the card carries; matched in any case.")
    position: int | None = Field(description="1 to the trail's number of stops; null once retired.")
    title: str
    excerpt: str
    url: str = Field(description="What the stop's QR code encodes.")
    retired_at: datetime.datetime | None = Field(
        description="When the stop left its trail's document (or the trail was deleted); its card then leads "
        "to the trail. Null while it is live."
    )
    qr_svg: str | None = Field(description="The QR code as SVG (takes the same options as qr.png); null once retired.")
    qr_png: str | None


class StopDetail(StopOut):
    html: str


class StopList(Schema):
    items: list[StopOut]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next page.")
    has_more: bool


class TrailOut(Schema):
    id: int
    title: str
    status: TrailStatus
    language: str
    theme: str
    call_to_action: str = Field(
        description="From the front matter: printed under each card's code; empty for the default."
    )
    version: int = Field(description="Send it back when updating, to be told (409) if someone saved in between.")
    stop_count: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TrailDetail(TrailOut):
    source: str
    stops: list[StopOut]


class TrailList(Schema):
    items: list[TrailOut]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next page.")
    has_more: bool


class TrailSaved(Schema):
    trail: TrailDetail
    assembly: Assembly


class TrailFilters(PageQuery):
    status: TrailStatus | None = None
    q: Annotated[str, AfterValidator(storable_text)] | None = Field(
        None, max_length=100, description="Part of the title."
    )


class TrailCreate(Body):
    model_config = _examples({"source": SAMPLE_TRAIL, "status": "published"})

    source: Markdown
    status: Literal["draft", "published"] = "draft"


class TrailUpdate(Body):
    model_config = _examples({"source": SAMPLE_TRAIL, "version": 3})

    source: Markdown
    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The version you edited; omit it to overwrite whatever is there."
    )
    status: TrailStatus | None = None


class TrailPatch(Body):
    """Only what is sent changes. Title and theme are rewritten in the document's front matter (a new
    version, as any edit); the status is not part of the document and keeps the version."""

    model_config = _examples({"status": "published"}, {"title": "Old Town Walk (summer)", "version": 3})

    title: Title | None = None
    theme: Theme | None = None
    status: TrailStatus | None = None
    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The version you last saw: a 409 if someone saved another since."
    )


class Preview(Body):
    model_config = _examples({"source": SAMPLE_TRAIL})

    source: Markdown


class StopListQuery(PageQuery):
    include: Literal["retired"] | None = Field(
        None, description="`retired`: also the stops gone from the document, after the live ones, to reconcile cards."
    )


class CardsQuery(Schema):
    paper: Literal["A4", "LETTER", "CARD", "A6", "TENT"] = "A4"
    crop_marks: bool = False
    page: int = Field(1, ge=1, le=1000, description=f"A long trail's cards come {CARDS_PER_PDF} to a file.")


class QrQuery(Schema):
    """The dashboard's QR options (trails.forms.QrOptionsForm); anything left out takes its default."""

    error_correction: Literal["L", "M", "Q", "H"] | None = None
    size_px: int | None = Field(None, ge=PNG_SIZE_PX[0], le=PNG_SIZE_PX[1], description="PNG width (PNG only).")
    size_mm: float | None = Field(None, ge=PRINT_SIZE_MM[0], le=PRINT_SIZE_MM[1], description="SVG width (SVG only).")
    foreground: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    background: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    border: int | None = Field(None, ge=MIN_BORDER, le=MAX_BORDER, description="Quiet zone, in modules.")


class ZipQuery(QrQuery):
    format: Literal["svg", "png"] = Field("svg", description="SVG (`size_mm`) for print, PNG (`size_px`) for screens.")
    page: int = Field(
        1, ge=1, le=1000, description=f"A long trail's codes come {CODES_PER_ZIP} SVGs to a file, fewer large PNGs."
    )


# Helpers --------------------------------------------------------------------------------------------------


def _trails() -> QuerySet[Trail]:
    live_stops = Count("stops", filter=Q(stops__retired_at__isnull=True))
    # Meta.ordering is dropped from aggregating queries, so it is repeated here.
    return Trail.objects.live().annotate(stop_count=live_stops).order_by("title", "pk")


def _get_trail(pk: int) -> Trail:
    """A live trail of this workspace (the schema is the workspace's, so no other's trail can match)."""
    return get_object_or_404(_trails(), pk=pk)


def _get_stop(trail_pk: int, stop_pk: int, *, retired: bool = False) -> tuple[Trail, Stop]:
    trail = _get_trail(trail_pk)
    stops = trail.stops.all() if retired else trail.live_stops()
    return trail, get_object_or_404(stops, pk=stop_pk)


def _stop_out(request: HttpRequest, stop: Stop, *, card: tuple[str, str], detail: bool = False) -> dict:
    """A stop as the API shows it; `card` is card_host()'s (scheme, host) for its URL."""
    scheme, host = card
    kwargs = {"trail_id": stop.trail_id, "stop_id": stop.pk}
    live = stop.retired_at is None
    out = {
        "id": stop.pk,
        "trail_id": stop.trail_id,
        "key": stop.key,
        "token": stop.token,
        "position": stop.position,
        "title": stop.title,
        "excerpt": stop.excerpt,
        "url": stop.qr_url(host=host, scheme=scheme),
        "retired_at": stop.retired_at,
        "qr_svg": request.build_absolute_uri(reverse("api:stop-qr-svg", kwargs=kwargs)) if live else None,
        "qr_png": request.build_absolute_uri(reverse("api:stop-qr-png", kwargs=kwargs)) if live else None,
    }
    if detail:
        out["html"] = stop.html
    return out


def _trail_detail(request: HttpRequest, trail: Trail) -> dict:
    stops = list(trail.live_stops())
    card = card_host(request, stops=stops)
    return {
        **{field: getattr(trail, field) for field in TrailOut.model_fields if field != "stop_count"},
        "stop_count": len(stops),
        "source": trail.source,
        "stops": [_stop_out(request, stop, card=card) for stop in stops],
    }


def _created(response: HttpResponse, trail: Trail) -> None:
    response["Location"] = reverse("api:trail-detail", kwargs={"trail_id": trail.pk})


# Trails ---------------------------------------------------------------------------------------------------


@router.get("", response=TrailList, url_name="trail-list", summary="List trails")
def list_trails(request: HttpRequest, filters: Query[TrailFilters]) -> dict:
    """By title, a page at a time: follow `next_cursor` while `has_more`."""
    trails = _trails()
    if filters.status:
        trails = trails.filter(status=filters.status)
    if filters.q:
        trails = trails.filter(title__icontains=filters.q)
    return page_of(trails, order=("title", "pk"), types=(str, int), query=filters)


@router.post("", response={201: TrailSaved}, url_name="trail-create", summary="Create a trail from Markdown")
def create_trail(request: HttpRequest, payload: TrailCreate, response: HttpResponse) -> Status:
    """An invalid document is a 422 whose `details.diagnostics` says what and where; nothing is saved.

    The answer's `Location` is the new trail's address.
    """
    with transaction.atomic():
        trail = Trail(status=payload.status)
        assembly = trail.set_source(payload.source)
    _created(response, trail)
    return Status(201, {"trail": _trail_detail(request, trail), "assembly": assembly})


@router.get("/{trail_id}", response=TrailDetail, url_name="trail-detail", summary="Get a trail")
def get_trail(request: HttpRequest, trail_id: Id) -> dict:
    return _trail_detail(request, _get_trail(trail_id))


@router.put("/{trail_id}", response=TrailSaved, url_name="trail-update", summary="Replace a trail's Markdown")
def update_trail(request: HttpRequest, trail_id: Id, payload: TrailUpdate) -> dict:
    """Stops keep their tokens by {#id}; stops gone from the document are retired. A stale `version` is a 409."""
    trail = _get_trail(trail_id)
    with transaction.atomic():
        assembly = trail.set_source(payload.source, expected_version=payload.version)
        trail.change(status=payload.status)
    return {"trail": _trail_detail(request, trail), "assembly": assembly}


@router.patch(
    "/{trail_id}", response=TrailDetail, url_name="trail-patch", summary="Change a trail's title, theme or status"
)
def patch_trail(request: HttpRequest, trail_id: Id, payload: TrailPatch) -> dict:
    """Without resending the Markdown. A stale `version` is a 409; stops and their tokens stay as they are."""
    trail = _get_trail(trail_id)
    trail.change(title=payload.title, theme=payload.theme, status=payload.status, expected_version=payload.version)
    return _trail_detail(request, trail)


@router.delete("/{trail_id}", response={204: None}, url_name="trail-delete", summary="Delete a trail")
def delete_trail(request: HttpRequest, trail_id: Id) -> Status:
    """Its stops are retired: printed cards lead to a "moved on" page, never a bare 404."""
    _get_trail(trail_id).delete_softly()
    return Status(204, None)


@preview_router.post("/preview", response=Assembly, url_name="trail-preview", summary="Assemble without saving")
def preview_trail(request: HttpRequest, payload: Preview) -> dap.Assembly:
    """The assembly and its diagnostics, as saving would give them; errors are reported, not refused.

    Limited per caller (a key, or a member's session): 60 a minute.
    """
    count_preview(request, api_key=request.auth.key)
    return assemble(payload.source)


# Stops and QR codes ---------------------------------------------------------------------------------------


@router.get("/{trail_id}/stops", response=StopList, url_name="stop-list", summary="List a trail's stops")
def list_stops(request: HttpRequest, trail_id: Id, query: Query[StopListQuery]) -> dict:
    """In trail order, a page at a time; with `include=retired`, the retired stops follow, oldest first."""
    trail = _get_trail(trail_id)
    stops = trail.stops.all() if query.include == "retired" else trail.live_stops()
    # Live stops hold positions 1..n; retired ones none, so they sort after, by id.
    stops = stops.annotate(rank=Coalesce("position", Value(2**31 - 1), output_field=IntegerField()))
    page = page_of(stops, order=("rank", "pk"), types=(int, int), query=query)
    card = card_host(request, stops=[stop for stop in page["items"] if stop.retired_at is None])
    return page | {"items": [_stop_out(request, stop, card=card) for stop in page["items"]]}


@router.get("/{trail_id}/stops/{stop_id}", response=StopDetail, url_name="stop-detail", summary="Get a stop")
def get_stop(request: HttpRequest, trail_id: Id, stop_id: Id) -> dict:
    """Retired stops too: their `retired_at` says when."""
    _, stop = _get_stop(trail_id, stop_id, retired=True)
    return _stop_out(request, stop, card=card_host(request, stops=[stop]), detail=True)


Token = Path[str, {"max_length": 64, "description": "As printed or scanned, in any case."}]


@stops_router.get("/{token}", response=StopDetail, url_name="stop-by-token", summary="Find a stop by its token")
def stop_by_token(request: HttpRequest, token: Token) -> dict:
    """The stop a card's token belongs to, live or retired (of a deleted trail too), to reconcile printed cards."""
    canonical = normalize_token(token)
    stop = Stop.objects.filter(token=canonical).first() if canonical else None
    if stop is None:
        raise Http404("No stop has this token.")
    return _stop_out(request, stop, card=card_host(request, stops=[stop]), detail=True)


def _file_doc(media_type: str, description: str, *, paged: bool = False) -> dict:
    content = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    answer: dict = {"description": description, "content": content}
    if paged:
        link = '<…?page=2>; rel="next", while a long trail has more pages'
        answer["headers"] = {"Link": {"description": link, "schema": {"type": "string"}}}
    return {"responses": {200: answer}}


@router.get(
    "/{trail_id}/stops/{stop_id}/qr.svg",
    url_name="stop-qr-svg",
    openapi_extra=_file_doc("image/svg+xml", "The QR code, as a download"),
)
def stop_qr_svg(request: HttpRequest, trail_id: Id, stop_id: Id, options: Query[QrQuery]) -> HttpResponse:
    """The stop's QR code as SVG, `size_mm` wide: for print."""
    return _qr_image(request, trail_id, stop_id, options, "svg")


@router.get(
    "/{trail_id}/stops/{stop_id}/qr.png",
    url_name="stop-qr-png",
    openapi_extra=_file_doc("image/png", "The QR code, as a download"),
)
def stop_qr_png(request: HttpRequest, trail_id: Id, stop_id: Id, options: Query[QrQuery]) -> HttpResponse:
    """The stop's QR code as PNG, `size_px` square: for screens."""
    return _qr_image(request, trail_id, stop_id, options, "png")


@router.get(
    "/{trail_id}/cards.pdf",
    url_name="trail-cards-pdf",
    summary="Printable cards (PDF)",
    openapi_extra=_file_doc("application/pdf", "Every live stop's card, eight to a sheet", paged=True),
)
def trail_cards_pdf(request: HttpRequest, trail_id: Id, query: Query[CardsQuery]) -> HttpResponse:
    """The dashboard's printable cards: one card per live stop, with its QR code and title."""
    form = PrintForm({"paper": query.paper, "crop_marks": query.crop_marks})
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    trail = _get_trail(trail_id)
    page = _page_of_stops(trail, number=query.page, per_page=CARDS_PER_PDF)
    pdf = cards_pdf_download(
        request,
        trail=trail,
        paper=form.cleaned_data["paper"],
        crop_marks=query.crop_marks,
        stops=list(page),
        first=page.start_index() or 1,
        count=page.paginator.count,
    )
    return _with_next_link(request, pdf, page)


@router.get(
    "/{trail_id}/qr.zip",
    url_name="trail-qr-zip",
    summary="Every stop's QR code (ZIP)",
    openapi_extra=_file_doc(
        "application/zip", "One file per live stop, named <trail>-<position>-<token>.<format>", paged=True
    ),
)
def trail_qr_zip(request: HttpRequest, trail_id: Id, query: Query[ZipQuery]) -> HttpResponse:
    """Takes the options of a stop's qr.svg and qr.png."""
    trail = _get_trail(trail_id)
    options = _qr_form(query).options
    per_page = CODES_PER_ZIP if query.format == "svg" else PNG_PIXELS_PER_ZIP // options.size_px**2
    page = _page_of_stops(trail, number=query.page, per_page=max(1, min(per_page, CODES_PER_ZIP)))
    archive = qr_zip_download(request, trail=trail, options=options, fmt=query.format, stops=list(page))
    return _with_next_link(request, archive, page)


def _page_of_stops(trail: Trail, *, number: int, per_page: int) -> DjangoPage:
    try:
        return Paginator(trail.live_stops(), per_page, allow_empty_first_page=True).page(number)
    except EmptyPage:
        raise Http404(f"This trail's stops end before page {number}.") from None


def _with_next_link(request: HttpRequest, response: HttpResponse, page: DjangoPage) -> HttpResponse:
    if page.has_next():
        query = request.GET.copy()
        query["page"] = str(page.next_page_number())
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="next"'
    return response


def _qr_form(options: QrQuery) -> QrOptionsForm:
    # The dashboard's form checks what the schema can't: contrast, and the two together.
    chosen = options.dict(exclude_none=True, exclude={"format", "page"})
    form = QrOptionsForm.from_query({name: str(value) for name, value in chosen.items()})
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    return form


def _qr_image(request: HttpRequest, trail_id: int, stop_id: int, options: QrQuery, fmt: str) -> HttpResponse:
    trail, stop = _get_stop(trail_id, stop_id)
    form = _qr_form(options)
    return qr_download(request, trail=trail, stop=stop, options=form.options, fmt=fmt)
