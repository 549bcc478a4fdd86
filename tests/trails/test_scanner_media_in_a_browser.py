"""The demo trail's pictures and audio guide on a phone: headless Chromium against a live server, the page's own policy."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

# django_db: so the test database exists; the data itself is committed by the fixtures.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def demo_tokens(site, django_db_blocker) -> dict[str, str]:
    """The demo trail and its media in the live site's workspace (dropped with it)."""
    from trails.demo import DEMO_MEDIA, DEMO_MEDIA_FILES, DEMO_TRAIL, add_media
    from trails.models import Trail

    with django_db_blocker.unblock(), schema_context(site.workspace.schema_name):
        add_media(DEMO_MEDIA, DEMO_MEDIA_FILES)
        trail = Trail.create_from_markdown(DEMO_TRAIL.read_text(), status=Trail.Status.PUBLISHED)
        return dict(trail.live_stops().values_list("key", "token"))


@pytest.fixture
def phone(browser):
    """An iPhone 12 (390 CSS pixels wide, 3 device pixels to one) that keeps to the page's policy."""
    context = browser.new_context(
        viewport={"width": 390, "height": 664},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.1 Mobile/15E148 Safari/604.1",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_a_phone_loads_the_stops_picture_as_a_small_webp_within_the_pages_policy(site, demo_tokens, phone):
    responses, problems = [], []
    phone.on("response", lambda response: responses.append(response))
    phone.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    phone.goto(site.url(f"/qr/{demo_tokens['fountain']}"))
    phone.wait_for_load_state("networkidle")

    picture = phone.locator("article picture img")
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    assert picture.evaluate("img => img.currentSrc").endswith("/w960.webp")  # 2x and 3x screens: the 960 one
    media = [response for response in responses if "/media/" in response.url]
    assert len(media) == 1
    assert media[0].url.endswith("/w960.webp") and media[0].headers["content-type"] == "image/webp"
    assert len(media[0].body()) < 120 * 1024
    assert problems == []  # a picture or a style the policy refused would be reported here


def test_the_audio_guide_downloads_nothing_until_played_and_its_transcript_opens(site, demo_tokens, phone):
    from axe_playwright_python.sync_playwright import Axe

    requests = []
    phone.on("request", lambda request: requests.append(request))

    phone.goto(site.url(f"/qr/{demo_tokens['clock-tower']}"))
    phone.wait_for_load_state("networkidle")

    assert phone.locator("figure.audio audio[controls][preload=none]").count() == 1
    assert not [request for request in requests if request.url.endswith(".mp3")]
    phone.get_by_text("Transcript").click()
    assert phone.get_by_text("it is twelve minutes slow").is_visible()
    violations = Axe().run(phone).response["violations"]
    assert not [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
