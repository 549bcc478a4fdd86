"""A trail's printable cards (PDF) and every stop's QR code (ZIP) through the API."""

from __future__ import annotations

import io
import zipfile

import pypdfium2
import resvg_py
import zxingcpp
from django_tenants.utils import schema_context
from PIL import Image

from tests.fixtures.trails import trail_markdown


def _decode(image: Image.Image) -> list[str]:
    return sorted(
        code.text for code in zxingcpp.read_barcodes(image.convert("RGB"), formats=zxingcpp.BarcodeFormat.QRCode)
    )


def _urls(trail) -> list[str]:
    with schema_context("alpha"):
        return sorted(f"HTTP://ALPHA.QRCARDS.LOCALHOST/QR/{stop.token}" for stop in trail.live_stops())


def test_the_cards_pdf_has_a_card_with_a_working_code_for_each_live_stop(reader, trail_a):
    response = reader.get(f"/api/v1/trails/{trail_a.pk}/cards.pdf?paper=LETTER&crop_marks=true")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="old-town-walk-cards-letter.pdf"' in response["Content-Disposition"]
    pdf = pypdfium2.PdfDocument(response.content)
    assert len(pdf) == 1
    page = pdf[0]
    assert _decode(page.render(scale=2).to_pil()) == _urls(trail_a)
    assert "Clock Tower" in page.get_textpage().get_text_range()


def test_the_cards_pdf_is_the_dashboards(reader, trail_a, cast, client_a):
    client_a.force_login(cast.owner)

    api = reader.get(f"/api/v1/trails/{trail_a.pk}/cards.pdf")
    dashboard = client_a.get(f"/dashboard/trails/{trail_a.pk}/cards.pdf")

    assert api.content == dashboard.content


def test_a_paper_size_we_do_not_print_is_a_422(reader, trail_a):
    response = reader.get(f"/api/v1/trails/{trail_a.pk}/cards.pdf?paper=A3")
    assert response.status_code == 422 and response.json()["error"]["details"][0]["loc"][:2] == ["query", "paper"]


def test_the_zip_has_one_svg_per_live_stop_each_scanning_to_its_stop(reader, writer, trail_a):
    source = trail_markdown(stops=[("fountain", "The Fountain"), ("bridge", "The Bridge")])
    writer.put(f"/api/v1/trails/{trail_a.pk}", {"source": source}, "application/json")  # retires the clock tower

    response = reader.get(f"/api/v1/trails/{trail_a.pk}/qr.zip?size_mm=20")

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    with schema_context("alpha"):
        expected = [f"old-town-walk-{stop.position:02d}-{stop.token}.svg" for stop in trail_a.live_stops()]
    assert names == expected
    decoded = []
    for name in names:
        png = bytes(resvg_py.svg_to_bytes(svg_string=archive.read(name).decode(), dpi=96))
        decoded += _decode(Image.open(io.BytesIO(png)))
    assert sorted(decoded) == _urls(trail_a)


def test_the_zip_of_pngs_takes_the_png_options(reader, trail_a):
    response = reader.get(f"/api/v1/trails/{trail_a.pk}/qr.zip?format=png&size_px=200&foreground=%23003366")

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    images = [Image.open(io.BytesIO(archive.read(name))) for name in archive.namelist()]
    assert [image.size for image in images] == [(200, 200)] * 3
    assert sorted(url for image in images for url in _decode(image)) == _urls(trail_a)


def test_qr_options_the_dashboard_refuses_are_refused_for_the_zip_too(reader, trail_a):
    response = reader.get(f"/api/v1/trails/{trail_a.pk}/qr.zip?foreground=%23777777&background=%23888888")

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["query", "foreground"]
