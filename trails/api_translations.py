"""Trails' translations in the REST API (mounted beside trails/api.py by qrcards/api.py).

A translation is its own Markdown document, its stops matched to the trail's by {#id}. Errors are
raised as the models raise them (InvalidDocument, StaleVersion, Http404, ValidationError); qrcards/api.py
turns each into its HTTP answer.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Router, Schema, Status

import dap
from qrcards.api_fields import Body, Id
from trails.api import Diagnostic, Markdown, _get_trail
from trails.models import Trail, TrailTranslation

router = Router()

Language = Path[str, {"min_length": 2, "max_length": 16, "pattern": r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"}]


class TranslationOut(Schema):
    language: str = Field(description="A BCP 47 tag.")
    name: str = Field(description="The language in its own name, e.g. Deutsch.")
    direction: Literal["ltr", "rtl"]
    title: str
    version: int = Field(description="Send it back when updating, to be told (409) if someone saved in between.")
    translated: int = Field(description="Stops of the trail this translation has.")
    total: int = Field(description="Live stops of the trail.")
    updated_at: datetime.datetime


class TranslatedStop(Schema):
    key: str = Field(description="The stable id of the trail's stop it translates.")
    title: str
    html: str


class TranslationDetail(TranslationOut):
    source: str
    stops: list[TranslatedStop]
    diagnostics: list[Diagnostic] = Field(
        description="Against the main document: stops missing or extra, out of date, pictures that differ."
    )


class TranslationList(Schema):
    main_language: str
    items: list[TranslationOut]


class TranslationPut(Body):
    source: Markdown
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = Field(
        None, description="The version you edited; omit it to overwrite whatever is there."
    )


def _out(translation: TrailTranslation, *, detail: bool = False) -> dict:
    report = translation.report()
    info = translation.info
    out = {
        "language": translation.language,
        "name": info.name,
        "direction": info.direction,
        "title": translation.title,
        "version": translation.version,
        "translated": report.translated,
        "total": report.total,
        "updated_at": translation.updated_at,
    }
    if detail:
        out["source"] = translation.source
        out["stops"] = list(translation.stops.filter(key__in=translation.trail.live_stops().values("key")))
        out["diagnostics"] = report.diagnostics
    return out


def _offered(trail: Trail, language: str) -> dap.Language:
    info = dap.language(language)
    if info not in dap.LANGUAGES:
        raise ValidationError({"language": [f'"{language}" is not a language we offer.']})
    if info.tag == trail.language:
        raise ValidationError({"language": [f'"{language}" is the trail\'s main language.']})
    return info


@router.get(
    "/{trail_id}/translations", response=TranslationList, url_name="translation-list", summary="List translations"
)
def list_translations(request: HttpRequest, trail_id: Id) -> dict:
    trail = _get_trail(trail_id)
    return {"main_language": trail.language, "items": [_out(one) for one in trail.translations.all()]}


@router.get(
    "/{trail_id}/translations/{language}",
    response=TranslationDetail,
    url_name="translation-detail",
    summary="Get a translation",
)
def get_translation(request: HttpRequest, trail_id: Id, language: Language) -> dict:
    trail = _get_trail(trail_id)
    return _out(get_object_or_404(trail.translations, language__iexact=language), detail=True)


@router.put(
    "/{trail_id}/translations/{language}",
    response={200: TranslationDetail, 201: TranslationDetail},
    url_name="translation-put",
    summary="Create or replace a translation's Markdown",
)
def put_translation(request: HttpRequest, trail_id: Id, language: Language, payload: TranslationPut) -> Status:
    """Stops are matched to the trail's by {#id}; an invalid document is a 422, a stale `version` a 409."""
    trail = _get_trail(trail_id)
    translation = trail.translations.filter(language__iexact=language).first()
    created = translation is None
    if translation is None:
        translation = TrailTranslation(trail=trail, language=_offered(trail, language).tag)
    translation.set_source(payload.source, expected_version=payload.version)
    return Status(201 if created else 200, _out(translation, detail=True))


@router.delete(
    "/{trail_id}/translations/{language}",
    response={204: None},
    url_name="translation-delete",
    summary="Delete a translation",
)
def delete_translation(request: HttpRequest, trail_id: Id, language: Language) -> Status:
    """Its stops show in the trail's main language again."""
    trail = _get_trail(trail_id)
    found = trail.translations.filter(language__iexact=language).first()
    if found is None:
        raise Http404("No such translation.")
    found.delete()
    return Status(204, None)
