"""Every analytics URL against the cast: A's members see it, nobody else learns it exists."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from tests.fixtures.workspaces import host_client

URLS = ["/dashboard/analytics/", "/dashboard/analytics/scans.csv", "/dashboard/analytics/rollups.csv"]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("role", ["owner", "editor", "viewer"])
def test_members_of_the_workspace_may_see_its_analytics(cast, workspace_a, url, role):
    client = host_client(workspace_a)
    client.force_login(getattr(cast, role))

    response = client.get(url)

    assert response.status_code == 200


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("outsider", ["member_of_b", "staff"])
def test_logged_in_outsiders_get_a_404(cast, workspace_a, url, outsider):
    client = host_client(workspace_a)
    client.force_login(getattr(cast, outsider))

    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", URLS)
def test_anonymous_visitors_are_sent_to_log_in(workspace_a, url):
    response = host_client(workspace_a).get(url)

    assert response.status_code == 302
    assert "login" in response["Location"]
    assert unquote(response["Location"]).endswith("next=" + url)


@pytest.mark.parametrize("url", URLS)
def test_nothing_is_written_by_a_post(cast, workspace_a, url):
    client = host_client(workspace_a)
    client.force_login(cast.owner)

    assert client.post(url).status_code == 405
