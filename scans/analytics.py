"""The numbers on the analytics page: closed days from the roll-ups, today from the raw scans.

Each query adds the roll-up rows of the closed days to the same rows counted from
the raw scans of today (scans/rollups.py's SELECTs), so both are counted one way.
The benchmark passes every day as a raw day to measure what the roll-ups save.

Unique visitors are counted per day, because the visitor hash changes daily: over a
range they are visitor-days, and someone who comes back tomorrow counts again.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connections

import dap
from accounts.models import Customer
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


def _union(
    table: str, columns: str, live_select: str, *, sources: Sources, workspace: Customer, language: str = ""
) -> tuple[str, str, dict]:
    """A WITH clause, a sub-select of the roll-up rows plus the same rows counted from raw days, and parameters."""
    rolled, raw = sources.rolled, sources.raw
    # An empty period is one with its last day before its first.
    rolled = rolled or Period(datetime.date(2000, 1, 2), datetime.date(2000, 1, 1))
    raw = raw or Period(datetime.date(2000, 1, 2), datetime.date(2000, 1, 1))
    with_sql = f"WITH {rollups.SOURCE_CTES}, live AS ({live_select})"
    rows_sql = (
        f"(SELECT {columns} FROM {table} WHERE day BETWEEN %(rolled_first)s AND %(rolled_last)s "  # noqa: S608
        f"UNION ALL SELECT {columns} FROM live)"
    )
    params = rollups.source_params(first=raw.first, last=raw.last, workspace=workspace, language=language)
    return with_sql, rows_sql, params | {"rolled_first": rolled.first, "rolled_last": rolled.last}


def _fetch(name: str, sql: str, params: dict) -> list[tuple]:
    # From the replica when there is one (qrcards/routers.py): counts a second behind are fine here.
    with analytics_reads() as alias, connections[alias].cursor() as cursor:
        # The name shows which query this is in the benchmark and in pg_stat_statements.
        cursor.execute(f"/* analytics:{name} */ {sql}", params)
        return cursor.fetchall()


def _measures(include_bots: bool) -> tuple[str, str]:
    """The scans and visitors columns of a roll-up row, with or without bots."""
    if include_bots:
        return "scans + bot_scans", "all_visitors"
    return "scans", "visitors"


def trail_day_counts(*, workspace: Customer, filters: Filters, sources: Sources) -> list[tuple]:
    """(day, trail id, scans, visitors, bot scans) of each trail and day with scans; trail None is every trail.

    Rows, not sums: the page needs them by day and by trail, and a year is a few thousand rows.
    """
    with_sql, rows_sql, params = _union(
        TrailDay._meta.db_table,
        rollups.TRAIL_DAY_COLUMNS,
        rollups.TRAIL_DAY_SELECT,
        sources=sources,
        workspace=workspace,
        language=filters.language,
    )
    scans, visitors = _measures(filters.include_bots)
    sql = f"{with_sql} SELECT day, trail_id, {scans}, {visitors}, bot_scans FROM {rows_sql} AS rows"  # noqa: S608
    return _fetch("trail_days", sql, params)


def stop_counts(*, workspace: Customer, filters: Filters, sources: Sources) -> list[tuple]:
    """(stop id, trail id, scans, visitors, funnel visitors), busiest first. The funnel counts people only."""
    with_sql, rows_sql, params = _union(
        StopDay._meta.db_table,
        rollups.STOP_DAY_COLUMNS,
        rollups.STOP_DAY_SELECT,
        sources=sources,
        workspace=workspace,
        language=filters.language,
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


def dimension_counts(*, workspace: Customer, filters: Filters, sources: Sources) -> list[tuple]:
    """(dimension, value, scans), most scans first within each dimension."""
    with_sql, rows_sql, params = _union(
        DimensionDay._meta.db_table,
        rollups.DIMENSION_DAY_COLUMNS,
        rollups.DIMENSION_DAY_SELECT,
        sources=sources,
        workspace=workspace,
        language=filters.language,
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

    chosen = filters.trail.pk if filters.trail else None
    by_day: dict[datetime.date, tuple[int, int, int]] = {}
    by_trail: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for day, trail_id, scans, visitors, bots in trail_day_counts(workspace=workspace, filters=filters, sources=overall):
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
    stop_rows = stop_counts(workspace=workspace, filters=filters, sources=current)
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
        breakdowns=_breakdowns(dimension_counts(workspace=workspace, filters=filters, sources=current)),
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
    by_day = {
        day: (scans, visitors)
        for day, trail_id, scans, visitors, _ in trail_day_counts(
            workspace=workspace, filters=Filters(month), sources=sources
        )
        if trail_id is None
    }
    days = [DayPoint(day, *by_day.get(day, (0, 0))) for day in month.dates()]
    stop_rows = stop_counts(workspace=workspace, filters=Filters(week), sources=Sources.for_period(week, today=today))
    stop_rows = [row for row in stop_rows if row[2]][:5]
    stops = Stop.objects.select_related("trail").in_bulk([row[0] for row in stop_rows])
    week = sum(point.scans for point in days[-7:])
    top = [
        Row(stops[pk].title if pk in stops else f"Stop {pk}", scans, visitors, _share(scans, week), key=stops.get(pk))
        for pk, _, scans, visitors, _ in stop_rows
    ]
    return HomeSummary(days, top)
