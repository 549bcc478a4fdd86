"""Printable cards: sheets of vector QR codes that decode, with the text, on A4 and Letter, crop marks on demand."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pypdfium2
import pypdfium2.raw as pdfium
import pytest
import zxingcpp

from trails.cards import Card, card_boxes, cards_for_stops, cards_pdf
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
