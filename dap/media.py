"""Media in a trail document: pictures and audio guides from the workspace's library, referred to by name.

How an author writes them (the README's authoring section says the same):

    ![The heron at dusk](heron.jpg)

    ![Audio guide: the heron's call](heron-guide.mp3)

    > Listen: the heron calls twice at dusk, a rough "frahnk" ...

One syntax, Markdown's picture, for both: the library knows which names are pictures and which are
sounds, so the author never says it twice (and a name's kind can't change: replacing a file keeps its
kind). The text in brackets is a picture's alt text, or the audio player's label. A blockquote right
under an audio reference is its transcript, for visitors who can't hear it or can't turn the sound on.

A reference is a *name* when its destination has no scheme and no path (`heron.jpg`, `<old mill.jpg>`);
`https://` pictures are hot-linked as before, and relative paths (`/static/x.png`) are left alone.
The assembled HTML keeps a reference as `<img src="heron.jpg" alt="...">` whatever the library holds:
assembling stays a function of the text alone, and the scanner page (trails/embeds.py) turns each one
into a picture or a player from the workspace's own rows when it renders.

Nothing here reads storage: the caller says which names exist (`media`, name -> "image" or "audio").
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from markdown_it.common.utils import MD_TRIM_CHARS
from markdown_it.rules_inline.image import image as _markdown_image
from markdown_it.rules_inline.state_inline import StateInline
from markdown_it.token import Token

from dap.limits import MAX_MEDIA_DIAGNOSTICS, MAX_MEDIA_NAME_CHARS, MAX_NAME_COMPARISONS, MAX_SUGGESTIONS

IMAGE = "image"
AUDIO = "audio"
# What an audio guide's name is likely to end with: to say "audio" rather than "picture" when a name is
# missing from the library altogether (the library alone knows a present name's kind).
AUDIO_EXTENSIONS = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac")
# Characters a destination can't hold and still be a name: a scheme, a path, a query, a fragment.
_NOT_A_NAME = re.compile(r"[/\\?#:]")


@dataclass(frozen=True)
class MediaReference:
    """A reference to the media library: `name` as the library knows it, on document line `line` (1-based)."""

    name: str
    line: int
    alt: str  # the alt text (a picture) or label (audio), plain text; may be empty


def media_name(src: str) -> str | None:
    """The library name a rendered `src` refers to, or None for a URL or a path.

    markdown-it percent-encodes a destination (`<old mill.jpg>` becomes `old%20mill.jpg`): decoded here, so
    the name is the one the author typed and the library holds.
    """
    if not src:
        return None
    name = unquote(src)
    if _NOT_A_NAME.search(name) or not name.strip():
        return None
    return name


def is_audio_name(name: str) -> bool:
    return name.casefold().endswith(AUDIO_EXTENSIONS)


# Where each picture's destination lies in its inline token's text, recorded while parsing, so that
# renaming can rewrite exactly the characters the author typed (and nothing that merely looks like them).


def image_with_positions(state: StateInline, silent: bool) -> bool:
    """markdown-it's image rule, also noting on the token where its destination is in the source text.

    `token.meta["destination"]` is (start, end) in `state.src` for an inline `![alt](dest)`; a reference-style
    picture (`![alt][label]`) has none: its destination is in the label's definition.
    """
    start = state.pos
    if not _markdown_image(state, silent):
        return False
    if silent:
        return True
    token = state.tokens[-1]
    end = state.pos
    label_end = state.md.helpers.parseLinkLabel(state, start + 1, False)
    state.pos = end
    position = label_end + 1
    if label_end >= 0 and position < end and state.src[position] == "(":
        position += 1
        while position < end and state.src[position] in " \t\n":
            position += 1
        found = state.md.helpers.parseLinkDestination(state.src, position, end)
        if found.ok:
            token.meta["destination"] = (position, found.pos)
    return True


@dataclass(frozen=True)
class _Found:
    reference: MediaReference
    token: Token  # the image token
    block: Token  # the inline token it is a child of
    block_index: int  # the inline token's index in the block tokens
    index: int  # line index in the body of the line the picture starts on


def find_references(tokens: Sequence[Token]) -> Iterator[_Found]:
    """Every reference to a library name in block tokens, in document order (line indexes into the body)."""
    for block_index, block in enumerate(tokens):
        if block.type != "inline" or not block.children or block.map is None:
            continue
        breaks = 0
        for child in block.children:
            if child.type in ("softbreak", "hardbreak"):
                breaks += 1
            elif child.type == "image":
                name = media_name(str(child.attrGet("src") or ""))
                if name is not None:
                    alt = " ".join(inline_text(child.children or ()).split())
                    line = block.map[0] + breaks
                    yield _Found(MediaReference(name, line, alt), child, block, block_index, line)
                breaks += _newlines_in(child)


def inline_text(children: Sequence[Token]) -> str:
    """The visible text of inline tokens: a picture's is its alt text. Whitespace is left as it is."""
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.children:  # an image: its alt text
            parts.append(inline_text(child.children))
    return "".join(parts)


def _newlines_in(image: Token) -> int:
    """The line breaks inside a picture's markup (a long alt text wrapped over lines)."""
    return sum(1 for child in image.children or () if child.type in ("softbreak", "hardbreak"))


def audio_without_transcript(tokens: Sequence[Token], index: int) -> bool:
    """Whether the paragraph holding the inline token at `index` is not followed by a blockquote."""
    for following in tokens[index + 1 :]:
        if following.type == "paragraph_close":
            continue
        return following.type != "blockquote_open"
    return True


def diagnose(
    found: Sequence[tuple[MediaReference, bool]],
    media: Mapping[str, str],
) -> list[tuple[int, str, str, str]]:
    """(line, severity, code, message) for references to media that isn't there, pictures without alt text,
    and audio without a transcript. `found` pairs each reference (lines already the document's) with whether
    a blockquote follows it.

    Missing media is a warning, not an error: the document and the library change separately (a trail
    pasted in before its pictures are uploaded, a file deleted later), refusing to save would lose the
    author's typing, and the page degrades gracefully, showing the alt text where the picture would be.
    Bounded for a hostile document: at most MAX_MEDIA_DIAGNOSTICS of each kind, then one line saying how
    many more; did-you-mean looked up for at most MAX_SUGGESTIONS distinct names and MAX_NAME_COMPARISONS
    comparisons.
    """
    problems: dict[str, list[tuple[int, str, str, str]]] = {}
    extra: dict[str, int] = {}
    suggestions: dict[str, str | None] = {}
    names = list(media)
    lookups = min(MAX_SUGGESTIONS, MAX_NAME_COMPARISONS // max(1, len(names)))

    def add(code: str, line: int, message: str) -> None:
        listed = problems.setdefault(code, [])
        if len(listed) < MAX_MEDIA_DIAGNOSTICS:
            listed.append((line, "warning", code, message))
        else:
            extra[code] = extra.get(code, 0) + 1

    for reference, transcript in found:
        name, line = reference.name, reference.line
        shown = _quoted(name)
        kind = media.get(name)
        if kind is None:
            audio = is_audio_name(name)
            if name not in suggestions and len(suggestions) < lookups:
                suggestions[name] = _near(name, names)
            near = suggestions.get(name)
            what = "audio" if audio else "picture"
            shown_instead = "label" if audio else "alt text"
            hint = (
                f' Did you mean "{near}"?'
                if near
                else f" Upload it or correct the name; visitors see the {shown_instead} meanwhile."
            )
            add(
                "missing-audio" if audio else "missing-media",
                line,
                f"There is no {what} {shown} in the media library.{hint}",
            )
        elif kind == IMAGE and not reference.alt:
            add(
                "missing-alt",
                line,
                f"The picture {shown} has no alt text: describe it between the brackets, like ![The fountain at noon]"
                f"({name if len(name) <= 40 else '…'}), for visitors who can't see it.",
            )
        elif kind == AUDIO and not transcript:
            add(
                "missing-transcript",
                line,
                f"The audio {shown} has no transcript: write what it says in a quote right under it (lines "
                'starting with "> "), for visitors who can\'t hear it.',
            )
    diagnostics = [problem for listed in problems.values() for problem in listed]
    for code, count in extra.items():
        last = problems[code][-1][0]
        diagnostics.append((last, "warning", code, f"… and {count:,} more like the one above."))
    return diagnostics


def _quoted(name: str) -> str:
    """A name for a message: quoted, cut short if it is long (a hostile name could fill a screen)."""
    return f'"{name}"' if len(name) <= 60 else f'"{name[:57]}…"'


def _near(name: str, names: Sequence[str]) -> str | None:
    """The library's closest name to `name`, if one is close (a typo, a changed extension, another case)."""
    if len(name) > MAX_MEDIA_NAME_CHARS:
        return None  # longer than any name can be: nothing is near it
    folded = {candidate.casefold(): candidate for candidate in names}
    if name.casefold() in folded:
        return folded[name.casefold()]
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.7)
    return folded[close[0]] if close else None


# Renaming


def destinations(
    lines: Sequence[str], body_start: int, found: Sequence[_Found], old: str, env: Mapping[str, Any]
) -> list[tuple[int, int, int]]:
    """Where in `lines` (line index, start, end) the destinations naming `old` are written: each inline
    reference's, and the definition of each reference-style label that points at `old`."""
    spans: list[tuple[int, int, int]] = []
    newlines: dict[int, list[int]] = {}
    offsets: dict[int, int | None] = {}
    cursors: dict[int, int] = {}  # on each line, where the last one-line block found there ends
    for item in found:
        block = item.block
        assert block.map is not None
        if id(block) not in newlines:
            newlines[id(block)] = [i for i, char in enumerate(block.content) if char == "\n"]
            if not newlines[id(block)]:  # one line: a table cell, a heading, a one-line paragraph
                index = body_start + block.map[0]
                offset = lines[index].find(block.content, cursors.get(index, 0)) if index < len(lines) else -1
                offsets[id(block)] = offset if offset >= 0 else None
                if offset >= 0:
                    cursors[index] = offset + len(block.content)
        where = item.token.meta.get("destination")
        if item.reference.name != old or where is None:
            continue
        located = _locate(lines, body_start, block, newlines[id(block)], offsets.get(id(block)), where)
        if located is not None:
            spans.append(located)
    for definition in env.get("references", {}).values():
        if media_name(definition.get("href", "")) == old and definition.get("map"):
            first, last = definition["map"]
            located = _definition_destination(lines, body_start + first, body_start + last, old)
            if located is not None:
                spans.append(located)
    return sorted(set(spans))


def _locate(
    lines: Sequence[str],
    body_start: int,
    block: Token,
    newlines: list[int],
    offset: int | None,
    where: tuple[int, int],
) -> tuple[int, int, int] | None:
    """The source line and columns of the characters `where` covers in `block.content`, or None if unsure.

    A block's text is its source lines with what precedes the text (indentation, `> ` markers, a list's
    marker) cut off and the whole trimmed; a line's *end* is kept (but for trailing spaces of the last line).
    So a position is counted back from the end of its line, and checked against the source. A one-line block
    whose end isn't its line's (a table cell, a heading with closing #s) was found in its line (`offset`).
    """
    content = block.content
    start, end = where
    assert block.map is not None
    before = bisect.bisect_left(newlines, start)
    line_end = newlines[before] if before < len(newlines) else len(content)
    index = body_start + block.map[0] + before
    if index >= len(lines):
        return None
    source = lines[index]
    written = content[start:end]
    from_end = line_end - start
    if offset is not None and source[offset + start : offset + end] == written:
        return (index, offset + start, offset + end)
    for candidate in (source, source.rstrip(MD_TRIM_CHARS)):
        column = len(candidate) - from_end
        if column >= 0 and source[column : column + len(written)] == written:
            return (index, column, column + len(written))
    return None


_DEFINITION = re.compile(r"\[(?:[^\]\\]|\\.)*\]:[ \t]*\n?[ \t>]*(<[^<>\n]*>|\S+)")


def _definition_destination(lines: Sequence[str], first: int, last: int, old: str) -> tuple[int, int, int] | None:
    """Where a reference definition's destination (`[label]: old`) is written, if it is on one line."""
    block = "\n".join(lines[first:last])
    match = _DEFINITION.search(block)
    if match is None:
        return None
    destination = match[1][1:-1] if match[1].startswith("<") else match[1]
    if media_name(destination) != old:
        return None
    offset = match.start(1)
    index = first + block.count("\n", 0, offset)
    column = offset - (block.rfind("\n", 0, offset) + 1)
    return (index, column, column + len(match[1]))


def written_name(name: str) -> str:
    """How to write `name` as a destination: as it is, or in <...> when it holds spaces or brackets."""
    if any(char in name for char in " \t()<>") or not name:
        return "<" + name.replace("<", "%3C").replace(">", "%3E") + ">"
    return name
