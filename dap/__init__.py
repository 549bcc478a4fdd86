"""The Document Assembly Pipeline: a trail's Markdown document in, an Assembly out.

A plain library: no Django, no database. Import from here, not from `dap.assemble`
(the function `assemble` shadows the module of the same name on this package).
"""

from __future__ import annotations

from dap.assemble import (
    MAX_DOCUMENT_BYTES,
    THEMES,
    AssembledStop,
    Assembly,
    Diagnostic,
    assemble,
    retitle,
)

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "THEMES",
    "AssembledStop",
    "Assembly",
    "Diagnostic",
    "assemble",
    "retitle",
]
