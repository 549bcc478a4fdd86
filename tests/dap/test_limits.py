"""The hard limits on a document: each is an error diagnostic with a line, never an exception."""

from __future__ import annotations

import re

import pytest

from dap import (
    MAX_BRACKETS,
    MAX_FRONT_MATTER_BYTES,
    MAX_FRONT_MATTER_DEPTH,
    MAX_FRONT_MATTER_KEYS,
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_NESTING,
    MAX_STOPS,
    MAX_TABLE_PIPES,
    Assembly,
    assemble,
)
from dap.assemble import _split_id
from dap.tomlscan import first_line_too_deep


def found(assembly: Assembly) -> list[tuple[int, str, str]]:
    return [(d.line, d.severity, d.code) for d in assembly.diagnostics]


def stops(count: int) -> str:
    return "".join(f"## Stop {i}\nText.\n\n" for i in range(1, count + 1))


def test_it_assembles_a_trail_of_as_many_stops_as_the_limit() -> None:
    assembly = assemble(stops(MAX_STOPS))

    assert assembly.ok
    assert len(assembly.stops) == MAX_STOPS


def test_it_refuses_one_stop_over_the_limit_at_that_stop_and_assembles_the_others() -> None:
    assembly = assemble("Intro.\n\n" + stops(MAX_STOPS + 1))

    assert found(assembly) == [(3 + 3 * MAX_STOPS, "error", "too-many-stops")]
    assert f"{MAX_STOPS + 1:,} stops" in assembly.errors[0].message
    assert len(assembly.stops) == MAX_STOPS


def test_it_refuses_twenty_thousand_stops() -> None:
    assembly = assemble(stops(20_000)[:200_000])

    assert [d.code for d in assembly.errors] == ["too-many-stops"]
    assert len(assembly.stops) == MAX_STOPS


def test_it_takes_a_line_as_long_as_the_limit() -> None:
    assembly = assemble("## A\n" + "x" * MAX_LINE_CHARS)

    assert assembly.ok


@pytest.mark.parametrize("where", ["body", "heading", "front matter"])
def test_it_refuses_a_line_over_the_limit_with_its_number(where: str) -> None:
    long = "x" * (MAX_LINE_CHARS + 1)
    document = {
        "body": f"## A\nText.\n{long}\n",
        "heading": f"## A\nText.\n## {long}\n",
        "front matter": f"+++\ntitle = 'T'\n# {long}\n+++\n## A\nText.\n",
    }[where]

    assembly = assemble(document)

    assert found(assembly) == [(3, "error", "line-too-long")]
    assert f"{MAX_LINE_CHARS:,}" in assembly.errors[0].message
    assert assembly.stops == ()


def test_it_takes_as_many_links_as_the_bracket_limit_allows() -> None:
    links = "\n".join("[a](/b) " * 10 for _ in range(MAX_BRACKETS // 10))

    assert assemble("## A\n" + links).ok


def test_it_refuses_more_opening_brackets_than_the_limit_on_the_line_that_passes_it() -> None:
    lines = ["![" * 1000 for _ in range(MAX_BRACKETS // 1000)] + ["[one more]"]

    assembly = assemble("## A\n" + "\n".join(lines))

    assert found(assembly) == [(12, "error", "too-many-brackets")]
    assert f"{MAX_BRACKETS:,}" in assembly.errors[0].message


def test_it_refuses_more_lines_than_the_limit_and_says_where() -> None:
    assembly = assemble("## A\n" + "word\n" * MAX_LINES)

    assert found(assembly) == [(MAX_LINES + 1, "error", "too-many-lines")]


def test_it_refuses_more_table_borders_than_the_limit() -> None:
    table = "|a|b|c|d|\n|-|-|-|-|\n" + "|1|2|3|4|\n" * (MAX_TABLE_PIPES // 5)

    assembly = assemble("## A\n" + table)

    assert [code for _, _, code in found(assembly)] == ["too-many-table-cells"]
    assert assemble("## A\n" + "|a|b|c|d|\n|-|-|-|-|\n" + "|1|2|3|4|\n" * (MAX_TABLE_PIPES // 5 - 3)).ok


def test_it_counts_a_line_in_characters_not_bytes() -> None:
    assert assemble("## A\n" + "é" * MAX_LINE_CHARS).ok


def test_it_refuses_front_matter_over_its_size() -> None:
    comment = "# " + "x" * 1000 + "\n"
    document = "+++\n" + comment * (MAX_FRONT_MATTER_BYTES // len(comment) + 1) + "+++\n## A\nText.\n"

    assembly = assemble(document)

    assert found(assembly) == [(1, "error", "front-matter-too-large")]
    assert [stop.id for stop in assembly.stops] == ["a"]  # the body is still assembled, for the preview


def test_it_reads_front_matter_with_as_many_keys_as_the_limit() -> None:
    keys = "".join(f"k{i} = 1\n" for i in range(MAX_FRONT_MATTER_KEYS - 1))

    assembly = assemble(f'+++\ntitle = "T"\n{keys}+++\n## A\nText.\n')

    assert assembly.title == "T"
    assert {d.code for d in assembly.diagnostics} == {"unknown-key"}


@pytest.mark.parametrize(
    "toml",
    [
        "".join(f"k{i} = 1\n" for i in range(MAX_FRONT_MATTER_KEYS + 1)),
        "[t]\n" + "".join(f"k{i} = 1\n" for i in range(MAX_FRONT_MATTER_KEYS)),
        "a = [" + ", ".join("{k = 1}" for _ in range(MAX_FRONT_MATTER_KEYS)) + "]",
        "".join(f"[[a]]\nk{i} = 1\n" for i in range(MAX_FRONT_MATTER_KEYS)),
    ],
    ids=["top level", "in a table", "in an array", "in an array of tables"],
)
def test_it_refuses_front_matter_with_too_many_keys(toml: str) -> None:
    assembly = assemble(f"+++\n{toml}\n+++\n## A\nText.\n")

    assert found(assembly) == [(1, "error", "front-matter-too-many-keys")]


def test_it_refuses_32000_keys_in_front_matter() -> None:
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    keys = "".join(f"{digits[i // 3844]}{digits[i // 62 % 62]}{digits[i % 62]}=1\n" for i in range(32_000))
    document = f"+++\n{keys}+++\n## A\nText.\n"
    assert len(document.encode()) < 200 * 1024

    assembly = assemble(document)

    assert found(assembly) == [(1, "error", "front-matter-too-large")]


def nested_array(depth: int) -> str:
    return "a = " + "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "toml",
    [
        nested_array(MAX_FRONT_MATTER_DEPTH),
        "a = " + "{b = " * (MAX_FRONT_MATTER_DEPTH - 1) + "1" + "}" * (MAX_FRONT_MATTER_DEPTH - 1),
        ".".join(["a"] * (MAX_FRONT_MATTER_DEPTH + 1)) + " = 1",
        "[" + ".".join(["a"] * MAX_FRONT_MATTER_DEPTH) + "]\nb = 1",
        'a = "' + "[" * 1000 + "\"\nb = '" + "{" * 1000 + "'\n# " + "[" * 1000,
    ],
    ids=["arrays", "inline tables", "dotted key", "table header", "brackets in strings and comments"],
)
def test_it_reads_front_matter_nested_up_to_the_limit(toml: str) -> None:
    assembly = assemble(f"+++\n{toml}\n+++\n## A\nText.\n")

    assert [d.code for d in assembly.diagnostics] == ["unknown-key"] * len(assembly.diagnostics)


@pytest.mark.parametrize(
    ("toml", "line"),
    [
        (nested_array(MAX_FRONT_MATTER_DEPTH + 1), 2),
        (nested_array(1000), 2),
        ("a = " + "{b=" * 1000 + "1" + "}" * 1000, 2),
        ('title = "T"\n' + "a." * 2000 + "b = 1", 3),
        ("a = [\n" * 1000 + "]" * 1000, 2 + MAX_FRONT_MATTER_DEPTH),
        ("[" + ".".join(["a"] * (MAX_FRONT_MATTER_DEPTH + 1)) + "]\nb = 1", 2),
        ("[a.b.c.d.e]\nf.g.h.i.j.k.l = 1", 3),
    ],
    ids=["one too deep", "1000 arrays", "1000 inline tables", "2000 dots", "over lines", "header", "under a header"],
)
def test_it_refuses_front_matter_nested_too_deep_at_its_line(toml: str, line: int) -> None:
    assembly = assemble(f"+++\n{toml}\n+++\n## A\nText.\n")

    assert found(assembly) == [(line, "error", "front-matter-too-deep")]
    assert [stop.id for stop in assembly.stops] == ["a"]


@pytest.mark.parametrize(
    "toml",
    [
        'a = """x""""\nb = ' + "[" * 1000 + "]" * 1000,  # a multi-line string may end in four quotes
        "a = '''x''''\nb = " + "[" * 1000 + "]" * 1000,
        'a = "\\"[["\nb = ' + "[" * 1000 + "]" * 1000,  # an escaped quote doesn't end a string
    ],
)
def test_the_depth_scanner_reads_strings_as_toml_does(toml: str) -> None:
    assert first_line_too_deep(toml, MAX_FRONT_MATTER_DEPTH) == 1


def test_markdown_nested_past_the_limit_is_shown_as_text() -> None:
    (stop,) = assemble("## A\n" + ">" * 1000 + " deep\n\n" + "- " * 1000 + "x\n\n" + "[" * 1000).stops

    assert stop.html.count("<blockquote>") == MAX_NESTING
    assert stop.html.count("<ul>") <= MAX_NESTING


@pytest.mark.parametrize(
    ("character", "line"), [("\x00", 3), ("\ud800", 3), ("\udfff", 3)], ids=["NUL", "high surrogate", "low surrogate"]
)
def test_it_refuses_characters_no_database_can_store_at_their_line(character: str, line: int) -> None:
    assembly = assemble(f"## A\nText.\nMore {character} text.\n")

    assert found(assembly) == [(line, "error", "bad-character")]
    assert [stop.id for stop in assembly.stops] == ["a"]  # still shown in the preview, as U+FFFD or "?"


# The expression `_split_id` replaces: it took time quadratic in a heading's spaces.
OLD_ID_SUFFIX = re.compile(r"\s*(?<!\\)\{#([^{}]*)\}\s*$")


@pytest.mark.parametrize(
    "heading",
    [
        "Clock Tower {#tower}",
        "Clock Tower{#tower}   ",
        "Clock Tower \\{#tower}",
        "Clock Tower \\ {#tower}",
        "Clock Tower {#to{wer}",
        "Clock Tower {#to}wer}",
        "Clock Tower {#}",
        "Clock Tower {tower}",
        "{#tower}",
        "   {#tower}",
        "Clock {#a} Tower",
        "Clock Tower {#a}{#b}",
        "Clock Tower}",
        "Clock\u00a0Tower\u2003{#tower}\u3000",
        "",
    ],
)
def test_it_reads_an_id_suffix_as_the_old_expression_did(heading: str) -> None:
    match = OLD_ID_SUFFIX.search(heading)

    assert _split_id(heading) == ((heading[: match.start()], match[1]) if match else (heading, None))
