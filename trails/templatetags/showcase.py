"""The public landing page's pictures of the product, made by the product: `{% load showcase %}{% showcase %}`.

A template tag, so the landing view (in accounts, which never imports trails) stays as it is. The card's QR
code is drawn by trails/qr.py and the phone shows the demo trail's first stop as DAP assembles it.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import mark_safe

import dap
from trails.demo import DEMO_SLUG, DEMO_TRAIL
from trails.embeds import without_media
from trails.qr import QrOptions, qr_svg, stop_qr_url

register = template.Library()

SAMPLE_TOKEN = "J6JFTU42"  # noqa: S105 - a token as a card would print it; the landing page links nowhere with it


@register.inclusion_tag("trails/_showcase.html")
def showcase() -> dict:
    return _showcase(settings.QRCARDS_DOMAIN)


@lru_cache(maxsize=4)
def _showcase(domain: str) -> dict:
    assembly = dap.assemble(DEMO_TRAIL.read_text())
    first, second = assembly.stops[0], assembly.stops[1]
    host = f"{DEMO_SLUG}.{domain}"
    svg = qr_svg(stop_qr_url(host=host, token=SAMPLE_TOKEN), QrOptions(size_mm=40))
    label = f'<svg role="img" aria-label="{escape(f"The QR code of {first.title}, stop 1 of {assembly.title}")}" '
    return {
        "trail": assembly.title,
        "stop": first,
        "next": second,
        "count": len(assembly.stops),
        "qr": mark_safe(svg.replace("<svg ", label, 1)),  # noqa: S308 (our own drawing, and an escaped label)
        "fallback": f"{host.upper()} · {SAMPLE_TOKEN[:4]} {SAMPLE_TOKEN[4:]}",
        # The sketch of a phone shows the text: the demo's pictures live in its workspace's library, not here.
        "stop_html": mark_safe(without_media(first.html)),  # noqa: S308 (DAP's output is sanitised)
    }
