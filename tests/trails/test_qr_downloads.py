from __future__ import annotations

import io
from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp
from django_tenants.utils import schema_context
from PIL import Image

from tests.fixtures.trails import make_trail, make_translation


def decode(image: Image.Image) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.fixture
def trail_a(workspace_a):
    return make_trail(workspace=workspace_a)


@pytest.fixture
def owner_a(cast, client_a):
    client_a.force_login(cast.owner)
    return client_a


def first_stop(trail):
    with schema_context("alpha"):
        return trail.live_stops().first()


def test_a_downloaded_png_at_the_smallest_size_scans_to_the_stop_page(owner_a, trail_a):
    stop = first_stop(trail_a)

    response = owner_a.get(f"/dashboard/trails/{trail_a.pk}/stops/{stop.pk}/qr.png?size_px=128&error_correction=L")

    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert f"{stop.token}.png" in response["Content-Disposition"]
    (url,) = decode(Image.open(io.BytesIO(response.content)).convert("RGB"))
    assert url == f"HTTP://ALPHA.QRCARDS.LOCALHOST/QR/{stop.token}"
    scanned = owner_a.get(urlsplit(url).path, HTTP_HOST=urlsplit(url).hostname.lower())
    assert scanned.status_code == 200 and stop.title in scanned.content.decode()


def test_a_downloaded_svg_is_a_vector_code_of_the_upper_case_url(owner_a, trail_a):
    import resvg_py

    stop = first_stop(trail_a)

    response = owner_a.get(f"/dashboard/trails/{trail_a.pk}/stops/{stop.pk}/qr.svg?size_mm=15")

    assert response["Content-Type"] == "image/svg+xml"
    png = bytes(resvg_py.svg_to_bytes(svg_string=response.content.decode(), dpi=96))
    assert decode(Image.open(io.BytesIO(png)).convert("RGB")) == [f"HTTP://ALPHA.QRCARDS.LOCALHOST/QR/{stop.token}"]


def test_colours_without_enough_contrast_are_refused_with_a_reason(owner_a, trail_a):
    stop = first_stop(trail_a)
    query = "foreground=%23777777&background=%23888888"

    download = owner_a.get(f"/dashboard/trails/{trail_a.pk}/stops/{stop.pk}/qr.png?{query}")
    page = owner_a.get(f"/dashboard/trails/{trail_a.pk}/cards/?{query}").content.decode()

    assert download.status_code == 400 and "contrast" in download.content.decode()
    assert "contrast is 1.3:1" in page and 'value="#777777"' in page


def test_an_inverted_code_is_made_but_warned_about(owner_a, trail_a):
    page = owner_a.get(
        f"/dashboard/trails/{trail_a.pk}/cards/?foreground=%23ffffff&background=%23000000"
    ).content.decode()

    assert "can&#x27;t be read by many phone camera apps" in page
    assert page.count("<svg") == 3


@pytest.mark.parametrize("query", ["size_px=abc", "size_px=99999", "error_correction=Z", "border=1", "foreground=red"])
def test_nonsense_options_are_a_400_not_an_error(owner_a, trail_a, query):
    stop = first_stop(trail_a)

    assert owner_a.get(f"/dashboard/trails/{trail_a.pk}/stops/{stop.pk}/qr.svg?{query}").status_code == 400
    assert owner_a.get(f"/dashboard/trails/{trail_a.pk}/cards/?{query}").status_code == 200


def test_the_cards_pdf_holds_every_stops_code(owner_a, trail_a):
    response = owner_a.get(f"/dashboard/trails/{trail_a.pk}/cards.pdf?paper=LETTER&crop_marks=on")

    assert response["Content-Type"] == "application/pdf"
    page = pypdfium2.PdfDocument(response.content)[0]
    image = page.render(scale=2).to_pil().convert("RGB")
    with schema_context("alpha"):
        expected = {f"HTTP://ALPHA.QRCARDS.LOCALHOST/QR/{s.token}" for s in trail_a.live_stops()}
    assert set(decode(image)) == expected


def test_a_long_trails_cards_come_in_files_the_cards_page_offers_one_by_one(owner_a, workspace_a, monkeypatch):
    from tests.fixtures.trails import trail_markdown

    monkeypatch.setattr("trails.views.CARDS_PER_PDF", 4)
    monkeypatch.setattr("trails.downloads.CARDS_PER_PDF", 4)
    trail = make_trail(workspace=workspace_a, source=trail_markdown(stops=[(f"s{n}", f"Stop {n}") for n in range(10)]))

    cards_page = owner_a.get(f"/dashboard/trails/{trail.pk}/cards/").content.decode()
    last = owner_a.get(f"/dashboard/trails/{trail.pk}/cards.pdf?paper=A4&page=3")

    assert [f'name="page" value="{n}">PDF, cards {a}–{b}<' in cards_page for n, a, b in ((1, 1, 4), (3, 9, 10))] == [
        True,
        True,
    ]
    pdf = pypdfium2.PdfDocument(last.content)
    text = " ".join(pdf[0].get_textpage().get_text_range().split())
    assert len(decode(pdf[0].render(scale=2).to_pil().convert("RGB"))) == 2
    assert "9 of 10" in text or "9 / 10" in text
    assert last["Content-Disposition"].endswith('-cards-a4-9-10.pdf"')


def test_the_cards_of_a_trail_in_several_languages_list_them_on_paper_and_in_the_print_view(
    owner_a, trail_a, workspace_a
):
    make_translation(workspace=workspace_a, trail=trail_a, language="fr", source="## La fontaine {#fountain}\nEau.\n")

    pdf = pypdfium2.PdfDocument(owner_a.get(f"/dashboard/trails/{trail_a.pk}/cards.pdf").content)
    printed = owner_a.get(f"/dashboard/trails/{trail_a.pk}/cards/print").content.decode()

    assert "English · Français" in " ".join(pdf[0].get_textpage().get_text_range().split())
    assert '<p class="languages">English · Français</p>' in printed


def test_the_print_view_shows_each_card_with_its_code(owner_a, trail_a):
    page = owner_a.get(f"/dashboard/trails/{trail_a.pk}/cards/print?paper=A4").content.decode()

    assert page.count("<svg") == 3 and "Stop 3 of 3" in page and 'class="paper-a4"' in page


def test_workspace_bs_member_cant_download_workspace_as_codes(cast, client_a, trail_a):
    stop = first_stop(trail_a)
    client_a.force_login(cast.member_of_b)

    for url in (
        f"/dashboard/trails/{trail_a.pk}/stops/{stop.pk}/qr.png",
        f"/dashboard/trails/{trail_a.pk}/cards.pdf",
        f"/dashboard/trails/{trail_a.pk}/cards/print",
    ):
        assert client_a.get(url).status_code == 404


def test_card_urls_take_the_port_the_browser_used_not_the_servers_own(owner_a, trail_a):
    stop = first_stop(trail_a)

    # Behind a proxy, the app server listens on 8000 while visitors use the default port.
    behind_proxy = owner_a.get(f"/dashboard/trails/{trail_a.pk}/stops/{stop.pk}/qr.png?size_px=128", SERVER_PORT="8000")
    on_a_port = owner_a.get(
        f"/dashboard/trails/{trail_a.pk}/stops/{stop.pk}/qr.png?size_px=128", HTTP_HOST="alpha.qrcards.localhost:8000"
    )

    assert decode(Image.open(io.BytesIO(behind_proxy.content)).convert("RGB")) == [
        f"HTTP://ALPHA.QRCARDS.LOCALHOST/QR/{stop.token}"
    ]
    assert decode(Image.open(io.BytesIO(on_a_port.content)).convert("RGB")) == [
        f"HTTP://ALPHA.QRCARDS.LOCALHOST:8000/QR/{stop.token}"
    ]


def test_a_long_trails_codes_and_print_view_come_a_page_at_a_time_keeping_the_options(owner_a, workspace_a):
    from tests.fixtures.trails import trail_markdown

    stops = [(f"s{i}", f"Stop {i}") for i in range(1, 131)]
    trail = make_trail(workspace=workspace_a, source=trail_markdown(title="Long walk", stops=stops))

    first = owner_a.get(f"/dashboard/trails/{trail.pk}/cards/?error_correction=H").content.decode()
    last = owner_a.get(f"/dashboard/trails/{trail.pk}/cards/?error_correction=H&page=3").content.decode()
    printed = owner_a.get(f"/dashboard/trails/{trail.pk}/cards/print?page=3").content.decode()

    assert first.count("<svg") == 50 and "Stops 1–50 of 130" in first
    assert "?error_correction=H&amp;page=2" in first  # the next page keeps the chosen options
    assert last.count("<svg") == 30 and "31. Stop 31" not in last and "101. Stop 101" in last
    # The print view comes 48 cards at a time, like the PDFs: the third holds cards 97 to 130.
    assert printed.count('class="card"') == 34 and "Stop 97 of 130" in printed


def test_the_qr_page_shows_each_stops_url_as_its_code_encodes_it(owner_a, trail_a):
    page = owner_a.get(f"/dashboard/trails/{trail_a.pk}/cards/").content.decode()

    with schema_context("alpha"):
        tokens = [stop.token for stop in trail_a.live_stops()]
    for token in tokens:
        assert f'<a href="/qr/{token}">HTTP://ALPHA.QRCARDS.LOCALHOST/QR/{token}</a>' in page
        assert token.lower() not in page


CTA_TRAIL = '+++\ntitle = "Bell Walk"\ncall_to_action = "Scan to hear the bells"\n+++\n## The Bells {#bells}\nDing.\n'


@pytest.mark.parametrize("layout", ["A4", "LETTER", "CARD", "A6", "TENT"])
def test_the_cards_pdf_in_each_layout_carries_the_trails_call_to_action_and_decodes(owner_a, workspace_a, layout):
    trail = make_trail(workspace=workspace_a, source=CTA_TRAIL)
    with schema_context("alpha"):
        token = trail.live_stops().get().token

    response = owner_a.get(f"/dashboard/trails/{trail.pk}/cards.pdf?paper={layout}&crop_marks=on")

    assert response.status_code == 200 and f"-cards-{layout.lower()}.pdf" in response["Content-Disposition"]
    page = pypdfium2.PdfDocument(response.content)[0]
    text = " ".join(page.get_textpage().get_text_range().split())
    assert "Scan to hear the bells" in text and f"ALPHA.QRCARDS.LOCALHOST · {token[:4]} {token[4:]}" in text
    assert set(decode(page.render(scale=150 / 72).to_pil().convert("RGB"))) == {
        f"HTTP://ALPHA.QRCARDS.LOCALHOST/QR/{token}"
    }


def test_an_unknown_layout_is_a_400_that_names_the_layouts(owner_a, trail_a):
    response = owner_a.get(f"/dashboard/trails/{trail_a.pk}/cards.pdf?paper=A3")

    assert response.status_code == 400 and "A4, LETTER, CARD, A6, TENT" in response.content.decode()


def test_the_cards_page_says_what_the_cards_call_to_action_is_and_where_to_change_it(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a, source=CTA_TRAIL)

    page = owner_a.get(f"/dashboard/trails/{trail.pk}/cards/").content.decode()

    assert "“Scan to hear the bells”" in page and "call_to_action" in page
    assert 'value="TENT"' in page and 'value="CARD"' in page and 'value="A6"' in page


def test_the_print_view_of_a_tent_shows_each_card_twice_with_the_fallback(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a, source=CTA_TRAIL)
    with schema_context("alpha"):
        token = trail.live_stops().get().token

    page = owner_a.get(f"/dashboard/trails/{trail.pk}/cards/print?paper=TENT").content.decode()

    assert 'class="paper-tent"' in page and page.count("<svg") == 2 and "upside-down" in page
    assert f"<span>ALPHA.QRCARDS.LOCALHOST</span> · <span>{token[:4]} {token[4:]}</span>" in page
    assert "Scan to hear the bells" in page


def test_the_cards_pdf_carries_the_workspaces_logo_and_accent_colour(owner_a, trail_a, workspace_a, settings, tmp_path):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from accounts.models import Customer

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (90, 30), "#336699").save(buffer, "PNG")
    logo = default_storage.save("workspaces/alpha/logo-0123456789abcdef.png", ContentFile(buffer.getvalue()))
    # Through the table, not the shared fixture object: the next test's workspace is as it was.
    Customer.objects.filter(pk=workspace_a.pk).update(logo=logo, accent_colour="#1a7f5a")

    response = owner_a.get(f"/dashboard/trails/{trail_a.pk}/cards.pdf?paper=CARD")

    image = pypdfium2.PdfDocument(response.content)[0].render(scale=1).to_pil().convert("RGB")
    colours = {colour for _, colour in image.getcolors(1 << 20)}
    assert (0x1A, 0x7F, 0x5A) in colours and (0x33, 0x66, 0x99) in colours
