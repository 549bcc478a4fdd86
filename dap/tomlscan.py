"""How deeply a TOML text nests, read without parsing it, so tomllib is never handed a text too deep for it.

tomllib recurses once per nested array or inline table (a thousand `[` raise RecursionError from
inside it) and takes time quadratic in the parts of a dotted key (`a.a.a.….a = 1`). This scanner
looks only at brackets, braces, dots, `=`, commas and line ends outside strings and comments, in
one pass. It may count a level too many in TOML that is invalid anyway; never one too few.
"""

from __future__ import annotations

import re

# What matters outside strings and comments, and where each string or comment starts.
_TOKEN = re.compile(r"""\"\"\"|'''|["'#\[\]{}=.,\n]""")
# The rest of each kind of string or comment, from just after its opening (TOML lets a multi-line
# string end with one or two quotes before its closing three). Possessive
# quantifiers (`*+`) never backtrack, so an unclosed string costs one pass, not one per character.
_REST = {
    '"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*+"{3,5}', re.DOTALL),  # up to two quotes end the string
    "'''": re.compile(r"(?:[^']|'(?!''))*+'{3,5}"),
    '"': re.compile(r'(?:[^"\\\n]|\\.)*+"'),
    "'": re.compile(r"[^'\n]*+'"),
    "#": re.compile(r"[^\n]*+"),
}


def first_line_too_deep(text: str, limit: int) -> int | None:
    """The 0-based line where `text` first nests more than `limit` levels, or None if it never does.

    Levels are counted as the [table] header's brackets and dots, then each array or inline table
    and each dot of the keys on the way: under `[a.b]`, `c.d = [[1]]` reaches 2 + 1 + 2 = 5.
    """
    stack: list[tuple[str, int]] = []  # ("h" header, "[" array or "{" inline table, dots of the key outside it)
    carried = 0  # the dots of the keys whose values the scanner is inside
    table_levels = 0  # levels of the current [table]
    header_brackets = 0
    in_key = True  # reading a key: at a line's start, or after "{" or "," in an inline table
    dots = 0  # dots in the key being read
    line = 0
    position = 0
    while match := _TOKEN.search(text, position):
        symbol = match[0]
        position = match.end()
        if symbol in _REST:
            rest = _REST[symbol].match(text, position)
            if rest is None:
                return None  # an unclosed string: tomllib refuses the text without recursing
            line += text.count("\n", position, rest.end())
            position = rest.end()
            continue
        if symbol == "\n":
            line += 1
            if not stack:
                in_key, dots = True, 0
            continue
        if symbol in "[{":
            header = symbol == "[" and in_key and (not stack or stack[-1][0] == "h")
            if header and not stack:
                table_levels, header_brackets = 0, 0
            header_brackets += header
            stack.append(("h" if header else symbol, dots))
            carried += dots
            dots = 0
            in_key = header or symbol == "{"
        elif symbol in "]}":
            if not stack:
                continue  # invalid; tomllib will say so
            kind, outer_dots = stack.pop()
            carried -= outer_dots
            if kind == "h" and not stack:
                table_levels = header_brackets + dots
            elif kind == "h":
                continue  # the first "]" of "]]"
            in_key, dots = False, 0
        elif symbol == "=":
            in_key = False
        elif symbol == "," and stack and stack[-1][0] == "{":
            in_key, dots = True, 0
        elif symbol == "." and in_key:
            dots += 1
        in_header = bool(stack) and stack[0][0] == "h"
        if (0 if in_header else table_levels) + len(stack) + carried + dots > limit:
            return line
    return None
