"""Roll-ups: each closed day's scans counted once, per stop, per trail and per breakdown value.

A day is a calendar day in the workspace's time zone. Building a day deletes its
roll-up rows and counts them again from the raw scans in one SQL statement (one
snapshot, so the tables agree with each other and with `RollupDay.scans`). That
makes building idempotent, and makes late or out-of-order scans harmless: a day
whose raw count differs from the count its roll-ups were built from is built again.

The same SELECTs count today's scans straight from the raw rows for the page (see
scans/analytics.py), so a closed day and today are counted by the same code.

The trail funnel needs visitor hashes, which change daily, so it is counted within a
day: `funnel_visitors` of a stop is how many of that day's visitors who scanned the
trail's first stop (position 1 when the day is built) also scanned this stop.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Iterator

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Customer
from scans.models import DimensionDay, RollupDay, Scan, StopDay, TrailDay
from trails.models import Stop

logger = logging.getLogger(__name__)

ONE_DAY = datetime.timedelta(days=1)
# Days built by one statement: bounds the statement's memory and the lock's length.
MAX_RUN_DAYS = 92

SCAN_TABLE = Scan._meta.db_table
STOP_TABLE = Stop._meta.db_table

# Scans of the days between %(start)s and %(end)s, with the day in the workspace's zone.
SOURCE_CTES = f"""
source AS MATERIALIZED (
    SELECT (scanned_at AT TIME ZONE %(tz)s)::date AS day, stop_id, trail_id, is_bot,
           NULLIF(visitor, '') AS visitor, device, browser, os, country, referrer, language
    FROM {SCAN_TABLE}
    WHERE scanned_at >= %(start)s AND scanned_at < %(end)s AND (%(language)s = '' OR language = %(language)s)
),
starters AS (
    SELECT DISTINCT source.day, source.trail_id, source.visitor
    FROM source JOIN {STOP_TABLE} stop ON stop.id = source.stop_id
    WHERE stop.position = 1 AND NOT source.is_bot AND source.visitor IS NOT NULL
)"""  # noqa: S608

# Each SELECT first folds the scans into one row per visitor (or per combination of values) with its counts, then
# counts those: hash aggregates only, where count(DISTINCT ...) sorted every scan once per distinct count, and the
# referrer's host is taken once per combination instead of once per scan. A NULL visitor (none recorded) is one
# group whose scans are counted and which counts as no visitor (count(visitor) leaves NULLs out).
STOP_DAY_COLUMNS = "day, stop_id, trail_id, scans, bot_scans, visitors, all_visitors, funnel_visitors"
STOP_DAY_SELECT = """
SELECT visits.day, visits.stop_id, visits.trail_id,
       sum(visits.scans)::bigint AS scans,
       sum(visits.bot_scans)::bigint AS bot_scans,
       count(visits.visitor) FILTER (WHERE visits.scans > 0) AS visitors,
       count(visits.visitor) AS all_visitors,
       count(starters.visitor) FILTER (WHERE visits.scans > 0) AS funnel_visitors
FROM (
    SELECT day, stop_id, trail_id, visitor,
           count(*) FILTER (WHERE NOT is_bot) AS scans, count(*) FILTER (WHERE is_bot) AS bot_scans
    FROM source GROUP BY day, stop_id, trail_id, visitor
) AS visits LEFT JOIN starters
    ON starters.day = visits.day AND starters.trail_id = visits.trail_id AND starters.visitor = visits.visitor
GROUP BY visits.day, visits.stop_id, visits.trail_id"""

# A NULL trail is the whole workspace: a visitor of two trails is one visitor.
TRAIL_DAY_COLUMNS = "day, trail_id, scans, bot_scans, visitors, all_visitors"
TRAIL_DAY_SELECT = """
SELECT day, trail_id,
       sum(scans)::bigint AS scans,
       sum(bot_scans)::bigint AS bot_scans,
       count(visitor) FILTER (WHERE scans > 0) AS visitors,
       count(visitor) AS all_visitors
FROM (
    SELECT day, trail_id, visitor,
           count(*) FILTER (WHERE NOT is_bot) AS scans, count(*) FILTER (WHERE is_bot) AS bot_scans
    FROM source GROUP BY day, trail_id, visitor
) AS visits
GROUP BY day, trail_id
UNION ALL
SELECT day, NULL,
       sum(scans)::bigint,
       sum(bot_scans)::bigint,
       count(visitor) FILTER (WHERE scans > 0),
       count(visitor)
FROM (
    SELECT day, visitor,
           count(*) FILTER (WHERE NOT is_bot) AS scans, count(*) FILTER (WHERE is_bot) AS bot_scans
    FROM source GROUP BY day, visitor
) AS visits
GROUP BY day"""

# A referrer is counted by its host: whole URLs are too many to count and may carry personal data.
DIMENSION_DAY_COLUMNS = "day, trail_id, dimension, value, scans, bot_scans"
DIMENSION_DAY_SELECT = """
SELECT day, trail_id, dimension, value,
       sum(scans)::bigint AS scans,
       sum(bot_scans)::bigint AS bot_scans
FROM (
    SELECT day, trail_id, device, browser, os, country, language, referrer,
           count(*) FILTER (WHERE NOT is_bot) AS scans, count(*) FILTER (WHERE is_bot) AS bot_scans
    FROM source GROUP BY day, trail_id, device, browser, os, country, language, referrer
) AS combinations CROSS JOIN LATERAL (VALUES
    ('device', device::text), ('browser', browser::text), ('os', os::text), ('country', country::text),
    ('language', language::text),
    ('referrer', left(coalesce(lower(substring(referrer from
        '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#:]+)')), ''), 255))
) AS breakdown(dimension, value)
GROUP BY day, trail_id, dimension, value"""

BUILD_SQL = f"""
WITH {SOURCE_CTES},
stop_rows AS (INSERT INTO {StopDay._meta.db_table} ({STOP_DAY_COLUMNS}) {STOP_DAY_SELECT}),
trail_rows AS (INSERT INTO {TrailDay._meta.db_table} ({TRAIL_DAY_COLUMNS}) {TRAIL_DAY_SELECT}),
dimension_rows AS (INSERT INTO {DimensionDay._meta.db_table} ({DIMENSION_DAY_COLUMNS}) {DIMENSION_DAY_SELECT})
INSERT INTO {RollupDay._meta.db_table} (day, scans, built_at)
SELECT days.day, coalesce(counted.scans, 0), %(now)s
FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS days(day)
LEFT JOIN (SELECT day, count(*) AS scans FROM source GROUP BY day) AS counted ON counted.day = days.day
"""  # noqa: S608


def source_params(
    *, first: datetime.date, last: datetime.date, workspace: Customer, language: str = ""
) -> dict[str, object]:
    """Parameters of SOURCE_CTES for the days `first` to `last`, both included; only scans served in `language`
    if one is given (roll-ups are built of every language: a language filter counts raw scans)."""
    return {
        "tz": workspace.zone.key,
        "start": workspace.midnight(first),
        "end": workspace.midnight(last + ONE_DAY),
        "language": language,
    }


def runs(
    days: Iterable[datetime.date], *, longest: int = MAX_RUN_DAYS
) -> Iterator[tuple[datetime.date, datetime.date]]:
    """Consecutive days as (first, last) pairs, none longer than `longest` days."""
    first = last = None
    for day in sorted(set(days)):
        if first is not None and day == last + ONE_DAY and (day - first).days < longest:
            last = day
            continue
        if first is not None:
            yield first, last
        first = last = day
    if first is not None:
        yield first, last


def build_days(days: Iterable[datetime.date], *, workspace: Customer, only_missing: bool = False) -> int:
    """Count `days` again from the raw scans. Returns how many days were built.

    Runs in the current schema, which must be `workspace`'s. Builders take turns (a
    table lock that readers don't wait for), so cron and the page can't collide.
    With `only_missing`, days another builder has built meanwhile are skipped.
    """
    built = 0
    for first, last in runs(days):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {RollupDay._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
            wanted = [first + ONE_DAY * i for i in range((last - first).days + 1)]
            if only_missing:
                done = set(RollupDay.objects.filter(day__range=(first, last)).values_list("day", flat=True))
                wanted = [day for day in wanted if day not in done]
            for run_first, run_last in runs(wanted):
                for model in (StopDay, TrailDay, DimensionDay, RollupDay):
                    # SQL, not QuerySet.delete(), which loads every row first (see purge_scans).
                    cursor.execute(
                        f"DELETE FROM {model._meta.db_table} WHERE day BETWEEN %s AND %s",  # noqa: S608
                        [run_first, run_last],
                    )
                params = source_params(first=run_first, last=run_last, workspace=workspace)
                cursor.execute(BUILD_SQL, params | {"first": run_first, "last": run_last, "now": timezone.now()})
                built += (run_last - run_first).days + 1
    return built


def stale_days(*, workspace: Customer, first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Days from `first` to `last` whose roll-ups are missing or count other than the raw rows now hold."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (scanned_at AT TIME ZONE %(tz)s)::date AS day, count(*) FROM {SCAN_TABLE} "  # noqa: S608
            "WHERE scanned_at >= %(start)s AND scanned_at < %(end)s GROUP BY 1",
            source_params(first=first, last=last, workspace=workspace),
        )
        raw = dict(cursor.fetchall())
    built = dict(RollupDay.objects.filter(day__range=(first, last)).values_list("day", "scans"))
    days = [first + ONE_DAY * i for i in range((last - first).days + 1)]
    return [day for day in days if built.get(day) != raw.get(day, 0)]


def kept_days(workspace: Customer, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The closed days whose raw scans are all still kept, as (first, last).

    Older days have been purged (or are about to be): their roll-ups are all that is
    left of them, so they are never counted again.
    """
    return today - ONE_DAY * (workspace.scan_retention_days - 1), today - ONE_DAY


def build_rollups(*, workspace: Customer, rebuild: bool = False) -> int:
    """Bring the current schema's roll-ups up to date; with `rebuild`, count every kept day again.

    Safe to run at any time and as often as wanted. Returns how many days were built.
    """
    first, last = kept_days(workspace, workspace.today())
    if rebuild:
        days = [first + ONE_DAY * i for i in range((last - first).days + 1)]
    else:
        days = stale_days(workspace=workspace, first=first, last=last)
    return build_days(days, workspace=workspace)


def ensure_built(*, workspace: Customer, first: datetime.date, last: datetime.date) -> int:
    """Build the days from `first` to `last` that have no roll-ups yet (the page's catch-up)."""
    wanted = (last - first).days + 1
    if wanted <= 0 or RollupDay.objects.filter(day__range=(first, last)).count() == wanted:
        return 0
    done = set(RollupDay.objects.filter(day__range=(first, last)).values_list("day", flat=True))
    missing = [first + ONE_DAY * i for i in range(wanted) if first + ONE_DAY * i not in done]
    return build_days(missing, workspace=workspace, only_missing=True)


def purge_scans(*, workspace: Customer, batch_size: int = 10_000) -> int:
    """Delete raw scans older than the workspace keeps them, after making sure their days are rolled up.

    Whole days go, in the workspace's time zone. Deletes in batches so no lock is held long.
    Returns how many scans were deleted.
    """
    cutoff_day = workspace.today() - ONE_DAY * workspace.scan_retention_days
    cutoff = workspace.midnight(cutoff_day)
    oldest = Scan.objects.filter(scanned_at__lt=cutoff).order_by("scanned_at").values_list("scanned_at", flat=True)
    if not oldest.exists():
        return 0
    # Late scans of these days may not be counted yet: this is their last chance.
    first_day = oldest.first().astimezone(workspace.zone).date()
    build_days(stale_days(workspace=workspace, first=first_day, last=cutoff_day - ONE_DAY), workspace=workspace)
    deleted = 0
    while True:
        # SQL, not QuerySet.delete(): django-tenants listens to every model's post_delete, which makes Django load
        # each scan and delete them 100 at a time (101 statements a batch). Nothing listens to a scan's deletion.
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {SCAN_TABLE} WHERE id IN "  # noqa: S608
                f"(SELECT id FROM {SCAN_TABLE} WHERE scanned_at < %s ORDER BY scanned_at LIMIT %s)",
                [cutoff, batch_size],
            )
            count = cursor.rowcount
        deleted += count
        if count < batch_size:
            return deleted


def workspaces(schema: str | None = None) -> Iterator[Customer]:
    """Every workspace (or the one named), with the connection switched to its schema while it is handled."""
    from django_tenants.utils import get_public_schema_name, tenant_context

    chosen = Customer.objects.exclude(schema_name=get_public_schema_name()).order_by("schema_name")
    if schema:
        chosen = chosen.filter(schema_name=schema)
    for workspace in chosen:
        with tenant_context(workspace):
            yield workspace
