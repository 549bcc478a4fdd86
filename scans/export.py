"""Scans and roll-ups as CSV: the dashboard's exports and the API's, streamed however many rows there are."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django_tenants.utils import schema_context

from scans.models import Scan, StopDay

EXPORT_CHUNK_ROWS = 2000
# Spreadsheets run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def scans_csv(scans: QuerySet[Scan], *, workspace, filename: str) -> StreamingHttpResponse:
    """Raw scans as a streamed CSV, times in the workspace's zone: the dashboard's export and the API's."""
    columns = ["scanned_at", "trail__title", "stop__title", "stop__token", "device", "browser", "os", "country"]
    columns += ["referrer", "ip", "visitor", "is_bot", "user_agent", "language"]
    zone = workspace.zone
    rows = (
        (scanned_at.astimezone(zone).isoformat(), *rest)
        for scanned_at, *rest in rows_in_schema(scans.values_list(*columns), workspace.schema_name)
    )
    header = ["scanned_at", "trail", "stop", "token", "device", "browser", "os", "country"]
    header += ["referrer", "ip_network", "visitor", "is_bot", "user_agent", "language"]
    return csv_response(filename, header, rows)


def rollups_csv(days: QuerySet[StopDay], *, workspace, filename: str) -> StreamingHttpResponse:
    """Daily roll-ups per stop as a streamed CSV."""
    columns = ["day", "trail__title", "stop__title", "stop__token", "scans", "bot_scans", "visitors"]
    columns += ["all_visitors", "funnel_visitors"]
    header = ["day", "trail", "stop", "token", "scans", "bot_scans", "visitors", "visitors_with_bots"]
    header += ["visitors_from_first_stop"]
    return csv_response(filename, header, rows_in_schema(days.values_list(*columns), workspace.schema_name))


def rows_in_schema(queryset: QuerySet, schema: str) -> Iterator[tuple]:
    """The queryset's rows from `schema`, fetched in chunks.

    The response is streamed after the view returns, when the connection may have
    been switched to another workspace's schema (django-tenants sets search_path per
    connection). So the cursor is opened in `schema` here; rows already planned keep
    coming from it whatever the search_path becomes.
    """
    with schema_context(schema):
        if queryset.db != DEFAULT_DB_ALIAS:  # the replica (qrcards/routers.py), which needs the schema too
            connections[queryset.db].set_schema(schema)
        rows = queryset.iterator(chunk_size=EXPORT_CHUNK_ROWS)
        first = next(rows, None)
    if first is None:
        return
    yield first
    yield from rows


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: list[str], rows: Iterable[tuple]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
