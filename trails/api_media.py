"""The media library in the REST API (mounted at /media, with auth and errors, by qrcards/api.py).

The same keys and scopes as trails: a read key lists and gets, a read-write key uploads, renames and deletes.
Everything it does is trails/media.py's and the Asset model's; a refusal (MediaRefused) is answered by
qrcards/api.py with the status STATUS gives its code.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.errors import ValidationError
from pydantic import AfterValidator, ConfigDict

from qrcards.api_fields import Body, Id, PageQuery, page_of, storable_text
from trails import media
from trails.models import Asset, MediaNameTaken, Trail

router = Router()

# The HTTP status of each refusal (MediaRefused.code); the codes are the API's error codes too.
STATUS = {
    "invalid_name": 422,
    "unreadable": 422,
    "name_in_use": 409,
    "media_in_use": 409,
    "unsupported_type": 415,
    "markup": 415,
    "wrong_kind": 415,
    "too_large": 413,
    "too_many_pixels": 413,
    "too_many_files": 413,
    "quota_exceeded": 413,
}
MediaKind = Literal["image", "audio"]
Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=f"^{media.NAME.pattern}$",
        description="How trails refer to it: `![alt](name)`. Letters, digits, dots, dashes, underscores.",
    ),
    AfterValidator(storable_text),
]


# Schemas --------------------------------------------------------------------------------------------------


class VariantOut(Schema):
    file: str
    url: str
    role: Literal["display", "thumb"] = Field(description="`display`: for pages (srcset); `thumb`: a small preview.")
    type: str = Field(description="image/webp or image/jpeg.")
    width: int
    height: int
    bytes: int


class MediaOut(Schema):
    id: int
    name: str
    kind: MediaKind
    content_type: str = Field(description="What the uploaded file is, judged by its bytes.")
    bytes: int = Field(description="What it takes of the workspace's quota: the original and its variants.")
    width: int | None = Field(description="Pixels, upright; null for sound.")
    height: int | None
    duration: float | None = Field(description="Seconds; null for pictures.")
    colour: str = Field(description="A picture's dominant colour (#rrggbb), shown while it loads; empty for sound.")
    url: str = Field(
        description="Where the file is served: a sound's file, or a picture's largest WebP (a picture's original "
        "is kept but never served)."
    )
    variants: list[VariantOut]
    created_at: datetime.datetime
    updated_at: datetime.datetime


class DocumentOut(Schema):
    trail_id: int
    title: str
    language: str | None = Field(description="A translation's language; null for the trail's own document.")


class MediaDetail(MediaOut):
    used_by: list[DocumentOut] = Field(description="The live trails and translations whose documents refer to it.")


class MediaList(Schema):
    items: list[MediaOut]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next page.")
    has_more: bool


class Uploaded(Schema):
    items: list[MediaOut]


class MediaFilters(PageQuery):
    kind: MediaKind | None = None
    q: Annotated[str, AfterValidator(storable_text)] | None = Field(
        None, max_length=100, description="Part of the name."
    )


class MediaRename(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "heron-at-dusk.jpg"}]})

    name: Name


# Helpers --------------------------------------------------------------------------------------------------


def _get_asset(pk: int) -> Asset:
    """An asset of this workspace (the schema is the workspace's, so no other workspace's can match)."""
    return get_object_or_404(Asset, pk=pk)


def _absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def _media_out(request: HttpRequest, asset: Asset) -> dict:
    variants = [{**variant, "url": _absolute(request, asset.url(variant["file"]))} for variant in asset.variants]
    if asset.kind == Asset.Kind.IMAGE:
        display = [v for v in asset.variants if v["role"] == "display" and v["type"] == "image/webp"]
        main = asset.url(max(display, key=lambda v: v["width"])["file"]) if display else ""
    else:
        main = asset.url()
    return {
        **{field: getattr(asset, field) for field in MediaOut.model_fields if field not in ("url", "variants")},
        "url": _absolute(request, main) if main else "",
        "variants": variants,
    }


def _media_detail(request: HttpRequest, asset: Asset) -> dict:
    documents = [
        {"trail_id": document.pk, "title": document.title, "language": None}
        if isinstance(document, Trail)
        else {"trail_id": document.trail_id, "title": document.trail.title, "language": document.language}
        for document in asset.used_by()
    ]
    return {**_media_out(request, asset), "used_by": documents}


def _refused(error: media.MediaRefused, upload: UploadedFile, index: int) -> media.MediaRefused:
    """The refusal, saying which of the request's files it was about."""
    error.details = {**(error.details or {}), "file": upload.name, "index": index}
    return error


# Operations -----------------------------------------------------------------------------------------------


@router.get("", response=MediaList, url_name="media-list", summary="List media")
def list_media(request: HttpRequest, filters: Query[MediaFilters]) -> dict:
    """By name, a page at a time: follow `next_cursor` while `has_more`."""
    assets = Asset.objects.all()
    if filters.kind:
        assets = assets.filter(kind=filters.kind)
    if filters.q:
        assets = assets.filter(name__icontains=filters.q)
    page = page_of(assets, order=("name", "pk"), types=(str, int), query=filters)
    return {**page, "items": [_media_out(request, asset) for asset in page["items"]]}


@router.post("", response={201: Uploaded}, url_name="media-upload", summary="Upload pictures or sound")
def upload_media(
    request: HttpRequest,
    response: HttpResponse,
    file: File[list[UploadedFile]],
    name: Form[Name | None] = None,
) -> Status:
    """Multipart form data: one or more `file` parts (pictures: JPEG, PNG, WebP, HEIC; sound: MP3, M4A/AAC, Ogg
    Opus or Vorbis), judged by their bytes, never their names or types; `name` names a single file (else its file
    name, cleaned, is its name).

    All or nothing: if one file is refused, none is kept, and the error's `details` say which (`file`, `index`).
    Refusals: 413 `too_large` (20 MB a picture, 50 MB a sound), `too_many_pixels`, `too_many_files`,
    `quota_exceeded` (the workspace's media, originals and variants, has a quota); 415 `unsupported_type` or
    `markup` (a file that is, or hides, a web page); 409 `name_in_use`; 422 `invalid_name` or `unreadable`.
    The answer's `Location` is the new item's address when there is one.
    """
    most = media.max_files_per_upload()
    if len(file) > most:
        raise media.MediaRefused(f"At most {most} files at once; this request has {len(file)}.", code="too_many_files")
    if name and len(file) > 1:
        error = {"loc": ("body", "name"), "msg": "A name goes with a single file.", "type": "name_with_many_files"}
        raise ValidationError([error])
    stored: list[Asset] = []
    try:
        for index, upload in enumerate(file):
            try:
                stored.append(media.add_asset(name=name, upload=upload))
            except media.MediaRefused as error:
                raise _refused(error, upload, index) from None
    except BaseException:
        with transaction.atomic():
            for asset in stored:
                media.delete_asset(asset)
        raise
    if len(stored) == 1:
        response["Location"] = reverse("api:media-detail", kwargs={"media_id": stored[0].pk})
    return Status(201, {"items": [_media_out(request, asset) for asset in stored]})


upload_media.max_body_bytes = media.max_request_bytes  # read by qrcards.api.limit_body


@router.get("/{media_id}", response=MediaDetail, url_name="media-detail", summary="Get a media item")
def get_media(request: HttpRequest, media_id: Id) -> dict:
    """With the trails and translations that use it."""
    return _media_detail(request, _get_asset(media_id))


@router.patch("/{media_id}", response=MediaDetail, url_name="media-rename", summary="Rename a media item")
def rename_media(request: HttpRequest, media_id: Id, payload: MediaRename) -> dict:
    """Every trail and translation that refers to it is rewritten to the new name, each as a new version, in one
    transaction. 409 `name_in_use` if another item has the name."""
    asset = _get_asset(media_id)
    name = media.check_name(payload.name, exclude=asset)
    try:
        asset.rename(name)
    except MediaNameTaken:
        raise media.MediaRefused(f"The name “{name}” is in use.", code="name_in_use") from None
    return _media_detail(request, asset)


@router.delete("/{media_id}", response={204: None}, url_name="media-delete", summary="Delete a media item")
def delete_media(request: HttpRequest, media_id: Id) -> Status:
    """Refused (409 `media_in_use`, with the documents in `details`) while a trail or translation uses it: its page
    would lose the picture. Rename or remove the references first."""
    asset = _get_asset(media_id)
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=asset.pk)
        if uses := _media_detail(request, asset)["used_by"]:
            error = media.MediaRefused(
                f"“{asset.name}” is used by {len(uses)} document(s); remove those references first.",
                code="media_in_use",
            )
            error.details = {"used_by": uses}
            raise error
        media.delete_asset(asset)
    return Status(204, None)
