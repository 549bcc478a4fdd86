"""A trail's printable cards (PDF) and every stop's QR code (ZIP) through the API."""

from __future__ import annotations

import io
import zipfile

import pypdfium2
import resvg_py
import zxingcpp
from django_tenants.utils import schema_context
from PIL import Image

from tests.fixtures.trails import make_trail, trail_markdown


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


def test_a_long_trails_cards_and_codes_come_in_pages_linked_one_to_the_next(reader, workspace_a, monkeypatch):
    monkeypatch.setattr("trails.api.CARDS_PER_PDF", 8)
    monkeypatch.setattr("trails.api.CODES_PER_ZIP", 4)
    stops = [(f"s{n}", f"Stop {n}") for n in range(1, 11)]
    trail = make_trail(workspace=workspace_a, source=trail_markdown(stops=stops))
    with schema_context("alpha"):
        tokens = list(trail.live_stops().values_list("token", flat=True))

    first = reader.get(f"/api/v1/trails/{trail.pk}/cards.pdf?paper=LETTER")
    url = first["Link"].removeprefix("<").split(">")[0]
    second = reader.get(url)

    assert first["Link"].endswith('rel="next"') and "paper=LETTER" in url and "page=2" in url
    assert "Link" not in second
    # Cards are numbered across pages: the second file starts at card 9 of 10.
    text = pypdfium2.PdfDocument(second.content)[0].get_textpage().get_text_range()
    assert "9 / 10" in text or "9 of 10" in text
    names = []
    url = f"/api/v1/trails/{trail.pk}/qr.zip"
    while url:
        response = reader.get(url)
        names += zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        url = response["Link"].removeprefix("<").split(">")[0] if "Link" in response else None
    assert [name.split("-")[-1].removesuffix(".svg") for name in names] == tokens
    assert reader.get(f"/api/v1/trails/{trail.pk}/qr.zip?page=4").status_code == 404


def test_large_pngs_come_fewer_to_a_zip(reader, workspace_a):
    trail = make_trail(workspace=workspace_a)

    response = reader.get(f"/api/v1/trails/{trail.pk}/qr.zip?format=png&size_px=4096")

    assert len(zipfile.ZipFile(io.BytesIO(response.content)).namelist()) == 1
    assert "page=2" in response["Link"]
