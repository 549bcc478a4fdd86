"""Printable cards in every layout: vector QR codes that decode at 150 dpi, the text in many scripts, print shop marks."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pypdfium2
import pypdfium2.raw as pdfium
import pytest
import zxingcpp

from trails.cards import LAYOUTS, MIN_FALLBACK_SIZE, Branding, Card, card_boxes, cards_for_stops, cards_pdf
from trails.qr import QrOptions, stop_qr_url

PAGE_SIZES = {"A4": (595.28, 841.89), "LETTER": (612, 792)}


def make_cards(count: int, *, title: str = "The Market Fountain") -> list[Card]:
    choose = random.Random(count).choices
    return [
        Card(
            url=stop_qr_url(
                host="old-town-museum.qrcards.app", token="".join(choose("23456789ABCDEFGHJKMNPQRSTUVWXYZ", k=8))
            ),
            stop_title=f"{title} {number}",
            trail_title="Old Town Walk",
            number=number,
            count=count,
        )
        for number in range(1, count + 1)
    ]


THIRTY = make_cards(30)


@pytest.fixture(scope="module", params=["A4", "LETTER"])
def thirty_card_pdf(request) -> tuple[str, pypdfium2.PdfDocument]:
    return request.param, pypdfium2.PdfDocument(cards_pdf(cards=THIRTY, paper=request.param))


def decoded(page: pypdfium2.PdfPage) -> list[str]:
    image = page.render(scale=150 / 72).to_pil()  # 150 dpi, an office scanner or a phone's photo of a print
    return sorted(code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode))


def objects(page: pypdfium2.PdfPage, kind: int) -> list:
    return [obj for obj in page.get_objects() if obj.type == kind]


def test_thirty_cards_at_two_by_four_fill_four_sheets_of_the_chosen_paper(thirty_card_pdf):
    paper, pdf = thirty_card_pdf

    assert len(pdf) == 4
    for page in pdf:
        assert page.get_size() == pytest.approx(PAGE_SIZES[paper], abs=0.01)


@pytest.mark.parametrize("count, pages", [(1, 1), (8, 1), (9, 2), (16, 2)])
def test_a_new_sheet_starts_only_when_one_is_full(count, pages):
    assert len(pypdfium2.PdfDocument(cards_pdf(cards=make_cards(count)))) == pages


def test_every_cards_code_on_every_sheet_decodes_to_its_url(thirty_card_pdf):
    _, pdf = thirty_card_pdf

    for number, page in enumerate(pdf):
        image = page.render(scale=2).to_pil()  # 144 dpi, a cheap office scan
        decoded = sorted(code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode))
        assert decoded == sorted(card.url for card in THIRTY[number * 8 : number * 8 + 8])


def test_codes_are_vector_shapes_not_images(thirty_card_pdf):
    _, pdf = thirty_card_pdf

    for page in pdf:
        assert objects(page, pdfium.FPDF_PAGEOBJ_IMAGE) == []


def test_each_card_shows_its_stop_title_trail_number_and_call_to_action(thirty_card_pdf):
    _, pdf = thirty_card_pdf

    text = " ".join(pdf[2].get_textpage().get_text_range().split())  # lines joined: titles wrap

    for card in THIRTY[16:24]:
        assert card.stop_title in text
        assert f"Stop {card.number} of 30" in text
    assert text.count("Old Town Walk") == 8
    assert text.count("Scan to read about this") == 8


def test_a_long_title_is_cut_with_an_ellipsis_and_all_text_stays_on_its_card():
    long_title = "The Remarkably Long and Winding Name of the Old Market Fountain Beside the Guild Houses " * 3
    cards = make_cards(8, title=long_title + "Forever")
    page = pypdfium2.PdfDocument(cards_pdf(cards=cards, paper="LETTER"))[0]
    boxes = card_boxes(paper="LETTER")

    text = page.get_textpage().get_text_range()
    assert text.count("…") == 8
    assert "Forever" not in text
    for text in objects(page, pdfium.FPDF_PAGEOBJ_TEXT):
        left, bottom, right, top = text.get_bounds()
        assert any(box.x <= left and right <= box.right and box.y <= bottom and top <= box.top for box in boxes), (
            "text outside every card"
        )


def margin_marks(page: pypdfium2.PdfPage, paper: str) -> list[tuple[float, float, float, float]]:
    """Bounds of the shapes drawn outside the card grid, in the page margins."""
    boxes = card_boxes(paper=paper)
    left, right = min(box.x for box in boxes), max(box.right for box in boxes)
    bottom, top = min(box.y for box in boxes), max(box.top for box in boxes)
    return [
        bounds
        for bounds in (path.get_bounds() for path in objects(page, pdfium.FPDF_PAGEOBJ_PATH))
        if bounds[2] < left or bounds[0] > right or bounds[3] < bottom or bounds[1] > top
    ]


@pytest.mark.parametrize("paper", ["A4", "LETTER"])
def test_crop_marks_line_up_with_every_cut_only_when_asked(paper):
    cards = make_cards(12)
    plain = pypdfium2.PdfDocument(cards_pdf(cards=cards, paper=paper))
    marked = pypdfium2.PdfDocument(cards_pdf(cards=cards, paper=paper, crop_marks=True))
    boxes = card_boxes(paper=paper)
    cuts_x = sorted({round(edge, 1) for box in boxes for edge in (box.x, box.right)})
    cuts_y = sorted({round(edge, 1) for box in boxes for edge in (box.y, box.top)})

    for page in plain:
        assert margin_marks(page, paper) == []
    for page in marked:
        marks = margin_marks(page, paper)
        vertical = [(x0 + x1) / 2 for x0, _, x1, _ in marks if x1 - x0 < 1]
        horizontal = [(y0 + y1) / 2 for _, y0, _, y1 in marks if y1 - y0 < 1]
        assert len(marks) == len(vertical) + len(horizontal) == 2 * (len(cuts_x) + len(cuts_y))
        assert sorted({round(x, 1) for x in vertical}) == cuts_x  # 3 cuts across a 2-column sheet
        assert sorted({round(y, 1) for y in horizontal}) == cuts_y  # 5 cuts down a 4-row sheet


def test_the_same_cards_give_the_same_bytes():
    assert cards_pdf(cards=THIRTY[:8]) == cards_pdf(cards=THIRTY[:8])


def test_cards_too_small_for_the_smallest_code_are_refused():
    with pytest.raises(ValueError, match="too small"):
        cards_pdf(cards=THIRTY, columns=5, rows=12)


def test_an_unknown_paper_is_refused():
    with pytest.raises(ValueError, match="A4, LETTER"):
        cards_pdf(cards=THIRTY, paper="A3")


def test_refused_qr_options_build_no_pdf():
    with pytest.raises(ValueError, match="contrast"):
        cards_pdf(cards=THIRTY, options=QrOptions(foreground="#aaaaaa"))


def test_cards_for_stops_number_the_stops_in_order_with_upper_case_urls():
    stops = [SimpleNamespace(token="ABCD2345", title="Fountain"), SimpleNamespace(token="WXYZ6789", title="Bridge")]

    cards = cards_for_stops(host="demo.qrcards.localhost", trail_title="Old Town Walk", stops=stops)

    assert [(card.url, card.stop_title, card.number, card.count) for card in cards] == [
        ("HTTPS://DEMO.QRCARDS.LOCALHOST/QR/ABCD2345", "Fountain", 1, 2),
        ("HTTPS://DEMO.QRCARDS.LOCALHOST/QR/WXYZ6789", "Bridge", 2, 2),
    ]


MM = 72 / 25.4
SINGLE_SIZES = {"CARD": (85, 55), "A6": (105, 148), "TENT": (210, 297)}


@pytest.fixture(scope="module", params=list(LAYOUTS))
def thirty_in_each_layout(request) -> tuple[str, pypdfium2.PdfDocument]:
    return request.param, pypdfium2.PdfDocument(cards_pdf(cards=THIRTY, paper=request.param))


def test_every_code_in_every_layout_decodes_at_150_dpi(thirty_in_each_layout):
    layout, pdf = thirty_in_each_layout
    per_page = 8 if LAYOUTS[layout].is_sheet else 1
    faces = 2 if LAYOUTS[layout].folded else 1

    assert len(pdf) == -(-30 // per_page)
    for number, page in enumerate(pdf):
        expected = [card.url for card in THIRTY[number * per_page : (number + 1) * per_page]]
        assert decoded(page) == sorted(expected * faces)


@pytest.mark.parametrize("layout", list(SINGLE_SIZES))
def test_single_layouts_print_one_card_a_page_at_their_size(layout):
    page = pypdfium2.PdfDocument(cards_pdf(cards=THIRTY[:2], paper=layout))[0]

    width, height = SINGLE_SIZES[layout]
    assert page.get_size() == pytest.approx((width * MM, height * MM), abs=0.01)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_card_in_each_layout_shows_everything_a_visitor_needs(layout):
    card = THIRTY[0]
    pdf = pypdfium2.PdfDocument(cards_pdf(cards=[replace_action(card, "Scan to hear the bells")], paper=layout))

    text = " ".join(pdf[0].get_textpage().get_text_range().split())

    assert card.stop_title in text and "Old Town Walk" in text and "Stop 1 of 30" in text
    assert "Scan to hear the bells" in text
    address, code = card.fallback
    assert address == "OLD-TOWN-MUSEUM.QRCARDS.APP" and len(code) == 9 and code[4] == " "
    assert f"{address} · {code}" in text


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_card_of_a_trail_in_several_languages_lists_them_in_their_own_names(layout):
    card = replace(replace_action(THIRTY[0], "Scan to hear the bells"), languages="English · Français · Deutsch")
    pdf = pypdfium2.PdfDocument(cards_pdf(cards=[card], paper=layout))

    text = " ".join(pdf[0].get_textpage().get_text_range().split())

    assert "English · Français · Deutsch" in text and "Scan to hear the bells" in text
    assert set(decoded(pdf[0])) == {card.url}


def replace_action(card: Card, action: str) -> Card:
    return replace(card, call_to_action=action)


def test_the_typed_fallback_is_the_address_and_the_code_in_groups_of_four():
    card = cards_for_stops(
        host="demo.qrcards.io", trail_title="T", stops=[SimpleNamespace(token="J6JFTU42", title="A")]
    )[0]

    assert card.fallback == ("DEMO.QRCARDS.IO", "J6JF TU42")


def test_the_fallback_is_printed_large_in_a_monospaced_font(thirty_in_each_layout):
    layout, pdf = thirty_in_each_layout
    address, code = THIRTY[0].fallback

    sizes = [
        obj.get_font_size()
        for obj in objects(pdf[0], pdfium.FPDF_PAGEOBJ_TEXT)
        if "Mono" in obj.get_font().get_base_name()
    ]
    assert sizes and min(sizes) >= MIN_FALLBACK_SIZE
    if layout in ("A6", "TENT"):
        assert min(sizes) >= 11  # a sign is read from further away than a card in the hand


def test_a_long_custom_domain_puts_the_code_on_its_own_line_rather_than_in_tiny_letters():
    host = "the-very-long-named-municipal-museum-of-old-town-history.example.org"
    card = Card(url=stop_qr_url(host=host, token="J6JFTU42"), stop_title="A", trail_title="T", number=1, count=1)
    page = pypdfium2.PdfDocument(cards_pdf(cards=[card], paper="CARD"))[0]

    lines = page.get_textpage().get_text_range().splitlines()

    assert host.upper() in lines and "J6JF TU42" in lines
    assert decoded(page) == [card.url]


@pytest.mark.parametrize(
    "title",
    [
        "Ο Πύργος του Ρολογιού",  # Greek
        "Часовая башня",  # Cyrillic
        "Ժամացույցի աշտարակ",  # Armenian
        "מגדל השעון",  # Hebrew
        "东京塔",  # Chinese
        "時計台の広場",  # Japanese
        "시계탑 광장",  # Korean
    ],
)
def test_non_latin_titles_print_in_their_own_letters(title):
    card = replace_action(THIRTY[0], "Scan")
    pdf = pypdfium2.PdfDocument(cards_pdf(cards=[Card(**{**card.__dict__, "stop_title": title})], paper="CARD"))

    text = " ".join(pdf[0].get_textpage().get_text_range().split())  # the title wraps
    assert title in text
    fonts = {obj.get_font().get_base_name() for obj in objects(pdf[0], pdfium.FPDF_PAGEOBJ_TEXT)}
    # Embedded, never a viewer's stand-in.
    assert fonts and all("DejaVu" in font or "DroidSansFallback" in font for font in fonts)


class DrawnStrings:
    """A stand-in canvas that keeps each string drawn, with its font and where it starts and ends."""

    def __init__(self):
        self.font = None
        self.drawn = []

    def setFont(self, font, size):  # noqa: N802 (reportlab's names)
        self.font = (font, size)

    def setFillColor(self, colour):  # noqa: N802
        pass

    def drawString(self, x, y, text):  # noqa: N802
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self.drawn.append((text, self.font[0], round(x, 2), round(x + stringWidth(text, *self.font), 2)))


def drawn(text: str, width: float = 200):
    from trails.cards import TITLE, _draw_text, register_fonts

    register_fonts()
    canvas = DrawnStrings()
    _draw_text(canvas, text, replace(TITLE, max_lines=5), x=10, top=100, width=width)
    return canvas.drawn


def test_arabic_is_joined_and_set_right_to_left_flush_right():
    ((text, font, _, right),) = drawn("برج الساعة")

    # Joined forms (Arabic Presentation Forms-B), in the order drawn left to right: the first letter rightmost.
    assert text == "\ufe94\ufecb\ufe8e\ufeb4\ufedf\ufe8d \ufe9d\ufeae\ufe91"
    assert right == 210 and font == "DejaVuSans-Bold"
    assert drawn("Clock Tower")[0][2] == 10  # left to right, flush left


def test_chinese_japanese_and_korean_letters_come_from_the_cjk_font_mid_line():
    assert [(text, font) for text, font, _, _ in drawn("Stop 钟楼 7")] == [
        ("Stop ", "DejaVuSans-Bold"),
        ("钟楼", "DroidSansFallback"),
        (" 7", "DejaVuSans-Bold"),
    ]
    (_, _, left, right), (_, _, next_left, _), _ = drawn("Stop 钟楼 7")
    assert left == 10 and right == next_left  # each piece starts where the last one ended


def test_a_cjk_title_without_spaces_wraps_between_ideographs_not_with_an_ellipsis():
    title = "東京の古い時計台と川沿いの散歩道"
    lines = drawn(title, width=80)

    assert len(lines) > 1 and "".join(text for text, _, _, _ in lines) == title
    assert all(right <= 90.01 for _, _, _, right in lines)


def test_an_arabic_title_is_printed_in_a_pdf_that_reads_it_back():
    title = "برج الساعة"
    page = pypdfium2.PdfDocument(cards_pdf(cards=[Card(**{**THIRTY[0].__dict__, "stop_title": title})], paper="A6"))[0]

    assert title in page.get_textpage().get_text_range()


def test_the_accent_colour_and_logo_are_on_every_card():
    import io

    from PIL import Image

    logo = io.BytesIO()
    Image.new("RGB", (120, 40), "#336699").save(logo, "PNG")
    pdf = pypdfium2.PdfDocument(
        cards_pdf(cards=THIRTY[:8], branding=Branding(name="Museum", accent="#1a7f5a", logo=logo.getvalue()))
    )
    plain = pypdfium2.PdfDocument(cards_pdf(cards=THIRTY[:8]))

    image = pdf[0].render(scale=1).to_pil().convert("RGB")
    colours = {colour for _, colour in image.getcolors(1 << 20)}
    assert (0x1A, 0x7F, 0x5A) in colours and (0x33, 0x66, 0x99) in colours
    plain_colours = {colour for _, colour in plain[0].render(scale=1).to_pil().convert("RGB").getcolors(1 << 20)}
    assert (0x1A, 0x7F, 0x5A) not in plain_colours and (0x33, 0x66, 0x99) not in plain_colours
    forms = [obj for obj in pdf[0].get_objects() if obj.type == pdfium.FPDF_PAGEOBJ_FORM]
    assert len(forms) == 8  # the logo is embedded once and placed on each card


def test_a_logo_that_is_not_an_image_is_left_off_and_the_cards_still_print():
    pdf = pypdfium2.PdfDocument(cards_pdf(cards=THIRTY[:2], branding=Branding(logo=b"<svg onload=x>")))

    assert decoded(pdf[0]) == sorted(card.url for card in THIRTY[:2])


@pytest.mark.parametrize("layout", list(SINGLE_SIZES))
def test_for_a_print_shop_single_layouts_have_bleed_trim_box_and_crop_marks(layout):
    pdf = pypdfium2.PdfDocument(cards_pdf(cards=THIRTY[:1], paper=layout, crop_marks=True))
    page = pdf[0]
    width, height = SINGLE_SIZES[layout]

    # 3 mm of bleed and 10 mm of slug for the marks on each side.
    assert page.get_size() == pytest.approx(((width + 26) * MM, (height + 26) * MM), abs=0.01)
    assert page.get_trimbox() == pytest.approx((13 * MM, 13 * MM, (width + 13) * MM, (height + 13) * MM), abs=0.01)
    assert page.get_bleedbox() == pytest.approx((10 * MM, 10 * MM, (width + 16) * MM, (height + 16) * MM), abs=0.01)
    trim = page.get_trimbox()
    marks = [
        bounds
        for bounds in (path.get_bounds() for path in objects(page, pdfium.FPDF_PAGEOBJ_PATH))
        if bounds[2] < trim[0] or bounds[0] > trim[2] or bounds[3] < trim[1] or bounds[1] > trim[3]
    ]
    assert len(marks) == 8  # two at each corner, clear of the bleed
    # The accent band runs into the bleed: the rendered page is coloured past the trim line.
    image = page.render(scale=150 / 72).to_pil().convert("RGB")
    px = 150 / 25.4
    band_top = 13 + (height / 2 if layout == "TENT" else 0)  # a tent's bands meet at its fold
    assert image.getpixel((round(11.5 * px), round((band_top + 1) * px))) == (0x8A, 0x3B, 0x12)
    assert decoded(page) == [THIRTY[0].url] * (2 if layout == "TENT" else 1)


def test_a_table_tent_prints_the_card_on_both_faces_the_upper_one_upside_down():
    page = pypdfium2.PdfDocument(cards_pdf(cards=THIRTY[:1], paper="TENT"))[0]
    image = page.render(scale=150 / 72).to_pil()
    upper = image.crop((0, 0, image.width, image.height // 2))
    lower = image.crop((0, image.height // 2, image.width, image.height))
    for face in (upper, lower):
        assert [code.text for code in zxingcpp.read_barcodes(face)] == [THIRTY[0].url]
    (upper_code,) = zxingcpp.read_barcodes(upper)
    (lower_code,) = zxingcpp.read_barcodes(lower)
    assert abs(upper_code.orientation - lower_code.orientation) == 180


SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_layouts_first_page_is_saved_as_a_picture_a_person_can_check(layout):
    """var/screenshots/cards-<layout>.png at 150 dpi: titles in five scripts, a logo, the accent, print shop marks."""
    import io

    from PIL import Image

    logo = io.BytesIO()
    Image.new("RGB", (240, 80), "#1a5276").save(logo, "PNG")
    titles = ["The Market Fountain", "Ο Πύργος του Ρολογιού", "Часовая башня", "برج الساعة", "時計台の広場"]
    cards = [
        replace(card, stop_title=titles[index % len(titles)], call_to_action="Scan to hear the bells")
        for index, card in enumerate(THIRTY[:8])
    ]
    branding = Branding(name="Demo Town Museum", accent="#1a7f5a", logo=logo.getvalue())
    page = pypdfium2.PdfDocument(cards_pdf(cards=cards, paper=layout, crop_marks=True, branding=branding))[0]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image = page.render(scale=150 / 72).to_pil()
    image.save(SCREENSHOTS / f"cards-{layout.lower()}.png")
    assert decoded(page)


def logo_png(colour: str = "#336699", size: tuple[int, int] = (240, 80)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_logo_is_on_every_card_of_every_layout_and_every_code_still_decodes(layout):
    cards = THIRTY[:10]
    pdf = pypdfium2.PdfDocument(cards_pdf(cards=cards, paper=layout, branding=Branding(logo=logo_png())))
    per_page = 8 if LAYOUTS[layout].is_sheet else 1
    faces = 2 if LAYOUTS[layout].folded else 1

    for number, page in enumerate(pdf):
        on_page = cards[number * per_page : (number + 1) * per_page]
        assert len(objects(page, pdfium.FPDF_PAGEOBJ_FORM)) == len(on_page) * faces
        colours = {colour for _, colour in page.render(scale=1).to_pil().convert("RGB").getcolors(1 << 20)}
        assert (0x33, 0x66, 0x99) in colours
        assert decoded(page) == sorted([card.url for card in on_page] * faces)


def test_a_tall_logo_stays_in_the_cards_header_and_the_code_decodes():
    pdf = pypdfium2.PdfDocument(
        cards_pdf(cards=THIRTY[:1], paper="CARD", branding=Branding(logo=logo_png(size=(40, 400))))
    )

    assert decoded(pdf[0]) == [THIRTY[0].url]


def test_the_workspaces_logo_is_on_every_card_of_the_print_view_and_the_pdf(client_a, cast, workspace_a, media_root):
    import re

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from accounts.models import Customer
    from tests.fixtures.trails import make_trail

    trail = make_trail(workspace=workspace_a)
    name = default_storage.save("workspaces/alpha/logo-0123456789abcdef.png", ContentFile(logo_png()))
    Customer.objects.filter(pk=workspace_a.pk).update(logo=name)  # the shared fixture object stays as it was
    client_a.force_login(cast.editor)
    logo_url = Customer.objects.get(pk=workspace_a.pk).logo_url

    printed = client_a.get(f"/dashboard/trails/{trail.pk}/cards/print").content.decode()
    pdf = pypdfium2.PdfDocument(client_a.get(f"/dashboard/trails/{trail.pk}/cards.pdf?paper=A6").content)

    assert printed.count('class="card"') == 3
    assert len(re.findall(rf'<img src="{re.escape(logo_url)}" alt="">', printed)) == 3
    assert client_a.get(logo_url)["Content-Type"] == "image/png"
    for page in pdf:
        assert len(objects(page, pdfium.FPDF_PAGEOBJ_FORM)) == 1
        assert len(decoded(page)) == 1
