"""Shared test set-up: the public tenant and two workspaces, built once per session."""

from __future__ import annotations

import pytest
from django.db import connection

pytest_plugins = [
    "tests.fixtures.workspaces",
    "tests.fixtures.trails",
    "tests.fixtures.browser",
    "tests.fixtures.dns",
    "tests.fixtures.webhooks",
    "tests.fixtures.replica",
    "tests.fixtures.media",
    "tests.fixtures.s3",
]


@pytest.fixture(scope="session", autouse=True)
def _test_settings(tmp_path_factory):
    from django.conf import settings

    # Fast by habit: a cheap hasher, static files without a manifest, scans written at once.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.SCANS_QUEUE = "direct"
    # Files the web tier keeps on local disk go to the test's own directory, not var/.
    settings.SCAN_SPOOL_DIR = tmp_path_factory.mktemp("spool")
    settings.LAST_GOOD_DIR = tmp_path_factory.mktemp("last-good")
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    # The browser tests' live server finds static files in the source tree, never a stale var/static (WhiteNoise
    # looks in STATIC_ROOT before the finders, so it points at an empty directory).
    settings.STATIC_ROOT = tmp_path_factory.mktemp("static")
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    # Collecting a test module that imports default_storage makes the storages from the settings of then (pytest
    # looks at the lazy object's attributes): they are made again from these, as Django does when STORAGES changes.
    from django.test.signals import storages_changed

    storages_changed(setting="STORAGES")


@pytest.fixture
def one_clock_minute():
    """Rate limits count per clock minute: a test that counts starts far enough from a minute's end that all its
    requests fall in one window (else its last request would meet a fresh count, and pass)."""
    import time

    left = 60 - time.time() % 60
    if left < 5:
        time.sleep(left + 0.1)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Each test starts with empty per-process caches and leaves the connection on the public schema."""
    from accounts.middleware import forget_hosts
    from trails.pagecache import forget_pages

    forget_hosts()
    forget_pages()
    yield
    connection.set_schema_to_public()


@pytest.fixture(scope="session", autouse=True)
def _nothing_left_holding_the_test_database(django_db_setup, django_db_blocker):
    """At the very end, end the sessions that threads and browser-driven tests of this process left open.

    (Playwright runs tests in a context of its own, where Django opens connections of their own.) Until then
    nothing is cut, so no test loses a connection it is using; afterwards the test database can be dropped.
    """
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
