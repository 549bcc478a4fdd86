"""What can be checked of deploy/ without a container engine: Caddy's own validation, compose's, the shapes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
DEPLOY = BASE_DIR / "deploy"
PRODUCTION_VARIABLES = {"QRCARDS_ENV", "DATABASE_URL", "SECRET_KEY", "QRCARDS_DOMAIN", "EMAIL_URL"}


@pytest.mark.parametrize("certificates", ["local_certs\nskip_install_trust", ""])
def test_caddy_accepts_the_caddyfile(tmp_path, certificates):
    caddy = shutil.which("caddy")
    if not caddy:
        pytest.skip("Debian's caddy is not installed (apt-get install caddy)")
    env = os.environ | {
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "QRCARDS_DOMAIN": "qrcards.example",
        "CADDY_CERTIFICATES": certificates,
    }

    result = subprocess.run(  # noqa: S603 - Debian's caddy, our Caddyfile
        [caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


def test_docker_compose_accepts_the_compose_file():
    compose = shutil.which("docker-compose")
    if not compose:
        pytest.skip("Debian's docker-compose is not installed (apt-get install docker-compose)")
    env = os.environ | {
        "POSTGRES_PASSWORD": "p",
        "SECRET_KEY": "k",
        "QRCARDS_DOMAIN": "qrcards.example",
        "EMAIL_URL": "smtp://mail.example.com",
        "CADDY_CERTIFICATES": "local_certs",
    }

    result = subprocess.run(  # noqa: S603 - Debian's docker-compose, our file; `config` needs no engine
        [compose, "-f", str(DEPLOY / "compose.yaml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr


def test_the_compose_file_runs_every_part_with_health_checks_and_migrates_first():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]

    assert set(services) == {"migrate", "web", "worker", "caddy", "db", "redis"}
    for name in ("web", "caddy", "db", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate_schemas", "--noinput"]
    assert services["worker"]["command"] == ["python", "manage.py", "run_worker"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert set(services[name]["environment"]) >= PRODUCTION_VARIABLES
    assert services["caddy"]["volumes"][0] == "./Caddyfile:/etc/caddy/Caddyfile:ro"


def test_the_dockerfile_builds_a_production_image_of_the_runtime_requirements_only():
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().splitlines()]
    text = "\n".join(lines)

    assert lines[next(i for i, line in enumerate(lines) if line and not line.startswith("#"))] == (
        "FROM python:3.11-slim"
    )
    assert "RUN pip install -r requirements.txt" in lines and "requirements-dev" not in text
    assert "collectstatic --noinput" in text
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    assert "QRCARDS_ENV=production" in text
    assert lines[-1] == 'CMD ["deploy/start-web.sh"]'


def test_the_render_blueprint_has_the_shape_renders_spec_asks_for():
    blueprint = yaml.safe_load((BASE_DIR / "render.yaml").read_text())
    services = {service["name"]: service for service in blueprint["services"]}
    databases = {database["name"] for database in blueprint["databases"]}

    assert set(blueprint) <= {"services", "databases", "envVarGroups", "projects", "ungrouped", "previews"}
    assert {service["type"] for service in services.values()} == {"web", "worker", "keyvalue"}
    for service in services.values():
        assert service["type"] in {"web", "pserv", "worker", "cron", "keyvalue"}
        if service["type"] == "keyvalue":
            assert "ipAllowList" in service  # required for Key Value
            continue
        assert service["runtime"] == "docker"
        assert (BASE_DIR / service["dockerfilePath"]).is_file()
        keys = {variable["key"] for variable in service["envVars"]}
        assert keys >= PRODUCTION_VARIABLES, service["name"]
        for variable in service["envVars"]:
            sources = {"value", "generateValue", "sync", "fromDatabase", "fromService"} & set(variable)
            assert len(sources) == 1, variable
            if "fromDatabase" in variable:
                assert variable["fromDatabase"]["name"] in databases
            if "fromService" in variable:
                target = services[variable["fromService"]["name"]]
                assert target["type"] == variable["fromService"]["type"]
    web = services["qrcards-web"]
    assert web["healthCheckPath"] == "/healthz"
    assert web["preDeployCommand"] == "python manage.py migrate_schemas --noinput"
    assert services["qrcards-worker"]["dockerCommand"] == "python manage.py run_worker"


# Where settings are read: settings.py through the env_* helpers, gunicorn.conf.py through os.environ.
ENV_READ = re.compile(
    r"""env_(?:str|bool|int|list|choice)\(\s*"([A-Z_]+)"|os\.environ(?:\.get\(|\[)["']([A-Z_]+)["']"""
)


def test_every_environment_variable_is_documented_in_the_readme_and_env_example():
    sources = [BASE_DIR / "qrcards" / "settings.py", BASE_DIR / "qrcards" / "gunicorn.conf.py"]
    read = {a or b for path in sources for a, b in ENV_READ.findall(path.read_text())}
    readme = (BASE_DIR / "README.md").read_text()
    table = readme[readme.index("## Configuration") :]
    table_names = set(re.findall(r"`([A-Z][A-Z_]+)`", table[: table.index("\n## ", 10)]))
    example = set(re.findall(r"^# ?([A-Z][A-Z_]+)=", (BASE_DIR / ".env.example").read_text(), re.MULTILINE))

    assert read >= PRODUCTION_VARIABLES | {"TRUSTED_PROXIES", "SENTRY_DSN"}
    assert read - table_names == set(), "missing from README's Configuration table"
    assert read - example == set(), "missing from .env.example"
