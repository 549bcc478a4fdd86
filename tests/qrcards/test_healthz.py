"""/healthz: what load balancers and container health checks ask."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

# Only this Redis database number is ours on a shared machine; a closed port stands for a Redis that is down.
REDIS_UP = "redis://127.0.0.1:6379/3"
REDIS_DOWN = "redis://127.0.0.1:1/3"


def test_the_health_check_reports_the_database(public_client):
    response = public_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("host", ["alpha.qrcards.localhost", "qrcards-web.onrender.com", "10.0.0.5:8000"])
def test_the_health_check_answers_on_any_host_since_probes_bring_their_own(cast, db, host):
    assert Client(HTTP_HOST=host).get("/healthz").json()["status"] == "ok"


def test_the_health_check_is_not_redirected_to_https(public_client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert public_client.get("/healthz").status_code == 200
    assert public_client.get("/").status_code == 301


def test_a_database_that_does_not_answer_is_a_503(public_client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:  # only around the request: the test's own clean-up needs the database
        patch.setattr("qrcards.views.connection.cursor", broken_cursor)
        response = public_client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}


def test_redis_is_checked_when_it_is_configured(public_client, settings):
    settings.REDIS_URL = REDIS_UP

    response = public_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_a_redis_that_does_not_answer_is_a_503(public_client, settings):
    settings.REDIS_URL = REDIS_DOWN

    response = public_client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "redis": "unavailable"}
