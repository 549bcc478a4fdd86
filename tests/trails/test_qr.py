"""QR codes for stops: the upper-case URL, the options' checks, and SVG and PNG codes read back by a real decoder."""

from __future__ import annotations

import io
import re

import pytest
import resvg_py
import zxingcpp
from PIL import Image

from trails.qr import (
    PNG_SIZE_PX,
    PRINT_SIZE_MM,
    InvalidQrOptions,
    QrOptions,
    contrast_ratio,
    qr_png,
    qr_svg,
    qr_version,
    stop_qr_url,
)

DEMO_URL = "HTTPS://DEMO.QRCARDS.LOCALHOST/QR/ABCD2345"
MUSEUM_URL = "HTTPS://OLD-TOWN-MUSEUM.QRCARDS.APP/QR/ABCD2345"
SMALLEST_PNG = PNG_SIZE_PX[0]
SMALLEST_PRINT = PRINT_SIZE_MM[0]
# Pairs that pass the contrast check: plain, navy on cream, dark green on pale green.
COLOURS = [("#000000", "#ffffff"), ("#1a237e", "#fff8e1"), ("#004d40", "#e0f2f1")]


def decode(image: Image.Image) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def png_image(url: str, options: QrOptions) -> Image.Image:
    return Image.open(io.BytesIO(qr_png(url, options))).convert("RGB")


def svg_image(url: str, options: QrOptions, *, width: int | None = None) -> Image.Image:
    """The SVG rasterised by resvg, at its own size (millimetres at 96 px an inch) unless a width is given."""
    size = {"width": width, "height": width} if width else {}
    # resvg needs a dpi to turn millimetres into pixels.
    png = resvg_py.svg_to_bytes(svg_string=qr_svg(url, options), dpi=96, **size)
    return Image.open(io.BytesIO(png)).convert("RGB")


def codes(problems) -> set[str]:
    return {problem.code for problem in problems}


def test_the_stop_url_is_the_scanner_route_in_upper_case():
    assert stop_qr_url(host="demo.qrcards.localhost", token="abcd2345") == DEMO_URL
    assert stop_qr_url(host="demo.qrcards.localhost:8000", token="ABCD2345", scheme="http") == (
        "HTTP://DEMO.QRCARDS.LOCALHOST:8000/QR/ABCD2345"
    )


@pytest.mark.parametrize("url", [DEMO_URL, MUSEUM_URL, "HTTP://DEMO.QRCARDS.LOCALHOST:8000/QR/ABCD2345"])
@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_an_upper_case_url_never_needs_a_bigger_code_than_its_lower_case_form(url, level):
    assert qr_version(url, level) <= qr_version(url.lower(), level)


def test_upper_case_saves_two_versions_for_a_production_host_at_q():
    # Alphanumeric mode: 5.5 bits a character instead of 8.
    assert qr_version(MUSEUM_URL, "Q") == (3, 29)
    assert qr_version(MUSEUM_URL.lower(), "Q") == (5, 37)


def test_a_default_domain_stop_url_is_a_version_3_code_at_q():
    assert qr_version(DEMO_URL, "Q") == (3, 29)


@pytest.mark.parametrize("foreground, background", COLOURS)
@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_the_smallest_png_decodes_to_its_url(level, foreground, background):
    options = QrOptions(error_correction=level, size_px=SMALLEST_PNG, foreground=foreground, background=background)
    assert options.validate() == []

    image = png_image(MUSEUM_URL, options)

    assert image.size == (SMALLEST_PNG, SMALLEST_PNG)
    assert decode(image) == [MUSEUM_URL]


@pytest.mark.parametrize("foreground, background", COLOURS)
@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_the_smallest_svg_rasterised_at_its_own_size_decodes_to_its_url(level, foreground, background):
    options = QrOptions(error_correction=level, size_mm=SMALLEST_PRINT, foreground=foreground, background=background)

    image = svg_image(MUSEUM_URL, options)

    assert image.size == (57, 57)  # 15 mm at 96 px an inch
    assert decode(image) == [MUSEUM_URL]


def test_a_url_outside_the_alphanumeric_set_still_decodes():
    url = "https://demo.qrcards.localhost/qr/abcd2345"

    assert decode(png_image(url, QrOptions(size_px=SMALLEST_PNG))) == [url]


@pytest.mark.parametrize("size", [SMALLEST_PNG, 333, 1000])
def test_a_png_is_exactly_the_size_asked_for_in_two_colours(size):
    image = png_image(DEMO_URL, QrOptions(size_px=size, foreground="#1a237e", background="#fff8e1"))

    assert image.size == (size, size)
    assert {colour for _, colour in image.getcolors()} == {(0x1A, 0x23, 0x7E), (0xFF, 0xF8, 0xE1)}


def dark_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The bounding box of the code's dark modules in a black-on-white image."""
    return image.convert("L").point(lambda value: 255 if value < 128 else 0).getbbox()


@pytest.mark.parametrize("size", [SMALLEST_PNG, 500])
@pytest.mark.parametrize("border", [4, 6])
def test_a_png_keeps_a_quiet_zone_of_at_least_the_border_on_every_side(size, border):
    version, modules = qr_version(DEMO_URL, "Q")
    module_px = size // (modules + 2 * border)

    left, top, right, bottom = dark_box(png_image(DEMO_URL, QrOptions(size_px=size, border=border)))

    assert right - left == bottom - top == modules * module_px  # whole modules, all the same size
    assert min(left, top, size - right, size - bottom) >= border * module_px


@pytest.mark.parametrize("border", [4, 6])
def test_an_svg_keeps_a_quiet_zone_of_the_border_on_every_side(border):
    version, modules = qr_version(DEMO_URL, "Q")
    module_px = 10
    width = (modules + 2 * border) * module_px

    box = dark_box(svg_image(DEMO_URL, QrOptions(border=border), width=width))

    edge = border * module_px
    assert box == (edge, edge, width - edge, width - edge)


def test_an_svg_is_sized_in_millimetres_with_one_path_for_the_modules():
    svg = qr_svg(DEMO_URL, QrOptions(size_mm=25.5))

    assert 'width="25.5mm" height="25.5mm"' in svg
    assert svg.count("<path") == 1
    assert re.search(r'<rect width="(\d+)" height="\1" fill="#ffffff"/>', svg)


def test_black_on_white_has_the_highest_contrast():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_default_options_have_no_problems():
    assert QrOptions().validate() == []


@pytest.mark.parametrize("foreground", ["#999999", "#7f9fff"])
def test_colours_with_less_than_4_to_1_contrast_are_refused(foreground):
    options = QrOptions(foreground=foreground)

    assert codes(options.validate()) == {"low_contrast"}
    with pytest.raises(InvalidQrOptions):
        qr_png(DEMO_URL, options)
    with pytest.raises(InvalidQrOptions):
        qr_svg(DEMO_URL, options)


def test_a_light_code_on_a_dark_background_is_warned_about_but_allowed():
    options = QrOptions(foreground="#ffffff", background="#000033")

    problems = options.validate()

    assert codes(problems) == {"inverted"}
    assert not any(problem.is_error for problem in problems)
    assert qr_png(DEMO_URL, options).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"foreground": "black"}, "foreground_format"),
        ({"background": "#fff"}, "background_format"),
        ({"error_correction": "X"}, "error_correction"),
        ({"size_px": PNG_SIZE_PX[0] - 1}, "size_px"),
        ({"size_px": PNG_SIZE_PX[1] + 1}, "size_px"),
        ({"size_mm": PRINT_SIZE_MM[0] - 0.1}, "size_mm"),
        ({"size_mm": PRINT_SIZE_MM[1] + 0.1}, "size_mm"),
        ({"border": 3}, "border"),
    ],
)
def test_out_of_range_options_are_refused_with_a_code(changes, code):
    problems = QrOptions(**changes).validate()

    assert codes(problems) == {code}
    assert all(problem.is_error for problem in problems)
