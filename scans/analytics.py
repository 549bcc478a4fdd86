"""The numbers on the analytics page: closed days from the roll-ups, today from the raw scans.

Each query adds the roll-up rows of the closed days to the same rows counted from
the raw scans of today (scans/rollups.py's SELECTs), so both are counted one way;
today's are counted once for all of a page's queries, and kept until a scan comes in (live_rows).
The benchmark passes every day as a raw day to measure what the roll-ups save.

Unique visitors are counted per day, because the visitor hash changes daily: over a
range they are visitor-days, and someone who comes back tomorrow counts again.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.conf import settings
from django.db import OperationalError, connections, transaction

import dap
from accounts.models import Customer
from lib.shared import SharedCopies
from qrcards.routers import analytics_reads
from scans import rollups
from scans.models import DimensionDay, StopDay, TrailDay
from trails.models import Stop, Trail

ONE_DAY = rollups.ONE_DAY


@dataclass(frozen=True)
class Period:
    first: datetime.date
    last: datetime.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        return Period(self.first - ONE_DAY * self.days, self.first - ONE_DAY)

    def dates(self) -> list[datetime.date]:
        return [self.first + ONE_DAY * i for i in range(self.days)]


@dataclass(frozen=True)
class Sources:
    """Which days come from roll-ups and which from raw scans."""

    rolled: Period | None
    raw: Period | None

    @classmethod
    def for_period(cls, period: Period, *, today: datetime.date) -> Sources:
        closed_last = min(period.last, today - ONE_DAY)
        rolled = Period(period.first, closed_last) if closed_last >= period.first else None
        raw = Period(max(period.first, today), period.last) if period.last >= today else None
        return cls(rolled, raw)

    @classmethod
    def all_raw(cls, period: Period) -> Sources:
        return cls(None, period)


@dataclass(frozen=True)
class Filters:
    period: Period
    trail: Trail | None = None
    include_bots: bool = False
    language: str = ""  # a BCP 47 tag: only scans served in it (counted from raw scans), or "" for all


@dataclass
class Row:
    label: str
    scans: int
    visitors: int | None = None
    share: float = 0.0
    key: object = None


@dataclass
class FunnelStep:
    position: int
    title: str
    visitors: int
    share: float


@dataclass
class Funnel:
    trail: Trail
    steps: list[FunnelStep]

    @property
    def starters(self) -> int:
        return self.steps[0].visitors if self.steps else 0


@dataclass
class DayPoint:
    day: datetime.date
    scans: int
    visitors: int

    @property
    def label(self) -> str:
        # strftime, not the template's date filter: a year of days is 365 labels, and the filter is slow.
        return f"{self.day:%a} {self.day.day} {self.day:%b %Y}"


@dataclass
class Report:
    filters: Filters
    days: list[DayPoint]
    scans: int
    visitors: int
    previous_scans: int
    previous_visitors: int
    bot_scans: int
    trails: list[Row]
    stops: list[Row]
    funnels: list[Funnel]
    breakdowns: dict[str, list[Row]] = field(default_factory=dict)

    @property
    def scans_change(self) -> float | None:
        return _change(self.scans, self.previous_scans)

    @property
    def visitors_change(self) -> float | None:
        return _change(self.visitors, self.previous_visitors)

    @property
    def scans_change_text(self) -> str:
        return _change_text(self.scans_change)

    @property
    def visitors_change_text(self) -> str:
        return _change_text(self.visitors_change)

    @property
    def scans_comparison(self) -> str:
        return _comparison(self.scans, self.previous_scans, days=self.filters.period.days)

    @property
    def visitors_comparison(self) -> str:
        return _comparison(self.visitors, self.previous_visitors, days=self.filters.period.days)


def _change(now: int, before: int) -> float | None:
    return None if before == 0 else (now - before) / before * 100


def _change_text(change: float | None) -> str:
    if change is None:
        return "New"
    if round(change) == 0:
        return "Same"
    return f"{'Up' if change > 0 else 'Down'} {abs(change):.0f}%"


def _comparison(now: int, before: int, *, days: int) -> str:
    """A sentence comparing a period with the one before it that never reads as nonsense ("New … (0)" of nothing)."""
    previous = f"the previous {days} day{'s' if days != 1 else ''}"
    if before == 0:
        return f"None in {previous} either." if now == 0 else f"New: none in {previous}."
    change = _change(now, before)
    if round(change) == 0:
        return f"The same as {previous} ({before})."
    return f"{_change_text(change)} on {previous} ({before})."


def _union(table: str, columns: str, record: str, *, sources: Sources, live: str) -> tuple[str, str, dict]:
    """A WITH clause, a sub-select of the roll-up rows plus the same rows counted from raw days, and parameters.

    The raw days' rows come counted already (`live`, as JSON): the page counts them once for all its queries.
    """
    rolled, raw = sources.rolled, sources.raw
    # An empty period is one with its last day before its first.
    rolled = rolled or Period(datetime.date(2000, 1, 2), datetime.date(2000, 1, 1))
    raw = raw or Period(datetime.date(2000, 1, 2), datetime.date(2000, 1, 1))
    with_sql = (
        f"WITH live AS (SELECT {columns} FROM json_to_recordset(%(live)s::json) AS live({record}) "  # noqa: S608
        "WHERE day BETWEEN %(raw_first)s AND %(raw_last)s)"
    )
    rows_sql = (
        f"(SELECT {columns} FROM {table} WHERE day BETWEEN %(rolled_first)s AND %(rolled_last)s "  # noqa: S608
        f"UNION ALL SELECT {columns} FROM live)"
    )
    params = {"live": live, "raw_first": raw.first, "raw_last": raw.last}
    return with_sql, rows_sql, params | {"rolled_first": rolled.first, "rolled_last": rolled.last}


# The rows each roll-up table would hold for the raw days, as JSON records of these columns.
TRAIL_DAY_RECORD = "day date, trail_id bigint, scans bigint, bot_scans bigint, visitors bigint, all_visitors bigint"
STOP_DAY_RECORD = (
    "day date, stop_id bigint, trail_id bigint, scans bigint, bot_scans bigint, visitors bigint,"
    " all_visitors bigint, funnel_visitors bigint"
)
DIMENSION_DAY_RECORD = "day date, trail_id bigint, dimension text, value text, scans bigint, bot_scans bigint"

# The raw days read once (the source CTE is materialized) and counted as each roll-up table counts a closed day.
# A viewer's page holds a worker for under a second: the raw count of one language gets most of that.
RAW_COUNT_TIMEOUT_MS = 700
QUERY_CANCELED = "57014"  # PostgreSQL's code for a statement stopped by statement_timeout

LIVE_SQL = f"""
WITH {rollups.SOURCE_CTES},
trail_rows AS ({rollups.TRAIL_DAY_SELECT}),
stop_rows AS ({rollups.STOP_DAY_SELECT}),
dimension_rows AS ({rollups.DIMENSION_DAY_SELECT})
SELECT (SELECT coalesce(json_agg(trail_rows), '[]')::text FROM trail_rows),
       (SELECT coalesce(json_agg(stop_rows), '[]')::text FROM stop_rows),
       (SELECT coalesce(json_agg(dimension_rows), '[]')::text FROM dimension_rows)
"""  # noqa: S608


@dataclass(frozen=True)
class Live:
    """The raw days' rows, counted once per page from the raw scans: per trail, per stop and per breakdown value
    and day, each a JSON list of records (TRAIL_DAY_RECORD...), as SQL hands them and takes them back."""

    trail_days: str = "[]"
    stop_days: str = "[]"
    dimension_days: str = "[]"


# Counted rows of raw days, shared by every process: a page asked for again before a new scan comes in (another
# range, a trail chosen, bots shown, the dashboard's live counter) counts nothing again.
LIVE_KEPT_BYTES = 256 * 1024
live_copies: SharedCopies[Live] = SharedCopies("analytics-live", seconds=lambda: settings.SHARED_CACHE_SECONDS)


def live_rows(*, workspace: Customer, raw: Period | None, language: str = "", shared: bool = True) -> Live:
    """The rows of the raw days `raw` (today, mostly), counted from the raw scans, or kept from a count of the
    same rows.

    A count is kept under the newest scan's id: the raw scans of a day only ever grow (the purge deletes only
    days long closed), and the writer draws a workspace's ids and commits them under one lock (scans/recording.py),
    so while the newest id is the same no scan has come in. Also in the key: which stops are first (the funnel's
    starters), the time zone and language that pick the rows. With `shared` false, always counted (the
    benchmark's baseline).
    """
    if raw is None:
        return Live()
    params = rollups.source_params(first=raw.first, last=raw.last, workspace=workspace, language=language)
    # One language is counted from the raw scans of the whole period (the roll-ups count every language
    # together): bounded, so a long period of a busy workspace is refused with a reason, never a stuck worker.
    timeout_ms = RAW_COUNT_TIMEOUT_MS if language else None
    if not shared:
        return Live(*_fetch("live", LIVE_SQL, params)[0])
    ((table, newest, first_stops),) = _fetch(
        "live_stamp",
        f"SELECT pg_relation_filenode('{rollups.SCAN_TABLE}'), (SELECT max(id) FROM {rollups.SCAN_TABLE}), "  # noqa: S608
        f"array(SELECT id FROM {rollups.STOP_TABLE} WHERE position = 1 ORDER BY id)",
        {},
    )
    starters = hashlib.sha256(",".join(map(str, first_stops)).encode()).hexdigest()[:16]
    # The table's file too: a workspace made again under the same name (or a table emptied) starts its ids again.
    key = f"{workspace.schema_name}:{table}:{newest}:{raw.first}:{raw.last}:{params['tz']}:{language}:{starters}"
    live, stamp = live_copies.load(key)
    if live is None:
        live = Live(*_fetch("live", LIVE_SQL, params, timeout_ms=timeout_ms)[0])
        # A day's rows are a few KB; a year of raw days (a language chosen) is counted each time instead.
        if sum(map(len, (live.trail_days, live.stop_days, live.dimension_days))) <= LIVE_KEPT_BYTES:
            live_copies.save(key, live, stamp)
    return live


class TooLongToCount(Exception):
    """Counting the raw scans asked for took longer than a page may: nothing was counted."""


def _fetch(name: str, sql: str, params: dict, *, timeout_ms: int | None = None) -> list[tuple]:
    # From the replica when there is one (qrcards/routers.py): counts a second behind are fine here.
    with analytics_reads() as alias:
        # A time limit holds for the transaction only (set_config's `true`): the connection goes back as it was.
        bounded = transaction.atomic(using=alias) if timeout_ms else nullcontext()
        with bounded, connections[alias].cursor() as cursor:
            if timeout_ms:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{timeout_ms}ms"])
            try:
                # The name shows which query this is in the benchmark and in pg_stat_statements.
                cursor.execute(f"/* analytics:{name} */ {sql}", params)
            except OperationalError as error:
                if timeout_ms and getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED:
                    raise TooLongToCount from error
                raise
            return cursor.fetchall()


def _measures(include_bots: bool) -> tuple[str, str]:
    """The scans and visitors columns of a roll-up row, with or without bots."""
    if include_bots:
        return "scans + bot_scans", "all_visitors"
    return "scans", "visitors"


def trail_day_counts(
    *, workspace: Customer, filters: Filters, sources: Sources, live: Live | None = None
) -> list[tuple]:
    """(day, trail id, scans, visitors, bot scans) of each trail and day with scans; trail None is every trail.

    Rows, not sums: the page needs them by day and by trail, and a year is a few thousand rows. `live` holds the
    raw days' rows counted already (for at least `sources.raw`), else they are counted here.
    """
    live = live or live_rows(workspace=workspace, raw=sources.raw, language=filters.language)
    with_sql, rows_sql, params = _union(
        TrailDay._meta.db_table, rollups.TRAIL_DAY_COLUMNS, TRAIL_DAY_RECORD, sources=sources, live=live.trail_days
    )
    scans, visitors = _measures(filters.include_bots)
    sql = f"{with_sql} SELECT day, trail_id, {scans}, {visitors}, bot_scans FROM {rows_sql} AS rows"  # noqa: S608
    return _fetch("trail_days", sql, params)


def stop_counts(*, workspace: Customer, filters: Filters, sources: Sources, live: Live | None = None) -> list[tuple]:
    """(stop id, trail id, scans, visitors, funnel visitors), busiest first. The funnel counts people only."""
    live = live or live_rows(workspace=workspace, raw=sources.raw, language=filters.language)
    with_sql, rows_sql, params = _union(
        StopDay._meta.db_table, rollups.STOP_DAY_COLUMNS, STOP_DAY_RECORD, sources=sources, live=live.stop_days
    )
    scans, visitors = _measures(filters.include_bots)
    trail_filter = "WHERE trail_id = %(trail)s" if filters.trail else ""
    # Only our own column and table names are formatted in.
    sql = (
        f"{with_sql} SELECT stop_id, trail_id, sum({scans})::bigint AS n, sum({visitors})::bigint, "  # noqa: S608
        "sum(funnel_visitors)::bigint "
        f"FROM {rows_sql} AS rows {trail_filter} GROUP BY stop_id, trail_id ORDER BY n DESC, stop_id"
    )
    return _fetch("stops", sql, params | {"trail": filters.trail.pk if filters.trail else None})


def dimension_counts(
    *, workspace: Customer, filters: Filters, sources: Sources, live: Live | None = None
) -> list[tuple]:
    """(dimension, value, scans), most scans first within each dimension."""
    live = live or live_rows(workspace=workspace, raw=sources.raw, language=filters.language)
    with_sql, rows_sql, params = _union(
        DimensionDay._meta.db_table,
        rollups.DIMENSION_DAY_COLUMNS,
        DIMENSION_DAY_RECORD,
        sources=sources,
        live=live.dimension_days,
    )
    scans, _ = _measures(filters.include_bots)
    trail_filter = "WHERE trail_id = %(trail)s" if filters.trail else ""
    sql = (
        f"{with_sql} SELECT dimension, value, sum({scans})::bigint AS n FROM {rows_sql} AS rows {trail_filter} "  # noqa: S608
        f"GROUP BY dimension, value HAVING sum({scans}) > 0 ORDER BY dimension, n DESC, value"
    )
    return _fetch("dimensions", sql, params | {"trail": filters.trail.pk if filters.trail else None})


def build_report(
    *, workspace: Customer, filters: Filters, today: datetime.date | None = None, raw_only: bool = False
) -> Report:
    """Everything the analytics page shows. Builds the roll-ups of closed days it finds missing first.

    With `raw_only`, every number is counted from the raw scans (the benchmark's baseline).
    """
    today = today or workspace.today()
    period = filters.period
    both = Period(period.previous().first, period.last)
    if raw_only or filters.language:  # the roll-ups count every language together
        current, overall = Sources.all_raw(period), Sources.all_raw(both)
    else:
        current, overall = Sources.for_period(period, today=today), Sources.for_period(both, today=today)
        if overall.rolled:
            rollups.ensure_built(workspace=workspace, first=overall.rolled.first, last=overall.rolled.last)

    # The raw days of both periods hold those of the period: counted once for the three queries.
    live = live_rows(workspace=workspace, raw=overall.raw, language=filters.language, shared=not raw_only)
    chosen = filters.trail.pk if filters.trail else None
    by_day: dict[datetime.date, tuple[int, int, int]] = {}
    by_trail: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    trail_days = trail_day_counts(workspace=workspace, filters=filters, sources=overall, live=live)
    for day, trail_id, scans, visitors, bots in trail_days:
        if trail_id == chosen:
            by_day[day] = (scans, visitors, bots)
        if trail_id is not None and period.first <= day <= period.last and chosen in (None, trail_id):
            by_trail[trail_id][0] += scans
            by_trail[trail_id][1] += visitors
    days = [DayPoint(day, *by_day.get(day, (0, 0, 0))[:2]) for day in period.dates()]
    previous = [by_day.get(day, (0, 0, 0)) for day in period.previous().dates()]

    trail_rows = sorted(
        ((pk, scans, visitors) for pk, (scans, visitors) in by_trail.items()), key=lambda r: (-r[1], r[0])
    )
    stop_rows = stop_counts(workspace=workspace, filters=filters, sources=current, live=live)
    trails = Trail.objects.in_bulk([row[0] for row in trail_rows])
    stops = Stop.objects.in_bulk([row[0] for row in stop_rows])
    total = sum(point.scans for point in days)

    return Report(
        filters=filters,
        days=days,
        scans=total,
        visitors=sum(point.visitors for point in days),
        previous_scans=sum(row[0] for row in previous),
        previous_visitors=sum(row[1] for row in previous),
        bot_scans=sum(by_day.get(day, (0, 0, 0))[2] for day in period.dates()),
        trails=[
            Row(str(trails.get(pk, f"Trail {pk}")), scans, visitors, _share(scans, total), key=pk)
            for pk, scans, visitors in trail_rows
            if scans
        ],
        stops=[
            Row(_stop_label(stops.get(pk), trails, trail_id, pk), scans, visitors, _share(scans, total), key=pk)
            for pk, trail_id, scans, visitors, _ in stop_rows[:20]
            if scans
        ],
        funnels=_funnels(stop_rows, filters=filters),
        breakdowns=_breakdowns(dimension_counts(workspace=workspace, filters=filters, sources=current, live=live)),
    )


def _share(part: int, whole: int) -> float:
    return part / whole * 100 if whole else 0.0


def _stop_label(stop: Stop | None, trails: dict, trail_id: int, pk: int) -> str:
    title = stop.title if stop else f"Stop {pk}"
    trail = trails.get(trail_id)
    return f"{title} · {trail}" if trail else title


def _funnels(stop_rows: list[tuple], *, filters: Filters) -> list[Funnel]:
    """One funnel per trail with starters: the live stops in order, each with how many starters reached it."""
    reached: dict[int, int] = {}
    trail_ids: set[int] = set()
    for stop_id, trail_id, _, _, funnel_visitors in stop_rows:
        reached[stop_id] = funnel_visitors
        trail_ids.add(trail_id)
    stops_by_trail: dict[int, list[Stop]] = defaultdict(list)
    for stop in Stop.objects.live().filter(trail_id__in=trail_ids).select_related("trail").order_by("position"):
        stops_by_trail[stop.trail_id].append(stop)
    funnels = []
    for stops in stops_by_trail.values():
        starters = reached.get(stops[0].pk, 0)
        if not starters:
            continue
        steps = [
            FunnelStep(stop.position, stop.title, reached.get(stop.pk, 0), _share(reached.get(stop.pk, 0), starters))
            for stop in stops
        ]
        funnels.append(Funnel(stops[0].trail, steps))
    return sorted(funnels, key=lambda funnel: (-funnel.starters, funnel.trail.title))


UNKNOWN = {"referrer": "Direct or unknown", "country": "Unknown", "language": "Unknown (before languages)"}
# The language served is a breakdown of the same roll-up table; it needs no choice (and no migration) of its own.
BREAKDOWNS = [*DimensionDay.Dimension.choices, ("language", "Languages")]
DEVICE_LABELS = dict(
    [("mobile", "Mobile"), ("tablet", "Tablet"), ("desktop", "Desktop"), ("bot", "Bot"), ("other", "Other")]
)


def _breakdowns(rows: list[tuple]) -> dict[str, list[Row]]:
    grouped: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for dimension, value, scans in rows:
        grouped[dimension].append((value, scans))
    result = {}
    for dimension, label in BREAKDOWNS:
        values = grouped.get(dimension, [])
        total = sum(scans for _, scans in values)
        result[label] = [
            Row(_value_label(dimension, value), scans, share=_share(scans, total), key=value) for value, scans in values
        ]
    return result


def _value_label(dimension: str, value: str) -> str:
    if dimension == "device":
        return DEVICE_LABELS.get(value, value)
    if dimension == "language" and value:
        return dap.language(value).label
    return value or UNKNOWN.get(dimension, "Unknown")


@dataclass
class HomeSummary:
    """The dashboard home's numbers: the last 30 days by day (roll-ups, and today's raw scans), top stops this week."""

    days: list[DayPoint]
    top_stops: list[Row]

    @property
    def today(self) -> int:
        return self.days[-1].scans

    @property
    def week(self) -> int:
        return sum(point.scans for point in self.days[-7:])

    @property
    def month(self) -> int:
        return sum(point.scans for point in self.days)


def home_summary(*, workspace: Customer, today: datetime.date | None = None) -> HomeSummary:
    """People's scans of the last 30 days, today included, and this week's five busiest stops."""
    today = today or workspace.today()
    month, week = Period(today - ONE_DAY * 29, today), Period(today - ONE_DAY * 6, today)
    sources = Sources.for_period(month, today=today)
    if sources.rolled:
        rollups.ensure_built(workspace=workspace, first=sources.rolled.first, last=sources.rolled.last)
    live = live_rows(workspace=workspace, raw=sources.raw)  # today's, for both queries
    by_day = {
        day: (scans, visitors)
        for day, trail_id, scans, visitors, _ in trail_day_counts(
            workspace=workspace, filters=Filters(month), sources=sources, live=live
        )
        if trail_id is None
    }
    days = [DayPoint(day, *by_day.get(day, (0, 0))) for day in month.dates()]
    stop_rows = stop_counts(
        workspace=workspace, filters=Filters(week), sources=Sources.for_period(week, today=today), live=live
    )
    stop_rows = [row for row in stop_rows if row[2]][:5]
    stops = Stop.objects.select_related("trail").in_bulk([row[0] for row in stop_rows])
    week = sum(point.scans for point in days[-7:])
    top = [
        Row(stops[pk].title if pk in stops else f"Stop {pk}", scans, visitors, _share(scans, week), key=stops.get(pk))
        for pk, _, scans, visitors, _ in stop_rows
    ]
    return HomeSummary(days, top)
