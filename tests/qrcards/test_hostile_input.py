"""Hostile values in every query parameter, form field, header and JSON string, on every URL of both hosts.

The URLs come from the URL configuration (as in tests/accounts/test_url_rules.py), so a new view is
tried the day it is added. Each is sent NUL, invalid UTF-8 (raw bytes), a lone surrogate (UTF-8-
encoded, as a browser would send it) with other odd characters, and 100 KB values, by an anonymous
visitor, a viewer and an owner (and an API key on /api/v1/). Every answer must be a clear 4xx or a
page made from a cleaned value: never a 500, and nothing unstorable stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django import forms
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context

from accounts.models import ApiKey
from scans.models import Scan
from tests.fixtures.trails import make_trail
from tests.fixtures.workspaces import host_client

NUL = "%00"  # percent-encoded in URLs and forms; raw in headers and JSON
# Raw bytes that are not UTF-8, a lone surrogate encoded as UTF-8 encodes it (CESU), a right-to-left
# override, a combining mark on nothing, an astral character: all as bytes on the wire.
ODD_BYTES = b"\xff\xfe\xc0\xaf" + "\ud800".encode("utf-8", "surrogatepass") + "\u202e\u0301\U0001f600".encode()
LONG = "x" * 100_000

HEADERS = [
    "HTTP_USER_AGENT",
    "HTTP_REFERER",
    "HTTP_ACCEPT_LANGUAGE",
    "HTTP_AUTHORIZATION",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_REAL_IP",
    "HTTP_HX_REQUEST",
    "HTTP_HX_CURRENT_URL",
    "HTTP_HX_TARGET",
    "HTTP_HX_TRIGGER",
    "HTTP_HX_TRIGGER_NAME",
    "HTTP_HX_BOOSTED",
    "HTTP_HX_HISTORY_RESTORE_REQUEST",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_ACCEPT",
    "HTTP_ORIGIN",
    "HTTP_X_CSRFTOKEN",
]
# Read straight from request.GET or request.POST somewhere, not through a form.
DIRECT_NAMES = {"q", "show", "lang", "next", "source", "trail", "preview_stop", "version", "status", "username"}


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def parameter_names() -> list[str]:
    """Every field of our forms and allauth's, every input of the API (from its OpenAPI schema), and the names read directly."""
    import accounts.forms  # noqa: F401  (import the modules whose forms are walked)
    import scans.forms  # noqa: F401
    import trails.forms  # noqa: F401
    from qrcards.api import api

    names = set(DIRECT_NAMES)
    for form in _subclasses(forms.BaseForm):
        if form.__module__.split(".")[0] in ("accounts", "trails", "scans", "allauth"):
            names.update(getattr(form, "base_fields", {}))
    schema = api.get_openapi_schema()
    for operations in schema["paths"].values():
        for operation in operations.values():
            names.update(parameter["name"] for parameter in operation.get("parameters", []))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in body:
                body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
            names.update(body.get("properties", {}))
    return sorted(names)


def _walk(patterns, prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def routes(urlconf: str) -> list[str]:
    return sorted(set(_walk(get_resolver(urlconf).url_patterns)))


@dataclass(frozen=True)
class Objects:
    """Real objects of workspace A, so that views get past their lookups to the code that reads input."""

    trail_pk: int
    stop_pk: int
    token: str


def concrete(route: str, objects: Objects) -> str:
    """A path for `route`, with real ids where the route takes them."""
    samples = {
        "pk": str(objects.trail_pk),
        "trail_id": str(objects.trail_pk),
        "stop_pk": str(objects.stop_pk),
        "stop_id": str(objects.stop_pk),
        "token": objects.token,
        "fmt": "svg",
        "object_id": str(objects.trail_pk),
    }

    def sample(match: re.Match) -> str:
        return samples.get(match["name"], "1" if match["kind"] == "int" else "x")

    path = re.sub(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>", sample, route)
    path = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", lambda m: samples.get(m["name"], "x1-x"), path)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace("\\", "")
    return "/" + path


def query(names: list[str], value: str) -> str:
    """A raw query string (WSGI's latin-1 str) setting every name to `value`, already URL-encoded."""
    return "&".join(f"{name}={value}" for name in names)


def encoded(raw: bytes) -> str:
    return quote(raw, safe="")


def latin1(raw: bytes) -> str:
    """Raw header or query bytes as WSGI hands them to Django."""
    return raw.decode("latin-1")


def tries(names: list[str], api: bool) -> Iterator[tuple[str, str, dict]]:
    """(label, method, request arguments) for each hostile request to one URL."""
    odd = latin1(ODD_BYTES) + encoded(ODD_BYTES)  # raw, and percent-encoded
    yield "query NUL", "get", {"QUERY_STRING": query(names, NUL)}
    yield "query odd bytes", "get", {"QUERY_STRING": query(names, odd)}
    yield "query 100 KB", "get", {"QUERY_STRING": query(names, LONG)}
    form = "application/x-www-form-urlencoded"
    yield "form NUL", "post", {"data": query(names, NUL), "content_type": form}
    yield "form odd bytes", "post", {"data": query(names, odd).encode("latin-1"), "content_type": form}
    # In groups, to stay under Django's 2.5 MB limit on a form body (over it is a 400 before any view).
    for i in range(0, len(names), 24):
        yield "form 100 KB", "post", {"data": query(names[i : i + 24], LONG), "content_type": form}
    for label, value in [("NUL", "a\x00b"), ("odd bytes", latin1(ODD_BYTES)), ("100 KB", LONG)]:
        headers = {header: value for header in HEADERS}
        headers["HTTP_AUTHORIZATION"] = f"Bearer {value}"
        yield f"headers {label}", "get", headers
    if api:
        for label, value in [("NUL", '"a\\u0000b"'), ("lone surrogate", '"a\\ud800b"'), ("100 KB", f'"{LONG}"')]:
            body = "{" + ", ".join(f'"{name}": {value}' for name in names) + "}"
            for method in ("post", "put"):
                yield f"JSON {label}", method, {"data": body, "content_type": "application/json"}
        yield (
            "JSON odd bytes",
            "post",
            {"data": b'{"source": "' + ODD_BYTES + b'"}', "content_type": "application/json"},
        )


PUBLIC = routes("qrcards.urls_public")
TENANT = routes("qrcards.urls_tenant")


def test_the_walk_finds_the_urls_that_read_input() -> None:
    assert {"qr/<str:token>", "dashboard/trails/", "dashboard/trails/preview", "api/v1/trails"} <= set(TENANT)
    assert {"login/", "accounts/signup/", "workspaces/new/"} <= set(PUBLIC)
    assert {"q", "source", "start", "cursor", "error_correction", "email"} <= set(parameter_names())


def hostile_paths(route: str, objects: Objects) -> Iterator[tuple[str, str]]:
    """The route's path with each parameter a hostile value, for routes that take one."""
    if "<" not in route:
        return
    for label, value in [("NUL", "a%00b"), ("odd bytes", encoded(ODD_BYTES)), ("100 KB", "x" * 100_000)]:
        hostile = Objects(trail_pk=objects.trail_pk, stop_pk=objects.stop_pk, token=value)
        path = re.sub(r"<(?:\w+:)?\w+>", value, route)
        path = re.sub(r"\(\?P<\w+>[^)]*\)", value, path)
        yield f"path {label}", concrete(path, hostile)


def _check(client: Client, who: str, path: str, names: list[str], api: bool, paths=()) -> tuple[list[str], int]:
    """Problems found, and how many GETs were answered 200."""
    problems = []
    answered = 0
    for label, hostile_path in paths:
        response = client.get(hostile_path)
        if response.status_code >= 500:
            problems.append(f"{who} GET {hostile_path[:80]} ({label}): {response.status_code}")
        answered += response.status_code == 200
    for label, method, arguments in tries(names, api):
        extra = {key: value for key, value in arguments.items() if key not in ("data", "content_type")}
        if method == "get":
            response = client.get(path, **extra)
        else:
            response = getattr(client, method)(
                path, arguments.get("data", ""), content_type=arguments.get("content_type", ""), **extra
            )
        if response.status_code >= 500:
            problems.append(f"{who} {method.upper()} {path} ({label}): {response.status_code}")
        answered += method == "get" and response.status_code == 200
    return problems, answered


def actors(cast, route: str) -> list[tuple[str, object]]:
    """Who sends: on the staff admin, whose pages all send anyone but staff to log in, the anonymous visitor only."""
    if route.startswith("admin/"):
        return [("anonymous", None)]
    return [("anonymous", None), ("viewer", cast.viewer), ("owner", cast.owner)]


@pytest.mark.parametrize("route", PUBLIC)
def test_every_public_url_answers_hostile_input_without_a_500(cast, db, route: str) -> None:
    path = concrete(route, Objects(trail_pk=1, stop_pk=1, token="X"))  # noqa: S106
    names = parameter_names()
    problems: list[str] = []
    for who, user in actors(cast, route):
        client = host_client(None)
        client.raise_request_exception = False  # a 500 is reported with the rest, not raised
        if user:
            client.force_login(user)
        found, _ = _check(client, who, path, names, api=False, paths=hostile_paths(route, Objects(1, 1, "X")))
        problems += found
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("route", TENANT)
def test_every_workspace_url_answers_hostile_input_without_a_500(cast, db, route: str) -> None:
    trail = make_trail(workspace=cast.workspace_a)
    with schema_context(cast.workspace_a.schema_name):
        stop = trail.stops.order_by("position").first()
    objects = Objects(trail_pk=trail.pk, stop_pk=stop.pk, token=stop.token)
    path = concrete(route, objects)
    names = parameter_names()
    api = route.startswith("api/")
    cast_and_key = actors(cast, route)
    if api:
        _, secret = ApiKey.objects.create_key(customer=cast.workspace_a, name="Hostile", scope=ApiKey.Scope.READ_WRITE)
        cast_and_key.append(("API key", secret))
    problems: list[str] = []
    pages = 0
    for who, user in cast_and_key:
        client = host_client(cast.workspace_a)
        client.raise_request_exception = False
        if isinstance(user, str):
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {user}"
        elif user:
            client.force_login(user)
        found, answered = _check(client, who, path, names, api=api, paths=hostile_paths(route, objects))
        problems += found
        pages += answered
    assert not problems, "\n".join(problems)

    with schema_context(cast.workspace_a.schema_name):
        scans = list(Scan.objects.all())
    if route == "qr/<str:token>":
        # Every scanner page shown recorded its scan, NUL in the user agent or not (recording swallows
        # a failed write to keep the page up, so a lost scan is only seen here).
        assert len(scans) == pages > 0
        assert any(scan.user_agent == "ab" for scan in scans)  # "a\x00b", cleaned
    for scan in scans:
        for text in (scan.user_agent, scan.referrer, scan.browser, scan.os, scan.device):
            assert "\x00" not in text and len(text) <= 512


@pytest.mark.parametrize(
    "host", ["alpha.qrcards.localhost\x00", "alpha.qrcards.localhost" + latin1(ODD_BYTES), "a" * 100_000, "[::1"]
)
def test_a_hostile_host_header_gets_a_4xx(cast, db, host: str) -> None:
    client = Client(HTTP_HOST=host)
    client.raise_request_exception = False

    for path in ("/", "/dashboard/trails/?q=x", "/api/v1/trails", "/qr/X"):
        assert 400 <= client.get(path).status_code < 500


def test_a_nul_in_the_address_is_a_400_that_says_so(cast, client_a):
    client_a.force_login(cast.owner)

    for path in ("/dashboard/trails/?q=%2Fe%00", "/qr/AB%00CD"):
        response = client_a.get(path)
        assert response.status_code == 400
        assert "NUL character" in response.content.decode()


def test_a_nul_in_an_api_address_is_a_400_in_the_apis_error_shape(cast, client_a):
    response = client_a.get("/api/v1/trails?q=%00")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert "NUL character" in response.json()["error"]["message"]
