"""How long does the printable PDF of a 30-stop trail take to build, next to simpler PDFs built in the same run?

    .venv/bin/python bench/cards.py              # 30 cards in every layout, 15 runs each
    .venv/bin/python bench/cards.py --stops 100 --runs 5 --paper LETTER --paper TENT --crop-marks

No Django needed. Every run starts with an empty QR cache, so each code is encoded again
(as on a fresh worker). In each layout (A4 and Letter sheets, business cards, A6 signs, A5 table
tents), with a logo, three PDFs of the same cards are timed, runs interleaved:
  vector     the product: each code drawn as vector rectangles (trails.cards.cards_pdf)
  png        baseline: each code a 512 px PNG (trails.qr.qr_png) embedded as an image
  text only  baseline: the cards' text and no code (the floor: reportlab and the layout alone)
The issue asks for the vector PDF of 30 stops in under 2 seconds, in every layout.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from PIL import Image  # noqa: E402
from reportlab.lib.utils import ImageReader  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from trails import cards as cards_module  # noqa: E402
from trails.cards import LAYOUTS, Branding, Card, cards_pdf  # noqa: E402
from trails.qr import QrOptions, qr_matrix, qr_png, stop_qr_url  # noqa: E402

LIMIT_SECONDS = 2.0
TOKEN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # noqa: S105 (as trails.models, which needs Django to import)


def make_cards(count: int) -> list[Card]:
    tokens = random.Random(4).choices  # a fixed seed: the same cards every run
    return [
        Card(
            url=stop_qr_url(host="old-town-museum.qrcards.app", token="".join(tokens(TOKEN_ALPHABET, k=8))),
            stop_title=f"The Market Fountain and the Old Guild Houses, part {number}",
            trail_title="Old Town Walk: five centuries in one afternoon",
            number=number,
            count=count,
        )
        for number in range(1, count + 1)
    ]


def draw_png_qr(canvas: Canvas, *, url: str, x: float, y: float, size: float, options: QrOptions) -> None:
    image = qr_png(url, QrOptions(error_correction=options.error_correction, size_px=512))
    canvas.drawImage(ImageReader(io.BytesIO(image)), x, y, size, size)


def draw_nothing(canvas: Canvas, *, url: str, x: float, y: float, size: float, options: QrOptions) -> None:
    pass


@contextmanager
def drawing_codes_with(draw: Callable[..., None]) -> Iterator[None]:
    """Build the same cards with another way of drawing each code."""
    original = cards_module.draw_qr
    cards_module.draw_qr = draw
    try:
        yield
    finally:
        cards_module.draw_qr = original


def time_once(build: Callable[[], bytes]) -> tuple[float, int]:
    qr_matrix.cache_clear()
    started = time.perf_counter()
    pdf = build()
    return time.perf_counter() - started, len(pdf)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stops", type=int, default=30)
    parser.add_argument("--runs", type=int, default=15, help="builds of each PDF; the median is reported")
    parser.add_argument("--paper", choices=list(LAYOUTS), action="append", help="a layout (default: every one)")
    parser.add_argument("--crop-marks", action="store_true", help="the print shop's crop marks and bleed")
    args = parser.parse_args()

    cards = make_cards(args.stops)
    branding = Branding(name="Old Town Museum", accent="#1a7f5a", logo=make_logo())
    variants = {"vector": cards_module.draw_qr, "png": draw_png_qr, "text only": draw_nothing}
    print(f"{args.stops} cards, crop marks and bleed {'on' if args.crop_marks else 'off'}, {args.runs} runs")
    print(f"{'layout':<8} {'PDF':<10} {'median ms':>10} {'min ms':>8} {'bytes':>8} {'vs vector':>10}")
    worst = 0.0
    for paper in args.paper or list(LAYOUTS):

        def build(paper: str = paper) -> bytes:
            return cards_pdf(
                cards=cards, paper=paper, crop_marks=args.crop_marks, options=QrOptions(), branding=branding
            )

        times: dict[str, list[float]] = {name: [] for name in variants}
        sizes: dict[str, int] = {}
        build()  # warm up imports and font metrics
        for _ in range(args.runs):
            for name, draw in variants.items():
                with drawing_codes_with(draw):
                    seconds, sizes[name] = time_once(build)
                times[name].append(seconds)
        medians = {name: statistics.median(values) for name, values in times.items()}
        for name, median in medians.items():
            ratio = median / medians["vector"]
            low = min(times[name]) * 1000
            print(f"{paper:<8} {name:<10} {median * 1000:>10.1f} {low:>8.1f} {sizes[name]:>8} {ratio:>9.2f}x")
        worst = max(worst, medians["vector"])
    verdict = "within" if worst < LIMIT_SECONDS else "OVER"
    print(f"slowest vector PDF {verdict} the {LIMIT_SECONDS:g} s limit: {worst / LIMIT_SECONDS:.1%} of it")
    return 0 if worst < LIMIT_SECONDS else 1


def make_logo() -> bytes:
    """A 600 x 200 PNG, the size of a typical uploaded logo."""
    buffer = io.BytesIO()
    Image.new("RGB", (600, 200), "#336699").save(buffer, "PNG")
    return buffer.getvalue()


if __name__ == "__main__":
    raise SystemExit(main())
