"""QR codes for stops: the URL they encode, the options a customer may choose, and SVG and PNG renderings.

Plain functions and dataclasses; no Django, so `trails/cards.py` and `bench/cards.py` can use them anywhere.

The URL is written in upper case (`stop_qr_url`) so the whole of it fits QR alphanumeric mode
(5.5 bits a character instead of 8 in byte mode): "HTTPS://DEMO.QRCARDS.LOCALHOST/QR/ABCD2345" is a
version 3 code (29 modules a side) at error correction Q, its lower-case form a version 4 (33).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import qrcode
from PIL import Image
from qrcode import constants, util

from lib.colours import contrast_ratio, relative_luminance

ERROR_CORRECTION_LEVELS = {
    "L": constants.ERROR_CORRECT_L,  # ~7% of the code can be damaged and still read
    "M": constants.ERROR_CORRECT_M,  # ~15%
    "Q": constants.ERROR_CORRECT_Q,  # ~25%
    "H": constants.ERROR_CORRECT_H,  # ~30%
}
PNG_SIZE_PX = (128, 4096)
PRINT_SIZE_MM = (15.0, 200.0)
MIN_BORDER = 4  # the quiet zone the QR specification asks for, in modules
MAX_BORDER = 16
MIN_CONTRAST = 4.0

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_ALPHANUMERIC = re.compile(rb"[0-9A-Z $%*+\-./:]*")


def stop_qr_url(*, host: str, token: str, scheme: str = "https") -> str:
    """The URL a stop's QR code encodes, e.g. "HTTPS://DEMO.QRCARDS.LOCALHOST/QR/ABCD2345".

    All upper case, so the code can use QR alphanumeric mode. Host names and tokens are matched
    case-insensitively, and the server answers `/QR/<token>` as well as `/qr/<token>`.
    """
    return f"{scheme}://{host}/qr/{token}".upper()


@dataclass(frozen=True)
class QrProblem:
    """Something wrong with a choice of options. Errors refuse the options; warnings only advise."""

    code: str
    message: str
    level: Literal["error", "warning"] = "error"

    @property
    def is_error(self) -> bool:
        return self.level == "error"


class InvalidQrOptions(ValueError):
    def __init__(self, problems: list[QrProblem]):
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class QrOptions:
    """How a QR code looks. `size_px` is the PNG's width; `size_mm` the printed width, quiet zone included."""

    error_correction: str = "Q"
    size_px: int = 512
    size_mm: float = 40
    foreground: str = "#000000"
    background: str = "#ffffff"
    border: int = MIN_BORDER

    def validate(self) -> list[QrProblem]:
        """Every problem with these options, errors and warnings alike; an empty list means all is well."""
        return [
            *_error_correction_problems(self.error_correction),
            *_size_problems(self.size_px, self.size_mm),
            *_border_problems(self.border),
            *colour_problems(self.foreground, self.background),
        ]

    def check(self) -> None:
        """Raise InvalidQrOptions if the options have errors (warnings pass)."""
        errors = [problem for problem in self.validate() if problem.is_error]
        if errors:
            raise InvalidQrOptions(errors)


def _error_correction_problems(level: str) -> list[QrProblem]:
    if level in ERROR_CORRECTION_LEVELS:
        return []
    return [QrProblem("error_correction", f"Error correction must be one of L, M, Q or H, not {level!r}.")]


def _size_problems(size_px: int, size_mm: float) -> list[QrProblem]:
    problems = []
    if not PNG_SIZE_PX[0] <= size_px <= PNG_SIZE_PX[1]:
        problems.append(QrProblem("size_px", f"The image size must be {PNG_SIZE_PX[0]} to {PNG_SIZE_PX[1]} pixels."))
    if not PRINT_SIZE_MM[0] <= size_mm <= PRINT_SIZE_MM[1]:
        low, high = PRINT_SIZE_MM
        problems.append(QrProblem("size_mm", f"The printed size must be {low:g} to {high:g} millimetres."))
    return problems


def _border_problems(border: int) -> list[QrProblem]:
    if MIN_BORDER <= border <= MAX_BORDER:
        return []
    return [QrProblem("border", f"The quiet zone must be {MIN_BORDER} to {MAX_BORDER} modules wide.")]


def colour_problems(foreground: str, background: str) -> list[QrProblem]:
    """Malformed colours and too little contrast are errors; a light code on a dark ground is a warning."""
    problems = [
        QrProblem(f"{name}_format", f"The {name} colour must be written #rrggbb, not {value!r}.")
        for name, value in (("foreground", foreground), ("background", background))
        if not _COLOUR.fullmatch(value)
    ]
    if problems:
        return problems
    ratio = contrast_ratio(foreground, background)
    if ratio < MIN_CONTRAST:
        message = (
            f"The colours' contrast is {ratio:.1f}:1; at least {MIN_CONTRAST:g}:1 is needed for phones to read it."
        )
        problems.append(QrProblem("low_contrast", message))
    if relative_luminance(foreground) > relative_luminance(background):
        message = "A light code on a dark background (inverted) can't be read by many phone camera apps."
        problems.append(QrProblem("inverted", message, level="warning"))
    return problems


# ~8 KB each: the codes of a couple of the longest trails (500 stops) stay drawn for the next page or PDF.
@lru_cache(maxsize=1024)
def qr_matrix(url: str, error_correction: str = "Q") -> tuple[tuple[bool, ...], ...]:
    """The code's modules, True for dark, row by row from the top, without the quiet zone.

    A URL made only of QR alphanumeric characters (upper case, digits, space and $%*+-./:) is
    encoded as one alphanumeric segment; anything else as one byte segment.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION_LEVELS[error_correction], border=0)
    data = url.encode()
    mode = util.MODE_ALPHA_NUM if _ALPHANUMERIC.fullmatch(data) else util.MODE_8BIT_BYTE
    code.add_data(util.QRData(data, mode=mode))
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def qr_version(url: str, error_correction: str = "Q") -> tuple[int, int]:
    """(QR version, modules a side without the quiet zone) of the smallest code that holds `url`."""
    modules = len(qr_matrix(url, error_correction))
    return (modules - 17) // 4, modules


def dark_runs(row: tuple[bool, ...]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row, so a row draws as a few wide rectangles."""
    runs = []
    start = None
    for x, dark in enumerate((*row, False)):
        if dark and start is None:
            start = x
        elif not dark and start is not None:
            runs.append((start, x - start))
            start = None
    return runs


def qr_svg(url: str, options: QrOptions | None = None) -> str:
    """The code as a standalone SVG, `options.size_mm` wide with the quiet zone, one unit per module.

    A background rectangle and a single <path> for all dark modules, one sub-path per run in a row.
    """
    options = options or QrOptions()
    options.check()
    matrix = qr_matrix(url, options.error_correction)
    side = len(matrix) + 2 * options.border
    path = "".join(
        f"M{x + options.border} {y + options.border}h{length}v1h-{length}z"
        for y, row in enumerate(matrix)
        for x, length in dark_runs(row)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{options.size_mm:g}mm" height="{options.size_mm:g}mm"'
        f' viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="{options.background}"/>'
        f'<path fill="{options.foreground}" d="{path}"/>'
        "</svg>\n"
    )


def qr_png(url: str, options: QrOptions | None = None) -> bytes:
    """The code as a two-colour PNG exactly `options.size_px` square.

    Every module is the same whole number of pixels (scaled nearest-neighbour, so edges stay crisp);
    the pixels left over when `size_px` isn't a multiple of the modules widen the quiet zone.
    Raises InvalidQrOptions if `size_px` leaves less than 2 pixels a module.
    """
    options = options or QrOptions()
    options.check()
    matrix = qr_matrix(url, options.error_correction)
    side = len(matrix) + 2 * options.border
    scale = options.size_px // side
    if scale < 2:
        minimum = 2 * side
        raise InvalidQrOptions([QrProblem("size_px", f"This code needs an image of at least {minimum} pixels.")])
    modules = Image.frombytes("P", (len(matrix), len(matrix)), bytes(dark for row in matrix for dark in row))
    modules = modules.resize((len(matrix) * scale, len(matrix) * scale), Image.Resampling.NEAREST)
    image = Image.new("P", (options.size_px, options.size_px), 0)
    image.putpalette([*_rgb(options.background), *_rgb(options.foreground)])
    offset = (options.size_px - len(matrix) * scale) // 2
    image.paste(modules, (offset, offset))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
