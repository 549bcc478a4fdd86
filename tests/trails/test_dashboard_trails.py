from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django_tenants.utils import schema_context

from tests.fixtures.trails import make_trail, trail_markdown
from trails.models import Stop, Trail


@pytest.fixture
def owner_a(cast, client_a):
    client_a.force_login(cast.owner)
    return client_a


@pytest.fixture
def viewer_a(cast, client_a):
    client_a.force_login(cast.viewer)
    return client_a


def in_a(callable_, *args, **kwargs):
    with schema_context("alpha"):
        return callable_(*args, **kwargs)


def test_an_editor_creates_a_trail_from_markdown_and_lands_in_its_editor(cast, client_a, workspace_a):
    client_a.force_login(cast.editor)

    response = client_a.post("/dashboard/trails/new", {"source": trail_markdown(title="Harbour Walk")})

    trail = in_a(Trail.objects.get)
    assert response.status_code == 302 and response["Location"] == f"/dashboard/trails/{trail.pk}/"
    assert trail.title == "Harbour Walk" and trail.status == Trail.Status.DRAFT
    assert in_a(lambda: trail.live_stops().count()) == 3


def test_a_document_with_errors_is_refused_with_line_numbers_and_the_text_is_kept(owner_a, workspace_a):
    typed = '+++\ntheme = "neon"\n+++\nOnly an intro <b>and</b> no stops.'

    response = owner_a.post("/dashboard/trails/new", {"source": typed})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Not saved." in page and "Line 2:" in page
    assert "Only an intro &lt;b&gt;and&lt;/b&gt; no stops." in page
    assert not in_a(Trail.objects.exists)


def test_saving_keeps_tokens_and_bumps_the_version(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    before = in_a(lambda: {s.key: s.token for s in trail.stops.all()})
    source = trail_markdown(stops=[("bridge", "The Bridge"), ("fountain", "The Fountain")])

    response = owner_a.post(f"/dashboard/trails/{trail.pk}/", {"source": source, "version": 1})

    assert response.status_code == 302
    trail = in_a(Trail.objects.get, pk=trail.pk)
    assert trail.version == 2
    assert in_a(lambda: [(s.key, s.token) for s in trail.live_stops()]) == [
        ("bridge", before["bridge"]),
        ("fountain", before["fountain"]),
    ]


def test_saving_an_unchanged_trail_keeps_its_version_and_says_nothing_changed(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    # As a browser sends it: the same text with CRLF line ends.
    source = trail.source.replace("\r\n", "\n").replace("\n", "\r\n")

    response = owner_a.post(f"/dashboard/trails/{trail.pk}/", {"source": source, "version": 1}, follow=True)

    assert in_a(Trail.objects.get, pk=trail.pk).version == 1
    assert "Nothing changed since version 1" in response.content.decode()


def test_a_save_over_someone_elses_newer_save_is_refused_and_keeps_the_text(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    in_a(trail.set_source, trail_markdown(title="Their version"))  # someone else saved: version 2
    mine = trail_markdown(title="My version")

    response = owner_a.post(f"/dashboard/trails/{trail.pk}/", {"source": mine, "version": 1})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this trail after you opened it" in page
    assert "My version" in page
    assert in_a(Trail.objects.get, pk=trail.pk).title == "Their version"


def test_the_preview_shows_diagnostics_and_the_scanner_page_without_saving(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    source = trail_markdown(stops=[("fountain", "A Brand New Title"), ("fountain", "Twice")])

    response = owner_a.post("/dashboard/trails/preview", {"source": source, "trail": trail.pk}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-line="' in page and "fountain" in page  # the duplicate id, with its line
    assert "srcdoc=" in page and "A Brand New Title" in page and "Stop 1 of 2" in page
    assert in_a(Trail.objects.get, pk=trail.pk).version == 1


def test_the_preview_frame_holds_the_whole_page_escaped_so_nothing_breaks_out_of_it(owner_a, workspace_a):
    source = trail_markdown(title='Walk" onload="alert(1)', stops=[("a", 'Stop" onmouseover="alert(2)')])

    page = owner_a.post("/dashboard/trails/preview", {"source": source}, HTTP_HX_REQUEST="true").content.decode()

    attributes = _Attributes()
    attributes.feed(page)
    (srcdoc,) = [value for tag, name, value in attributes.found if name == "srcdoc"]
    assert srcdoc.startswith("<!doctype html>") and srcdoc.rstrip().endswith("</html>")
    assert not [name for _, name, _ in attributes.found if name.startswith("on")]


class _Attributes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.found += [(tag, name, value or "") for name, value in attrs]


def test_a_viewer_can_read_a_trail_but_not_save_it(viewer_a, workspace_a):
    trail = make_trail(workspace=workspace_a)

    assert viewer_a.get(f"/dashboard/trails/{trail.pk}/").status_code == 200
    response = viewer_a.post(f"/dashboard/trails/{trail.pk}/", {"source": trail_markdown(title="Hacked"), "version": 1})

    assert response.status_code == 403
    assert in_a(Trail.objects.get, pk=trail.pk).title == "Old Town Walk"


def test_workspace_bs_member_finds_nothing_of_a_trail_of_a(cast, client_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    client_a.force_login(cast.member_of_b)

    for url in (f"/dashboard/trails/{trail.pk}/", "/dashboard/trails/", f"/dashboard/trails/{trail.pk}/delete"):
        assert client_a.get(url).status_code == 404
    assert client_a.post(f"/dashboard/trails/{trail.pk}/publish").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client_a, workspace_a):
    trail = make_trail(workspace=workspace_a)

    response = client_a.get(f"/dashboard/trails/{trail.pk}/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_publishing_opens_the_cards_and_unpublishing_closes_them(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a, published=False)
    token = in_a(lambda: trail.live_stops().first().token)

    owner_a.post(f"/dashboard/trails/{trail.pk}/publish")
    assert owner_a.get(f"/qr/{token}").status_code == 200

    owner_a.post(f"/dashboard/trails/{trail.pk}/unpublish")
    closed = owner_a.get(f"/qr/{token}")
    assert closed.status_code == 404 and "Not yet open" in closed.content.decode()


def test_an_archived_trails_cards_say_it_has_closed_and_it_leaves_the_list(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a, source=trail_markdown(title="Winter Walk"))
    token = in_a(lambda: trail.live_stops().first().token)

    owner_a.post(f"/dashboard/trails/{trail.pk}/archive")

    assert "This trail has closed" in owner_a.get(f"/qr/{token}").content.decode()
    rows = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "trail-rows"}
    assert "Winter Walk" not in owner_a.get("/dashboard/trails/", **rows).content.decode()
    assert "Winter Walk" in owner_a.get("/dashboard/trails/?show=archived", **rows).content.decode()


def test_duplicating_makes_a_draft_copy_with_new_tokens(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)

    response = owner_a.post(f"/dashboard/trails/{trail.pk}/duplicate")

    copy = in_a(Trail.objects.exclude(pk=trail.pk).get)
    assert response["Location"] == f"/dashboard/trails/{copy.pk}/"
    assert copy.title == "Copy of Old Town Walk" and copy.status == Trail.Status.DRAFT
    original_tokens = set(in_a(lambda: list(trail.stops.values_list("token", flat=True))))
    assert not original_tokens & set(in_a(lambda: list(copy.stops.values_list("token", flat=True))))


def test_deleting_asks_first_then_retires_every_card(owner_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    tokens = in_a(lambda: list(trail.live_stops().values_list("token", flat=True)))

    assert "Delete “Old Town Walk”?" in owner_a.get(f"/dashboard/trails/{trail.pk}/delete").content.decode()
    owner_a.post(f"/dashboard/trails/{trail.pk}/delete")

    assert in_a(lambda: Stop.objects.filter(token__in=tokens, retired_at__isnull=False).count()) == len(tokens)
    assert all(owner_a.get(f"/qr/{token}").status_code == 410 for token in tokens)
    assert owner_a.get(f"/dashboard/trails/{trail.pk}/").status_code == 404


def test_the_list_searches_by_title_and_answers_htmx_with_rows_only(owner_a, workspace_a):
    make_trail(workspace=workspace_a, source=trail_markdown(title="Harbour Walk"))
    make_trail(workspace=workspace_a, source=trail_markdown(title="Castle Tour"))

    full = owner_a.get("/dashboard/trails/?q=harb").content.decode()
    rows = owner_a.get(
        "/dashboard/trails/?q=castle", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="trail-rows"
    ).content.decode()

    assert "Harbour Walk" in full and "Castle Tour" not in full and "<html" in full
    assert "Castle Tour" in rows and "Harbour Walk" not in rows and "<html" not in rows


def test_the_live_counter_answers_304_until_a_scan_comes_in(owner_a, workspace_a):
    token = in_a(lambda: make_trail(workspace=workspace_a).live_stops().first().token)
    first = owner_a.get("/dashboard/live")
    assert first.status_code == 200 and 'data-testid="scans-today">0<' in first.content.decode()

    assert owner_a.get("/dashboard/live", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    owner_a.get(f"/qr/{token}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile/15E148")
    changed = owner_a.get("/dashboard/live", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and 'data-testid="scans-today">1<' in changed.content.decode()
