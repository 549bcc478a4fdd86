"""Media in a document: references by name, what DAP reports about them, and renaming them exactly."""

from __future__ import annotations

import time

import pytest

import dap
from dap import MediaReference, assemble, media_references, rename_media
from dap.limits import MAX_MEDIA_DIAGNOSTICS

LIBRARY = {"heron.jpg": "image", "heron-guide.mp3": "audio", "old mill.jpg": "image", "fountain.webp": "image"}

HERON = """\
+++
title = "Marsh Walk"
+++
![The marsh at dawn](fountain.webp)

## The Heron {#heron}
![The heron at dusk](heron.jpg)

![Audio guide: the heron's call](heron-guide.mp3)

> The heron calls twice at dusk.

## The Mill
![The old mill](<old mill.jpg>) and a [hot-linked one](https://example.org/a.jpg).
"""


def found(text: str, media: dict[str, str] | None = LIBRARY) -> list[tuple[int, str, str]]:
    return [(d.line, d.severity, d.code) for d in assemble(text, media=media).diagnostics]


def test_a_document_whose_media_is_all_in_the_library_has_nothing_to_report() -> None:
    assert found(HERON) == []


def test_references_are_listed_with_their_names_lines_and_alt_text() -> None:
    assert media_references(HERON) == (
        MediaReference("fountain.webp", 4, "The marsh at dawn"),
        MediaReference("heron.jpg", 7, "The heron at dusk"),
        MediaReference("heron-guide.mp3", 9, "Audio guide: the heron's call"),
        MediaReference("old mill.jpg", 14, "The old mill"),
    )


@pytest.mark.parametrize(
    "reference",
    [
        "https://example.org/heron.jpg",
        "http://example.org/heron.jpg",
        "/static/heron.jpg",
        "../heron.jpg",
        "heron.jpg?size=2",
        "#heron",
    ],
)
def test_urls_and_paths_are_not_references_to_the_library(reference: str) -> None:
    document = f"## A\n![A heron]({reference})\n"

    assert media_references(document) == ()
    assert found(document, {}) == []


def test_the_html_keeps_a_reference_by_name_whatever_the_library_holds() -> None:
    with_library = assemble(HERON, media=LIBRARY).stops[1].html
    without = assemble(HERON, media={}).stops[1].html

    assert with_library == without
    assert '<img src="old%20mill.jpg" alt="The old mill">' in with_library
    assert dap.media_name("old%20mill.jpg") == "old mill.jpg"


def test_hot_linked_pictures_keep_working() -> None:
    html = assemble(HERON, media=LIBRARY).stops[1].html

    assert '<img src="https://example.org/a.jpg"' not in html  # a link, here; now a picture:
    picture = assemble("## A\n![A heron](https://example.org/a.jpg)\n", media={}).stops[0].html
    assert picture == '<p><img src="https://example.org/a.jpg" alt="A heron"></p>\n'


@pytest.mark.parametrize(
    ("document", "diagnostics"),
    [
        ("## A\n![The heron](heorn.jpg)\n", [(2, "warning", "missing-media")]),
        ("## A\ntext\n\n![The call](heron-call.mp3)\n\n> It calls.\n", [(4, "warning", "missing-audio")]),
        ("## A\n![](heron.jpg)\n", [(2, "warning", "missing-alt")]),
        ("## A\n![   ](heron.jpg)\n", [(2, "warning", "missing-alt")]),
        ("## A\n![Listen](heron-guide.mp3)\n", [(2, "warning", "missing-transcript")]),
        ("## A\n![Listen](heron-guide.mp3)\n\nThe heron calls.\n", [(2, "warning", "missing-transcript")]),
        ("## A\n![Listen](heron-guide.mp3)\n> The heron calls.\n", []),
        ("## A\n![](heron-guide.mp3)\n\n> The heron calls.\n", []),  # the player has a label of its own
        ("## A\nline one\n![The\nheron](nowhere.jpg)\n", [(3, "warning", "missing-media")]),
        ("## A\n| a |\n|---|\n| ![x](nowhere.jpg) |\n", [(4, "warning", "missing-media")]),
        ("## A\n> ![x](nowhere.jpg)\n", [(2, "warning", "missing-media")]),
        ("## A\n![x][ref]\n\n[ref]: nowhere.jpg\n", [(2, "warning", "missing-media")]),
        ("## A\n`![x](nowhere.jpg)` and nowhere.jpg\n", []),
        ("## A\n[a link](nowhere.jpg)\n", []),
        ("## A\n    ![x](nowhere.jpg)\n", []),  # indented code
    ],
)
def test_it_reports_missing_media_missing_alt_text_and_missing_transcripts_by_line(
    document: str, diagnostics: list[tuple[int, str, str]]
) -> None:
    assert found(document) == diagnostics


def test_missing_media_is_a_warning_so_the_document_still_saves() -> None:
    assembly = assemble("## A\n![The heron](nowhere.jpg)\n", media={})

    assert assembly.ok
    assert assembly.warnings[0].message.startswith('There is no picture "nowhere.jpg" in the media library.')


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("heorn.jpg", "heron.jpg"),
        ("Heron.JPG", "heron.jpg"),
        ("heron.jpeg", "heron.jpg"),
        ("old-mill.jpg", "old mill.jpg"),
    ],
)
def test_a_near_name_is_suggested(typed: str, meant: str) -> None:
    (diagnostic,) = assemble(f"## A\n![x]({typed})\n", media=LIBRARY).diagnostics

    assert f'Did you mean "{meant}"?' in diagnostic.message


def test_a_name_near_nothing_gets_no_suggestion() -> None:
    (diagnostic,) = assemble("## A\n![x](tram-depot.png)\n", media=LIBRARY).diagnostics

    assert "Did you mean" not in diagnostic.message
    assert "Upload it or correct the name; visitors see the alt text meanwhile." in diagnostic.message


def test_without_a_library_media_is_not_checked() -> None:
    assert found("## A\n![](nowhere.jpg)\n", None) == []


def test_thousands_of_missing_references_are_summed_up_after_the_first_few() -> None:
    document = "## A\n" + "".join(f"![x](missing-{i}.jpg)\n" for i in range(5_000))

    diagnostics = assemble(document, media=LIBRARY).diagnostics

    assert len(diagnostics) == MAX_MEDIA_DIAGNOSTICS + 1
    assert diagnostics[-1].message == f"… and {5_000 - MAX_MEDIA_DIAGNOSTICS:,} more like the one above."


def test_a_large_library_and_many_missing_names_assemble_quickly() -> None:
    library = {f"photo-{i:05d}-of-the-harbour-at-night.jpg": "image" for i in range(5_000)}
    document = "## A\n" + "".join(f"![x](photo-{i:05d}-of-the-harbour-at-nite.jpg)\n\n" for i in range(2_000))

    started = time.process_time()
    assembly = assemble(document, media=library)
    took = time.process_time() - started

    assert "Did you mean" in assembly.diagnostics[0].message
    assert took < 3  # a generous bound against a quadratic (2,000 x 5,000 comparisons would take minutes)


def test_a_name_with_odd_characters_is_quoted_and_cut_short_in_messages() -> None:
    name = "a" * 3_000 + ".jpg"
    (diagnostic,) = assemble(f"## A\n![x](<{name}>)\n", media=LIBRARY).diagnostics

    assert len(diagnostic.message) < 250


# Renaming


def test_renaming_rewrites_every_reference_and_nothing_else() -> None:
    renamed = rename_media(HERON, "heron.jpg", "grey-heron.jpg")

    assert renamed == HERON.replace("](heron.jpg)", "](grey-heron.jpg)")
    assert [r.name for r in media_references(renamed)] == [
        "fountain.webp",
        "grey-heron.jpg",
        "heron-guide.mp3",
        "old mill.jpg",
    ]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("![x](heron.jpg)", "![x](grey heron.jpg)"),  # written in <...> below
        ("![x](<heron.jpg>)", "![x](<grey heron.jpg>)"),
        ('![x](heron.jpg "heron.jpg")', '![x](<grey heron.jpg> "heron.jpg")'),
        ("![a\nlong alt](heron.jpg)", "![a\nlong alt](<grey heron.jpg>)"),
        ("> ![x](heron.jpg)", "> ![x](<grey heron.jpg>)"),
        ("- ![x](heron.jpg)", "- ![x](<grey heron.jpg>)"),
        ("| a |\n|---|\n| ![x](heron.jpg) |", "| a |\n|---|\n| ![x](<grey heron.jpg>) |"),
        ("![x][h]\n\n[h]: heron.jpg", "![x][h]\n\n[h]: <grey heron.jpg>"),
        ("heron.jpg in a sentence", "heron.jpg in a sentence"),
        ("`![x](heron.jpg)`", "`![x](heron.jpg)`"),
        ("[a link](heron.jpg)", "[a link](heron.jpg)"),
        ("![x](heron.jpg.bak) ![x](my-heron.jpg)", "![x](heron.jpg.bak) ![x](my-heron.jpg)"),
        ("![x](https://example.org/heron.jpg)", "![x](https://example.org/heron.jpg)"),
        ("    ![x](heron.jpg)", "    ![x](heron.jpg)"),
        ("```\n![x](heron.jpg)\n```", "```\n![x](heron.jpg)\n```"),
        (
            "| `](heron.jpg)` ![x](heron.jpg) | ![y](heron.jpg) |\n|---|---|",
            "| `](heron.jpg)` ![x](<grey heron.jpg>) | ![y](<grey heron.jpg>) |\n|---|---|",
        ),
    ],
)
def test_renaming_touches_only_the_destinations_of_pictures(before: str, after: str) -> None:
    if "](grey heron.jpg)" in after:
        after = after.replace("](grey heron.jpg)", "](<grey heron.jpg>)")

    assert rename_media(f"## A\n{before}\n", "heron.jpg", "grey heron.jpg") == f"## A\n{after}\n"


def test_renaming_keeps_front_matter_and_a_byte_order_mark() -> None:
    document = '\ufeff+++\ntitle = "heron.jpg"\n+++\n## A\n![x](heron.jpg)\n'

    assert (
        rename_media(document, "heron.jpg", "egret.jpg")
        == '\ufeff+++\ntitle = "heron.jpg"\n+++\n## A\n![x](egret.jpg)\n'
    )


def test_renaming_a_document_over_the_limits_changes_nothing() -> None:
    document = "## A\n![x](heron.jpg)\n" + "x" * 6_000

    assert rename_media(document, "heron.jpg", "egret.jpg") == document


def test_renaming_ten_thousand_references_is_linear() -> None:
    def document(count: int) -> str:
        return "## A\n" + "".join("![a](h.jpg) `](h.jpg)`\n" for _ in range(count))

    small, large = document(1_000), document(8_000)
    rename_media(small, "h.jpg", "egret.jpg")
    best_small = best_large = float("inf")
    for _ in range(3):
        started = time.process_time()
        rename_media(small, "h.jpg", "egret.jpg")
        best_small = min(best_small, time.process_time() - started)
        started = time.process_time()
        renamed = rename_media(large, "h.jpg", "egret.jpg")
        best_large = min(best_large, time.process_time() - started)

    assert renamed.count("](egret.jpg)") == 8_000
    assert renamed.count("`](h.jpg)`") == 8_000
    assert best_large < 8 * 2 * best_small
