"""Assemble a trail document: TOML front matter, an intro, and one stop per `## ` heading."""

from __future__ import annotations

import gc
import json
import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from markdown_it.token import Token

from dap.limits import (
    MAX_BRACKETS,
    MAX_CALL_TO_ACTION_CHARS,
    MAX_DOCUMENT_BYTES,
    MAX_FRONT_MATTER_BYTES,
    MAX_FRONT_MATTER_DEPTH,
    MAX_FRONT_MATTER_KEYS,
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_STOPS,
    MAX_TABLE_PIPES,
)
from dap.markup import MARKDOWN, plain_text, render
from dap.media import (
    MediaReference,
    audio_without_transcript,
    destinations,
    diagnose,
    find_references,
    written_name,
)
from dap.tomlscan import first_line_too_deep

THEMES = ("classic", "museum", "minimal")
EXCERPT_LENGTH = 160
UNTITLED = "Untitled trail"
DEFAULTS = {"title": "", "language": "en", "theme": "classic", "call_to_action": ""}
SETTINGS = "title, language, theme and call_to_action"

_FENCE = "+++"
_ID = re.compile(r"[a-z0-9-]{1,64}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
# The first key on a TOML line, bare or quoted, also as a [table] header. Possessive
# quantifiers: a line of spaces is one pass, not one per space.
_TOML_KEY = re.compile(r"""\s*+\[*+\s*+(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))""")
_TOML_ERROR_LINE = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True)
class Diagnostic:
    """A problem to show the author; `line` is 1-based, or 0 for the whole document."""

    line: int
    severity: str  # "error" or "warning"
    code: str
    message: str


@dataclass(frozen=True)
class AssembledStop:
    id: str
    title: str  # plain text: escape it like any other text
    html: str  # sanitised, safe to mark safe
    excerpt: str
    line: int


@dataclass(frozen=True)
class Assembly:
    title: str  # plain text
    language: str
    theme: str
    intro_html: str  # sanitised, safe to mark safe
    stops: tuple[AssembledStop, ...]
    diagnostics: tuple[Diagnostic, ...]
    call_to_action: str = ""  # plain text, one line under each printed code; empty for the default

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when nothing stops the trail from being published."""
        return not self.errors


def assemble(text: str, *, media: Mapping[str, str] | None = None) -> Assembly:
    """Turn a trail document into its title, intro, stops and diagnostics.

    `media` maps each name in the workspace's media library to its kind, "image" or "audio": references to
    names it lacks, pictures without alt text and audio without a transcript are then reported (warnings;
    see `dap.media.diagnose` for why). Without it, media is not checked. The HTML is the same either way.

    Pure: the same text and media always give the same Assembly. Time is linear in the text's length;
    the limits in `dap.limits` are reported as error diagnostics.
    """
    with _collector_paused():
        return _assemble(text, media)


def media_references(text: str) -> tuple[MediaReference, ...]:
    """The references to the media library in a document, in order: each name with its line and alt text.

    Hot-linked `https://` pictures and paths are not references. A document over one of the limits is not
    parsed (assembling it is refused too) and has none.
    """
    with _collector_paused():
        parsed = _parse(text, [])
    if isinstance(parsed, Assembly):
        return ()
    return tuple(
        MediaReference(found.reference.name, parsed.body_start + found.index + 1, found.reference.alt)
        for found in find_references(parsed.tokens)
    )


def rename_media(text: str, old: str, new: str) -> str:
    """The same document with every reference to the media named `old` naming `new` instead.

    Exact: only the destinations of pictures (`![alt](old)`, `![alt](<old>)`, and the definition behind a
    reference-style `![alt][label]`) are rewritten, character for character where the author wrote them;
    the same text in a sentence, a link, a code span or another name (`old.bak`) is left alone, and so is
    everything else in the document. A document over one of the limits is returned as it is.
    """
    if old == new:
        return text
    with _collector_paused():
        parsed = _parse(text, [])
    if isinstance(parsed, Assembly):
        return text
    found = list(find_references(parsed.tokens))
    # The lines as written: parsing read a lone surrogate as "?" (one character for one, so columns hold).
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    replacement = written_name(new)
    for index, start, end in reversed(destinations(parsed.lines, parsed.body_start, found, old, parsed.env)):
        lines[index] = lines[index][:start] + replacement + lines[index][end:]
    return parsed.bom + "\n".join(lines)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while assembling.

    markdown-it makes a token object for every piece of markup, hundreds of thousands for a hostile
    200 KB document, and the collector's passes over them made parsing super-linear (a table of
    16,000 rows took 1.5x the time per row of one of 4,000). The tokens form no cycles: reference
    counting frees them all the same, and the collector runs again as soon as assembling ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class _Parsed:
    lines: list[str]  # the document's lines, line endings normalised, without a byte order mark
    bom: str
    body_start: int  # the index in `lines` of the body's first line
    tokens: list[Token]
    env: dict[str, Any]  # markdown-it's: reference definitions
    settings: dict[str, str]


def _parse(text: str, diagnostics: list[Diagnostic]) -> _Parsed | Assembly:
    """The document's lines and settings and its body's tokens, or, for a document over one of the limits,
    the Assembly that says so (nothing is parsed then). Problems are added to `diagnostics`."""
    # Lone surrogates cannot be encoded, and nh3 would refuse them.
    encoded = text.encode("utf-8", "replace")
    if len(encoded) > MAX_DOCUMENT_BYTES:
        too_large = Diagnostic(
            0,
            "error",
            "too-large",
            f"The document is {len(encoded):,} bytes, over the limit of {MAX_DOCUMENT_BYTES:,} "
            f"({MAX_DOCUMENT_BYTES // 1024} KB); split the trail or shorten it.",
        )
        return Assembly(UNTITLED, "en", "classic", "", (), (too_large,))

    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    diagnostics.extend(_bad_characters(lines))
    if _SURROGATE.search(text):
        lines = [line.encode("utf-8", "replace").decode("utf-8") for line in lines]
    too_long = [
        Diagnostic(
            number,
            "error",
            "line-too-long",
            f"Line {number} has {len(line):,} characters, over the limit of {MAX_LINE_CHARS:,}; "
            "break it into shorter lines or paragraphs.",
        )
        for number, line in enumerate(lines, 1)
        if len(line) > MAX_LINE_CHARS
    ]
    if too_long:  # parsing is linear only in lines of bounded length: refuse before it starts
        return Assembly(UNTITLED, "en", "classic", "", (), tuple(sorted(diagnostics + too_long, key=lambda d: d.line)))

    settings, body_start = _read_front_matter(lines, diagnostics)
    body = lines[body_start:]
    # Stops past the limit are neither parsed nor assembled: cut the body before the first of them.
    cut = _line_of_stop(body, MAX_STOPS + 1)
    if cut is not None:
        diagnostics.append(_too_many_stops(body_start + cut + 1, body))
        body = body[:cut]
    too_much = _too_much_markup(body, first_line=body_start + 1)
    if too_much:  # the parser's cost is in the markup it finds: refuse before it starts
        return Assembly(UNTITLED, "en", "classic", "", (), tuple(sorted(diagnostics + too_much, key=lambda d: d.line)))
    env: dict[str, Any] = {}
    tokens = MARKDOWN.parse("\n".join(body), env)
    return _Parsed(lines, bom, body_start, tokens, env, settings)


def _assemble(text: str, media: Mapping[str, str] | None) -> Assembly:
    diagnostics: list[Diagnostic] = []
    parsed = _parse(text, diagnostics)
    if isinstance(parsed, Assembly):
        return parsed
    settings, body_start, tokens = parsed.settings, parsed.body_start, parsed.tokens

    starts = [i for i, token in enumerate(tokens) if _starts_stop(token)]
    if len(starts) > MAX_STOPS:
        extra = tokens[starts[MAX_STOPS]]
        assert extra.map is not None
        diagnostics.append(
            Diagnostic(
                body_start + extra.map[0] + 1,
                "error",
                "too-many-stops",
                f"The trail has {len(starts):,} stops, over the limit of {MAX_STOPS}; this is stop "
                f"{MAX_STOPS + 1}. Split it into several trails.",
            )
        )
        tokens = tokens[: starts[MAX_STOPS]]  # the rest is neither assembled nor shown
        starts = starts[:MAX_STOPS]
    intro = tokens[: starts[0]] if starts else tokens
    title = settings["title"]
    if not title:
        title, intro = _title_from_intro(intro)

    stops: list[AssembledStop] = []
    first_line_of_id: dict[str, int] = {}
    for number, (start, end) in enumerate(pairwise([*starts, len(tokens)]), 1):
        stop = _assemble_stop(tokens[start:end], number, body_start, diagnostics)
        if stop.id in first_line_of_id:
            diagnostics.append(
                Diagnostic(
                    stop.line,
                    "error",
                    "duplicate-id",
                    f'The id "{stop.id}" is already used by the stop on line '
                    f"{first_line_of_id[stop.id]}; give one of them another {{#id}}.",
                )
            )
        first_line_of_id.setdefault(stop.id, stop.line)
        stops.append(stop)
    if not stops:
        diagnostics.append(
            Diagnostic(
                0,
                "error",
                "no-stops",
                'The trail has no stops yet; start each stop with a "## " heading.',
            )
        )

    if media is not None:
        references = [
            (
                MediaReference(found.reference.name, body_start + found.index + 1, found.reference.alt),
                not audio_without_transcript(tokens, found.block_index),
            )
            for found in find_references(tokens)
        ]
        diagnostics.extend(Diagnostic(*problem) for problem in diagnose(references, media))

    return Assembly(
        title=title or UNTITLED,
        language=settings["language"],
        theme=settings["theme"],
        intro_html=render(intro),
        stops=tuple(stops),
        diagnostics=tuple(sorted(diagnostics, key=lambda d: (d.line, d.severity != "error"))),
        call_to_action=settings["call_to_action"],
    )


_FENCE_OPEN = re.compile(r" {0,3}(`{3,}|~{3,})")
_STOP_HEADING = re.compile(r" {0,3}##(?:[ \t]|$)")


def _line_of_stop(body: list[str], number: int) -> int | None:
    """The index in `body` of the line that starts stop `number`, if there is one.

    A quick reading of the lines: a `## ` heading outside fenced code, as the parser will find it.
    """
    fence = ""
    seen = 0
    for index, line in enumerate(body):
        if fence:
            if line.lstrip(" ").startswith(fence):
                fence = ""
            continue
        if opening := _FENCE_OPEN.match(line):
            fence = opening[1]
            continue
        if _STOP_HEADING.match(line):
            seen += 1
            if seen == number:
                return index
    return None


def _too_many_stops(line: int, body: list[str]) -> Diagnostic:
    total = sum(1 for text in body if _STOP_HEADING.match(text))
    return Diagnostic(
        line,
        "error",
        "too-many-stops",
        f"The trail has {total:,} stops, over the limit of {MAX_STOPS}; this is stop {MAX_STOPS + 1}. "
        "Split it into several trails.",
    )


def _too_much_markup(body: list[str], *, first_line: int) -> list[Diagnostic]:
    """Errors for a body with more lines, brackets or table borders than the limits allow, on the line
    where each limit is passed (`first_line` is the document's number of the body's first line)."""
    diagnostics = []
    if len(body) > MAX_LINES:
        message = f"The document has {len(body):,} lines, over the limit of {MAX_LINES:,}; split the trail."
        diagnostics.append(Diagnostic(first_line + MAX_LINES, "error", "too-many-lines", message))
    for character, limit, code, what in (
        ("[", MAX_BRACKETS, "too-many-brackets", "opening brackets [ (links and pictures)"),
        ("|", MAX_TABLE_PIPES, "too-many-table-cells", "table borders |"),
    ):
        seen = 0
        for number, line in enumerate(body, first_line):
            seen += line.count(character)
            if seen > limit:
                message = f"The document has more than {limit:,} {what} by line {number}; split the trail."
                diagnostics.append(Diagnostic(number, "error", code, message))
                break
    return diagnostics


def retitle(text: str, title: str) -> str:
    """The same document with its front-matter title set to `title` (front matter added if there is none)."""
    return set_front_matter(text, "title", title)


def relanguage(text: str, language: str) -> str:
    """The same document with its front-matter language set to `language` (front matter added if there is none)."""
    return set_front_matter(text, "language", language)


def set_front_matter(text: str, key: str, value: str) -> str:
    """The same document with the top-level front-matter `key` set to the string `value`.

    The line that sets `key` is replaced; without one, the key is added as the first line of the front
    matter (still top level: tables start further down), and front matter is added if there is none.
    The rest of the document is kept byte for byte, so stop ids, and with them tokens, stay.
    """
    # A JSON string with ASCII escapes is also a valid TOML basic string.
    line = f"{key} = {json.dumps(value)}"
    setting = re.compile(rf"\s*{re.escape(key)}\s*=")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip() == _FENCE:
        for end in range(1, len(lines)):
            if lines[end].strip() == _FENCE:
                for i in range(1, end):
                    if lines[i].lstrip().startswith("["):  # a table: what follows isn't top level
                        break
                    if setting.match(lines[i]):
                        lines[i] = line
                        return "\n".join(lines)
                lines.insert(1, line)
                return "\n".join(lines)
    return "\n".join([_FENCE, line, _FENCE, *lines])


def slugify(title: str) -> str:
    """A stop id from its title: "Café Royal" gives "cafe-royal"; may be empty."""
    folded = unicodedata.normalize("NFKD", title.casefold()).encode("ascii", "ignore")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.decode("ascii")).strip("-")
    return slug[:64].rstrip("-")


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """`text` with whitespace collapsed, cut at a word boundary to fit `limit` with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    space = text.rfind(" ", 0, limit)
    head = text[:space] if space > limit // 2 else text[: limit - 1]
    return head.rstrip(" ,.;:-") + "…"


def _bad_characters(lines: list[str]) -> list[Diagnostic]:
    """Characters no database can store: NUL, and lone surrogates (half a UTF-16 pair, not text)."""
    found = []
    nul = next((number for number, line in enumerate(lines, 1) if "\x00" in line), 0)
    if nul:
        message = f"Line {nul} has a NUL character (U+0000), which can't be saved; delete it."
        found.append(Diagnostic(nul, "error", "bad-character", message))
    surrogate = next((number for number, line in enumerate(lines, 1) if _SURROGATE.search(line)), 0)
    if surrogate:
        message = f"Line {surrogate} has half of a UTF-16 character pair (shown as ?), which isn't text; delete it."
        found.append(Diagnostic(surrogate, "error", "bad-character", message))
    return found


def _starts_stop(token: Token) -> bool:
    """A top-level ATX `## ` heading; setext ones and those in quotes or lists don't count."""
    return token.type == "heading_open" and token.tag == "h2" and token.markup == "##" and token.level == 0


def _title_from_intro(intro: Sequence[Token]) -> tuple[str, Sequence[Token]]:
    """The intro's first `# ` heading as the title, dropped from the intro if it leads it."""
    for i, token in enumerate(intro):
        if token.type == "heading_open" and token.tag == "h1" and token.level == 0:
            title = plain_text(intro[i + 1 : i + 2])
            return title, intro[3:] if i == 0 else intro
    return "", intro


def _assemble_stop(
    tokens: Sequence[Token], number: int, body_start: int, diagnostics: list[Diagnostic]
) -> AssembledStop:
    """One stop from its tokens: heading_open, inline, heading_close, then its body."""
    assert tokens[0].map is not None
    line = body_start + tokens[0].map[0] + 1
    heading, body = tokens[1].content, tokens[3:]
    raw_title, given_id = _split_id(heading)
    title = plain_text(MARKDOWN.parseInline(raw_title))

    stop_id = slugify(title) or f"stop-{number}"
    if given_id is not None and _ID.fullmatch(given_id):
        stop_id = given_id
    elif given_id is not None:
        diagnostics.append(
            Diagnostic(
                line,
                "error",
                "bad-id",
                f'"{{#{given_id}}}" is not a valid id: use 1 to 64 lower-case '
                "letters, digits and hyphens, like {#clock-tower}.",
            )
        )
    if not title:
        title = f"Stop {number}"
        diagnostics.append(Diagnostic(line, "warning", "empty-title", f"Stop {number} has no title."))
    if not body:
        diagnostics.append(
            Diagnostic(
                line,
                "warning",
                "empty-stop",
                f'The stop "{title}" is empty; write something under its heading.',
            )
        )
    return AssembledStop(
        id=stop_id,
        title=title,
        html=render(body),
        excerpt=excerpt(plain_text(body)),
        line=line,
    )


def _split_id(heading: str) -> tuple[str, str | None]:
    r"""A heading's title and its `{#id}` (None without one): "Clock Tower {#tower}" gives ("Clock Tower", "tower").

    The suffix is the last "{" of the heading, unescaped, followed by "#", no other brace, "}" and
    only whitespace. Found from the end with rfind, in one pass: the regular expression this
    replaces, `\s*(?<!\\)\{#([^{}]*)\}\s*$`, was tried at every space of a long heading.
    """
    text = heading.rstrip()
    start = text.rfind("{")
    if start < 0 or not text.endswith("}") or not text.startswith("{#", start) or (start and text[start - 1] == "\\"):
        return heading, None
    given_id = text[start + 2 : -1]
    if "}" in given_id:
        return heading, None
    return text[:start].rstrip(), given_id


def _read_front_matter(lines: list[str], diagnostics: list[Diagnostic]) -> tuple[dict[str, str], int]:
    """The settings from the `+++` block at the top, and the index of the first body line."""
    settings = dict(DEFAULTS)
    if not lines or lines[0].rstrip() != _FENCE:
        return settings, 0
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == _FENCE), None)
    if end is None:
        diagnostics.append(
            Diagnostic(
                1,
                "error",
                "bad-front-matter",
                "The front matter is never closed; end it with a line of +++.",
            )
        )
        return settings, 1

    toml_lines = lines[1:end]
    toml = "\n".join(toml_lines)
    size = len(toml.encode("utf-8"))
    if size > MAX_FRONT_MATTER_BYTES:
        message = (
            f"The front matter is {size:,} bytes, over the limit of {MAX_FRONT_MATTER_BYTES:,} "
            f"({MAX_FRONT_MATTER_BYTES // 1024} KB); it needs only {SETTINGS}."
        )
        diagnostics.append(Diagnostic(1, "error", "front-matter-too-large", message))
        return settings, end + 1
    too_deep = first_line_too_deep(toml, MAX_FRONT_MATTER_DEPTH)
    if too_deep is not None:
        diagnostics.append(_too_deep(too_deep + 2))  # past the opening +++, and 1-based
        return settings, end + 1
    try:
        data: dict[str, Any] = tomllib.loads(toml)
    except RecursionError:  # first_line_too_deep should have caught it; never let it escape
        diagnostics.append(_too_deep(1))
        return settings, end + 1
    except tomllib.TOMLDecodeError as error:
        found = _TOML_ERROR_LINE.search(str(error))
        reason = _TOML_ERROR_LINE.sub("", str(error)).strip()
        diagnostics.append(
            Diagnostic(
                int(found[1]) + 1 if found else 1,
                "error",
                "bad-front-matter",
                f"The front matter is not valid TOML: {reason}.",
            )
        )
        return settings, end + 1

    keys = _count_keys(data)
    if keys > MAX_FRONT_MATTER_KEYS:
        message = (
            f"The front matter has {keys:,} keys, over the limit of {MAX_FRONT_MATTER_KEYS}; it needs only {SETTINGS}."
        )
        diagnostics.append(Diagnostic(1, "error", "front-matter-too-many-keys", message))
        return settings, end + 1

    key_lines = _key_lines(toml_lines)
    for key, value in data.items():
        line = key_lines.get(key, 1)
        if key not in DEFAULTS:
            diagnostics.append(
                Diagnostic(
                    line,
                    "warning",
                    "unknown-key",
                    f'"{key}" is not a setting and is ignored; the settings are {SETTINGS}.',
                )
            )
        elif not isinstance(value, str):
            diagnostics.append(
                Diagnostic(
                    line,
                    "error",
                    "bad-value",
                    f'{key} must be text in quotes, like {key} = "{DEFAULTS[key] or "…"}".',
                )
            )
        elif key == "theme" and value not in THEMES:
            diagnostics.append(
                Diagnostic(
                    line,
                    "error",
                    "unknown-theme",
                    f'There is no theme "{value}"; choose one of {", ".join(THEMES)}.',
                )
            )
        elif key == "call_to_action" and (len(value.strip()) > MAX_CALL_TO_ACTION_CHARS or "\n" in value.strip()):
            diagnostics.append(
                Diagnostic(
                    line,
                    "error",
                    "call-to-action-too-long",
                    f"The call to action is printed on one line under each code: keep it to one line of "
                    f"{MAX_CALL_TO_ACTION_CHARS} characters at most (it has {len(value.strip()):,}).",
                )
            )
        elif key == "language" and not _LANGUAGE.fullmatch(value):
            diagnostics.append(
                Diagnostic(
                    line,
                    "error",
                    "bad-language",
                    f'"{value}" is not a language code; use one like "en" or "pt-BR".',
                )
            )
        else:
            settings[key] = value.strip()
    return settings, end + 1


def _too_deep(line: int) -> Diagnostic:
    message = (
        f"The front matter nests more than {MAX_FRONT_MATTER_DEPTH} levels deep (tables, arrays, "
        f"dotted keys); it needs only {SETTINGS}."
    )
    return Diagnostic(line, "error", "front-matter-too-deep", message)


def _count_keys(data: dict[str, Any]) -> int:
    """Keys at every level of parsed TOML, tables in arrays included; without recursion."""
    count = 0
    pending: list[Any] = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            count += len(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return count


def _key_lines(toml_lines: list[str]) -> dict[str, int]:
    """The document line where each top-level front matter key is first set (best effort).

    One pass over the lines: looking each key up in every line was quadratic in the number of keys.
    """
    found: dict[str, int] = {}
    for i, line in enumerate(toml_lines):
        if match := _TOML_KEY.match(line):
            for key in match.groups():
                if key is not None:
                    found.setdefault(key, i + 2)  # past the opening +++, and 1-based
    return found
