"""A trail in three languages, written in the dashboard and read by a French and a Japanese phone."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.trails.test_in_a_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

TRAIL = """+++
title = "Sculpture Garden"
+++
Welcome to the garden.

## The Bronze Horse {#horse}
Cast in 1901.

## The Marble Bench {#bench}
Sit a while.
"""
TRANSLATIONS = {
    "fr": (
        "Français (French)",
        '+++\ntitle = "Jardin des sculptures"\n+++\n## Le cheval de bronze {#horse}\nFondu en 1901.\n\n'
        "## Le banc de marbre {#bench}\nAsseyez-vous.\n",
    ),
    "ja": (
        "日本語 (Japanese)",
        '+++\ntitle = "彫刻の庭"\n+++\n## ブロンズの馬 {#horse}\n1901年に鋳造。\n\n## 大理石のベンチ {#bench}\nひと休みを。\n',
    ),
}


def test_an_author_adds_translations_and_phones_read_the_same_card_in_their_language(site, page, browser):
    log_in(page, site)
    page.goto(site.url("/dashboard/trails/new"))
    page.locator("#source").fill(TRAIL)
    page.get_by_role("button", name="Create trail").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("h1 .badge")).to_have_text("Published")

    for tag, (label, document) in TRANSLATIONS.items():
        page.get_by_label("Add a language").select_option(label=label)
        page.get_by_role("button", name="Translate").click()
        source = page.locator("#source")
        expect(source).to_have_attribute("lang", tag)
        source.fill(document)
        source.dispatch_event("input")  # the preview follows, in the translation's language
        expect(page.locator(".diagnostics .summary")).to_contain_text("2 of 2 stops")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".messages")).to_contain_text("2 of 2 stops")

    with schema_context(site.workspace.schema_name):
        from trails.models import Stop

        token = Stop.objects.get(key="horse").token
    card = site.url(f"/QR/{token}")  # as the QR code carries it
    seen = {}
    for locale in ("fr-FR", "ja-JP"):
        phone = browser.new_context(locale=locale)
        visit = phone.new_page()
        visit.goto(card)
        seen[locale] = (
            visit.locator("html").get_attribute("lang"),
            visit.get_by_role("heading", level=1).inner_text(),
            visit.locator(".progress").inner_text(),
            visit.get_by_role("link", name="English").get_attribute("href"),
        )
        phone.close()

    assert seen["fr-FR"] == ("fr", "Le cheval de bronze", "Étape 1 sur 2", f"/qr/{token}?lang=en")
    assert seen["ja-JP"] == ("ja", "ブロンズの馬", "スポット 1 / 2", f"/qr/{token}?lang=en")


@pytest.fixture(scope="module")
def arabic_bench(site, django_db_blocker) -> str:
    """The token of the middle stop of a trail translated into Arabic (committed, for the live server)."""
    from trails.models import Trail, TrailTranslation

    source = TRAIL.replace("Sculpture Garden", "Arabic Garden") + "\n## The Gate {#gate}\nThe way out.\n"
    arabic = "## الحصان {#horse}\nنص.\n\n## المقعد {#bench}\nنص.\n\n## البوابة {#gate}\nنص.\n"
    with django_db_blocker.unblock(), schema_context(site.workspace.schema_name):
        trail = Trail.create_from_markdown(source, status="published")
        TrailTranslation(trail=trail, language="ar").set_source(arabic)
        return trail.live_stops().get(key="bench").token


def test_an_arabic_page_lays_out_right_to_left_with_next_on_the_left(site, page, arabic_bench):
    page.goto(site.url(f"/qr/{arabic_bench}?lang=ar"))

    assert page.evaluate("() => getComputedStyle(document.documentElement).direction") == "rtl"
    previous = page.locator("a[rel=prev]").bounding_box()
    following = page.locator("a[rel=next]").bounding_box()
    steps = page.locator("nav.steps").bounding_box()
    # Next at the left edge, previous at the right: the way an Arabic reader goes on.
    assert abs(following["x"] - steps["x"]) < 2
    assert abs(previous["x"] + previous["width"] - steps["x"] - steps["width"]) < 2
    expect(page.locator("a[rel=next] span")).to_have_text("التالي ←")
