"""Printable QR cards for a trail, as a PDF (reportlab), in the layouts a customer puts on a wall.

Every card carries the workspace's logo and accent colour, the trail's name, "Stop 3 of 8", the stop's
title, the trail's call to action and, for people who can't scan, the short address and the stop's code
in large, unambiguous letters spaced for reading aloud ("DEMO.QRCARDS.IO · J6JF TU42"). The code is
drawn as vector rectangles, sharp at any printer resolution.

Layouts (`LAYOUTS`): A4 and US Letter sheets of 2 x 4 cards to cut; a single business card (85 x 55 mm)
a page; an A6 sign a page; an A5 table tent (an A4 page folded across its middle, the card on both
faces, the upper one upside down so each stands upright). `print_shop=True` adds crop marks; on the
single layouts it also adds 3 mm of bleed (the accent band runs past the cut) and sets the PDF's
TrimBox and BleedBox, as print shops ask.

Text is set in DejaVu Sans (trails/fonts/, embedded and subset): Latin, Greek, Cyrillic, Armenian,
Georgian, Hebrew and Arabic letters; Chinese, Japanese and Korean letters come from Droid Sans
Fallback, a character at a time (`_runs`), and CJK lines may break between any two ideographs.
Arabic and Hebrew are set flush right, Arabic in its joined forms (`_visual`). Scripts that need
shaping beyond Arabic's joined forms (Devanagari, Thai, Khmer...) are not covered.

No Django here, so `bench/cards.py` runs without a project set-up.
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from PIL import Image
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from trails.qr import PRINT_SIZE_MM, QrOptions, dark_runs, qr_matrix, stop_qr_url

FONT_DIR = Path(__file__).resolve().with_name("fonts")
SANS, SANS_BOLD, MONO_BOLD = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono-Bold"
CJK = "DroidSansFallback"  # Chinese, Japanese and Korean letters, which DejaVu lacks
DEFAULT_ACCENT = "#8a3b12"  # the scanner page's classic accent
DEFAULT_CALL_TO_ACTION = "Scan to read about this place"
INK = HexColor("#111111")
MUTED = HexColor("#4a4a4a")

PAPER_SIZES = {"A4": A4, "LETTER": LETTER}
PAGE_MARGIN = 10 * mm
BLEED = 3 * mm
SLUG = 10 * mm  # paper past the bleed holding the crop marks, on the print shop's single layouts
MIN_TEXT_WIDTH = 30 * mm
CROP_MARK_GAP = 2 * mm  # between the card grid and a mark, so a slightly-off cut doesn't show the mark
CROP_MARK_LENGTH = 4 * mm
PARAGRAPH_GAP = 3  # points, at the business card's scale
HEADER_LINES = 1.6  # the logo's height, in lines of the trail's name beside it
# Below this the fallback line splits into the address and the code, each on its own line.
MIN_FALLBACK_SIZE = 7.5


@dataclass(frozen=True)
class Layout:
    name: str
    label: str
    page: tuple[float, float]  # the sheet's size in points, without bleed
    columns: int = 1
    rows: int = 1
    folded: bool = False  # a table tent: the card twice, the upper half upside down

    @property
    def is_sheet(self) -> bool:
        return self.columns * self.rows > 1


LAYOUTS = {
    "A4": Layout("A4", "A4 sheets, 8 cards each", A4, columns=2, rows=4),
    "LETTER": Layout("LETTER", "US Letter sheets, 8 cards each", LETTER, columns=2, rows=4),
    "CARD": Layout("CARD", "Business cards, 85 × 55 mm", (85 * mm, 55 * mm)),
    "A6": Layout("A6", "A6 signs", (105 * mm, 148 * mm)),
    "TENT": Layout("TENT", "A5 table tents (A4 folded, printed on both faces)", A4, folded=True),
}


@functools.cache
def register_fonts() -> None:
    """Register the embedded fonts once per process (reading them costs ~0.1 s)."""
    for name in (SANS, SANS_BOLD, MONO_BOLD, CJK):
        pdfmetrics.registerFont(TTFont(name, FONT_DIR / f"{name}.ttf"))


@dataclass(frozen=True)
class TextStyle:
    font: str
    size: float
    max_lines: int
    colour: HexColor = INK

    @property
    def leading(self) -> float:
        return self.size * 1.2

    def scaled(self, factor: float) -> TextStyle:
        return replace(self, size=self.size * factor)


# At the business card's scale; larger layouts scale them up.
TRAIL = TextStyle(SANS_BOLD, 7.5, max_lines=1)
NUMBER = TextStyle(SANS_BOLD, 7.5, max_lines=1)
TITLE = TextStyle(SANS_BOLD, 12, max_lines=3)
ACTION = TextStyle(SANS, 8, max_lines=2, colour=MUTED)
LANGUAGES = TextStyle(SANS, 6.5, max_lines=1, colour=MUTED)
FALLBACK_LABEL = TextStyle(SANS, 6, max_lines=1, colour=MUTED)
FALLBACK = TextStyle(MONO_BOLD, 11, max_lines=1)


@dataclass(frozen=True)
class Branding:
    """The workspace on its cards: its name, accent colour (#rrggbb, or "" for ours) and logo file's bytes."""

    name: str = ""
    accent: str = ""
    logo: bytes | None = None


@dataclass(frozen=True)
class Card:
    url: str
    stop_title: str
    trail_title: str
    number: int
    count: int
    call_to_action: str = DEFAULT_CALL_TO_ACTION
    languages: str = ""  # a trail in several languages says which: "English · Français · Deutsch"

    @property
    def fallback(self) -> tuple[str, str]:
        """(address, code) to type for people who can't scan: ("DEMO.QRCARDS.IO", "J6JF TU42")."""
        parts = urlsplit(self.url)
        token = parts.path.rsplit("/", 1)[-1].upper()
        return parts.netloc.upper(), f"{token[:4]} {token[4:]}".strip()


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
    call_to_action: str = "",
    languages: str = "",
) -> list[Card]:
    """One card per stop, numbered in the order given (a trail's `live_stops()`) from `first`.

    `count` is the trail's number of stops when `stops` is only some of them (a page of a long trail);
    an empty `call_to_action` is the default line.
    """
    stops = list(stops)
    return [
        Card(
            url=stop_qr_url(host=host, token=stop.token, scheme=scheme),
            stop_title=stop.title,
            trail_title=trail_title,
            number=number,
            count=len(stops) if count is None else count,
            call_to_action=call_to_action or DEFAULT_CALL_TO_ACTION,
            languages=languages,
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


def layout_for(name: str) -> Layout:
    """The layout called `name` ("A4", "LETTER", "CARD", "A6" or "TENT", any case)."""
    try:
        return LAYOUTS[name.upper()]
    except KeyError:
        raise ValueError(f"Paper must be one of {', '.join(LAYOUTS)}, not {name!r}.") from None


def page_size(paper: str) -> tuple[float, float]:
    """(width, height) in points of a layout's page, without bleed."""
    return layout_for(paper).page


def card_boxes(*, paper: str = "A4", columns: int | None = None, rows: int | None = None) -> list[Box]:
    """Where the cards of one page go, left to right then top to bottom, without bleed.

    A sheet's cards sit edge to edge inside its margins; a single card fills its page; a tent's two
    faces are the halves of its page, the lower one first.
    """
    layout = layout_for(paper)
    page_width, page_height = layout.page
    if layout.folded:
        return [Box(0, 0, page_width, page_height / 2), Box(0, page_height / 2, page_width, page_height / 2)]
    if not layout.is_sheet:
        return [Box(0, 0, page_width, page_height)]
    columns, rows = columns or layout.columns, rows or layout.rows
    if columns < 1 or rows < 1:
        raise ValueError("A sheet needs at least one column and one row of cards.")
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
    columns: int | None = None,
    rows: int | None = None,
    crop_marks: bool = False,
    options: QrOptions | None = None,
    title: str = "QR cards",
    branding: Branding | None = None,
) -> bytes:
    """The cards as a PDF in the layout `paper`, as many pages as needed.

    `crop_marks` is the print shop's option: crop marks, and bleed on the single layouts.
    Raises ValueError if a card can't hold the smallest printed code beside its text, and
    InvalidQrOptions for options with errors.
    """
    options = options or QrOptions()
    options.check()
    branding = branding or Branding()
    layout = layout_for(paper)
    register_fonts()
    boxes = card_boxes(paper=paper, columns=columns, rows=rows)
    bleed = BLEED if crop_marks and not layout.is_sheet else 0
    offset = bleed + SLUG if bleed else 0  # where the trimmed page starts on the paper
    page_width, page_height = layout.page
    design = CardDesign.for_box(boxes[0], options, accent=branding.accent or DEFAULT_ACCENT)
    buffer = io.BytesIO()
    # invariant: no creation date or random id, so the same cards give the same bytes.
    canvas = Canvas(
        buffer, pagesize=(page_width + 2 * offset, page_height + 2 * offset), invariant=True, pageCompression=True
    )
    canvas.setTitle(title)
    canvas.setCreator("QRCards")
    logo = _logo_form(canvas, branding.logo)
    per_page = 1 if layout.folded else len(boxes)
    for start in range(0, max(len(cards), 1), per_page):
        if offset:
            trim = (offset, offset, offset + page_width, offset + page_height)
            canvas.setTrimBox(trim)
            canvas.setBleedBox((offset - bleed, offset - bleed, trim[2] + bleed, trim[3] + bleed))
        canvas.saveState()
        canvas.translate(offset, offset)
        if layout.folded:
            for card in cards[start : start + 1]:
                design.draw(canvas, card, boxes[0], logo=logo, bleed=bleed)
                # The upper face turned half a turn about the page's centre: upright once folded.
                canvas.saveState()
                canvas.translate(page_width, page_height)
                canvas.rotate(180)
                design.draw(canvas, card, boxes[0], logo=logo, bleed=bleed)
                canvas.restoreState()
            _draw_fold_marks(canvas, page_width, page_height / 2)
        else:
            # The last sheet may have fewer cards than places.
            for card, box in zip(cards[start : start + per_page], boxes, strict=False):
                design.draw(canvas, card, box, logo=logo, bleed=bleed)
        if crop_marks:
            _draw_crop_marks(canvas, boxes if layout.is_sheet else [Box(0, 0, page_width, page_height)], bleed=bleed)
        canvas.restoreState()
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class Logo:
    name: str
    aspect: float  # width / height


def _logo_form(canvas: Canvas, logo: bytes | None) -> Logo | None:
    """The logo as a form drawn once in a unit-high box and placed on every card by reference.

    A logo that isn't an image Pillow can read is left off rather than failing the cards.
    """
    if not logo:
        return None
    try:
        image = Image.open(io.BytesIO(logo))
        image.thumbnail((600, 600))  # plenty at print sizes, and small to embed
        image = image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    aspect = image.width / image.height
    canvas.beginForm("logo", 0, 0, aspect, 1)
    canvas.drawImage(ImageReader(image), 0, 0, aspect, 1, mask="auto")
    canvas.endForm()
    return Logo("logo", aspect)


@dataclass(frozen=True)
class CardDesign:
    """The sizes of everything on a card of one size: worked out once per PDF, used for every card."""

    scale: float
    padding: float
    band: float
    qr_size: float
    portrait: bool
    accent: HexColor
    options: QrOptions

    @classmethod
    def for_box(cls, box: Box, options: QrOptions, *, accent: str) -> CardDesign:
        portrait = box.height > box.width
        # 1 on a business card; up to 2.2 on a tent's face.
        scale = max(1.0, min(box.width / (85 * mm), box.height / (55 * mm), 2.2))
        if portrait:
            scale = max(1.0, min(box.width / (70 * mm), 2.2))
        padding = 4 * mm * scale
        band = 2.5 * mm * scale
        fallback = FALLBACK_LABEL.scaled(scale).leading + FALLBACK.scaled(scale).leading
        wanted = max(options.size_mm * mm, 0.6 * min(box.width, box.height))
        if portrait:
            text = sum(style.scaled(scale).leading * style.max_lines for style in (TRAIL, NUMBER, TITLE, ACTION))
            room = box.height - band - 2 * padding - fallback - text - 4 * PARAGRAPH_GAP * scale
            size = min(wanted, room, box.width - 2 * padding)
        else:
            header = TRAIL.scaled(scale).leading * HEADER_LINES
            room = box.height - band - 2 * padding - fallback - header - 2 * PARAGRAPH_GAP * scale
            size = min(wanted, room, box.width - 3 * padding - MIN_TEXT_WIDTH)
        if size < PRINT_SIZE_MM[0] * mm:
            raise ValueError(
                f"The cards are too small for a {PRINT_SIZE_MM[0]:g} mm code and its text; put fewer on a sheet."
            )
        return cls(scale, padding, band, size, portrait, HexColor(accent), options)

    def draw(self, canvas: Canvas, card: Card, box: Box, *, logo: Logo | None, bleed: float = 0) -> None:
        """The accent band along the top, then the logo and trail; the code, the words beside or under it; the
        fallback at the foot."""
        scale, padding = self.scale, self.padding
        canvas.setFillColor(self.accent)
        # With bleed the band runs past the trim on three sides, so a cut a little off shows no white.
        canvas.rect(box.x - bleed, box.top - self.band, box.width + 2 * bleed, self.band + bleed, stroke=0, fill=1)
        top = box.top - self.band - padding
        inner = Box(box.x + padding, box.y + padding, box.width - 2 * padding, top - box.y - padding)
        self._draw_fallback(canvas, card, inner)
        below = self._draw_header(canvas, card, x=inner.x, top=top, width=inner.width, logo=logo)
        if self.portrait:
            qr_top = below - PARAGRAPH_GAP * scale
            draw_qr(
                canvas,
                url=card.url,
                x=box.x + (box.width - self.qr_size) / 2,
                y=qr_top - self.qr_size,
                size=self.qr_size,
                options=self.options,
            )
            self._draw_words(
                canvas, card, x=inner.x, top=qr_top - self.qr_size - PARAGRAPH_GAP * scale, width=inner.width
            )
        else:
            # The code and the words side by side, top-aligned under the header.
            body_top = below - PARAGRAPH_GAP * scale
            draw_qr(
                canvas,
                url=card.url,
                x=inner.x,
                y=body_top - self.qr_size,
                size=self.qr_size,
                options=self.options,
            )
            x = inner.x + self.qr_size + padding
            self._draw_words(canvas, card, x=x, top=body_top, width=inner.right - x)

    def _draw_header(
        self, canvas: Canvas, card: Card, *, x: float, top: float, width: float, logo: Logo | None
    ) -> float:
        """The logo, then the trail's name in the accent colour; the y under them."""
        trail = replace(TRAIL.scaled(self.scale), colour=self.accent)
        height = trail.leading * HEADER_LINES
        if logo is not None:
            logo_width = min(height * logo.aspect, width * 0.35)
            logo_height = logo_width / logo.aspect
            canvas.saveState()
            canvas.translate(x, top - height + (height - logo_height) / 2)
            canvas.scale(logo_height, logo_height)
            canvas.doForm(logo.name)
            canvas.restoreState()
            x += logo_width + 2 * mm
            width -= logo_width + 2 * mm
        _draw_text(canvas, card.trail_title, trail, x=x, top=top - (height - trail.leading) / 2, width=width)
        return top - height

    def _draw_words(self, canvas: Canvas, card: Card, *, x: float, top: float, width: float) -> None:
        gap = PARAGRAPH_GAP * self.scale
        number = replace(NUMBER.scaled(self.scale), colour=self.accent)
        below = _draw_text(canvas, f"Stop {card.number} of {card.count}", number, x=x, top=top, width=width)
        below = _draw_text(canvas, card.stop_title, TITLE.scaled(self.scale), x=x, top=below - gap / 2, width=width)
        action = ACTION.scaled(self.scale)
        if not card.languages:
            _draw_text(canvas, card.call_to_action, action, x=x, top=below - gap, width=width)
            return
        # The call to action's second line goes to the languages: the card's words take no more room.
        below = _draw_text(canvas, card.call_to_action, replace(action, max_lines=1), x=x, top=below - gap, width=width)
        _draw_text(canvas, card.languages, LANGUAGES.scaled(self.scale), x=x, top=below, width=width)

    def _draw_fallback(self, canvas: Canvas, card: Card, inner: Box) -> None:
        """For people who can't scan: a small label, then the address and the code in large capitals."""
        address, code = card.fallback
        label = FALLBACK_LABEL.scaled(self.scale)
        big = FALLBACK.scaled(self.scale)
        line = f"{address} · {code}"
        size = min(big.size, big.size * inner.width / stringWidth(line, big.font, big.size))
        lines = [line]
        if size < MIN_FALLBACK_SIZE:  # a long custom domain: the address over the code
            lines = [address, code]
            size = min(big.size, big.size * inner.width / stringWidth(address, big.font, big.size))
            label = replace(label, max_lines=0)
        big = replace(big, size=size)
        y = inner.y + len(lines) * big.leading
        if label.max_lines:
            _draw_text(
                canvas,
                "No camera? Visit the address and type the code:",
                label,
                x=inner.x,
                top=y + label.leading,
                width=inner.width,
            )
        for text in lines:
            canvas.setFont(big.font, big.size)
            canvas.setFillColor(INK)
            y -= big.leading
            canvas.drawString(inner.x, y + big.leading - big.size, text)


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


# Scripts written without spaces between words (CJK ideographs, kana, CJK punctuation and full-width
# forms): a line may break between any two of their characters. Hangul is written with spaces.
_BREAK_ANYWHERE = re.compile(r"[\u2e80-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _tokens(text: str) -> list[tuple[str, bool]]:
    """The pieces a line may break between, each with whether a space comes before it."""
    tokens = []
    for word in text.split():
        pieces = [piece for piece in re.split(f"({_BREAK_ANYWHERE.pattern})", word) if piece]
        tokens += [(piece, index == 0) for index, piece in enumerate(pieces)]
    return tokens


def _fit_lines(text: str, style: TextStyle, width: float) -> list[str]:
    """`text` wrapped to `width`, at most `style.max_lines` lines, the last ending in "…" if anything was cut."""
    lines: list[str] = []
    line = ""
    for token, spaced in _tokens(text):
        candidate = f"{line} {token}" if spaced and line else line + token
        if not line or _width(candidate, style) <= width:
            line = candidate
        else:
            lines.append(line)
            line = token
    lines.append(line)
    cut = len(lines) > style.max_lines
    lines = lines[: style.max_lines]
    fitted = []
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        # A word longer than the column is cut too.
        if _width(line, style) > width or (last and cut):
            line = _with_ellipsis(line, style, width)
        fitted.append(line)
    return fitted


def _with_ellipsis(line: str, style: TextStyle, width: float) -> str:
    while line and _width(line.rstrip() + "…", style) > width:
        line = line[:-1]
    return line.rstrip() + "…"


def _runs(text: str, font: str) -> list[tuple[str, str]]:
    """`text` as (piece, font) runs: `font`, or the CJK font for the letters only it has."""
    own = pdfmetrics.getFont(font).face.charToGlyph
    cjk = pdfmetrics.getFont(CJK).face.charToGlyph
    runs: list[tuple[str, str]] = []
    for char in text:
        chosen = CJK if ord(char) not in own and ord(char) in cjk else font
        if runs and runs[-1][1] == chosen:
            runs[-1] = (runs[-1][0] + char, chosen)
        else:
            runs.append((char, chosen))
    return runs


def _width(text: str, style: TextStyle) -> float:
    return sum(stringWidth(piece, font, style.size) for piece, font in _runs(text, style.font))


def _draw_text(canvas: Canvas, text: str, style: TextStyle, *, x: float, top: float, width: float) -> float:
    """Draw `text` wrapped to `width` below `top`; return the y under its last line.

    Right-to-left lines (Arabic, Hebrew) are set flush right, in the order they are read.
    """
    canvas.setFillColor(style.colour)
    y = top
    for line in _fit_lines(text, style, width):
        y -= style.leading
        baseline = y + style.leading - style.size
        if _is_right_to_left(line):
            line = _visual(line)
            start = x + width - _width(line, style)
        else:
            start = x
        for piece, font in _runs(line, style.font):
            canvas.setFont(font, style.size)
            canvas.drawString(start, baseline, piece)
            start += stringWidth(piece, font, style.size)
    return y


def _is_right_to_left(text: str) -> bool:
    """True when the first letter with a direction is a right-to-left one."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def _visual(line: str) -> str:
    """A right-to-left line as drawn left to right: letters joined (Arabic) and in visual order."""
    from arabic_reshaper import reshape
    from bidi import get_display

    return get_display(reshape(line))


def _draw_fold_marks(canvas: Canvas, width: float, y: float) -> None:
    """Short dashes at both ends of a tent's fold, where no card text reaches."""
    canvas.saveState()
    canvas.setLineWidth(0.5)
    canvas.setStrokeColor(HexColor("#999999"))
    canvas.setDash(2, 2)
    canvas.line(0, y, 6 * mm, y)
    canvas.line(width - 6 * mm, y, width, y)
    canvas.restoreState()


def _draw_crop_marks(canvas: Canvas, boxes: list[Box], *, bleed: float = 0) -> None:
    """Hairline ticks outside the cards, in line with every vertical and horizontal cut (clear of any bleed)."""
    left = min(box.x for box in boxes)
    right = max(box.right for box in boxes)
    bottom = min(box.y for box in boxes)
    top = max(box.top for box in boxes)
    gap = max(CROP_MARK_GAP, bleed)
    canvas.saveState()
    canvas.setLineWidth(0.25)
    canvas.setStrokeColor(HexColor("#000000"))
    # Rounded, so the right edge of one card and the left edge of the next give one mark.
    for x in sorted({round(edge, 3) for box in boxes for edge in (box.x, box.right)}):
        canvas.line(x, top + gap, x, top + gap + CROP_MARK_LENGTH)
        canvas.line(x, bottom - gap, x, bottom - gap - CROP_MARK_LENGTH)
    for y in sorted({round(edge, 3) for box in boxes for edge in (box.y, box.top)}):
        canvas.line(left - gap, y, left - gap - CROP_MARK_LENGTH, y)
        canvas.line(right + gap, y, right + gap + CROP_MARK_LENGTH, y)
    canvas.restoreState()
