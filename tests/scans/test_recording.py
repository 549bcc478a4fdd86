from __future__ import annotations

import logging

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from scans import recording
from scans.models import Scan
from tests.fixtures.trails import make_trail

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"
FULL_IP = "81.2.69.160"


def first_stop(workspace):
    trail = make_trail(workspace=workspace)
    with schema_context(workspace.schema_name):
        return trail.live_stops().first()


def test_a_scan_is_recorded_in_the_workspaces_own_schema(client_a, workspace_a, workspace_b):
    stop = first_stop(workspace_a)

    client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE, REMOTE_ADDR=FULL_IP, HTTP_REFERER="https://example.org/")

    with schema_context("alpha"):
        scan = Scan.objects.get()
    assert (scan.stop_id, scan.trail_id) == (stop.pk, stop.trail_id)
    assert (scan.device, scan.browser, scan.os, scan.is_bot) == ("mobile", "Chrome Mobile", "Android", False)
    assert scan.country == "GB"
    assert scan.ip == "81.2.69.0"
    assert scan.referrer == "https://example.org/"
    assert len(scan.visitor) == 16
    with schema_context("bravo"):
        assert not Scan.objects.exists()


def test_the_full_ip_address_is_stored_in_no_column_of_any_table(client_a, workspace_a):
    stop = first_stop(workspace_a)

    client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE, REMOTE_ADDR=FULL_IP)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_schema IN ('public', 'alpha', 'bravo')"
        )
        columns = cursor.fetchall()
        assert any(table == "scans_scan" for _, table, _ in columns)
        for schema, table, column in columns:
            # Names from information_schema itself, quoted: nothing here comes from outside.
            query = f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}"::text LIKE %s'  # noqa: S608
            cursor.execute(query, [f"%{FULL_IP}%"])
            assert cursor.fetchone()[0] == 0, f"{schema}.{table}.{column} holds the full IP"


def test_an_ipv6_address_is_stored_as_its_48_bit_network(client_a, workspace_a):
    stop = first_stop(workspace_a)

    client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE, REMOTE_ADDR="2a00:1450:4009:81f::200e")

    with schema_context("alpha"):
        assert Scan.objects.get().ip == "2a00:1450:4009::"


def test_long_user_agents_and_referrers_are_cut(client_a, workspace_a):
    stop = first_stop(workspace_a)

    client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT="A" * 2000, HTTP_REFERER="https://x.example/" + "r" * 2000)

    with schema_context("alpha"):
        scan = Scan.objects.get()
    assert len(scan.user_agent) == 512 and len(scan.referrer) == 512


@pytest.mark.parametrize(
    ("method", "user_agent"),
    [
        ("HEAD", PHONE),
        ("GET", ""),
        ("GET", "WhatsApp/2.23.20.0 A"),
        ("GET", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    ],
)
def test_bots_link_previews_and_head_requests_are_flagged(client_a, workspace_a, method, user_agent):
    stop = first_stop(workspace_a)

    getattr(client_a, method.lower())(f"/qr/{stop.token}", HTTP_USER_AGENT=user_agent)

    with schema_context("alpha"):
        assert Scan.objects.get().is_bot


def test_a_failure_to_record_is_logged_and_the_page_still_shows(client_a, workspace_a, monkeypatch, caplog):
    stop = first_stop(workspace_a)

    def broken(batch):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(recording, "write_scans", broken)
    with caplog.at_level(logging.ERROR, logger="scans.recording"):
        response = client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)

    assert response.status_code == 200
    assert "could not record a scan" in caplog.text or "could not write" in caplog.text


def test_a_workspace_can_choose_not_to_record_countries_or_referrers(client_a, workspace_a):
    stop = first_stop(workspace_a)
    workspace_a.record_country = workspace_a.record_referrer = False
    workspace_a.save()
    try:
        client_a.get(
            f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE, REMOTE_ADDR=FULL_IP, HTTP_REFERER="https://example.org/"
        )
    finally:
        workspace_a.record_country = workspace_a.record_referrer = True
        workspace_a.save()

    with schema_context("alpha"):
        scan = Scan.objects.get()
    assert (scan.country, scan.referrer) == ("", "")
