"""Whatever an author writes, the assembled HTML runs nothing in a visitor's browser.

Each payload is tried in the intro, a stop's body, a stop's heading and a
sub-heading; each layer of protection is also tested on its own.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt

from dap import assemble
from dap.markup import MARKDOWN, clean, is_safe_url

PAYLOADS = [
    # Raw HTML, which must never pass through.
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<IMG SRC=JaVaScRiPt:alert(1)>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><script>alert(1)</script></mtext></math>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    "<input onfocus=alert(1) autofocus>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<video><source onerror="alert(1)"></video>',
    "<x onclick=alert(1)>click me",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel=stylesheet href="javascript:alert(1)">',
    "<!--<img src=x onerror=alert(1)>-->",
    # Markdown links with dangerous or disguised schemes.
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](jav&#x61;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))",
    "[x](&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1))",
    "[x](<java\tscript:alert(1)>)",
    "[x](java&#9;script:alert(1))",
    "[x](java&NewLine;script:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](javascript\\:alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](javascript%3Aalert(1))",
    "[x](%256Aavascript:alert(1))",
    "[x](<\x01javascript:alert(1)>)",
    "[x](<  javascript:alert(1)>)",
    "[x](javascript://%0Aalert(1))",
    '[x](javascript:alert(1) "title")',
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](<DATA:text/html,<script>alert(1)</script>>)",
    "[x](file:///etc/passwd)",
    '[x](https://example.com" onclick="alert(1))',
    "[<img src=x onerror=alert(1)>](https://example.com)",
    # Images.
    "![x](javascript:alert(1))",
    "![x](jav&#x61;script:alert(1))",
    "![x](vbscript:msgbox(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](mailto:someone@example.com)",
    '![x](x.png "onerror=alert(1)")',
    '![x" onerror="alert(1)](https://example.com/a.png)',
    # Autolinks.
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,alert(1)>",
    # Reference-style links and images.
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    "[x][evil]\n\n[evil]: jav&#x61;script:alert(1)",
    "[evil]\n\n[evil]: <javascript:alert(1)>",
    "![x][evil]\n\n[evil]: javascript:alert(1)",
    # Code, where the text must stay text.
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    '```" onmouseover="alert(1)\ncode\n```',
]

PLACES = {
    "intro": "Intro.\n\n{}\n\n## Stop\nBody.\n",
    "stop body": "## Stop\nBody.\n\n{}\n",
    "stop heading": "Intro.\n\n## {}\nBody.\n",
    "sub-heading": "## Stop\n### {}\nBody.\n",
    "title heading": "# {}\n\nIntro.\n\n## Stop\nBody.\n",
}

FORBIDDEN_TAGS = {
    "script", "iframe", "object", "embed", "svg", "style", "form", "input",
    "math", "base", "meta", "link",
}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def problems(markup: str) -> list[str]:
    """Everything in `markup` that could run script; empty when it is harmless."""
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    found = []
    for tag, attrs in parser.found:
        if tag in FORBIDDEN_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                found.append(f"{tag} {name}")
            if name in ("href", "src") and not _harmless_url(value or ""):
                found.append(f"{tag} {name}={value!r}")
    return found


def _harmless_url(url: str) -> bool:
    url = unquote(html.unescape(url))
    url = re.sub(r"[\x00-\x20\x7f-\x9f]", "", url).lower()
    if url.startswith(("http:", "https:", "mailto:", "tel:", "#", "/")):
        return True
    return not re.match(r"[^/?#]*:", url)  # no scheme, so relative


def all_html(document: str) -> str:
    assembly = assemble(document)
    return assembly.intro_html + "".join(stop.html for stop in assembly.stops)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_assembled_html_runs_nothing_an_author_writes(payload: str, place: str) -> None:
    assembly = assemble(PLACES[place].format(payload))

    assert problems(assembly.intro_html) == []
    for stop in assembly.stops:
        assert problems(stop.html) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_alone_makes_nothing_executable(payload: str) -> None:
    assert problems(MARKDOWN.render(payload)) == []


# What a careless renderer would let through: raw HTML and any link at all.
_CARELESS = MarkdownIt("commonmark", {"html": True})
_CARELESS.validateLink = lambda url: True  # type: ignore[method-assign]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_cleaner_alone_removes_what_a_careless_renderer_lets_through(
    payload: str,
) -> None:
    careless = _CARELESS.render(payload)

    assert problems(clean(careless)) == []


def test_the_payloads_would_be_dangerous_without_protection() -> None:
    dangerous = [p for p in PAYLOADS if problems(_CARELESS.render(p))]

    assert len(PAYLOADS) >= 50
    assert len(dangerous) >= 50


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JAVASCRIPT:alert(1)",
        "jav&#x61;script:alert(1)",
        "java%09script:alert(1)",
        "%6Aavascript:alert(1)",
        "%25%36%41avascript:alert(1)",
        "java\u200bscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "ftp://example.com",
        "unknown:thing",
    ],
)
def test_it_refuses_links_with_other_schemes(url: str) -> None:
    assert not is_safe_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a?b=c:d#e",
        "http://example.com",
        "//example.com/a.png",
        "mailto:guide@example.com",
        "tel:+441234567890",
        "/trails/old-town",
        "#fountain",
        "fountain.html",
        "?page=2",
        "a/b:c",
    ],
)
def test_it_accepts_web_mail_phone_and_relative_links(url: str) -> None:
    assert is_safe_url(url)


def test_it_keeps_ordinary_links_and_images_working() -> None:
    document = (
        '## Stop\n[Museum](https://example.com/museum "Open daily"), '
        "[call](tel:+441234), [write](mailto:a@example.com), [next](#tower), "
        "<https://example.org>\n\n![The tower](/media/tower.jpg)"
    )

    markup = all_html(document)

    museum = '<a href="https://example.com/museum" title="Open daily" rel="noopener noreferrer nofollow">Museum</a>'
    assert museum in markup
    assert 'href="tel:+441234"' in markup
    assert 'href="mailto:a@example.com"' in markup
    assert 'href="#tower"' in markup
    assert 'href="https://example.org"' in markup
    assert '<img src="/media/tower.jpg" alt="The tower">' in markup


def test_it_shows_a_refused_image_as_its_alt_text() -> None:
    assert all_html("## Stop\n![Call us](tel:+441234)") == "<p>Call us</p>\n"


def test_it_keeps_titles_as_plain_text_for_the_template_to_escape() -> None:
    assembly = assemble("# <b>Walk</b> &amp; *talk*\n## <i>Stop</i> &lt;3\nBody.")

    assert assembly.title == "<b>Walk</b> & talk"
    assert assembly.stops[0].title == "<i>Stop</i> <3"
