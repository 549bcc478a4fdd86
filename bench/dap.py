"""Does assembling a trail document take time linear in its size, whatever a hostile author sends?

    .venv/bin/python bench/dap.py                          # every family at 1x, 10x and 100x, median of 3 runs
    .venv/bin/python bench/dap.py --runs 5 --family keys   # families whose name contains "keys"
    .venv/bin/python bench/dap.py --budget 5               # don't try a larger size after a run over 5 s

No Django needed. Times are this process's CPU time, so that others' work on a shared machine
doesn't count; on an idle server that is the wall time. Each adversarial family builds a document
from a count n: 1x is a size where fixed costs no longer dominate, 100x stays under the 200 KB
document limit (or is refused by a limit: one-line families). For each family the
median time at 1x, 10x and 100x is printed with the ratios 10x/1x and 100x/10x: about 10 is
linear, 100 is quadratic, and below 10 means a limit refused the larger document early (which
is the point of a limit). Last, the largest ordinary document an editor (or a viewer, through
the preview) can send: 500 stops in just under 200 KB; the preview must answer well under a second.

tests/dap/test_scaling.py runs the same families (at a third of these sizes, 1x against 10x) and
fails on any ratio over 15.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))  # before bench/, whose dap.py this is

import dap  # noqa: E402


@dataclass(frozen=True)
class Family:
    name: str
    base: int  # n at 1x
    build: Callable[[int], str]


def _front_matter(toml: str) -> str:
    return f"+++\n{toml}\n+++\n## A\nb\n"


def _stop(body: str) -> str:
    return f"## A\n{body}\n"


def _paragraph(text: str, width: int = 960) -> str:
    """`text` cut into lines of `width` characters: one paragraph, never refused for a long line."""
    return _stop("\n".join(text[i : i + width] for i in range(0, len(text), width)))


def _heading(text: str, repeats: int = 0) -> str:
    return f"## {text}\nb\n" * (repeats or REPEATS)


REPEATS = 40  # copies of a one-line family's line (fewer for wide characters), so that 10x nears the document limit


# Each builds a document from a count n; 10x n is about 10x the bytes. Families on one line by
# nature (a heading, a table row, a TOML key) have their line at 10x just under the line limit
# (REPEATS times, the front matter once), so 10x/1x measures them within it and 100x shows a
# limit; the others are cut into lines and grow to 100x.
FAMILIES = (
    Family("front-matter keys", 180, lambda n: _front_matter("".join(f"k{i} = 1\n" for i in range(n)))),
    Family(
        "front-matter keys, one line",
        80,
        lambda n: _front_matter("a = {" + ",".join(f"k{i}=1" for i in range(n)) + "}"),
    ),
    Family("front-matter dotted key", 220, lambda n: _front_matter("a." * n + "b = 1")),
    Family("front-matter nested arrays", 220, lambda n: _front_matter("a = " + "[" * n + "]" * n)),
    Family("front-matter nested tables", 120, lambda n: _front_matter("a = " + "{b=" * n + "1" + "}" * n)),
    Family("front-matter strings", 70, lambda n: _front_matter('a = "' + "\\u00e9" * n + '"')),
    Family("front-matter whitespace", 450, lambda n: _front_matter(" " * n + "\n" + "\t" * n)),
    Family("stops", 160, lambda n: "".join(f"## S{i}\nb\n" for i in range(n))),
    Family("blockquotes", 1800, lambda n: _paragraph(">" * n)),
    Family("nested lists", 900, lambda n: _paragraph("- " * n)),
    Family("nested quotes and lists", 450, lambda n: _paragraph("> - " * n)),
    Family("brackets", 1800, lambda n: _paragraph("[" * n)),
    Family("image brackets", 600, lambda n: _paragraph("![[" * n)),
    Family("open links", 450, lambda n: _paragraph("[a](" * n)),
    Family("link destination", 450, lambda n: _stop(("[a](<" + "x" * n + "\n\n") * REPEATS)),
    Family("link titles", 250, lambda n: _paragraph('[a](b "' * n)),
    Family("link references", 90, lambda n: _stop("".join(f"[r{i}]: /u{i}\n" for i in range(n)) + "[r1]\n" * n)),
    Family("asterisks", 1800, lambda n: _paragraph("*" * n)),
    Family("emphasis", 100, lambda n: _paragraph("*a **b _c __d ~~e " * n)),
    Family("emphasis runs", 900, lambda n: _paragraph("*" * n + "a" + "_" * n)),
    Family("backticks", 1800, lambda n: _paragraph("`" * n)),
    Family("backtick runs", 60, lambda n: _paragraph("".join("`" * (i % 50 + 1) + "x" for i in range(n)))),
    Family("entities", 900, lambda n: _paragraph("&#" * n)),
    Family("autolinks", 600, lambda n: _paragraph("<a " * n)),
    Family("escapes", 1800, lambda n: _paragraph("\\" * n + "a")),
    Family("raw html", 360, lambda n: _paragraph("<div>" * n)),
    Family("tags for nh3", 600, lambda n: _paragraph("*a*" * n)),
    Family("table columns", 220, lambda n: _stop(("|a" * n + "|\n" + "|-" * n + "|\n" + "|b" * n + "|\n\n") * 12)),
    Family("table rows", 200, lambda n: _stop("|a|b|\n|-|-|\n" + "|c|d|\n" * n)),
    Family("wide table rows", 1, lambda n: _stop("|a" * 900 + "|\n" + "|-" * 900 + "|\n" + ("|b" * 900 + "|\n") * n)),
    Family("long line", 90, lambda n: _stop(("word " * n + "\n\n") * REPEATS)),
    Family("long paragraph", 360, lambda n: _stop("word\n" * n)),
    Family("code fences", 450, lambda n: _stop("```\n" * n)),
    Family("setext underline", 450, lambda n: _stop(("a\n" + "=" * n + "\n\n") * REPEATS)),
    Family("tabs", 220, lambda n: _stop(("\t" * 2 * n + "x\n" + " \t" * n + "\n") * 20)),
    Family("heading spaces", 450, lambda n: _heading("A" + " " * n + "x{#a}")),
    Family("heading spaces after id", 220, lambda n: _heading("A{#a}" + " \t" * n + "x")),
    Family("heading braces", 150, lambda n: _heading("A" + " {#" * n)),
    Family("heading hashes", 450, lambda n: _heading("A " + "#" * n)),
    Family("title of combining marks", 450, lambda n: _heading("a" + "\u0301" * n, 20)),
    Family("title of astral characters", 450, lambda n: _heading("\U0001f600" * n, 10)),
    Family("title of decomposing ligatures", 450, lambda n: _heading("\ufdfa" * n, 13)),
    Family("right-to-left marks", 300, lambda n: _paragraph("\u202e\u200f" * n)),
    Family("NUL characters", 1800, lambda n: _paragraph("\x00" * n)),
    Family("lone surrogates", 1800, lambda n: _paragraph("\ud800" * n)),
)


def ordinary_document(*, stops: int = 500, limit: int = dap.MAX_DOCUMENT_BYTES) -> str:
    """A plausible trail of `stops` stops filling the document limit: what an honest author may send."""
    head = '+++\ntitle = "Old Town Walk"\nlanguage = "en"\ntheme = "museum"\n+++\n'
    intro = "Welcome to the **old town**. Follow the cards from the [fountain](https://example.org/map).\n\n"
    parts = []
    for i in range(1, stops + 1):
        parts.append(
            f"## Stop {i}: the guild house of the masons {{#stop-{i}}}\n"
            f"Built in {1500 + i} by the *guild of masons*, it kept the town's weights and measures. "
            f"See [the archive](https://example.org/archive/{i}) and ![a drawing](drawing-{i}.jpg).\n\n"
            "- the door, carved in oak\n- the `1620` inscription\n\n"
            "> \u201cMeasure twice,\u201d says the lintel.\n\n"
        )
    document = head + intro + "".join(parts)
    filler = "More about the town in the archive, with pictures.\n"  # in the last stop, up to the limit
    document += filler * ((limit - len(document.encode())) // len(filler))
    return document


def time_assembly(document: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.process_time()
        try:
            dap.assemble(document)
        except Exception as error:  # the old code raised on some families: say so rather than stop
            raise SystemExit(f"raised {type(error).__name__}") from error
        times.append(time.process_time() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of each size; the median is reported")
    parser.add_argument("--family", default="", help="only families whose name contains this")
    parser.add_argument("--budget", type=float, default=60.0, help="skip larger sizes after a run slower than this")
    args = parser.parse_args()

    dap.assemble(ordinary_document(stops=5, limit=4096))  # warm up imports and markdown-it's rule chains
    print(f"{'family':<30} {'1x ms':>9} {'10x ms':>9} {'100x ms':>9} {'100x KB':>8} {'10x/1x':>7} {'100x/10x':>8}")
    worst = 0.0
    for family in FAMILIES:
        if args.family not in family.name:
            continue
        medians: list[float] = []
        note = ""
        for scale in (1, 10, 100):
            document = family.build(family.base * scale)
            try:
                medians.append(statistics.median(time_assembly(document, args.runs)))
            except SystemExit as stopped:
                note = f"{scale}x {stopped}"
                break
            if medians[-1] > args.budget:
                note = f"over {args.budget:g} s at {scale}x: larger sizes skipped"
                break
        size = len(family.build(family.base * 100).encode("utf-8", "replace")) / 1024
        cells = [f"{m * 1000:>9.1f}" for m in medians] + [f"{'-':>9}"] * (3 - len(medians))
        ratios = [later / earlier for earlier, later in zip(medians, medians[1:], strict=False)]
        worst = max([worst, *ratios])
        ratio_cells = [f"{r:>7.1f}" for r in ratios] + ["      -"] * (2 - len(ratios))
        print(f"{family.name:<30} {' '.join(cells)} {size:>8.0f} {ratio_cells[0]} {ratio_cells[1]:>8} {note}")
    print(f"worst ratio for 10x the input: {worst:.1f} (linear: about 10)")

    document = ordinary_document()
    times = time_assembly(document, max(args.runs, 5))
    assembly = dap.assemble(document)
    median = statistics.median(times)
    print(
        f"ordinary document: {len(document.encode()) / 1024:.0f} KB, {len(assembly.stops)} stops, "
        f"{len(assembly.errors)} errors: median {median * 1000:.0f} ms, best {min(times) * 1000:.0f} ms "
        f"over {len(times)} runs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
