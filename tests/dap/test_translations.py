from __future__ import annotations

import datetime

import pytest

from dap import LANGUAGES, assemble, compare, is_rtl, language

MAIN = """\
+++
title = "Old Town Walk"
language = "en"
+++
Welcome.

## The Fountain {#fountain}
Built in 1820. ![The fountain](fountain.jpg)

## Clock Tower {#clock-tower}
It strikes thirteen once a year.

## The Bridge {#bridge}
Mind the gap.
"""

FRENCH = """\
+++
title = "Promenade de la vieille ville"
language = "fr"
+++
Bienvenue.

## La fontaine {#fountain}
Construite en 1820. ![La fontaine](fontaine.jpg)

## La tour de l'horloge {#clock-tower}
Elle sonne treize coups une fois par an.

## Le marché {#market}
Le samedi.
"""

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
LATER = T0 + datetime.timedelta(days=1)


def codes(report) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in report.diagnostics]


def test_it_reports_a_stop_of_the_main_document_missing_from_the_translation():
    report = compare(assemble(MAIN), assemble(FRENCH), tag="fr")
    missing = [d for d in report.diagnostics if d.code == "missing-stop"]
    assert len(missing) == 1
    assert "{#bridge}" in missing[0].message
    assert "line 13 of the main document" in missing[0].message


def test_it_reports_a_stop_the_main_document_does_not_have_on_its_line():
    report = compare(assemble(MAIN), assemble(FRENCH), tag="fr")
    assert (13, "extra-stop") in codes(report)


def test_it_summarises_how_complete_a_translation_is():
    report = compare(assemble(MAIN), assemble(FRENCH), tag="fr")
    assert report.summary == "French: 2 of 3 stops"
    assert not report.complete
    whole = compare(assemble(MAIN), assemble(MAIN.replace('"en"', '"de"')), tag="de")
    assert whole.summary == "German: 3 of 3 stops"
    assert whole.complete
    assert whole.diagnostics == ()


def test_a_translation_older_than_the_main_documents_change_may_be_out_of_date():
    changed = {"fountain": LATER, "clock-tower": T0}
    translated = {"fountain": T0, "clock-tower": LATER}
    report = compare(assemble(MAIN), assemble(FRENCH), tag="fr", main_changed=changed, translated_at=translated)
    stale = [(d.line, d.code) for d in report.diagnostics if d.code == "out-of-date"]
    assert stale == [(7, "out-of-date")]
    assert "may be out of date" in report.diagnostics[[d.code for d in report.diagnostics].index("out-of-date")].message


def test_without_change_times_nothing_is_out_of_date():
    report = compare(assemble(MAIN), assemble(FRENCH), tag="fr")
    assert "out-of-date" not in [d.code for d in report.diagnostics]


def test_it_reports_pictures_that_differ_for_the_same_stop():
    report = compare(assemble(MAIN), assemble(FRENCH), tag="fr")
    differs = [d for d in report.diagnostics if d.code == "media-differs"]
    assert [d.line for d in differs] == [7]
    assert "fountain.jpg" in differs[0].message and "fontaine.jpg" in differs[0].message


def test_the_same_pictures_with_translated_alt_text_are_the_same():
    french = FRENCH.replace("fontaine.jpg", "fountain.jpg")
    report = compare(assemble(MAIN), assemble(french), tag="fr")
    assert "media-differs" not in [d.code for d in report.diagnostics]


@pytest.mark.parametrize(("tag", "name"), [("de", "Deutsch"), ("ja", "日本語"), ("ar", "العربية"), ("fr", "Français")])
def test_languages_are_named_in_their_own_words(tag, name):
    assert language(tag).name == name


@pytest.mark.parametrize(
    ("tag", "rtl"),
    [("ar", True), ("he", True), ("fa", True), ("ur", True), ("ar-EG", True), ("en", False), ("ja", False)],
)
def test_right_to_left_languages_are_known(tag, rtl):
    assert is_rtl(tag) is rtl
    assert language(tag).direction == ("rtl" if rtl else "ltr")


def test_the_language_list_has_unique_well_formed_tags():
    tags = [lang.tag.lower() for lang in LANGUAGES]
    assert len(tags) == len(set(tags))
    assert {"en", "fr", "de", "es", "it", "nl", "ja", "zh", "ar"} <= set(tags)
    assert language("PT-br").tag == "pt-BR"
