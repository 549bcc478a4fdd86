"""Every page a person meets, looked at as a designer would, on a phone (390 px) and a laptop (1280 px).

Each page is visited once per width: a full-page screenshot goes to var/screenshots/<page>-<width>.png (open
them to look), then the checks: no horizontal scroll, no text out of its box or off the screen (chart labels
included), the page's primary action in view without scrolling, a visible focus outline, and axe-core with no
violation of any impact. One browser, the live server and workspace of tests/fixtures/browser.py.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from accounts.models import Membership, User
from tests.fixtures.browser import PASSWORD
from tests.fixtures.media import audio_upload, image_upload
from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_trail
from trails.media import add_asset

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
VIEWPORTS = {390: 844, 1280: 800}

# Text that runs out of its element's box or its card, or off the screen, or is cut off by its box; text hidden on purpose
# (in a box 1 px wide for screen readers only, an off-screen skip link, a closed <details>) excepted.
OVERFLOWS = """() => {
  const width = window.innerWidth, found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || el.closest('script, style, textarea, select, title, desc')) continue;
    let readerOnly = false;
    for (let p = el; p && !readerOnly; p = p.parentElement) readerOnly = p.getBoundingClientRect().width <= 1;
    if (readerOnly) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const text = range.getBoundingClientRect(), box = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (text.width === 0 || text.right <= 0 || style.visibility === 'hidden') continue;
    const clipped = style.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1;
    const frame = el.closest('.card, .stat, .account-card, .empty, .sample-card');
    const outside = frame && (text.right > frame.getBoundingClientRect().right + 1 || text.left < frame.getBoundingClientRect().left - 1);
    if (clipped || outside || text.right > box.right + 1 || text.left < box.left - 1 || text.left < -0.5 || text.right > width + 0.5)
      found.push(`${el.tagName}.${el.className}: "${node.textContent.trim().slice(0, 40)}"`);
  }
  return found;
}"""

PRIMARY_IN_VIEW = """() => {
  const primary = Array.from(document.querySelectorAll('button.primary, a.button.primary'))
    .find(el => el.getBoundingClientRect().width > 0);
  if (!primary) return 'no primary action';
  const box = primary.getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight ? '' : `"${primary.textContent.trim()}" at ${box.top}px`;
}"""

FOCUS_OUTLINE = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return el === document.body ? 'nothing focused'
    : (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 ? '' : `${el.tagName} has no outline`);
}"""


@pytest.fixture(scope="module")
def content(site, django_db_blocker):
    """A published trail with a scan today, and a viewer (for the page their role can't open)."""
    with django_db_blocker.unblock():
        trail = make_trail(workspace=site.workspace)
        with schema_context(site.workspace.schema_name):
            stop = trail.live_stops().first()
        make_scan(workspace=site.workspace, stop=stop, at=timezone.now() - datetime.timedelta(minutes=5))
        with schema_context(site.workspace.schema_name):
            picture = add_asset(name=None, upload=image_upload("heron.jpg", width=800, height=600))
            add_asset(name=None, upload=audio_upload("heron-guide.mp3"))
        viewer = User.objects.create_user("viewer@charlie.example", PASSWORD)
        EmailAddress.objects.create(user=viewer, email=viewer.email, verified=True, primary=True)
        Membership.objects.create(user=viewer, customer=site.workspace, role="viewer")
    yield {"trail": trail, "stop": stop, "viewer": viewer, "picture": picture}
    with django_db_blocker.unblock():
        viewer.delete()


def _log_in(page, site, email: str) -> None:
    page.goto(site.url("/accounts/login/"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def _public(site, path: str) -> str:
    return f"http://{settings.QRCARDS_DOMAIN}:{site.port}{path}"


def _look_at(page, name: str, width: int, *, primary: bool, axe) -> dict[str, object]:
    """Screenshot and every check on the page as it is now; the problems found, by check."""
    page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    problems: dict[str, object] = {}
    if page.evaluate("document.documentElement.scrollWidth") > width:
        problems["horizontal scroll"] = page.evaluate("document.documentElement.scrollWidth")
    if overflowing := page.evaluate(OVERFLOWS):
        problems["text out of its box"] = overflowing[:5]
    if primary and (where := page.evaluate(PRIMARY_IN_VIEW)):
        problems["primary action out of view"] = where
    page.keyboard.press("Tab")
    if outline := page.evaluate(FOCUS_OUTLINE):
        problems["focus outline"] = outline
    violations = axe.run(page).response["violations"]
    if violations:
        problems["axe"] = [
            (v["id"], v["impact"], v["nodes"][0]["target"], v["nodes"][0]["failureSummary"]) for v in violations
        ]
    return problems


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_every_page_looks_right_and_passes_axe_at_phone_and_laptop_widths(site, content, browser, width):
    from axe_playwright_python.sync_playwright import Axe

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    axe, problems = Axe(), {}
    context = browser.new_context(viewport={"width": width, "height": VIEWPORTS[width]})
    page = context.new_page()
    page.set_default_timeout(15_000)

    def look(name: str, url: str | None = None, *, primary: bool = False) -> None:
        if url:
            page.goto(url)
        if found := _look_at(page, name, width, primary=primary, axe=axe):
            problems[name] = found

    trail, stop = content["trail"], content["stop"]
    look("public-home", _public(site, "/"), primary=True)
    look("sign-up", _public(site, "/accounts/signup/"), primary=True)
    page.fill("input[name=email]", "someone@example.com")
    page.fill("input[name=password1]", "a long browser password")
    page.fill("input[name=password2]", "another password")
    page.get_by_role("button", name="Sign up", exact=True).click()
    expect(page.locator(".errorlist").first).to_be_visible()
    look("sign-up-with-errors", primary=True)
    look("log-in", site.url("/accounts/login/"), primary=True)
    look("scanner-page", site.url(f"/qr/{stop.token}"))
    look("not-found", site.url("/dashboard/no-such-page/"))

    _log_in(page, site, site.owner.email)
    expect(page.locator(".messages")).to_contain_text("Logged in")
    look("dashboard-home-with-message", primary=True)
    look("dashboard-home", site.url("/dashboard/"), primary=True)
    look("trail-list", site.url("/dashboard/trails/"), primary=True)
    look("editor", site.url(f"/dashboard/trails/{trail.pk}/"), primary=True)
    look("media", site.url("/dashboard/media/"), primary=True)
    look("media-detail", site.url(f"/dashboard/media/{content['picture'].pk}/"))
    look("analytics", site.url("/dashboard/analytics/"), primary=True)
    # The filter bar's button keeps to the line of the box beside it, and each share stays on one line by its bar.
    show, bots = page.get_by_role("button", name="Show").bounding_box(), page.get_by_text("Include bots").bounding_box()
    assert abs(show["y"] + show["height"] / 2 - (bots["y"] + bots["height"] / 2)) < 4, (show, bots)
    assert page.evaluate("Math.max(...Array.from(document.querySelectorAll('.share')).map(s => s.offsetHeight))") < 30
    look("analytics-empty", site.url("/dashboard/analytics/?range=custom&start=2020-01-01&end=2020-01-31"))
    look("team", site.url("/dashboard/team/"))
    look("api-keys", site.url("/dashboard/api-keys/"))
    look("settings", site.url("/dashboard/settings/"))
    look("styleguide", site.url("/dashboard/styleguide/"))
    look("account-email", site.url("/accounts/email/"))
    look("account-password", site.url("/accounts/password/change/"), primary=True)
    look("account-two-factor", site.url("/accounts/2fa/"))
    context.clear_cookies()
    _log_in(page, site, content["viewer"].email)
    page.goto(site.url("/dashboard/team/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your role can't open this page")
    look("forbidden")
    context.close()

    assert not problems, json.dumps(problems, indent=1)
