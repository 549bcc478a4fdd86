"""The scanner page in the visitor's language: `?lang=`, else Accept-Language, else the trail's main language."""

from __future__ import annotations

import ast
import re

import pytest
from django_tenants.utils import schema_context

from scans.models import Scan
from tests.fixtures.trails import make_trail, make_translation, trail_markdown
from trails.languages import SCANNER_LANGUAGES
from trails.models import Stop, Trail

FRENCH = """+++
title = "Promenade de la vieille ville"
+++
Bienvenue.

## La fontaine {#fountain}
À propos de la fontaine.

## La tour de l'horloge {#clock-tower}
À propos de la tour.
"""
GERMAN = """+++
title = "Altstadtrundgang"
+++
## Der Brunnen {#fountain}
Über den Brunnen.

## Der Uhrturm {#clock-tower}
Über den Uhrturm.

## Die Brücke {#bridge}
Über die Brücke.
"""
ARABIC = """+++
title = "جولة المدينة القديمة"
+++
## النافورة {#fountain}
عن النافورة.

## برج الساعة {#clock-tower}
عن البرج.

## الجسر {#bridge}
عن الجسر.
"""


@pytest.fixture
def trail(workspace_a) -> Trail:
    """Old Town Walk in English (main), French (two stops of three), German and Arabic."""
    trail = make_trail(workspace=workspace_a)
    for language, source in (("fr", FRENCH), ("de", GERMAN), ("ar", ARABIC)):
        make_translation(workspace=workspace_a, trail=trail, language=language, source=source)
    return trail


def stops(trail: Trail) -> list[Stop]:
    with schema_context("alpha"):
        return list(trail.live_stops())


def get(client, stop: Stop, *, query: str = "", accept: str = ""):
    extra = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    return client.get(f"/qr/{stop.token}{query}", **extra)


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page)[0]


def test_a_browser_asking_for_french_gets_the_stop_in_french(client_a, trail):
    fountain = stops(trail)[0]

    response = get(client_a, fountain, accept="fr-CH, fr;q=0.9, en;q=0.8")

    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>La fontaine</h1>" in page
    assert "Promenade de la vieille ville" in page
    assert "Étape 1 sur 3" in page
    assert html_tag(page) == '<html lang="fr" dir="ltr">'
    assert response["Vary"] == "Accept-Language"


def test_the_query_wins_over_the_browsers_language_and_is_carried_to_the_next_stop(client_a, trail):
    fountain, tower, _ = stops(trail)

    page = get(client_a, fountain, query="?lang=de", accept="fr").content.decode()

    assert "<h1>Der Brunnen</h1>" in page
    assert f'href="/qr/{tower.token}?lang=de"' in page
    assert "Der Uhrturm" in page  # the next stop's title, in German too
    assert "Weiter" in page


def test_a_language_the_trail_lacks_gets_the_main_language(client_a, trail):
    fountain = stops(trail)[0]

    for response in (get(client_a, fountain, accept="pt-BR, es;q=0.5"), get(client_a, fountain, query="?lang=xx")):
        page = response.content.decode()
        assert "<h1>The Fountain</h1>" in page
        assert "Stop 1 of 3" in page
        assert html_tag(page) == '<html lang="en" dir="ltr">'


def test_a_stop_missing_from_the_translation_falls_back_to_the_main_language_marked_as_such(client_a, trail):
    bridge = stops(trail)[2]

    page = get(client_a, bridge, query="?lang=fr").content.decode()

    assert "Étape 3 sur 3" in page  # the page's own words stay French
    assert "Pas encore traduite, affichée en : English" in page
    assert '<h1 lang="en" dir="ltr">The Bridge</h1>' in page
    assert '<article lang="en" dir="ltr">' in page


def test_an_arabic_page_reads_right_to_left_with_its_arrows_turned(client_a, trail):
    _, tower, _ = stops(trail)

    page = get(client_a, tower, accept="ar").content.decode()

    assert html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "<h1>برج الساعة</h1>" in page
    assert "<span>→ السابق</span>" in page
    assert "<span>التالي ←</span>" in page
    assert "المحطة 2 من 3" in page


def test_the_switcher_and_alternates_list_every_language_in_its_own_name(client_a, trail, workspace_a):
    fountain = stops(trail)[0]

    page = get(client_a, fountain, accept="de").content.decode()

    for tag, name in (("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("ar", "العربية")):
        # Search engines want whole URLs, on the workspace's own address.
        alternate = f"http://{workspace_a.primary_host}/qr/{fountain.token}?lang={tag}"
        assert f'<link rel="alternate" hreflang="{tag}" href="{alternate}">' in page
        assert f">{name}</a>" in page
    assert f'<a aria-current="true" lang="de" href="/qr/{fountain.token}?lang=de">Deutsch</a>' in page
    assert "<script" not in page


def test_a_single_language_trail_has_no_switcher_and_no_lang_in_its_links(client_a, workspace_a):
    first, second, _ = stops(make_trail(workspace=workspace_a, source=trail_markdown(title="Plain Walk")))

    page = get(client_a, first, accept="fr").content.decode()

    assert "Stop 1 of 3" in page  # the trail has no French: nor do its page's words
    assert 'class="languages"' not in page and "hreflang" not in page
    assert f'href="/qr/{second.token}"' in page


def test_a_french_visitor_never_gets_the_german_page_from_the_cache(client_a, trail):
    fountain = stops(trail)[0]

    german = get(client_a, fountain, accept="de").content.decode()
    french = get(client_a, fountain, accept="fr").content.decode()
    german_again = get(client_a, fountain, accept="de").content.decode()
    english = get(client_a, fountain).content.decode()

    assert "Der Brunnen" in german and "Der Brunnen" not in french
    assert "La fontaine" in french
    assert german_again == german
    assert "The Fountain" in english and "La fontaine" not in english


def test_saving_a_translation_shows_at_once(client_a, trail):
    fountain = stops(trail)[0]
    assert "La fontaine" in get(client_a, fountain, accept="fr").content.decode()

    with schema_context("alpha"):
        trail.translations.get(language="fr").set_source(FRENCH.replace("La fontaine", "Le bassin"))

    page = get(client_a, fountain, accept="fr").content.decode()
    assert "<h1>Le bassin</h1>" in page


def test_a_new_translation_shows_at_once_on_a_page_already_kept_in_one_language(client_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    fountain = stops(trail)[0]
    assert "<h1>The Fountain</h1>" in get(client_a, fountain, accept="fr").content.decode()  # kept, English only

    make_translation(workspace=workspace_a, trail=trail, language="fr", source=FRENCH)

    assert "<h1>La fontaine</h1>" in get(client_a, fountain, accept="fr").content.decode()


def test_the_scan_records_the_language_served(client_a, trail):
    fountain = stops(trail)[0]

    get(client_a, fountain, accept="ja, fr;q=0.5")
    get(client_a, fountain)

    with schema_context("alpha"):
        assert sorted(Scan.objects.values_list("language", flat=True)) == ["en", "fr"]


@pytest.mark.parametrize(
    ("accept", "words"),
    [
        ("fr", "Cette étape n'existe plus"),
        ("ja", "このスポットは終了しました"),
        ("ar", "لم تعد هذه المحطة موجودة"),
        ("", "This stop has moved on"),
    ],
)
def test_a_retired_stop_is_in_the_visitors_language(client_a, workspace_a, accept, words):
    trail = make_trail(workspace=workspace_a)
    for language in ("fr", "ja", "ar"):
        make_translation(workspace=workspace_a, trail=trail, language=language, source=FRENCH)
    bridge = stops(trail)[2]
    with schema_context("alpha"):
        trail.set_source(trail_markdown(stops=[("fountain", "The Fountain")]))

    response = get(client_a, bridge, accept=accept)

    assert response.status_code == 410
    assert words in response.content.decode()


@pytest.mark.parametrize(
    ("accept", "words"),
    [("de", "Diese Karte konnten wir nicht finden"), ("zh-CN", "找不到这张卡片"), ("it", "Non abbiamo trovato")],
)
def test_an_unknown_card_answers_in_the_browsers_language(client_a, workspace_a, accept, words):
    response = client_a.get("/qr/ZZZZZZZZ", HTTP_ACCEPT_LANGUAGE=accept)

    assert response.status_code == 404
    assert words in response.content.decode()
    assert html_tag(response.content.decode()) == f'<html lang="{accept[:2]}" dir="ltr">'


def test_an_unknown_card_asked_for_in_arabic_reads_right_to_left(client_a, workspace_a):
    page = client_a.get("/qr/ZZZZZZZZ", HTTP_ACCEPT_LANGUAGE="ar").content.decode()

    assert html_tag(page) == '<html lang="ar" dir="rtl">'


def test_a_hostile_accept_language_header_gets_the_main_language(client_a, trail):
    fountain = stops(trail)[0]

    for header in ("fr;q=abc", "x" * 10_000, ",".join(["zz"] * 5_000) + ",fr", "fr;q=0, de;q=0"):
        response = get(client_a, fountain, accept=header, query="?lang=" + "y" * 5000 if "abc" in header else "")
        assert response.status_code == 200
        assert "<h1>The Fountain</h1>" in response.content.decode()


def test_the_end_of_the_trail_is_said_in_the_visitors_language(client_a, trail):
    last = stops(trail)[-1]

    page = get(client_a, last, accept="de-DE,de;q=0.9").content.decode()

    assert "Rundgang beendet" in page and "Von vorn beginnen" in page
    assert "Trail complete" not in page


@pytest.mark.parametrize("language", [tag for tag in SCANNER_LANGUAGES if tag != "en"])
def test_every_scanner_string_is_translated_and_compiled(language):
    import gettext
    from pathlib import Path

    from django.conf import settings

    locale = Path(settings.LOCALE_PATHS[0])
    source = (locale / language / "LC_MESSAGES" / "django.po").read_text()
    ids = [ast.literal_eval(found) for found in re.findall(r'^msgid (".+")$', source, flags=re.MULTILINE)]
    compiled = gettext.translation("django", localedir=locale, languages=[language])

    assert len(ids) >= 17
    untranslated = [msgid for msgid in ids if compiled.gettext(msgid) == msgid]
    assert untranslated == []


def test_a_last_good_copy_kept_before_languages_still_serves():
    import pickle

    from trails.views import ScannerPage

    page = pickle.loads(pickle.dumps(ScannerPage(200, "<p>old</p>", stop_id=1, trail_id=2)))  # noqa: S301 - our own bytes
    old = ScannerPage.__new__(ScannerPage)
    old.__setstate__([200, "<p>old</p>", 1, 2])  # as pickled when the page had four fields

    assert (old.html, old.stop_id, old.language, old.languages) == ("<p>old</p>", 1, "", ())
    assert page == ScannerPage(200, "<p>old</p>", stop_id=1, trail_id=2)
