"""Pictures as a person adds them: the media library, a photo dropped onto the editor, and the stop on a phone.

Headless Chromium against a live server (tests/fixtures/browser.py).
"""

from __future__ import annotations

import base64
import io
import random
import re

import pytest
from django_tenants.utils import schema_context
from PIL import Image
from playwright.sync_api import expect

from tests.fixtures.browser import PASSWORD
from trails.models import Asset, Trail

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

TRAIL = """+++
title = "Heron Walk"
theme = "classic"
+++
Welcome to the marsh.

## The Reed Bed {#reeds}
Herons nest here.
"""


def photo(*, width: int = 2400, height: int = 1600, seed: int = 1) -> bytes:
    """A photo-like JPEG: noise, so it compresses as badly as a real one and its small copies are worth having."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width // 8, height // 8), rng.randbytes(width // 8 * height // 8 * 3))
    buffer = io.BytesIO()
    image.resize((width, height), Image.Resampling.BILINEAR).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def png(*, seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (seed * 40 % 255, 90, 140)).save(buffer, "PNG")
    return buffer.getvalue()


def log_in(page, site) -> None:
    page.goto(site.url("/accounts/login/"))
    page.fill("input[name=login]", site.owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator("button[type=submit]").click()
    expect(page).to_have_url(site.url("/dashboard/"))


def drop_file(page, selector: str, *, name: str, data: bytes, mime: str) -> None:
    """Drop a file onto an element as a person dragging it from their desktop would."""
    transfer = page.evaluate_handle(
        """([name, b64, mime]) => {
             const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
             const transfer = new DataTransfer();
             transfer.items.add(new File([bytes], name, { type: mime }));
             return transfer;
           }""",
        [name, base64.b64encode(data).decode(), mime],
    )
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_a_customer_uploads_media_drops_a_photo_into_a_stop_and_a_phone_gets_the_small_picture(site, page, browser):
    log_in(page, site)

    # Several files at once on the library page, each with its own line; a bad one says what is wrong.
    page.get_by_role("link", name="Media", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Media")
    page.set_input_files(
        "input[type=file]",
        [
            {"name": "marsh.png", "mimeType": "image/png", "buffer": png(seed=1)},
            {"name": "reeds.png", "mimeType": "image/png", "buffer": png(seed=2)},
            {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"<html>not a picture</html>"},
        ],
    )
    page.get_by_role("button", name="Upload").click()
    uploads = page.locator(".uploads .upload")
    expect(uploads).to_have_count(3)
    expect(uploads.nth(0)).to_contain_text("Uploaded")
    expect(uploads.nth(1)).to_contain_text("Uploaded")
    expect(uploads.nth(2)).to_contain_text("notes.jpg")
    expect(uploads.nth(2)).to_contain_text("Not uploaded:")
    items = page.locator(".media-grid .media-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("marsh.png")
    # Their thumbnails load.
    expect(items.first.locator("img")).to_have_js_property("complete", True)
    assert page.evaluate("() => document.querySelector('.media-grid img').naturalWidth") > 0

    # A photo dropped onto the editor: uploaded, its reference written in at the cursor, its alt text selected.
    page.get_by_role("link", name="Trails", exact=True).click()
    page.get_by_role("link", name="New trail").click()
    page.locator("#source").fill(TRAIL)
    page.get_by_role("button", name="Create trail").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Heron Walk")
    source = page.locator("#source")
    source.evaluate(
        "(s) => { const at = s.value.indexOf('Herons nest here.'); s.focus(); s.setSelectionRange(at, at); }"
    )
    original = photo()
    drop_file(page, "#source", name="heron.jpg", data=original, mime="image/jpeg")
    expect(page.locator(".editor-source .upload")).to_contain_text("Uploaded")
    expect(source).to_have_value(re.compile(r"!\[alt text here\]\(heron\.jpg\)\n\nHerons nest here\."))
    page.keyboard.type("A grey heron in the reeds")
    expect(source).to_have_value(re.compile(r"!\[A grey heron in the reeds\]\(heron\.jpg\)"))
    preview = page.frame_locator("iframe.phone")
    expect(preview.locator("img[alt='A grey heron in the reeds']")).to_be_visible()

    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("h1 .badge")).to_have_text("Published")

    # A phone opens the stop: the picture loads, and what it downloaded is a small copy, not the original.
    with schema_context(site.workspace.schema_name):
        stop = Trail.objects.get(title="Heron Walk").live_stops().get()
        asset = Asset.objects.get(name="heron.jpg")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    scanner = phone.new_page()
    pictures: list[tuple[str, int]] = []

    def keep(response) -> None:
        if "/media/" in response.url and response.request.resource_type == "image":
            pictures.append((response.url, len(response.body())))

    scanner.on("response", keep)
    scanner.goto(site.url(f"/qr/{stop.token}"))
    picture = scanner.locator("img[alt='A grey heron in the reeds']")
    expect(picture).to_be_visible()
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("(img) => img.naturalWidth") > 0
    assert pictures, "the phone downloaded no picture"
    variants = {variant["file"]: variant for variant in asset.variants}
    for url, size in pictures:
        file = url.rsplit("/", 1)[1]
        assert file in variants, f"the phone downloaded {file}, not one of the small copies {sorted(variants)}"
        assert variants[file]["width"] <= 960 and size < len(original) / 4, (file, size, len(original))
    phone.close()
