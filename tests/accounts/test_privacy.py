"""No full client address anywhere: not in any column of any table of any schema, nor in Redis."""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import re
import zlib

from django.conf import settings
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tests.accounts.conftest import PASSWORD, host_client
from tests.fixtures.trails import make_trail

IPV4 = "81.2.69.188"
IPV6 = "2a00:1450:4009:81f::200e"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


def _forms(address: str) -> set[bytes]:
    """The ways an address may be written down: as given, compressed, exploded."""
    parsed = ipaddress.ip_address(address)
    return {address.encode(), str(parsed).encode(), parsed.exploded.encode()}


def _readings(text: str) -> list[bytes]:
    """`text`, and what its base64 parts decode (and decompress) to: sessions and cached values are stored encoded."""
    readings = [text.encode()]
    for part in {text, *re.split(r"[:\s]", text)}:
        part = part.lstrip(".")
        if len(part) < 8 or not re.fullmatch(r"[A-Za-z0-9+/_=-]+", part):
            continue
        try:
            decoded = base64.urlsafe_b64decode(part.replace("+", "-").replace("/", "_") + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            continue
        readings.append(decoded)
        with contextlib.suppress(zlib.error):
            readings.append(zlib.decompress(decoded))
    return readings


def _database_dump() -> dict[str, list[bytes]]:
    """Every value of every column of every table and view of every schema (ours and workspaces'), as text."""
    dump: dict[str, list[bytes]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') AND table_schema NOT LIKE 'pg_%%'"
        )
        for schema, table, column in cursor.fetchall():
            # Names from information_schema itself, quoted: nothing here comes from outside.
            cursor.execute(f'SELECT "{column}"::text FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL')  # noqa: S608
            dump[f"{schema}.{table}.{column}"] = [b for (value,) in cursor.fetchall() for b in _readings(value)]
    return dump


def _redis_dump() -> dict[str, list[bytes]]:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    dump = {}
    for key in client.scan_iter():
        value = client.get(key) if client.type(key) == b"string" else client.dump(key)
        dump[f"redis {key!r}"] = [key, value or b""]
    return dump


def _visit_as(address: str, cast, token: str) -> None:
    """A scan and failed log-ins of every kind, from `address`."""
    at = {"REMOTE_ADDR": address}
    workspace = host_client(cast.workspace_a)
    workspace.get(f"/qr/{token}", HTTP_USER_AGENT=PHONE, **at)
    workspace.post("/accounts/login/", {"login": cast.viewer.email, "password": "wrong"}, **at)
    workspace.post("/accounts/login/code/", {"email": cast.viewer.email}, **at)
    workspace.post("/accounts/password/reset/", {"email": cast.viewer.email}, **at)
    workspace.post("/admin/login/", {"username": cast.staff.email, "password": "wrong"}, **at)
    public = host_client(None)
    public.post("/accounts/login/", {"login": cast.owner.email, "password": "wrong"}, **at)
    public.post("/admin/login/", {"username": cast.staff.email, "password": "wrong"}, **at)
    public.post("/login/", {"email": cast.owner.email}, **at)
    api = Client(HTTP_HOST=cast.workspace_a.primary_host)
    api.get("/api/v1/trails", HTTP_AUTHORIZATION="Bearer qrc_guess", **at)
    api.get("/api/v1/trails", HTTP_X_API_KEY="qrc_guess", **at)
    # And one log-in that works, so a session is stored too.
    assert (
        workspace.post("/accounts/login/", {"login": cast.editor.email, "password": PASSWORD}, **at).status_code == 302
    )


def test_no_full_client_address_is_kept_in_any_table_of_any_schema_or_in_redis(verified_cast, workspace_a):
    trail = make_trail(workspace=workspace_a)
    with schema_context("alpha"):
        token = trail.live_stops().first().token

    for address in (IPV4, IPV6):
        _visit_as(address, verified_cast, token)

    dump = _database_dump()
    # The dump reaches what matters: the template schema, the scans, the sessions, the rate-limit counters.
    assert any(column.startswith("qrcards_template.") for column in dump)
    assert len(dump["alpha.scans_scan.ip"]) >= 2
    assert any(b"_qrcards_host" in value for value in dump["public.django_session.session_data"])
    if settings.REDIS_URL:
        dump |= _redis_dump()
        counters = [name for name in dump if name.startswith("redis ") and "allauth:rl:" in name]
    else:
        counters = [value for value in dump["public.qrcards_cache.cache_key"] if b"allauth:rl:" in value]
    assert counters
    forms = _forms(IPV4) | _forms(IPV6)
    found = [(column, form) for column, values in dump.items() for form in forms for value in values if form in value]
    schemas = {column.split(".")[0] for column in dump if not column.startswith("redis ")}
    print(
        f"searched {len(dump)} columns and keys ({', '.join(sorted(schemas))}; redis: {bool(settings.REDIS_URL)}), "
        f"{sum(map(len, dump.values()))} values and decodings, for {sorted(forms)}: found {found}"
    )
    assert found == []
