"""Printable sheets of QR cards for a trail, as a PDF (reportlab).

Each card shows the stop's QR code drawn as vector rectangles (sharp at any printer resolution),
the stop title, the trail name, "Stop 3 of 8" and a call to action. Cards fill a grid on A4 or US
Letter sheets, with optional crop marks in the page margins at every cut line.

Text uses the standard PDF font Helvetica, which covers Western European (cp1252) text only:
Greek, Cyrillic, CJK and other scripts come out as boxes until a TrueType font is registered.

No Django here, so `bench/cards.py` runs without a project set-up.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from trails.qr import PRINT_SIZE_MM, QrOptions, dark_runs, qr_matrix, stop_qr_url

PAPER_SIZES = {"A4": A4, "LETTER": LETTER}
PAGE_MARGIN = 10 * mm
CARD_PADDING = 5 * mm
MIN_TEXT_WIDTH = 30 * mm
CROP_MARK_GAP = 2 * mm  # between the card grid and a mark, so a slightly-off cut doesn't show the mark
CROP_MARK_LENGTH = 4 * mm
PARAGRAPH_GAP = 3  # points


@dataclass(frozen=True)
class TextStyle:
    font: str
    size: float
    max_lines: int
    colour: HexColor = HexColor("#111111")

    @property
    def leading(self) -> float:
        return self.size * 1.2


TITLE = TextStyle("Helvetica-Bold", 13, max_lines=3)
TRAIL = TextStyle("Helvetica", 9, max_lines=2, colour=HexColor("#555555"))
NUMBER = TextStyle("Helvetica-Bold", 9, max_lines=1)
ACTION = TextStyle("Helvetica-Oblique", 9, max_lines=3)


@dataclass(frozen=True)
class Card:
    url: str
    stop_title: str
    trail_title: str
    number: int
    count: int
    call_to_action: str = "Scan to read about this place"


class StopLike(Protocol):
    token: str
    title: str


def cards_for_stops(
    *,
    host: str,
    trail_title: str,
    stops: Iterable[StopLike],
    scheme: str = "https",
    first: int = 1,
    count: int | None = None,
) -> list[Card]:
    """One card per stop, numbered in the order given (a trail's `live_stops()`) from `first`.

    `count` is the trail's number of stops when `stops` is only some of them (a page of a long trail).
    """
    stops = list(stops)
    return [
        Card(
            url=stop_qr_url(host=host, token=stop.token, scheme=scheme),
            stop_title=stop.title,
            trail_title=trail_title,
            number=number,
            count=len(stops) if count is None else count,
        )
        for number, stop in enumerate(stops, start=first)
    ]


@dataclass(frozen=True)
class Box:
    """A rectangle in PDF points, from its bottom-left corner."""

    x: float
    y: float
    width: float
    height: float

    @property
    def top(self) -> float:
        return self.y + self.height

    @property
    def right(self) -> float:
        return self.x + self.width


def page_size(paper: str) -> tuple[float, float]:
    """(width, height) in points of "A4" or "LETTER" (any case)."""
    try:
        return PAPER_SIZES[paper.upper()]
    except KeyError:
        raise ValueError(f"Paper must be one of {', '.join(PAPER_SIZES)}, not {paper!r}.") from None


def card_boxes(*, paper: str = "A4", columns: int = 2, rows: int = 4) -> list[Box]:
    """Where the cards of one sheet go, left to right then top to bottom, edge to edge inside the margins."""
    if columns < 1 or rows < 1:
        raise ValueError("A sheet needs at least one column and one row of cards.")
    page_width, page_height = page_size(paper)
    width = (page_width - 2 * PAGE_MARGIN) / columns
    height = (page_height - 2 * PAGE_MARGIN) / rows
    return [
        Box(PAGE_MARGIN + column * width, page_height - PAGE_MARGIN - (row + 1) * height, width, height)
        for row in range(rows)
        for column in range(columns)
    ]


def cards_pdf(
    *,
    cards: list[Card],
    paper: str = "A4",
    columns: int = 2,
    rows: int = 4,
    crop_marks: bool = False,
    options: QrOptions | None = None,
    title: str = "QR cards",
) -> bytes:
    """The cards as a PDF, `columns` x `rows` to a sheet, as many sheets as needed.

    The code on each card is `options.size_mm` wide (quiet zone included), made smaller if the
    card can't hold it beside its text. Raises ValueError if that would go below the smallest
    printed size, and InvalidQrOptions for options with errors.
    """
    options = options or QrOptions()
    options.check()
    boxes = card_boxes(paper=paper, columns=columns, rows=rows)
    qr_size = _qr_size(boxes[0], options)
    buffer = io.BytesIO()
    # invariant: no creation date or random id, so the same cards give the same bytes.
    canvas = Canvas(buffer, pagesize=page_size(paper), invariant=True, pageCompression=True)
    canvas.setTitle(title)
    canvas.setCreator("QRCards")
    for start in range(0, max(len(cards), 1), len(boxes)):
        # The last sheet may have fewer cards than places.
        for card, box in zip(cards[start : start + len(boxes)], boxes, strict=False):
            _draw_card(canvas, card, box, qr_size, options)
        if crop_marks:
            _draw_crop_marks(canvas, boxes)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _qr_size(box: Box, options: QrOptions) -> float:
    size = min(options.size_mm * mm, box.height - 2 * CARD_PADDING, box.width - 3 * CARD_PADDING - MIN_TEXT_WIDTH)
    if size < PRINT_SIZE_MM[0] * mm:
        raise ValueError(
            f"The cards are too small for a {PRINT_SIZE_MM[0]:g} mm code and its text; put fewer on a sheet."
        )
    return size


def _draw_card(canvas: Canvas, card: Card, box: Box, qr_size: float, options: QrOptions) -> None:
    """The code on the left, centred top to bottom; the text in a column on its right."""
    draw_qr(
        canvas,
        url=card.url,
        x=box.x + CARD_PADDING,
        y=box.y + (box.height - qr_size) / 2,
        size=qr_size,
        options=options,
    )
    x = box.x + 2 * CARD_PADDING + qr_size
    width = box.right - CARD_PADDING - x
    below = _draw_text(canvas, card.stop_title, TITLE, x=x, top=box.top - CARD_PADDING, width=width)
    below = _draw_text(canvas, card.trail_title, TRAIL, x=x, top=below - PARAGRAPH_GAP, width=width)
    _draw_text(canvas, f"Stop {card.number} of {card.count}", NUMBER, x=x, top=below - PARAGRAPH_GAP, width=width)
    # The call to action sits at the foot of the card.
    action_height = len(_fit_lines(card.call_to_action, ACTION, width)) * ACTION.leading
    _draw_text(canvas, card.call_to_action, ACTION, x=x, top=box.y + CARD_PADDING + action_height, width=width)


def draw_qr(canvas: Canvas, *, url: str, x: float, y: float, size: float, options: QrOptions) -> None:
    """Draw the code as vector shapes in a `size` square from (x, y), quiet zone included.

    One filled path: a rectangle per run of dark modules in a row, in module units.
    """
    matrix = qr_matrix(url, options.error_correction)
    module = size / (len(matrix) + 2 * options.border)
    canvas.saveState()
    canvas.setFillColor(HexColor(options.background))
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    # Module units with y growing downwards, so row r of the matrix is drawn at y = r.
    canvas.translate(x + options.border * module, y + size - options.border * module)
    canvas.scale(module, -module)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        for start, length in dark_runs(row):
            path.rect(start, row_index, length, 1)
    canvas.setFillColor(HexColor(options.foreground))
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def _fit_lines(text: str, style: TextStyle, width: float) -> list[str]:
    """`text` wrapped to `width`, at most `style.max_lines` lines, the last ending in "…" if anything was cut."""
    lines = simpleSplit(" ".join(text.split()), style.font, style.size, width) or [""]
    cut = len(lines) > style.max_lines
    lines = lines[: style.max_lines]
    fitted = []
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        # A word longer than the column is cut too.
        if stringWidth(line, style.font, style.size) > width or (last and cut):
            line = _with_ellipsis(line, style, width)
        fitted.append(line)
    return fitted


def _with_ellipsis(line: str, style: TextStyle, width: float) -> str:
    while line and stringWidth(line.rstrip() + "…", style.font, style.size) > width:
        line = line[:-1]
    return line.rstrip() + "…"


def _draw_text(canvas: Canvas, text: str, style: TextStyle, *, x: float, top: float, width: float) -> float:
    """Draw `text` wrapped to `width` below `top`; return the y under its last line."""
    canvas.setFont(style.font, style.size)
    canvas.setFillColor(style.colour)
    y = top
    for line in _fit_lines(text, style, width):
        y -= style.leading
        canvas.drawString(x, y + style.leading - style.size, line)
    return y


def _draw_crop_marks(canvas: Canvas, boxes: list[Box]) -> None:
    """Hairline ticks in the margins, in line with every vertical and horizontal cut of the card grid."""
    left = min(box.x for box in boxes)
    right = max(box.right for box in boxes)
    bottom = min(box.y for box in boxes)
    top = max(box.top for box in boxes)
    canvas.saveState()
    canvas.setLineWidth(0.25)
    canvas.setStrokeColor(HexColor("#000000"))
    # Rounded, so the right edge of one card and the left edge of the next give one mark.
    for x in sorted({round(edge, 3) for box in boxes for edge in (box.x, box.right)}):
        canvas.line(x, top + CROP_MARK_GAP, x, top + CROP_MARK_GAP + CROP_MARK_LENGTH)
        canvas.line(x, bottom - CROP_MARK_GAP, x, bottom - CROP_MARK_GAP - CROP_MARK_LENGTH)
    for y in sorted({round(edge, 3) for box in boxes for edge in (box.y, box.top)}):
        canvas.line(left - CROP_MARK_GAP, y, left - CROP_MARK_GAP - CROP_MARK_LENGTH, y)
        canvas.line(right + CROP_MARK_GAP, y, right + CROP_MARK_GAP + CROP_MARK_LENGTH, y)
    canvas.restoreState()
