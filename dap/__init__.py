"""The Document Assembly Pipeline: a trail's Markdown document in, an Assembly out.

A plain library: no Django, no database. Import from here, not from `dap.assemble`
(the function `assemble` shadows the module of the same name on this package).
The hard limits on a document are in `dap.limits`, each with its reason.
"""

from __future__ import annotations

from dap.assemble import (
    THEMES,
    AssembledStop,
    Assembly,
    Diagnostic,
    assemble,
    media_references,
    relanguage,
    rename_media,
    retitle,
    set_front_matter,
)
from dap.limits import (
    MAX_BRACKETS,
    MAX_CALL_TO_ACTION_CHARS,
    MAX_DOCUMENT_BYTES,
    MAX_FRONT_MATTER_BYTES,
    MAX_FRONT_MATTER_DEPTH,
    MAX_FRONT_MATTER_KEYS,
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_NESTING,
    MAX_STOPS,
    MAX_TABLE_PIPES,
)
from dap.media import AUDIO, IMAGE, MediaReference, media_name
from dap.translations import LANGUAGES, Language, TranslationReport, compare, is_rtl, language

__all__ = [
    "MAX_BRACKETS",
    "MAX_CALL_TO_ACTION_CHARS",
    "MAX_DOCUMENT_BYTES",
    "MAX_FRONT_MATTER_BYTES",
    "MAX_FRONT_MATTER_DEPTH",
    "MAX_FRONT_MATTER_KEYS",
    "MAX_LINE_CHARS",
    "MAX_LINES",
    "MAX_NESTING",
    "MAX_STOPS",
    "MAX_TABLE_PIPES",
    "LANGUAGES",
    "THEMES",
    "AssembledStop",
    "Assembly",
    "Diagnostic",
    "Language",
    "TranslationReport",
    "assemble",
    "media_name",
    "media_references",
    "rename_media",
    "AUDIO",
    "IMAGE",
    "MediaReference",
    "compare",
    "is_rtl",
    "language",
    "relanguage",
    "retitle",
    "set_front_matter",
]
