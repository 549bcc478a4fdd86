"""Media on the scanner page: a stop's stored references to the library turned into pictures and players.

A stop's HTML keeps a reference as DAP wrote it, `<img src="heron.jpg" alt="...">` (see dap/media.py), whatever
the library holds; it becomes markup here, when the page is rendered, from the workspace's own Asset rows (one
query for the page). So a picture uploaded, replaced or deleted after the trail was saved shows as it is now
(a saved Asset forgets the workspace's pages: trails/apps.py), and a name can only ever mean this workspace's
file: the query runs in its schema.

- A picture: `<picture>` with a WebP `<source>` and a JPEG `<img>`, each with `srcset` of the display variants
  (media-core's, smallest first) and `sizes` for the page's column, `width`/`height` so nothing moves while it
  loads, and a placeholder: its dominant colour as the `<img>`'s background, from a small per-page style sheet
  (the page's policy allows no style attributes; the sheet is allowed by its hash). Every picture but the
  page's first loads lazily: the first is on the first screen.
- Audio: the browser's own player, `<audio controls preload="none">` (nothing is downloaded until it is played),
  under its label. A blockquote right under it is its transcript, shown as a "Transcript" disclosure.
- A name the library lacks (or a picture with no display variant) shows its alt text: the page still reads.
- Hot-linked `https://` pictures stay as they are, and their origins are collected for the page's policy.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import quote, urlsplit

from django.utils.html import escape
from django.utils.translation import gettext

import dap
from trails.models import Asset

# The page's column: main is 38rem wide at most with 1rem of padding on each side (static/css/scanner.css).
SIZES = "(min-width: 38rem) 36rem, calc(100vw - 2rem)"
# A page naming more hot-link origins than this allows any https: picture instead: the policy stays a header of
# reasonable size (a hostile document could name ten thousand hosts), and ordinary pages stay exact.
MAX_IMAGE_ORIGINS = 20

# A tag as nh3 writes it: attribute values always in double quotes (where a ">" may hide).
_IMG = re.compile(r'<img((?:\s+[a-z-]+="[^"]*")*)\s*/?>')
_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_HOST = re.compile(r"[a-z0-9.-]+|\[[0-9a-f:.]+\]")
_BLOCKQUOTE = re.compile(r"<(/?)blockquote>")


@dataclass
class Embedded:
    """Parts of a page with their media embedded, and what the page's policy must allow for them."""

    parts: tuple[str, ...]
    style: str = ""  # the placeholders' style sheet, to put in a <style> element; "" for none
    image_origins: tuple[str, ...] = ()  # of hot-linked pictures; ("https:",) past MAX_IMAGE_ORIGINS

    @property
    def style_hash(self) -> str:
        """The style sheet's CSP source, `'sha256-...'`, or "" without one."""
        if not self.style:
            return ""
        return f"'sha256-{base64.b64encode(hashlib.sha256(self.style.encode()).digest()).decode()}'"


def referenced_names(parts: Iterable[str]) -> set[str]:
    """The library names the `<img>`s of stored HTML refer to."""
    names = set()
    for part in parts:
        for match in _IMG.finditer(part):
            name = dap.media_name(unescape(dict(_ATTRIBUTE.findall(match[1])).get("src", "")))
            if name is not None:
                names.add(name)
    return names


def embed(*parts: str, assets: Mapping[str, Asset] | None = None) -> Embedded:
    """`parts` (stored, sanitised HTML, in page order) with their media references made into markup.

    `assets` maps names to this workspace's rows; without it they are read in one query.
    """
    if assets is None:
        names = referenced_names(parts)
        assets = {asset.name: asset for asset in Asset.objects.filter(name__in=names)} if names else {}
    embedder = _Embedder(assets)
    embedded = tuple(embedder.embed(part) for part in parts)
    origins = tuple(embedder.origins)
    if len(origins) > MAX_IMAGE_ORIGINS:
        origins = ("https:",)
    style = "".join(f".c{colour[1:]}{{background:{colour}}}" for colour in embedder.colours)
    return Embedded(embedded, style, origins)


@dataclass
class _Embedder:
    assets: Mapping[str, Asset]
    pictures: int = 0
    colours: dict[str, None] = field(default_factory=dict)
    origins: dict[str, None] = field(default_factory=dict)

    def embed(self, html: str) -> str:
        out: list[str] = []
        position = 0
        transcript_after = -1  # where a transcript's blockquote would start, after an audio player
        for match in _IMG.finditer(html):
            if match.start() < position:
                continue  # inside a transcript already copied
            # Escaped again whatever nh3 escaped: each is written into text as well as into attributes.
            attributes = {key: escape(unescape(value)) for key, value in _ATTRIBUTE.findall(match[1])}
            src = unescape(attributes.get("src", ""))
            name = dap.media_name(src)
            start, end = match.start(), match.end()
            if name is None:
                out.append(html[position:start])
                out.append(self._hot_linked(match[0], src))
                position = end
                continue
            asset = self.assets.get(name)
            alt = attributes.get("alt", "")  # escaped, as stored
            alone = start >= 3 and html.startswith("<p>", start - 3) and html.startswith("</p>", end)
            if asset is not None and asset.kind == Asset.Kind.AUDIO and alone:
                out.append(html[position : start - 3])
                out.append(self._player(asset, alt, figure=True))
                position = end + 4
                transcript_after = position
            else:
                out.append(html[position:start])
                if asset is not None and asset.kind == Asset.Kind.AUDIO:
                    out.append(self._player(asset, alt, figure=False))
                elif asset is not None and (picture := self._picture(asset, attributes)):
                    out.append(picture)
                else:
                    out.append(f'<span class="media-missing">{alt}</span>' if alt else "")
                position = end
            if transcript_after == position:
                position = self._transcript(html, position, out)
        out.append(html[position:])
        return "".join(out)

    def _transcript(self, html: str, position: int, out: list[str]) -> int:
        """Copy the blockquote right after an audio player (its transcript) into a disclosure; where to go on."""
        opening = position + 1 if html.startswith("\n", position) else position
        if not html.startswith("<blockquote>", opening):
            return position
        depth = 0
        for match in _BLOCKQUOTE.finditer(html, opening):
            depth += -1 if match[1] else 1
            if depth == 0:
                quote_ = html[opening : match.end()]
                inner = self.embed(quote_)  # pictures in a transcript are embedded like any other
                summary = escape(gettext("Transcript"))
                out.append(f'\n<details class="transcript"><summary>{summary}</summary>{inner}</details>')
                return match.end()
        return position

    def _player(self, asset: Asset, label: str, *, figure: bool) -> str:
        label = label or escape(gettext("Audio guide"))
        url = escape(_url(asset, asset.original))
        kind = escape(asset.content_type)
        player = (
            f'<audio controls preload="none" aria-label="{label}"><source src="{url}" type="{kind}">'
            f'<a href="{url}">{label}</a></audio>'
        )
        if not figure:
            return player
        return f'<figure class="audio"><figcaption>{label}</figcaption>{player}</figure>'

    def _picture(self, asset: Asset, attributes: Mapping[str, str]) -> str:
        display = [
            v for v in asset.variants if v.get("role", "display") == "display" and v.get("width") and v.get("file")
        ]
        webp = sorted((v for v in display if v.get("type") == "image/webp"), key=lambda v: v["width"])
        jpeg = sorted((v for v in display if v.get("type") == "image/jpeg"), key=lambda v: v["width"])
        fallback = jpeg or webp
        if not fallback:
            return ""
        self.pictures += 1
        largest = fallback[-1]
        img = [
            f'src="{escape(_url(asset, fallback[0]["file"]))}"',
            f'srcset="{_srcset(asset, fallback)}"',
            f'sizes="{SIZES}"',
            f'width="{int(largest["width"])}"',
            f'height="{int(largest["height"])}"',
            f'alt="{attributes.get("alt", "")}"',
        ]
        if "title" in attributes:
            img.append(f'title="{attributes["title"]}"')
        img.append('loading="lazy" decoding="async"' if self.pictures > 1 else 'fetchpriority="high"')
        if _COLOUR.fullmatch(asset.colour):
            colour = asset.colour.lower()
            self.colours[colour] = None
            img.append(f'class="c{colour[1:]}"')
        source = f'<source type="image/webp" srcset="{_srcset(asset, webp)}" sizes="{SIZES}">' if jpeg and webp else ""
        return f"<picture>{source}<img {' '.join(img)}></picture>"

    def _hot_linked(self, tag: str, src: str) -> str:
        """A picture from elsewhere, as stored; its origin noted for the policy, lazy below the first screen."""
        parts = urlsplit(src)
        try:
            port = f":{parts.port}" if parts.port else ""
        except ValueError:  # not a port: the browser won't load it either
            port = None
        host = parts.hostname or ""
        if parts.scheme in ("http", "https") and _HOST.fullmatch(host) and port is not None:
            self.origins[f"{parts.scheme}://{host}{port}"] = None
        self.pictures += 1
        if self.pictures > 1:
            return tag[:-1] + ' loading="lazy" decoding="async">'
        return tag


def without_media(html: str) -> str:
    """Stored HTML with its references to the library left out (a paragraph holding only one, whole)."""
    kept = []
    position = 0
    for match in _IMG.finditer(html):
        if dap.media_name(unescape(dict(_ATTRIBUTE.findall(match[1])).get("src", ""))) is None:
            continue
        start, end = match.start(), match.end()
        if start >= 3 and html.startswith("<p>", start - 3) and html.startswith("</p>", end):
            start, end = start - 3, end + 4 + (1 if html.startswith("\n", end + 4) else 0)
        kept.append(html[position:start])
        position = end
    kept.append(html[position:])
    return "".join(kept)


def _url(asset: Asset, file: str) -> str:
    return quote(asset.url(file), safe="/")


def _srcset(asset: Asset, variants: list[dict]) -> str:
    return escape(", ".join(f"{_url(asset, v['file'])} {int(v['width'])}w" for v in variants))
