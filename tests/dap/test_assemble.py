from __future__ import annotations

import pytest

import dap
from dap import MAX_DOCUMENT_BYTES, THEMES, Assembly, assemble, retitle

OLD_TOWN = """\
+++
title = "Old Town Walk"
language = "de"
theme = "museum"
+++
Intro text, shown on the trail's **first** page.

## The Fountain {#fountain}
Built in 1820 by the town's guild of masons.

## Clock Tower {#clock-tower}
It strikes thirteen once a year.
"""


def found(assembly: Assembly) -> list[tuple[int, str, str]]:
    return [(d.line, d.severity, d.code) for d in assembly.diagnostics]


def stop_ids(assembly: Assembly) -> list[str]:
    return [stop.id for stop in assembly.stops]


@pytest.mark.parametrize(
    ("document", "title", "language", "theme"),
    [
        (OLD_TOWN, "Old Town Walk", "de", "museum"),
        ("## A\nb", "Untitled trail", "en", "classic"),
        ("+++\n+++\n## A\nb", "Untitled trail", "en", "classic"),
        ('+++\ntheme = "minimal"\n+++\n## A\nb', "Untitled trail", "en", "minimal"),
        ('+++\nlanguage = "pt-BR"\n+++\n## A\nb', "Untitled trail", "pt-BR", "classic"),
        ("# Harbour *Walk*\nIntro.\n## A\nb", "Harbour Walk", "en", "classic"),
        ('+++\ntitle = ""\n+++\n# From Heading\n## A\nb', "From Heading", "en", "classic"),
        ('+++\ntitle = "Set"\n+++\n# Heading\n## A\nb', "Set", "en", "classic"),
        ('+++\ntitle = "  Padded  "\n+++\n## A\nb', "Padded", "en", "classic"),
        ('+++\r\ntitle = "Windows"\r\n+++\r\n## A\r\nb\r\n', "Windows", "en", "classic"),
        ('\ufeff+++\ntitle = "With BOM"\n+++\n## A\nb', "With BOM", "en", "classic"),
        ('+++\ntheme = "gothic"\n+++\n## A\nb', "Untitled trail", "en", "classic"),
        ("+++\ntitle = 3\n+++\n## A\nb", "Untitled trail", "en", "classic"),
        ("## Only a stop\n# Not the title\nb", "Untitled trail", "en", "classic"),
    ],
)
def test_it_reads_settings_from_the_front_matter_with_defaults(
    document: str, title: str, language: str, theme: str
) -> None:
    assembly = assemble(document)

    assert (assembly.title, assembly.language, assembly.theme) == (title, language, theme)
    assert assembly.theme in THEMES


@pytest.mark.parametrize(
    ("document", "diagnostics"),
    [
        (OLD_TOWN, []),
        ('+++\ntitle = "T"\ncolour = "red"\n+++\n## A\nb', [(3, "warning", "unknown-key")]),
        ("+++\n[extra]\nx = 1\n+++\n## A\nb", [(2, "warning", "unknown-key")]),
        ('+++\ntitle = "T"\ntheme = "gothic"\n+++\n## A\nb', [(3, "error", "unknown-theme")]),
        ("+++\ntitle = 3\n+++\n## A\nb", [(2, "error", "bad-value")]),
        ('+++\nlanguage = ["en"]\n+++\n## A\nb', [(2, "error", "bad-value")]),
        ('+++\nlanguage = "English"\n+++\n## A\nb', [(2, "error", "bad-language")]),
        ('+++\ntitle = "T"\ntheme = classic\n+++\n## A\nb', [(3, "error", "bad-front-matter")]),
        ('+++\ntitle = "T"\n## A\nb', [(1, "error", "bad-front-matter")]),
        ("Intro only.", [(0, "error", "no-stops")]),
        ("", [(0, "error", "no-stops")]),
        ("## A\n## B\nb", [(1, "warning", "empty-stop")]),
        ("## A\nb\n## B\n\n   \n", [(3, "warning", "empty-stop")]),
        ("## A {#x}\nb\n## B {#x}\nb", [(3, "error", "duplicate-id")]),
        ("## Café\nb\n## Cafe\nb", [(3, "error", "duplicate-id")]),
        ("## A {#Bad Id}\nb", [(1, "error", "bad-id")]),
        ("## A {#}\nb", [(1, "error", "bad-id")]),
        ("## A {#%s}\nb" % ("x" * 65), [(1, "error", "bad-id")]),
        ("## {#untitled}\nb", [(1, "warning", "empty-title")]),
        (
            '+++\ncolour = "red"\n+++\n## A {#x}\n## B {#x}\nb',
            [(2, "warning", "unknown-key"), (4, "warning", "empty-stop"), (5, "error", "duplicate-id")],
        ),
    ],
)
def test_it_reports_problems_on_the_lines_where_they_are(
    document: str, diagnostics: list[tuple[int, str, str]]
) -> None:
    assembly = assemble(document)

    assert found(assembly) == diagnostics
    assert assembly.ok == (not any(severity == "error" for _, severity, _ in diagnostics))


@pytest.mark.parametrize(
    ("heading", "stop_id", "title"),
    [
        ("## The Fountain {#fountain}", "fountain", "The Fountain"),
        ("## The Fountain   {#fountain}  ", "fountain", "The Fountain"),
        ("## Clock Tower", "clock-tower", "Clock Tower"),
        ("## Café Royal", "cafe-royal", "Café Royal"),
        ("## Über die Brücke!", "uber-die-brucke", "Über die Brücke!"),
        ("## Große Straße 1", "grosse-strasse-1", "Große Straße 1"),
        ("## The *Old* `Mill` ##", "the-old-mill", "The Old Mill"),
        ("## Fish & Chips", "fish-chips", "Fish & Chips"),
        ("## 北京", "stop-1", "北京"),
        ("## 2024 {#2024-a}", "2024-a", "2024"),
        ("## Escaped \\{#not-an-id}", "escaped-not-an-id", "Escaped {#not-an-id}"),
        ("## " + "word " * 30, ("word-" * 13)[:64].rstrip("-"), ("word " * 30).strip()),
    ],
)
def test_it_takes_the_stop_id_from_the_heading_or_its_title(heading: str, stop_id: str, title: str) -> None:
    (stop,) = assemble(heading + "\nText.").stops

    assert (stop.id, stop.title) == (stop_id, title)


def test_it_gives_each_level_two_heading_a_stop() -> None:
    assembly = assemble(OLD_TOWN)

    assert stop_ids(assembly) == ["fountain", "clock-tower"]
    assert [stop.line for stop in assembly.stops] == [8, 11]
    assert assembly.stops[0].html == "<p>Built in 1820 by the town's guild of masons.</p>\n"
    assert assembly.intro_html == "<p>Intro text, shown on the trail's <strong>first</strong> page.</p>\n"
    assert assembly.ok


def test_it_numbers_stops_without_a_usable_title() -> None:
    assembly = assemble("## ???\nb\n## !!!\nb")

    assert stop_ids(assembly) == ["stop-1", "stop-2"]


def test_it_names_the_first_line_of_a_duplicate_id() -> None:
    assembly = assemble("## Gate {#gate}\nb\n\n## Old Gate {#gate}\nb")

    (duplicate,) = assembly.errors
    assert duplicate.line == 4
    assert "line 1" in duplicate.message
    assert stop_ids(assembly) == ["gate", "gate"]


@pytest.mark.parametrize(
    "document",
    [
        "## Real\n```\n## Not a stop\n```\n",
        "## Real\n~~~markdown\n## Not a stop\n~~~\n",
        "## Real\n\n    ## Not a stop\n",
        "## Real\n> ## Not a stop\n",
        "## Real\n- ## Not a stop\n",
        "## Real\nNot a stop\n---------\n",
        "## Real\n#### Not a stop\n",
    ],
)
def test_it_only_counts_top_level_atx_headings_as_stops(document: str) -> None:
    assembly = assemble(document)

    assert stop_ids(assembly) == ["real"]
    assert "Not a stop" in assembly.stops[0].html


def test_it_leaves_a_leading_title_heading_out_of_the_intro() -> None:
    assembly = assemble("# Harbour Walk\n\nWelcome aboard.\n\n## Pier\nb")

    assert assembly.title == "Harbour Walk"
    assert assembly.intro_html == "<p>Welcome aboard.</p>\n"


def test_it_keeps_a_title_heading_in_the_intro_when_the_title_is_set() -> None:
    assembly = assemble('+++\ntitle = "Set"\n+++\n# Harbour Walk\n\n## Pier\nb')

    assert assembly.intro_html == "<h1>Harbour Walk</h1>\n"


def test_it_counts_lines_of_the_original_document_after_front_matter() -> None:
    document = '+++\ntitle = "T"\n\n+++\n\nIntro.\n\n## First\nb\n\n\n## Second\nb\n'

    assert [stop.line for stop in assemble(document).stops] == [8, 12]
    assert assemble(document.replace("\n", "\r\n")) == assemble(document)


def test_it_keeps_the_theme_classic_when_the_theme_is_unknown() -> None:
    assembly = assemble('+++\ntheme = "gothic"\n+++\n## A\nb')

    assert assembly.theme == "classic"
    assert "gothic" in assembly.errors[0].message


def test_it_refuses_a_document_just_over_the_size_limit() -> None:
    document = "## A\n" + "x" * (MAX_DOCUMENT_BYTES - 4)

    assembly = assemble(document)

    assert found(assembly) == [(0, "error", "too-large")]
    assert assembly.stops == ()
    assert assembly.intro_html == ""


def test_it_measures_the_size_limit_in_utf8_bytes() -> None:
    document = "## A\n" + "é" * (MAX_DOCUMENT_BYTES // 2)

    assert found(assemble(document)) == [(0, "error", "too-large")]


def test_it_assembles_a_document_just_under_the_size_limit() -> None:
    body = ("word " * 20 + "\n\n") * (MAX_DOCUMENT_BYTES // 102)
    document = "## A\n" + body
    document += "x" * (MAX_DOCUMENT_BYTES - len(document.encode()))
    assert len(document.encode()) == MAX_DOCUMENT_BYTES

    assembly = assemble(document)

    assert assembly.ok
    assert stop_ids(assembly) == ["a"]


def test_it_gives_the_same_assembly_for_the_same_document() -> None:
    first = assemble(OLD_TOWN)

    assert all(assemble(OLD_TOWN) == first for _ in range(3))
    assert repr(assemble(OLD_TOWN)) == repr(first)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Built in 1820.", "Built in 1820."),
        ("Built   in\n1820.\n\nBy  masons.", "Built in 1820. By masons."),
        ("**Bold**, *italic* and `code` with [a link](https://example.com).", "Bold, italic and code with a link."),
        ("![A stone lion](lion.jpg) guards it.", "A stone lion guards it."),
        ("```\ncode is left out\n```\nText.", "Text."),
        ("", ""),
    ],
)
def test_it_makes_a_plain_text_excerpt(body: str, expected: str) -> None:
    (stop,) = assemble("## A\n" + body).stops

    assert stop.excerpt == expected


def test_it_cuts_a_long_excerpt_at_a_word_boundary() -> None:
    words = " ".join(f"word{i}" for i in range(100))

    (stop,) = assemble("## A\n" + words).stops

    assert len(stop.excerpt) <= 160
    assert stop.excerpt.endswith("…")
    assert (stop.excerpt[:-1] + " ").replace(" ", "|") in words.replace(" ", "|") + "|"


def test_it_cuts_an_excerpt_of_one_long_word_anywhere() -> None:
    (stop,) = assemble("## A\n" + "x" * 500).stops

    assert stop.excerpt == "x" * 159 + "…"


def test_it_sorts_diagnostics_into_errors_and_warnings() -> None:
    assembly = assemble('+++\ncolour = "red"\ntheme = "gothic"\n+++\n## A\n')

    assert [d.code for d in assembly.errors] == ["unknown-theme"]
    assert [d.code for d in assembly.warnings] == ["unknown-key", "empty-stop"]
    assert not assembly.ok


@pytest.mark.parametrize(
    "document",
    [
        '+++\ntitle = "Old Town Walk"\ntheme = "museum"\n+++\nIntro.\n\n## A\nText.\n',
        '+++\ntheme = "museum"\n+++\nIntro.\n\n## A\nText.\n',
        "Intro.\n\n## A\nText.\n",
    ],
)
def test_retitle_sets_the_title_and_keeps_everything_else(document):
    retitled = retitle(document, 'Copy of "Old" Town — Walk')

    before, after = assemble(document), assemble(retitled)
    assert after.title == 'Copy of "Old" Town — Walk'
    assert after.ok
    assert [(s.id, s.title, s.html) for s in after.stops] == [(s.id, s.title, s.html) for s in before.stops]
    assert after.intro_html == before.intro_html


def test_it_reads_the_call_to_action_printed_under_each_code() -> None:
    assembly = assemble('+++\ncall_to_action = "  Scan me to hear the bells ring "\n+++\n## A\nb')

    assert assembly.ok and assembly.call_to_action == "Scan me to hear the bells ring"
    assert assemble("## A\nb").call_to_action == ""


@pytest.mark.parametrize(
    "value", ['"' + "x" * (dap.MAX_CALL_TO_ACTION_CHARS + 1) + '"', '"two\\nlines"', '"""two\nlines"""']
)
def test_it_refuses_a_call_to_action_longer_than_one_printed_line(value: str) -> None:
    assembly = assemble(f'+++\ntitle = "T"\ncall_to_action = {value}\n+++\n## A\nb')

    assert [(d.line, d.code) for d in assembly.errors] == [(3, "call-to-action-too-long")]
    assert assembly.call_to_action == ""


def test_a_call_to_action_of_the_longest_allowed_length_is_kept() -> None:
    longest = "é" * dap.MAX_CALL_TO_ACTION_CHARS

    assert assemble(f'+++\ncall_to_action = "{longest}"\n+++\n## A\nb').call_to_action == longest
