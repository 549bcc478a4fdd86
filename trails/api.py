"""Trails, stops and QR images in the REST API (mounted, with auth and errors, by qrcards/api.py).

Errors are raised as the models raise them (InvalidDocument, StaleVersion, InvalidQrOptions,
Http404, ValidationError); qrcards/api.py turns each into its HTTP answer.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from pydantic import AfterValidator

import dap
from qrcards.api_fields import Id, storable_text
from trails.downloads import card_host, qr_download
from trails.forms import QrOptionsForm
from trails.limits import count_preview
from trails.models import Stop, Trail
from trails.qr import MAX_BORDER, MIN_BORDER, PNG_SIZE_PX, PRINT_SIZE_MM

router = Router()
# Mounted with read auth: assembling a preview changes nothing, so a read key may ask for one.
preview_router = Router()

TrailStatus = Literal["draft", "published", "archived"]


Markdown = Annotated[
    str,
    Field(max_length=dap.MAX_DOCUMENT_BYTES, description="The whole trail as one Markdown document."),
    AfterValidator(storable_text),
]


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
    key: str = Field(description="The stable id from the document's {#id}.")
    token: str
    position: int
    title: str
    excerpt: str
    url: str = Field(description="What the stop's QR code encodes.")
    qr_svg: str = Field(description="The QR code as SVG (takes the same options as qr.png).")
    qr_png: str


class StopDetail(StopOut):
    html: str


class StopList(Schema):
    items: list[StopOut]


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


class TrailSaved(Schema):
    trail: TrailDetail
    assembly: Assembly


class TrailFilters(Schema):
    status: TrailStatus | None = None
    q: Annotated[str, AfterValidator(storable_text)] | None = Field(
        None, max_length=100, description="Part of the title."
    )


class TrailCreate(Schema):
    source: Markdown
    status: Literal["draft", "published"] = "draft"


class TrailUpdate(Schema):
    source: Markdown
    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The version you edited; omit it to overwrite whatever is there."
    )
    status: TrailStatus | None = None


class Preview(Schema):
    source: Markdown


class QrQuery(Schema):
    """The dashboard's QR options (trails.forms.QrOptionsForm); anything left out takes its default."""

    error_correction: Literal["L", "M", "Q", "H"] | None = None
    size_px: int | None = Field(None, ge=PNG_SIZE_PX[0], le=PNG_SIZE_PX[1], description="PNG width (PNG only).")
    size_mm: float | None = Field(None, ge=PRINT_SIZE_MM[0], le=PRINT_SIZE_MM[1], description="SVG width (SVG only).")
    foreground: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    background: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    border: int | None = Field(None, ge=MIN_BORDER, le=MAX_BORDER, description="Quiet zone, in modules.")


# Helpers --------------------------------------------------------------------------------------------------


def _trails() -> QuerySet[Trail]:
    live_stops = Count("stops", filter=Q(stops__retired_at__isnull=True))
    # Meta.ordering is dropped from aggregating queries, so it is repeated here.
    return Trail.objects.live().annotate(stop_count=live_stops).order_by("title", "pk")


def _get_trail(pk: int) -> Trail:
    """A live trail of this workspace (the schema is the workspace's, so no other's trail can match)."""
    return get_object_or_404(_trails(), pk=pk)


def _get_stop(trail_pk: int, stop_pk: int) -> tuple[Trail, Stop]:
    trail = _get_trail(trail_pk)
    return trail, get_object_or_404(trail.live_stops(), pk=stop_pk)


def _stop_out(request: HttpRequest, stop: Stop, *, card: tuple[str, str], detail: bool = False) -> dict:
    """A stop as the API shows it; `card` is card_host()'s (scheme, host) for its URL."""
    scheme, host = card
    kwargs = {"trail_id": stop.trail_id, "stop_id": stop.pk}
    out = {
        "id": stop.pk,
        "key": stop.key,
        "token": stop.token,
        "position": stop.position,
        "title": stop.title,
        "excerpt": stop.excerpt,
        "url": stop.qr_url(host=host, scheme=scheme),
        "qr_svg": request.build_absolute_uri(reverse("api:stop-qr-svg", kwargs=kwargs)),
        "qr_png": request.build_absolute_uri(reverse("api:stop-qr-png", kwargs=kwargs)),
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


def _set_status(trail: Trail, status: str) -> None:
    if status != trail.status:
        {"draft": trail.unpublish, "published": trail.publish, "archived": trail.archive}[status]()


# Trails ---------------------------------------------------------------------------------------------------


@router.get("", response=TrailList, url_name="trail-list", summary="List trails")
def list_trails(request: HttpRequest, filters: Query[TrailFilters]) -> dict:
    trails = _trails()
    if filters.status:
        trails = trails.filter(status=filters.status)
    if filters.q:
        trails = trails.filter(title__icontains=filters.q)
    return {"items": list(trails)}


@router.post("", response={201: TrailSaved}, url_name="trail-create", summary="Create a trail from Markdown")
def create_trail(request: HttpRequest, payload: TrailCreate) -> Status:
    """An invalid document is a 422 whose `details.diagnostics` says what and where; nothing is saved."""
    with transaction.atomic():
        trail = Trail(status=payload.status)
        assembly = trail.set_source(payload.source)
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
        if payload.status:
            _set_status(trail, payload.status)
    return {"trail": _trail_detail(request, trail), "assembly": assembly}


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
    return dap.assemble(payload.source)


# Stops and QR codes ---------------------------------------------------------------------------------------


@router.get("/{trail_id}/stops", response=StopList, url_name="stop-list", summary="List a trail's stops")
def list_stops(request: HttpRequest, trail_id: Id) -> dict:
    stops = list(_get_trail(trail_id).live_stops())
    card = card_host(request, stops=stops)
    return {"items": [_stop_out(request, stop, card=card) for stop in stops]}


@router.get("/{trail_id}/stops/{stop_id}", response=StopDetail, url_name="stop-detail", summary="Get a stop")
def get_stop(request: HttpRequest, trail_id: Id, stop_id: Id) -> dict:
    _, stop = _get_stop(trail_id, stop_id)
    return _stop_out(request, stop, card=card_host(request, stops=[stop]), detail=True)


def _image_doc(media_type: str) -> dict:
    content = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    return {"responses": {200: {"description": "The QR code, as a download", "content": content}}}


@router.get("/{trail_id}/stops/{stop_id}/qr.svg", url_name="stop-qr-svg", openapi_extra=_image_doc("image/svg+xml"))
def stop_qr_svg(request: HttpRequest, trail_id: Id, stop_id: Id, options: Query[QrQuery]) -> HttpResponse:
    """The stop's QR code as SVG, `size_mm` wide: for print."""
    return _qr_image(request, trail_id, stop_id, options, "svg")


@router.get("/{trail_id}/stops/{stop_id}/qr.png", url_name="stop-qr-png", openapi_extra=_image_doc("image/png"))
def stop_qr_png(request: HttpRequest, trail_id: Id, stop_id: Id, options: Query[QrQuery]) -> HttpResponse:
    """The stop's QR code as PNG, `size_px` square: for screens."""
    return _qr_image(request, trail_id, stop_id, options, "png")


def _qr_image(request: HttpRequest, trail_id: int, stop_id: int, options: QrQuery, fmt: str) -> HttpResponse:
    trail, stop = _get_stop(trail_id, stop_id)
    # The dashboard's form checks what the schema can't: contrast, and the two together.
    form = QrOptionsForm.from_query({name: str(value) for name, value in options.dict(exclude_none=True).items()})
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    return qr_download(request, trail=trail, stop=stop, options=form.options, fmt=fmt)
