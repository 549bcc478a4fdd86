from __future__ import annotations

import re
from html.parser import HTMLParser

import html5lib
import pytest
from django_tenants.utils import schema_context

from scans.models import Scan
from tests.fixtures.trails import make_trail, trail_markdown
from trails.demo import DEMO_TRAIL
from trails.models import Stop, Trail

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"


def stops_of(trail: Trail, workspace) -> list[Stop]:
    with schema_context(workspace.schema_name):
        return list(trail.live_stops())


def test_it_shows_the_stop_with_its_trail_progress_and_neighbours(client_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    first, second, third = stops_of(trail, workspace_a)

    response = client_a.get(f"/qr/{second.token}", HTTP_USER_AGENT=PHONE)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Clock Tower</h1>" in page
    assert "Old Town Walk" in page
    assert "Stop 2 of 3" in page
    assert f'href="/qr/{first.token}"' in page
    assert f'href="/qr/{third.token}"' in page
    assert 'class="theme-classic"' in page
    assert "Workspace A" in page


def test_a_stop_describes_itself_to_search_engines_and_link_previews_with_its_own_opening_words(client_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    _, second, _ = stops_of(trail, workspace_a)

    page = client_a.get(f"/qr/{second.token}", HTTP_USER_AGENT=PHONE).content.decode()

    [description] = re.findall(r'<meta name="description" content="([^"]*)">', page)
    assert second.excerpt and description == second.excerpt[:160]


def test_a_lower_case_token_gives_the_same_page(client_a, workspace_a):
    stop = stops_of(make_trail(workspace=workspace_a), workspace_a)[0]

    upper = client_a.get(f"/qr/{stop.token}")
    lower = client_a.get(f"/qr/{stop.token.lower()}")

    assert lower.status_code == 200
    assert lower.content == upper.content


@pytest.mark.parametrize("token", ["ZZZZZZZZ", "short", "0O1IL000", "x" * 200])
def test_an_unknown_token_is_a_404_in_the_workspace_look(client_a, workspace_a, token):
    response = client_a.get(f"/qr/{token}")

    assert response.status_code == 404
    assert "find that card" in response.content.decode()
    assert "Workspace A" in response.content.decode()


def test_a_retired_stop_is_gone_with_a_link_to_the_trails_first_stop(client_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    first, _, bridge = stops_of(trail, workspace_a)
    with schema_context(workspace_a.schema_name):
        trail.set_source(trail_markdown(stops=[("fountain", "The Fountain"), ("clock-tower", "Clock Tower")]))

    response = client_a.get(f"/qr/{bridge.token}")

    assert response.status_code == 410
    assert f'href="/qr/{first.token}"' in response.content.decode()


def test_an_unpublished_trails_cards_say_not_yet_open_and_record_nothing(client_a, workspace_a):
    stop = stops_of(make_trail(workspace=workspace_a, published=False), workspace_a)[0]

    response = client_a.get(f"/qr/{stop.token}")

    assert response.status_code == 404
    assert "Not yet open" in response.content.decode()
    with schema_context(workspace_a.schema_name):
        assert not Scan.objects.exists()


def test_an_unknown_host_is_a_404_that_names_no_workspace(client_a, workspace_a, workspace_b):
    stop = stops_of(make_trail(workspace=workspace_a), workspace_a)[0]
    from django.test import Client

    response = Client(HTTP_HOST="nobody.qrcards.localhost").get(f"/qr/{stop.token}")

    assert response.status_code == 404
    page = response.content.decode()
    assert "Workspace A" not in page and "Workspace B" not in page and "Old Town Walk" not in page


def test_two_workspaces_holding_the_same_token_each_show_their_own_stop(client_a, client_b, workspace_a, workspace_b):
    stop_a = stops_of(make_trail(workspace=workspace_a, source=trail_markdown(title="Trail of A")), workspace_a)[0]
    trail_b = make_trail(workspace=workspace_b, source=trail_markdown(title="Trail of B"))
    with schema_context(workspace_b.schema_name):
        Stop.objects.filter(trail=trail_b, position=1).update(token=stop_a.token)

    page_a = client_a.get(f"/qr/{stop_a.token}").content.decode()
    page_b = client_b.get(f"/qr/{stop_a.token}").content.decode()

    assert "Trail of A" in page_a and "Trail of B" not in page_a
    assert "Trail of B" in page_b and "Trail of A" not in page_b


def test_a_token_of_workspace_a_is_unknown_on_workspace_bs_host(client_b, workspace_a, workspace_b):
    stop = stops_of(make_trail(workspace=workspace_a), workspace_a)[0]

    response = client_b.get(f"/qr/{stop.token}")

    assert response.status_code == 404
    assert "Old Town Walk" not in response.content.decode()
    with schema_context(workspace_b.schema_name):
        assert not Scan.objects.exists()


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_every_demo_stop_page_is_valid_html5_without_javascript_and_under_10_kb(client_a, workspace_a):
    trail = make_trail(workspace=workspace_a, source=DEMO_TRAIL.read_text())

    for stop in stops_of(trail, workspace_a):
        response = client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)
        assert response.status_code == 200
        assert len(response.content) <= 10 * 1024, f"{stop.title}: {len(response.content)} bytes"
        html5lib.HTMLParser(strict=True).parse(response.content)  # raises on any parse error
        parser = _Tags()
        parser.feed(response.content.decode())
        tags = {tag for tag, _ in parser.tags}
        assert "script" not in tags
        assert not any(name.startswith("on") for _, attrs in parser.tags for name in attrs)
        assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) in parser.tags
        assert "script-src" not in response["Content-Security-Policy"]  # default-src 'none' covers scripts
        assert re.search(r"default-src 'none'", response["Content-Security-Policy"])


def test_a_head_request_answers_like_get(client_a, workspace_a):
    stop = stops_of(make_trail(workspace=workspace_a), workspace_a)[0]

    response = client_a.head(f"/qr/{stop.token}")

    assert response.status_code == 200


def test_a_post_to_a_stop_is_refused(client_a, workspace_a):
    stop = stops_of(make_trail(workspace=workspace_a), workspace_a)[0]

    assert client_a.post(f"/qr/{stop.token}").status_code == 405


def test_the_last_stop_says_the_trail_is_complete_and_offers_its_start_again(client_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    first, middle, last = stops_of(trail, workspace_a)

    end = client_a.get(f"/qr/{last.token}").content.decode()
    on_the_way = client_a.get(f"/qr/{middle.token}").content.decode()

    assert "Trail complete" in end and "last stop of Old Town Walk" in end
    assert f'<a class="button" href="/qr/{first.token}">Start again</a>' in end
    assert "Trail complete" not in on_the_way and "Start again" not in on_the_way
    assert "More from" not in end  # the workspace has set no website


def test_a_one_stop_trail_is_complete_at_once_without_starting_again_from_itself(client_a, workspace_a):
    trail = make_trail(workspace=workspace_a, source=trail_markdown(stops=[("only", "The Only Stop")]))
    (only,) = stops_of(trail, workspace_a)

    page = client_a.get(f"/qr/{only.token}").content.decode()

    assert "Trail complete" in page and "Start again" not in page


@pytest.mark.parametrize("typed", ["{token}", "{spaced}", "{lower}", " {spaced} "])
def test_the_code_printed_on_a_card_typed_at_the_workspace_address_opens_its_stop(client_a, workspace_a, typed):
    stop = stops_of(make_trail(workspace=workspace_a), workspace_a)[1]
    code = typed.format(token=stop.token, spaced=f"{stop.token[:4]} {stop.token[4:]}", lower=stop.token.lower())

    front = client_a.get("/")
    response = client_a.get("/", {"code": code})

    assert front.status_code == 200 and 'name="code"' in front.content.decode()
    assert response.status_code == 302 and response["Location"] == f"/qr/{stop.token}"


@pytest.mark.parametrize("code", ["ZZZZ ZZZZ", "0O1I", "x" * 5000])
def test_a_code_no_card_has_is_a_404_that_keeps_what_was_typed(client_a, workspace_a, code):
    response = client_a.get("/", {"code": code})

    page = response.content.decode()
    assert response.status_code == 404 and "No card here has that code" in page
    assert f'value="{code[:40]}"' in page


def test_workspace_as_code_opens_nothing_on_workspace_bs_address(client_b, workspace_a, workspace_b):
    stop = stops_of(make_trail(workspace=workspace_a), workspace_a)[0]

    assert client_b.get("/", {"code": stop.token}).status_code == 404
