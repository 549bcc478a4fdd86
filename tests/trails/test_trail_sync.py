from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tests.fixtures.trails import make_trail, trail_markdown
from trails.models import TOKEN_ALPHABET, InvalidDocument, Stop, Trail

THREE = [("fountain", "The Fountain"), ("clock-tower", "Clock Tower"), ("bridge", "The Bridge")]


@pytest.fixture
def in_a(workspace_a):
    with schema_context(workspace_a.schema_name):
        yield workspace_a


def tokens(trail: Trail) -> dict[str, str]:
    return {stop.key: stop.token for stop in trail.stops.all()}


def test_each_stop_gets_an_unambiguous_eight_character_token(in_a):
    trail = make_trail(workspace=in_a)

    for stop in trail.stops.all():
        assert len(stop.token) == 8
        assert set(stop.token) <= set(TOKEN_ALPHABET)
        assert not set(stop.token) & set("0O1IL")


def test_it_keeps_tokens_when_a_stop_is_renamed_and_moved(in_a):
    trail = make_trail(workspace=in_a, source=trail_markdown(stops=THREE))
    before = tokens(trail)

    trail.set_source(trail_markdown(stops=[("bridge", "St. Anne's Bridge"), ("fountain", "The Fountain"), THREE[1]]))

    assert tokens(trail) == before
    bridge = trail.stops.get(key="bridge")
    assert (bridge.title, bridge.position) == ("St. Anne's Bridge", 1)


def test_a_new_stop_gets_a_new_token_and_the_others_keep_theirs(in_a):
    trail = make_trail(workspace=in_a, source=trail_markdown(stops=THREE))
    before = tokens(trail)

    trail.set_source(trail_markdown(stops=[*THREE, ("garden", "The Garden")]))

    after = tokens(trail)
    assert {key: after[key] for key in before} == before
    assert after["garden"] not in before.values()


def test_a_removed_stop_is_retired_not_deleted_and_comes_back_with_its_token(in_a):
    trail = make_trail(workspace=in_a, source=trail_markdown(stops=THREE))
    bridge_token = tokens(trail)["bridge"]

    trail.set_source(trail_markdown(stops=THREE[:2]))
    bridge = Stop.objects.get(token=bridge_token)
    assert bridge.is_retired and bridge.position is None
    assert [s.key for s in trail.live_stops()] == ["fountain", "clock-tower"]

    trail.set_source(trail_markdown(stops=THREE))
    bridge.refresh_from_db()
    assert not bridge.is_retired and bridge.position == 3


def test_each_save_bumps_the_trails_version(in_a):
    trail = make_trail(workspace=in_a)
    assert trail.version == 1

    trail.set_source(trail_markdown(title="Renamed walk"))

    assert trail.version == 2
    assert Trail.objects.get(pk=trail.pk).title == "Renamed walk"


def test_a_document_with_errors_saves_nothing(in_a):
    trail = make_trail(workspace=in_a, source=trail_markdown(stops=THREE))
    before = tokens(trail)

    with pytest.raises(InvalidDocument) as raised:
        trail.set_source('+++\ntheme = "neon"\n+++\nNo stops here.')

    assert {d.code for d in raised.value.assembly.errors} >= {"no-stops"}
    trail.refresh_from_db()
    assert trail.version == 1 and tokens(trail) == before


def test_tokens_are_unique_within_a_workspace(in_a):
    for title in ("One", "Two", "Three"):
        make_trail(workspace=in_a, source=trail_markdown(title=title))

    all_tokens = list(Stop.objects.values_list("token", flat=True))
    assert len(all_tokens) == 9 == len(set(all_tokens))
