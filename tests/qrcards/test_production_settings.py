"""QRCARDS_ENV=production: refuses to start without what it needs, secure by default, `check --deploy` clean.

Each test starts a fresh Python process, since settings are read once, at start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
# Everything settings.py reads: a test's process starts with none of them unless the test says so.
OUR_VARIABLES = {
    "QRCARDS_ENV", "DATABASE_URL", "SECRET_KEY", "SECRET_KEY_FILE", "QRCARDS_DOMAIN", "EMAIL_URL", "REDIS_URL",
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "TRUSTED_PROXY_SSL_HEADER", "TRUSTED_PROXIES",
    "TRUSTED_PROXY_COUNT", "SENTRY_DSN", "LOG_LEVEL", "DJANGO_SETTINGS_MODULE",
}  # fmt: skip
PRODUCTION = {
    "QRCARDS_ENV": "production",
    "DATABASE_URL": "postgresql://qrcards@db.internal:5432/qrcards",
    "SECRET_KEY": "kq3-vT8fZ0mB2xN7rL5cW9yH4jD6gS1pA0eU3iO8uY2tR5wE7qZ",
    "QRCARDS_DOMAIN": "qrcards.example",
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587",
}


@pytest.fixture(scope="module")
def no_pgserver(tmp_path_factory) -> Path:
    """A directory that, put first on PYTHONPATH, makes importing the embedded database's package fail."""
    path = tmp_path_factory.mktemp("no-pgserver")
    (path / "pgserver.py").write_text("raise ImportError('production must never import pgserver')\n")
    return path


def run(code: str, env: dict[str, str], pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    """`code` run by a new Python in the project directory, with only `env` of our variables set."""
    # Nor Django's own (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly refuses).
    environ = {k: v for k, v in os.environ.items() if k not in OUR_VARIABLES and not k.startswith("DJANGO_")} | env
    if pythonpath:
        environ["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=BASE_DIR, env=environ, capture_output=True, text=True, timeout=120
    )


def settings_of(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'qrcards.settings'\n"
        "from django.conf import settings\n"
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    result = run(code, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def manage(*args: str, env: dict[str, str], pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    code = f"import sys; sys.argv = ['manage.py', *{list(args)!r}]; import runpy; runpy.run_path('manage.py', run_name='__main__')"
    return run(code, env, pythonpath)


def test_check_deploy_is_clean_with_only_the_five_production_variables(no_pgserver):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, pythonpath=no_pgserver)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DATABASE_URL", "SECRET_KEY", "QRCARDS_DOMAIN", "EMAIL_URL"])
def test_production_refuses_to_start_without_a_variable_it_needs_and_names_it(missing, no_pgserver):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}

    result = manage("check", env=env, pythonpath=no_pgserver)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and missing in last_line
    assert [name for name in PRODUCTION if name in last_line and name != "QRCARDS_ENV"] == [missing]


def test_production_names_every_missing_variable_at_once(no_pgserver):
    result = manage("check", env={"QRCARDS_ENV": "production"}, pythonpath=no_pgserver)

    last_line = result.stderr.strip().splitlines()[-1]
    for name in ("DATABASE_URL", "SECRET_KEY", "QRCARDS_DOMAIN", "EMAIL_URL"):
        assert name in last_line


def test_the_secret_key_may_come_from_a_file(tmp_path, no_pgserver):
    key_file = tmp_path / "secret_key"
    key_file.write_text(PRODUCTION["SECRET_KEY"] + "\n")
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"} | {"SECRET_KEY_FILE": str(key_file)}

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, pythonpath=no_pgserver)

    assert result.returncode == 0, result.stderr
    assert settings_of(env, "SECRET_KEY") == {"SECRET_KEY": PRODUCTION["SECRET_KEY"]}


def test_a_secret_key_file_that_cannot_be_read_is_named(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"} | {"SECRET_KEY_FILE": str(tmp_path / "nope")}

    result = run("import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'qrcards.settings'; import qrcards.settings", env)

    assert result.returncode != 0 and "SECRET_KEY_FILE" in result.stderr.strip().splitlines()[-1]


def test_an_unknown_environment_name_fails_loudly():
    result = manage("check", env={"QRCARDS_ENV": "prod"})

    assert result.returncode != 0
    assert "QRCARDS_ENV must be one of development, production; got 'prod'" in result.stderr


def test_development_needs_no_variable_at_all():
    # Not one of our variables: the embedded database, a key kept under var/, e-mails on the console.
    result = manage("check", env={})

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_is_https_only_with_hsts_over_subdomains_by_default():
    values = settings_of(
        PRODUCTION,
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "DEBUG",
    )

    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "DEBUG": False,
    }


def test_each_https_protection_can_be_turned_off_by_its_variable():
    off = {
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
    }

    values = settings_of(PRODUCTION | off, *off)

    assert values == dict.fromkeys(off, False) | {"SECURE_HSTS_SECONDS": 0}


def test_the_proxy_is_trusted_only_as_configured():
    assert settings_of(PRODUCTION, "SECURE_PROXY_SSL_HEADER", "TRUSTED_PROXIES") == {
        "SECURE_PROXY_SSL_HEADER": None,
        "TRUSTED_PROXIES": [],
    }
    configured = PRODUCTION | {"TRUSTED_PROXY_SSL_HEADER": "X-Forwarded-Proto", "TRUSTED_PROXIES": "10.0.0.0/8"}
    assert settings_of(configured, "SECURE_PROXY_SSL_HEADER", "TRUSTED_PROXIES") == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "TRUSTED_PROXIES": ["10.0.0.0/8"],
    }


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TRUSTED_PROXIES": "10.0.0.0/8", "TRUSTED_PROXY_COUNT": "1"}, "TRUSTED_PROXY_COUNT"),
        ({"TRUSTED_PROXIES": "the load balancer"}, "TRUSTED_PROXIES"),
    ],
)
def test_a_wrong_proxy_setting_stops_the_process_naming_it(env, named):
    result = run("import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'qrcards.settings'; import qrcards.settings", env)

    assert result.returncode != 0 and named in result.stderr.strip().splitlines()[-1]


def test_development_sends_no_https_only_headers():
    values = settings_of(
        {"DATABASE_URL": PRODUCTION["DATABASE_URL"]},
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    )

    assert values == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
    }


def test_production_logs_one_json_object_per_line():
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'qrcards.settings'\n"
        "import django; django.setup()\n"
        "import logging\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    logging.getLogger('qrcards.test').exception('it broke')\n"
    )

    result = run(code, PRODUCTION)

    (line,) = result.stderr.strip().splitlines()
    event = json.loads(line)
    assert (event["level"], event["logger"], event["message"]) == ("ERROR", "qrcards.test", "it broke")
    assert "ZeroDivisionError" in event["exception"]
