"""The cards' print view, printed by Chromium as a person would print it: each layout on its own paper, every code decoding."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from django_tenants.utils import schema_context

from tests.fixtures.trails import make_trail, trail_markdown

PRINT_CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "print.css"
MM = 72 / 25.4
# (layout, pages for 3 stops, page size in mm, codes on the first page)
LAYOUTS = [
    ("A4", 1, (210, 297), 3),
    ("LETTER", 1, (215.9, 279.4), 3),
    ("CARD", 3, (85, 55), 1),
    ("A6", 3, (105, 148), 1),
    ("TENT", 3, (210, 297), 2),
]


@pytest.mark.parametrize(("layout", "pages", "size", "codes"), LAYOUTS, ids=[layout for layout, *_ in LAYOUTS])
def test_the_print_view_prints_each_layout_on_its_paper_with_every_code_decoding(
    cast, client_a, workspace_a, page, layout, pages, size, codes
):
    trail = make_trail(workspace=workspace_a, source=trail_markdown(title="Ο Πύργος του Ρολογιού"))
    with schema_context("alpha"):
        first = trail.live_stops().first().token
    client_a.force_login(cast.owner)
    html = client_a.get(f"/dashboard/trails/{trail.pk}/cards/print?paper={layout}").content.decode()
    # The page as served, its style sheet inlined (set_content has no server to fetch it from).
    html = re.sub(r'<link rel="stylesheet" href="[^"]+">', lambda _: f"<style>{PRINT_CSS.read_text()}</style>", html)

    page.set_content(html)
    pdf = pypdfium2.PdfDocument(page.pdf(prefer_css_page_size=True, print_background=True))

    assert len(pdf) == pages
    assert pdf[0].get_size() == pytest.approx((size[0] * MM, size[1] * MM), abs=1)
    image = pdf[0].render(scale=150 / 72).to_pil()
    decoded = [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
    assert len(decoded) == codes and f"HTTP://ALPHA.QRCARDS.LOCALHOST/QR/{first}" in decoded
    assert "Ο Πύργος του Ρολογιού" in " ".join(pdf[0].get_textpage().get_text_range().split())
