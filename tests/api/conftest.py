"""API tests: keys of every kind for workspace A, one of workspace B, and a client that sends one."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import ApiKey, Customer
from tests.fixtures.trails import make_trail
from trails.models import Trail


@dataclass(frozen=True)
class Keys:
    read: str
    read_write: str
    revoked: str
    of_b: str


@pytest.fixture(autouse=True)
def _empty_rate_limits(db):
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def keys(cast) -> Keys:
    a, b = cast.workspace_a, cast.workspace_b
    _, read = ApiKey.objects.create_key(customer=a, name="Reader", scope=ApiKey.Scope.READ)
    _, read_write = ApiKey.objects.create_key(customer=a, name="Writer", scope=ApiKey.Scope.READ_WRITE)
    revoked_key, revoked = ApiKey.objects.create_key(customer=a, name="Old", scope=ApiKey.Scope.READ_WRITE)
    revoked_key.revoke()
    _, of_b = ApiKey.objects.create_key(customer=b, name="B's", scope=ApiKey.Scope.READ_WRITE)
    return Keys(read=read, read_write=read_write, revoked=revoked, of_b=of_b)


def api_client(workspace: Customer, secret: str | None = None, **extra) -> Client:
    """A program calling the API on the workspace's host, with `secret` as its bearer key."""
    if secret:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return Client(HTTP_HOST=workspace.primary_host, **extra)


@pytest.fixture
def writer(workspace_a, keys) -> Client:
    return api_client(workspace_a, keys.read_write)


@pytest.fixture
def reader(workspace_a, keys) -> Client:
    return api_client(workspace_a, keys.read)


@pytest.fixture
def trail_a(workspace_a) -> Trail:
    return make_trail(workspace=workspace_a)
