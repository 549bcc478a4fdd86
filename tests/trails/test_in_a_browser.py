"""QRCards used as a person would: headless Chromium against a live server (tests/fixtures/browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.fixtures.browser import PASSWORD

# django_db: so the test database exists; the data itself is committed by the `site` fixture.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

TRAIL = """+++
title = "Sculpture Garden"
theme = "museum"
+++
Welcome to the garden.

## The Bronze Horse {#horse}
Cast in 1901.

## The Marble Bench {#bench}
Sit a while.
"""


def log_in(page, site) -> None:
    page.goto(site.url("/dashboard/"))
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=login]", site.owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator("button[type=submit]").click()
    expect(page).to_have_url(site.url("/dashboard/"))


def test_a_customer_writes_publishes_and_prints_a_trail_then_sees_its_scan_arrive(site, page, browser, tmp_path):
    log_in(page, site)

    page.get_by_role("link", name="Trails", exact=True).click()
    page.get_by_role("link", name="New trail").click()
    page.get_by_role("button", name="Create trail").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("My new trail")

    # Typing updates the preview and the problems without a reload.
    source = page.locator("#source")
    source.fill(TRAIL.replace("{#bench}", "{#horse}"))
    source.dispatch_event("input")
    expect(page.locator(".diagnostics")).to_contain_text("horse")
    # A problem's line number takes the author to that line.
    problem = page.locator(".diagnostics a[data-line]").first
    line = int(problem.get_attribute("data-line"))
    problem.click()
    selected = page.evaluate(
        "() => { const s = document.getElementById('source'); return s.value.slice(s.selectionStart, s.selectionEnd); }"
    )
    assert selected == TRAIL.replace("{#bench}", "{#horse}").split("\n")[line - 1]
    source.fill(TRAIL)
    source.dispatch_event("input")
    expect(page.locator(".diagnostics")).to_contain_text("None")
    expect(page.frame_locator("iframe.phone").get_by_role("heading", level=1)).to_have_text("The Bronze Horse")

    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Saved. 2 stops")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("h1 .badge")).to_have_text("Published")

    page.get_by_role("link", name="QR codes and printing").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="PNG").first.click()
    png = Path(tmp_path / "card.png")
    download.value.save_as(png)
    (printed_url,) = [code.text for code in zxingcpp.read_barcodes(Image.open(png).convert("RGB"))]
    assert printed_url.startswith(f"HTTP://CHARLIE.QRCARDS.LOCALHOST:{site.port}/QR/")

    page.goto(site.url("/dashboard/"))
    today = page.get_by_test_id("scans-today")
    expect(today).to_have_text("0")

    phone = browser.new_context(user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile/15E148")
    scanner = phone.new_page()
    scanner.goto(printed_url)
    expect(scanner.get_by_role("heading", level=1)).to_have_text("The Bronze Horse")
    expect(scanner.locator("body")).to_contain_text("Stop 1 of 2")
    phone.close()

    # The dashboard was not reloaded: the live counter polls.
    expect(today).to_have_text("1", timeout=20_000)


def test_the_scanner_page_and_dashboard_pages_have_no_serious_accessibility_violations(site, page):
    from axe_playwright_python.sync_playwright import Axe

    log_in(page, site)
    page.goto(site.url("/dashboard/trails/new"))
    page.get_by_role("button", name="Create trail").click()
    editor_url = page.url
    page.get_by_role("button", name="Publish").click()
    page.get_by_role("link", name="QR codes and printing").click()
    first_stop = page.locator(".codes a").first.get_attribute("href")

    urls = [
        site.url(first_stop),
        site.url("/dashboard/"),
        site.url("/dashboard/trails/"),
        editor_url,
        page.url,
    ]
    for link in page.locator("header nav a").all():
        urls.append(site.url(link.get_attribute("href")))
    axe = Axe()
    problems = {}
    for url in dict.fromkeys(urls):
        page.goto(url)
        results = axe.run(page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        if serious:
            problems[url] = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in serious]
    assert not problems, problems
