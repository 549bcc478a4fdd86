"""Markdown in, safe HTML and plain text out.

Safety comes in two layers. markdown-it never passes raw HTML through and only
makes links out of URLs that `is_safe_url` accepts; nh3 then cleans the result
against an allow-list, in case the first layer ever has a hole.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from dap.limits import MAX_NESTING
from dap.media import image_with_positions, inline_text

LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
IMAGE_SCHEMES = frozenset({"http", "https"})

# What a browser ignores inside a URL, or what can hide a scheme from the eye.
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")

_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


def is_safe_url(url: str, *, schemes: frozenset[str] = LINK_SCHEMES) -> bool:
    """Whether `url` is relative or uses one of `schemes`, however it is disguised.

    Entities and percent-escapes are decoded (repeatedly, for double encoding) and
    invisible characters dropped before the scheme is read, so `jav&#x61;script:`,
    `%6Aavascript:` and `java\\tscript:` are all read as `javascript:`.
    """
    decoded = url
    for _ in range(5):
        unescaped = unquote(html.unescape(decoded))
        if unescaped == decoded:
            break
        decoded = unescaped
    else:
        return False  # still changing: nobody writes a link like that by accident
    scheme, colon, _ = _INVISIBLE.sub("", decoded).lower().partition(":")
    if not colon or any(char in scheme for char in "/?#"):
        return True  # no scheme, so relative to the page
    return scheme in schemes


class _Renderer(RendererHTML):
    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        """Show an image only from http(s) or a relative path; otherwise its alt text."""
        token = tokens[idx]
        if is_safe_url(str(token.attrGet("src") or ""), schemes=IMAGE_SCHEMES):
            return super().image(tokens, idx, options, env)
        return escapeHtml(self.renderInlineAsText(token.children or [], options, env))


class _Markdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        return is_safe_url(url)


# maxNesting bounds how deep quotes, lists, links and emphasis nest (deeper is shown as text), and
# so the parser's recursion; said here so that a change of preset can't drop it.
MARKDOWN = _Markdown("commonmark", {"html": False, "maxNesting": MAX_NESTING}, renderer_cls=_Renderer).enable(
    ["table", "strikethrough"]
)
# The same rule, also noting where each picture's destination is written, for renaming media (dap.media).
MARKDOWN.inline.ruler.at("image", image_with_positions)


def render(tokens: Sequence[Token]) -> str:
    """Render block tokens from `MARKDOWN.parse` to clean HTML."""
    if not tokens:
        return ""
    markup = MARKDOWN.renderer.render(tokens, MARKDOWN.options, {})
    return clean(markup)


def clean(markup: str) -> str:
    """The second layer: keep only the tags and attributes Markdown can produce."""
    return nh3.clean(
        markup,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=set(LINK_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_drop_unsafe_urls,
    )


def _drop_unsafe_urls(tag: str, attribute: str, value: str) -> str | None:
    """Hold nh3 to the same standard as markdown-it, decoding before it judges."""
    if attribute not in ("href", "src"):
        return value
    schemes = IMAGE_SCHEMES if tag == "img" else LINK_SCHEMES
    return value if is_safe_url(value, schemes=schemes) else None


def plain_text(tokens: Sequence[Token]) -> str:
    """The visible text of block tokens, whitespace collapsed (code blocks left out)."""
    blocks = (inline_text(token.children) for token in tokens if token.children)
    return " ".join(" ".join(blocks).split())
