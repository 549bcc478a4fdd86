"""ALLOWED_HOSTS is "*" on purpose: the Domain table is the allow-list, so an unknown host gets nothing."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.parametrize("path", ["/", "/admin/", "/accounts/login/", "/dashboard/", "/api/v1/docs", "/qr/ABCDEFGH"])
def test_an_unknown_host_is_a_404_on_every_page(cast, db, path):
    response = Client(HTTP_HOST="attacker.example").get(path)

    assert response.status_code == 404
    assert b"There is nothing at this address" in response.content


def test_the_host_a_workspace_does_not_have_is_a_404(cast, db):
    assert Client(HTTP_HOST="charlie.qrcards.localhost").get("/accounts/login/").status_code == 404
