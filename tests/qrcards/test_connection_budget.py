"""A web worker's database connection is replaced once its requests have touched many workspaces' schemas.

A PostgreSQL backend keeps the catalog entries of every table it has touched for as long as it lives, so a
connection serving thousands of workspaces would grow without bound (bench/scale.py: 90 MB after 1,000).
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests.fixtures.workspaces import host_client


def _backend() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def budget_of_two(cast, django_db_blocker, settings):
    """Requests outside a test transaction (a connection can't be closed inside one), two schemas a connection."""
    settings.SCHEMAS_PER_CONNECTION = 2
    with django_db_blocker.unblock():
        yield


def test_requests_to_one_workspace_keep_their_connection(cast, budget_of_two):
    client = host_client(cast.workspace_a)
    assert client.get("/accounts/login/").status_code == 200
    first = _backend()
    assert client.get("/accounts/login/").status_code == 200
    assert _backend() == first


def test_a_connection_is_replaced_after_requests_to_many_workspaces(cast, budget_of_two):
    assert host_client(cast.workspace_a).get("/accounts/login/").status_code == 200
    first = _backend()
    assert host_client(cast.workspace_b).get("/accounts/login/").status_code == 200
    assert _backend() != first


def test_a_connection_in_a_transaction_is_never_closed_under_it(db, cast, settings):
    """(This test's `db` also makes pytest-django create the test database when this module runs alone.)"""
    settings.SCHEMAS_PER_CONNECTION = 1
    first = _backend()
    assert host_client(cast.workspace_a).get("/accounts/login/").status_code == 200
    assert _backend() == first
