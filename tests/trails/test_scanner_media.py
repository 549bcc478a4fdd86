"""Pictures and audio from the media library on the scanner page (trails/embeds.py) and in the editor's preview."""

from __future__ import annotations

import base64
import hashlib
import re

import html5lib
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tests.fixtures.trails import make_trail
from trails.models import Asset, Stop, Trail

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"

MARSH = """\
+++
title = "Marsh Walk"
+++
## The Heron {#heron}
![The heron at dusk](heron.jpg)

The heron stands still for an hour.

![A heron's nest](nest.jpg "In the reeds")

![Audio guide: the heron's call](heron-guide.mp3)

> The heron calls twice at dusk, a rough "frahnk".

## The Mill {#mill}
![The old mill](mill.jpg) and ![a gull](https://gulls.example.org/gull.jpg)

![Lost](nowhere.jpg)
"""


def variants(*, width: int = 960, height: int = 640) -> list[dict]:
    """media-core's variant list (trails/media.py): display WebP and JPEG at two widths, and a thumbnail."""
    small = (480, height * 480 // width)
    return [
        {"file": "w480.webp", "role": "display", "type": "image/webp", "width": small[0], "height": small[1], "bytes": 30_000},
        {"file": "w960.webp", "role": "display", "type": "image/webp", "width": width, "height": height, "bytes": 90_000},
        {"file": "w480.jpg", "role": "display", "type": "image/jpeg", "width": small[0], "height": small[1], "bytes": 40_000},
        {"file": "w960.jpg", "role": "display", "type": "image/jpeg", "width": width, "height": height, "bytes": 120_000},
        {"file": "thumb.webp", "role": "thumb", "type": "image/webp", "width": 320, "height": 213, "bytes": 9_000},
    ]  # fmt: skip


def make_asset(*, workspace, name: str, kind: str = "image", colour: str = "#6b5a48", key: str = "") -> Asset:
    """A library row with hand-written variants (no files: the page only names them)."""
    with schema_context(workspace.schema_name):
        asset = Asset(name=name, kind=kind, colour=colour if kind == "image" else "")
        if key:
            asset.key = key
        if kind == "image":
            asset.original, asset.content_type, asset.width, asset.height = "original.jpg", "image/jpeg", 4000, 2667
            asset.variants = variants()
        else:
            asset.original, asset.content_type, asset.duration = "original.mp3", "audio/mpeg", 42.0
        asset.save()
        return asset


@pytest.fixture
def marsh(workspace_a) -> Trail:
    for name in ("heron.jpg", "nest.jpg", "mill.jpg"):
        make_asset(workspace=workspace_a, name=name)
    make_asset(workspace=workspace_a, name="heron-guide.mp3", kind="audio")
    return make_trail(workspace=workspace_a, source=MARSH)


def stop_of(trail: Trail, workspace, key: str) -> Stop:
    with schema_context(workspace.schema_name):
        return trail.stops.get(key=key)


def asset_of(workspace, name: str) -> Asset:
    with schema_context(workspace.schema_name):
        return Asset.objects.get(name=name)


def page_of(client, stop: Stop):
    response = client.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)
    assert response.status_code == 200
    return response


def pictures(page: str) -> list[str]:
    return re.findall(r"<picture>.*?</picture>", page)


def directives(policy: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


# Pictures ---------------------------------------------------------------------------------------------------


def test_a_picture_is_responsive_webp_with_a_jpeg_fallback_and_keeps_its_place(client_a, workspace_a, marsh):
    heron = asset_of(workspace_a, "heron.jpg")

    page = page_of(client_a, stop_of(marsh, workspace_a, "heron")).content.decode()

    first = pictures(page)[0]
    url = f"/media/{heron.key}/"
    sizes = 'sizes="(min-width: 38rem) 36rem, calc(100vw - 2rem)"'
    assert f'<source type="image/webp" srcset="{url}w480.webp 480w, {url}w960.webp 960w" {sizes}>' in first
    assert f'src="{url}w480.jpg" srcset="{url}w480.jpg 480w, {url}w960.jpg 960w" {sizes}' in first
    assert 'width="960" height="640" alt="The heron at dusk"' in first
    assert "thumb.webp" not in page and "original.jpg" not in page
    assert 'src="heron.jpg"' not in page


def test_only_the_first_picture_loads_at_once_the_others_when_scrolled_to(client_a, workspace_a, marsh):
    page = page_of(client_a, stop_of(marsh, workspace_a, "heron")).content.decode()

    first, second = pictures(page)
    assert 'loading="lazy"' not in first and 'fetchpriority="high"' in first
    assert 'loading="lazy" decoding="async"' in second
    assert 'title="In the reeds"' in second


def test_a_picture_shows_its_dominant_colour_while_it_loads_by_a_style_the_policy_allows(client_a, workspace_a, marsh):
    response = page_of(client_a, stop_of(marsh, workspace_a, "heron"))
    page = response.content.decode()

    assert 'class="c6b5a48"' in pictures(page)[0]
    [style] = re.findall(r"<style>(.*?)</style>", page)
    assert style == ".c6b5a48{background:#6b5a48}"
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in directives(response["Content-Security-Policy"])["style-src"]
    assert " style=" not in page  # the policy allows no style attributes


def test_a_colour_that_is_not_a_colour_never_reaches_the_style_sheet(client_a, workspace_a, marsh):
    with schema_context(workspace_a.schema_name):
        Asset.objects.filter(name="heron.jpg").update(colour="red}*{x")
        Asset.objects.filter(name="nest.jpg").update(colour="")

    page = page_of(client_a, stop_of(marsh, workspace_a, "heron")).content.decode()

    assert "<style>" not in page and "red}" not in page


def test_a_picture_missing_from_the_library_shows_its_alt_text(client_a, workspace_a, marsh):
    page = page_of(client_a, stop_of(marsh, workspace_a, "mill")).content.decode()

    assert '<span class="media-missing">Lost</span>' in page
    assert "nowhere.jpg" not in page


def test_a_deleted_picture_turns_into_its_alt_text_on_a_page_seen_before(client_a, workspace_a, marsh):
    stop = stop_of(marsh, workspace_a, "heron")
    assert len(pictures(page_of(client_a, stop).content.decode())) == 2

    with schema_context(workspace_a.schema_name):
        Asset.objects.get(name="nest.jpg").delete()

    page = page_of(client_a, stop).content.decode()
    assert len(pictures(page)) == 1
    assert '<span class="media-missing">A heron&#x27;s nest</span>' in page


def test_a_replaced_picture_shows_its_new_file_on_a_page_seen_before(client_a, workspace_a, marsh):
    stop = stop_of(marsh, workspace_a, "heron")
    heron = asset_of(workspace_a, "heron.jpg")
    assert f"/media/{heron.key}/" in page_of(client_a, stop).content.decode()

    with schema_context(workspace_a.schema_name):
        old_key = heron.key
        heron.key = "n3wk3yn3wk3yn3wk3yn3wk3yn3wk3y00"
        heron.save()  # what media-core's replace_asset does: same name, new key

    page = page_of(client_a, stop).content.decode()
    assert "/media/n3wk3yn3wk3yn3wk3yn3wk3yn3wk3y00/w480.jpg" in page
    assert old_key not in page


def test_a_picture_uploaded_after_the_trail_was_saved_appears_on_a_page_seen_before(client_a, workspace_a, marsh):
    stop = stop_of(marsh, workspace_a, "mill")
    assert "media-missing" in page_of(client_a, stop).content.decode()

    make_asset(workspace=workspace_a, name="nowhere.jpg")

    page = page_of(client_a, stop).content.decode()
    assert "media-missing" not in page
    assert len(pictures(page)) == 2


def test_another_workspaces_picture_of_the_same_name_is_never_used(client_a, workspace_a, workspace_b, marsh):
    theirs = make_asset(workspace=workspace_b, name="nowhere.jpg", key="b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0")
    make_asset(workspace=workspace_b, name="mill.jpg", key="b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1")
    ours = asset_of(workspace_a, "mill.jpg")

    page = page_of(client_a, stop_of(marsh, workspace_a, "mill")).content.decode()

    assert theirs.key not in page and "b1b1b1b1" not in page
    assert f"/media/{ours.key}/" in page
    assert '<span class="media-missing">Lost</span>' in page


def test_the_stops_media_is_read_in_one_query(client_a, workspace_a, marsh):
    stop = stop_of(marsh, workspace_a, "heron")
    page_of(client_a, stop)  # the host, the session: cached from here on
    from trails.pagecache import forget_pages

    forget_pages()
    log = QueryLog()
    with connection.execute_wrapper(log):
        page_of(client_a, stop)

    assert sum(1 for query in log.queries if '"trails_asset"' in query) == 1


class QueryLog:
    def __init__(self) -> None:
        self.queries: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.queries.append(sql)
        return execute(sql, params, many, context)


# Audio ------------------------------------------------------------------------------------------------------


def test_audio_plays_in_the_browsers_own_player_and_downloads_nothing_until_played(client_a, workspace_a, marsh):
    guide = asset_of(workspace_a, "heron-guide.mp3")

    page = page_of(client_a, stop_of(marsh, workspace_a, "heron")).content.decode()

    url = f"/media/{guide.key}/original.mp3"
    assert (
        '<figure class="audio"><figcaption>Audio guide: the heron&#x27;s call</figcaption>'
        '<audio controls preload="none" aria-label="Audio guide: the heron&#x27;s call">'
        f'<source src="{url}" type="audio/mpeg"><a href="{url}">'
    ) in page


def test_the_quote_under_an_audio_guide_is_its_transcript(client_a, workspace_a, marsh):
    page = page_of(client_a, stop_of(marsh, workspace_a, "heron")).content.decode()

    assert (
        '</figure>\n<details class="transcript"><summary>Transcript</summary><blockquote>\n'
        '<p>The heron calls twice at dusk, a rough "frahnk".</p>\n</blockquote></details>'
    ) in page


def test_an_audio_guide_missing_from_the_library_shows_its_label(client_a, workspace_a, marsh):
    with schema_context(workspace_a.schema_name):
        Asset.objects.filter(name="heron-guide.mp3").delete()

    page = page_of(client_a, stop_of(marsh, workspace_a, "heron")).content.decode()

    assert "<audio" not in page
    assert '<span class="media-missing">Audio guide: the heron&#x27;s call</span>' in page


# The page ---------------------------------------------------------------------------------------------------


def test_the_policy_names_exactly_the_hosts_the_pages_pictures_come_from(client_a, workspace_a, marsh):
    heron = page_of(client_a, stop_of(marsh, workspace_a, "heron"))["Content-Security-Policy"]
    mill = page_of(client_a, stop_of(marsh, workspace_a, "mill"))["Content-Security-Policy"]

    assert directives(heron)["img-src"] == ["'self'"]
    assert directives(heron)["media-src"] == ["'self'"]
    assert directives(mill)["img-src"] == ["'self'", "https://gulls.example.org"]
    assert not {"https:", "data:"} & {source for sources in directives(mill).values() for source in sources}


def test_media_served_from_a_cdn_is_allowed_from_its_origin_only(client_a, workspace_a, marsh, settings):
    settings.MEDIA_PUBLIC_BASE_URL = "https://cdn.example.net/qrcards"

    policy = directives(page_of(client_a, stop_of(marsh, workspace_a, "mill"))["Content-Security-Policy"])

    assert policy["img-src"] == ["'self'", "https://cdn.example.net", "https://gulls.example.org"]
    assert policy["media-src"] == ["'self'", "https://cdn.example.net"]


def test_a_stop_with_pictures_and_audio_weighs_under_ten_kilobytes(client_a, workspace_a, marsh):
    response = page_of(client_a, stop_of(marsh, workspace_a, "heron"))

    assert len(response.content) < 10 * 1024
    assert "<script" not in response.content.decode()


def test_the_page_with_media_is_valid_html(client_a, workspace_a, marsh):
    page = page_of(client_a, stop_of(marsh, workspace_a, "heron")).content.decode()

    parser = html5lib.HTMLParser(strict=True)
    parser.parse(page)


# The editor's preview ---------------------------------------------------------------------------------------


def test_the_editors_preview_shows_the_real_media_under_a_policy_that_allows_it(client_a, cast, workspace_a, marsh):
    client_a.force_login(cast.editor)
    heron = asset_of(workspace_a, "heron.jpg")

    response = client_a.post("/dashboard/trails/preview", {"source": MARSH, "preview_stop": "0"})

    assert response.status_code == 200
    frame = re.search(r'srcdoc="([^"]*)"', response.content.decode())[1]
    assert f"/media/{heron.key}/w480.jpg" in frame
    style = ".c6b5a48{background:#6b5a48}"
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in directives(response["Content-Security-Policy"])["style-src"]


def test_the_preview_never_shows_another_workspaces_media(client_b, cast, workspace_a, workspace_b, marsh):
    client_b.force_login(cast.member_of_b)
    heron = asset_of(workspace_a, "heron.jpg")

    response = client_b.post("/dashboard/trails/preview", {"source": MARSH, "preview_stop": "0"})

    assert response.status_code == 200
    assert heron.key not in response.content.decode()
    assert "media-missing" in response.content.decode()


def test_a_phone_downloads_a_small_webp_of_a_twelve_megapixel_photo(client_a, workspace_a, media_root):
    """Whichever candidate a phone picks (480 wide at 1x, 960 at 2x and 3x), it is a WebP under 120 KB."""
    from django.core.files.storage import default_storage

    from tests.fixtures.media import image_upload
    from trails.media import add_asset, asset_prefix

    with schema_context(workspace_a.schema_name):
        photo = add_asset(name="harbour.jpg", upload=image_upload(width=4000, height=3000))
    trail = make_trail(workspace=workspace_a, source="## The Harbour\n![The harbour at noon](harbour.jpg)\n")
    original = photo.bytes - sum(v["bytes"] for v in photo.variants)

    page = page_of(client_a, stop_of(trail, workspace_a, "the-harbour")).content.decode()

    [srcset] = re.findall(r'<source type="image/webp" srcset="([^"]*)"', page)
    candidates = [candidate.split() for candidate in srcset.split(", ")]
    assert [width for _, width in candidates] == ["480w", "960w"]
    with schema_context(workspace_a.schema_name):
        for url, _ in candidates:
            file = url.rsplit("/", 1)[1]
            size = default_storage.size(asset_prefix(photo.key) + file)
            assert size < 120 * 1024, (file, size)
            assert size < original / 8  # the test's photo is 1.2 MB; a phone's is 3 to 5 MB


# What the editor and the API say about media ------------------------------------------------------------------

TYPO = "## The Heron\n![The heron](heorn.jpg)\n"


def test_the_editor_reports_a_missing_picture_with_the_near_name_from_its_own_library(client_a, cast, marsh):
    client_a.force_login(cast.viewer)

    page = client_a.post("/dashboard/trails/preview", {"source": TYPO, "preview_stop": "0"}).content.decode()

    assert "There is no picture &quot;heorn.jpg&quot; in the media library. Did you mean &quot;heron.jpg&quot;?" in page


def test_another_workspaces_media_names_are_never_suggested_or_counted_as_present(client_b, cast, marsh):
    client_b.force_login(cast.member_of_b)

    page = client_b.post("/dashboard/trails/preview", {"source": MARSH, "preview_stop": "0"}).content.decode()
    typo = client_b.post("/dashboard/trails/preview", {"source": TYPO, "preview_stop": "0"}).content.decode()

    assert "There is no picture &quot;heron.jpg&quot; in the media library." in page
    assert "There is no picture &quot;heorn.jpg&quot;" in typo and "Did you mean" not in typo


def test_the_apis_preview_checks_media_against_the_keys_own_workspace(
    client_a, client_b, workspace_a, workspace_b, marsh
):
    import json

    from accounts.models import ApiKey

    _, ours = ApiKey.objects.create_key(customer=workspace_a, name="Reader", scope=ApiKey.Scope.READ)
    _, theirs = ApiKey.objects.create_key(customer=workspace_b, name="B's reader", scope=ApiKey.Scope.READ)

    def preview(client, secret: str) -> list[str]:
        response = client.post(
            "/api/v1/trails/preview",
            json.dumps({"source": TYPO}),
            "application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert response.status_code == 200
        return [d["message"] for d in response.json()["diagnostics"]]

    assert preview(client_a, ours) == [
        'There is no picture "heorn.jpg" in the media library. Did you mean "heron.jpg"?'
    ]
    [message] = preview(client_b, theirs)
    assert "heron.jpg" not in message


def test_saving_a_trail_keeps_it_and_reports_missing_media_as_warnings(workspace_a, marsh):
    with schema_context(workspace_a.schema_name):
        assembly = marsh.set_source(MARSH + "\n![A gull](gull.jpg)\n")

        assert assembly.ok
        assert [d.code for d in assembly.warnings] == ["missing-media", "missing-media"]  # nowhere.jpg, gull.jpg
        assert "gull.jpg" in Trail.objects.get(pk=marsh.pk).source


@pytest.mark.parametrize(
    ("language", "transcript", "guide"), [("fr", "Transcription", "Guide audio"), ("ja", "書き起こし", "音声ガイド")]
)
def test_the_players_own_words_are_in_the_pages_language(language, transcript, guide):
    from django.utils import translation

    from trails.embeds import embed

    sound = Asset(name="guide.mp3", kind="audio", key="k" * 32, original="original.mp3", content_type="audio/mpeg")
    stored = '<p><img src="guide.mp3" alt=""></p>\n<blockquote>\n<p>Words.</p>\n</blockquote>\n'

    with translation.override(language):
        (html,) = embed(stored, assets={"guide.mp3": sound}).parts

    assert f"<figcaption>{guide}</figcaption>" in html and f"<summary>{transcript}</summary>" in html
