"""The Content-Security-Policy as Chromium enforces it: every kind of page works and reports no violation.

Unlike the other browser tests, these pages are loaded with the policy on (no bypass_csp).
"""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from accounts.models import User
from tests.fixtures.browser import PASSWORD
from tests.fixtures.trails import make_trail

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
ACCENT = "#aa3300"


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """A live server with a workspace of this module's own ("echo"), a staff user, a trail and an accent colour.

    Its own, not tests/fixtures/browser.py's "charlie", so the two browser modules never share a workspace.
    """
    from allauth.account.models import EmailAddress

    from accounts.workspaces import create_workspace, ensure_public_workspace
    from tests.fixtures.browser import Site, live_server

    with django_db_blocker.unblock():
        ensure_public_workspace()
        owner = User.objects.create_user("owner@echo.example", PASSWORD)
        EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
        staff = User.objects.create_superuser("staff@echo.example", PASSWORD)
        workspace = create_workspace(name="Echo Gallery", slug="echo", owner=owner)
        workspace.accent_colour = ACCENT
        workspace.save()
        make_trail(workspace=workspace)
        assert workspace.primary_host  # read now, before any test, like the rest of the module's data
        try:
            with live_server() as port:
                yield Site(workspace=workspace, owner=owner, port=port)
        finally:
            workspace.delete(force_drop=True)
            owner.delete()
            staff.delete()


@pytest.fixture(scope="module")
def setting(site):
    with schema_context(site.workspace.schema_name):
        from trails.models import Trail

        trail = Trail.objects.get()
        token = trail.live_stops().first().token
    return {"trail": trail.pk, "token": token, "staff": User.objects.get(email="staff@echo.example")}


@pytest.fixture
def strict_page(browser):
    """A page with the policy enforced, and every violation Chromium reports, from any frame."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.violations = []
    page.on(
        "console",
        lambda message: page.violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield page
    context.close()


def log_in(page, url: str, email: str, *, admin: bool = False) -> None:
    page.goto(url)
    if admin:
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("input[type=submit]").click()
    else:
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form").filter(has=page.locator("input[name=password]")).locator("button[type=submit]").click()


def test_the_dashboard_and_its_live_preview_work_under_the_policy(site, setting, strict_page):
    page = strict_page
    public = f"http://qrcards.localhost:{site.port}"
    page.goto(public + "/")
    expect(page.get_by_role("link", name="Sign up", exact=True).first).to_be_visible()
    page.goto(public + "/accounts/signup/")

    log_in(page, site.url("/accounts/login/"), site.owner.email)
    expect(page).to_have_url(site.url("/dashboard/"))

    page.goto(site.url(f"/dashboard/trails/{setting['trail']}/"))
    source = page.locator("#source")
    source.fill(source.input_value().replace("The Fountain", "The Old Well"))
    source.dispatch_event("input")
    preview = page.frame_locator("iframe.phone")
    expect(preview.get_by_role("heading", level=1)).to_have_text("The Old Well")
    # The preview took the scanner page's style sheet and the workspace's accent colour (inline, by its hash).
    frame = next(frame for frame in page.frames if frame.parent_frame is not None)
    accent = frame.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()")
    assert accent == ACCENT
    assert frame.evaluate("getComputedStyle(document.querySelector('header.bar')).display") == "flex"

    page.goto(site.url(f"/qr/{setting['token']}"))  # a scan, so the analytics have bars to draw
    page.goto(site.url("/dashboard/analytics/"))
    page.get_by_label("Include bots").check()  # headless Chromium is a bot; htmx swaps the report in
    expect(page.locator("#report svg.bar").first).to_be_visible()
    page.goto(site.url(f"/dashboard/trails/{setting['trail']}/cards/"))
    page.goto(site.url(f"/dashboard/trails/{setting['trail']}/cards/print?paper=LETTER"))
    expect(page.locator(".card").first).to_be_visible()
    page.goto(site.url("/accounts/email/"))
    page.goto(site.url("/accounts/2fa/totp/activate"))
    page.get_by_label("Password").fill(PASSWORD)  # allauth asks again before two-factor changes
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("img[src^='data:']")).to_be_visible()

    assert page.violations == []


def test_the_api_docs_work_under_the_policy(site, setting, strict_page):
    page = strict_page
    log_in(page, site.url("/accounts/login/"), site.owner.email)

    page.goto(site.url("/api/v1/docs"))

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("QRCards")
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert page.violations == []


def test_the_django_admin_works_under_the_policy(site, setting, strict_page):
    page = strict_page

    log_in(page, site.url("/admin/login/"), setting["staff"].email, admin=True)
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(site.url("/admin/trails/trail/"))
    page.locator("#result_list tbody th a").first.click()
    expect(page.locator("#content h1, #content h2").first).to_be_visible()
    page.locator("#toggle-nav-sidebar").click()
    # The public host's admin: workspaces, with its search and filters.
    public = f"http://qrcards.localhost:{site.port}"
    log_in(page, public + "/admin/login/", setting["staff"].email, admin=True)
    page.goto(public + "/admin/accounts/customer/")
    expect(page.locator("#result_list")).to_be_visible()

    assert page.violations == []


def test_a_violation_would_be_seen(site, setting, strict_page):
    """The check above can fail: an inline script on one of our pages is reported."""
    page = strict_page
    page.goto(site.url("/accounts/login/"))

    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"window.x = 1\">')")

    assert page.violations
