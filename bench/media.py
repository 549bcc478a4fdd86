"""How long does a 12-megapixel photo take from upload to ready (checked, variants made, stored), and how small
is the first picture a phone downloads?

    .venv/bin/python bench/media.py                 # a 12 MP JPEG and a 12 MP HEIC, median of 7 runs each
    .venv/bin/python bench/media.py --runs 3 --megapixels 48

No database: the upload goes through trails.media's own steps (type by content, pixel and size limits, markup
scan, EXIF orientation, variants, dominant colour) and is written to a temporary local storage; only the
asset's row (one INSERT, about a millisecond) and the quota's query are left out. The photo is made here
(tests/fixtures/media.photo: noise at every scale, hard edges and sensor grain, so it compresses like a busy
photo, not like flat colour), saved as a phone saves it (JPEG quality 92 with EXIF and GPS, or HEIC).

Times are CPU time (worker time), runs interleaved, for each format:
  upload     the product: trails.media's checks, variants and stored files (what add_asset spends)
  decode     baseline: Pillow decoding the whole photo, nothing else
  no draft   baseline: the same upload with the photo fully decoded first (JPEG's DCT scaling turned off)
The issue asks for the first picture a phone downloads (the 1x or 2x WebP) to be under 120 KB.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qrcards.settings")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from PIL import Image  # noqa: E402
from PIL.JpegImagePlugin import JpegImageFile  # noqa: E402

from tests.fixtures.media import GPS_LATITUDE, photo  # noqa: E402
from trails import media  # noqa: E402

FIRST_PICTURE_LIMIT = 120 * 1024
READY_WITHIN_SECONDS = 1.0


def phone_file(image: Image.Image, format: str) -> bytes:
    """The photo as a phone stores it: EXIF with a GPS position; JPEG at quality 92, or HEIC."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update({1: "N", 2: GPS_LATITUDE})
    output = io.BytesIO()
    if format == "JPEG":
        image.save(output, "JPEG", quality=92, exif=exif.tobytes())
    else:
        image.save(output, "HEIF", quality=80, exif=exif.tobytes())
    return output.getvalue()


def upload(data: bytes, name: str) -> media.Processed:
    """trails.media's steps for one upload, as add_asset runs them, the row left out."""
    file = SimpleUploadedFile(name, data)
    processed = media._read_upload(file)
    media._store(processed, file, media.new_media_key())
    return processed


def decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def no_draft(data: bytes, name: str) -> None:
    """The same upload with JPEG's scaled decoding turned off: the whole photo decoded, then resized."""
    original = JpegImageFile.draft
    JpegImageFile.draft = lambda self, mode, size: None
    try:
        upload(data, name)
    finally:
        JpegImageFile.draft = original


def timed(run: Callable[[], object]) -> float:
    """CPU seconds of this process (all its threads: libheif decodes in several), so that others' work on a shared
    machine doesn't count; on an idle server that is the wall time, less what threads overlap."""
    started = time.process_time()
    run()
    return time.process_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="uploads of each photo; the median is reported")
    parser.add_argument("--megapixels", type=float, default=12)
    parser.add_argument("--format", choices=["JPEG", "HEIF"], action="append", help="default: both")
    args = parser.parse_args()

    width = round((args.megapixels * 1_000_000 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    image = photo(width=width, height=height)
    media.quota = lambda: (0, 1 << 40)  # no database: the quota's query is left out
    ok = True
    with tempfile.TemporaryDirectory() as root, override_settings(MEDIA_ROOT=root):
        for format in args.format or ["JPEG", "HEIF"]:
            data = phone_file(image, format)
            name = "photo.jpg" if format == "JPEG" else "photo.heic"
            steps: dict[str, Callable[[], object]] = {
                "upload": lambda data=data, name=name: upload(data, name),
                "decode": lambda data=data: decode(data),
            }
            if format == "JPEG":
                steps["no draft"] = lambda data=data, name=name: no_draft(data, name)
            processed = upload(data, name)  # warm up: imports, codecs, colour profiles
            times: dict[str, list[float]] = {step: [] for step in steps}
            for _ in range(args.runs):
                for step, run in steps.items():
                    times[step].append(timed(run))
            medians = {step: statistics.median(values) for step, values in times.items()}
            print(f"\n{format} {width} x {height} ({width * height / 1e6:.1f} MP), {len(data) / 1e6:.2f} MB uploaded")
            print(f"  {'step':<10} {'median ms':>10} {'min ms':>8} {'vs upload':>10}")
            for step, median in medians.items():
                low = min(times[step]) * 1000
                print(f"  {step:<10} {median * 1000:>10.0f} {low:>8.0f} {median / medians['upload']:>9.2f}x")
            print(f"  {'variant':<12} {'type':<11} {'size':>11} {'bytes':>8} {'of upload':>10}")
            for variant in processed.variants:
                size = f"{variant['width']} x {variant['height']}"
                share = variant["bytes"] / len(data)
                print(f"  {variant['file']:<12} {variant['type']:<11} {size:>11} {variant['bytes']:>8} {share:>10.1%}")
            first = [v for v in processed.variants if v["role"] == "display" and v["type"] == "image/webp"]
            heaviest = max(v["bytes"] for v in first)
            within = heaviest < FIRST_PICTURE_LIMIT and medians["upload"] < READY_WITHIN_SECONDS
            ok = ok and within
            print(
                f"  first picture a phone downloads: {min(v['bytes'] for v in first)} (1x) to {heaviest} (2x) bytes, "
                f"{'under' if heaviest < FIRST_PICTURE_LIMIT else 'OVER'} {FIRST_PICTURE_LIMIT // 1024} KB; "
                f"upload to ready {medians['upload']:.2f} s "
                f"({'within' if medians['upload'] < READY_WITHIN_SECONDS else 'OVER'} {READY_WITHIN_SECONDS:g} s)"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
