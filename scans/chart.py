"""The analytics page's daily chart and the home page's sparkline, drawn as SVG on the server."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from scans.analytics import DayPoint

# Each day is this many SVG units wide; the plot is PLOT_HEIGHT tall. The SVG stretches to its box
# (preserveAspectRatio="none"), so its labels are HTML around it: text in the SVG would shrink to
# nothing on a phone, and a label centred on the last bar would be cut off at the right edge.
DAY_WIDTH = 10
PLOT_HEIGHT = 100


@dataclass(frozen=True)
class Chart:
    """The daily chart: bars and line in the SVG's own units, and the labels the template sets around it."""

    width: int
    height: int
    peak: int
    elements: SafeString
    line: str
    labels: list[str]
    rows: SafeString  # the same days as a table's rows (<tr>s), for those who read rather than look


def daily_chart(days: list[DayPoint]) -> Chart:
    """Scans as bars, visitors as a dashed line: told apart by shape, not colour.

    The bars and the table's rows are made here rather than in template loops: a year of bars took the template
    150 ms, and the year's rows were the page's largest loop left. Each bar's title gives its day's numbers on hover.
    """
    peak = max([point.scans for point in days] + [point.visitors for point in days] + [1])
    scale = PLOT_HEIGHT / peak
    bars, line, rows = [], [], []
    for i, point in enumerate(days):
        x, middle = i * DAY_WIDTH + 1, i * DAY_WIDTH + DAY_WIDTH / 2
        bar_height = point.scans * scale
        label = escape(point.label)
        title = f"{label}: {point.scans} scans, {point.visitors} visitors"
        bars.append(
            f'<rect class="scans" x="{x}" y="{PLOT_HEIGHT - bar_height:.2f}" width="{DAY_WIDTH - 2}" '
            f'height="{bar_height:.2f}"><title>{title}</title></rect>'
        )
        line.append(f"{middle:g},{PLOT_HEIGHT - point.visitors * scale:.2f}")
        rows.append(f'<tr><th scope="row">{label}</th><td>{point.scans}</td><td>{point.visitors}</td></tr>')
    elements = mark_safe("".join(bars))  # noqa: S308 (numbers and escaped titles)
    picks = sorted({0, len(days) // 2, len(days) - 1}) if days else []
    labels = [f"{days[i].day.day} {days[i].day:%b}" for i in picks]
    table_rows = mark_safe("".join(rows))  # noqa: S308 (numbers and escaped labels)
    return Chart(max(len(days), 1) * DAY_WIDTH, PLOT_HEIGHT, peak, elements, " ".join(line), labels, table_rows)


def sparkline(values: list[int], *, width: int = 100, height: int = 30) -> dict[str, str]:
    """The `d` of a line through `values` and of the area under it, scaled to width × height (the peak at the top)."""
    if not values:
        return {"line": "", "area": "", "width": str(width), "height": str(height)}
    peak = max(max(values), 1)
    step = width / max(len(values) - 1, 1)
    points = [(i * step, height - 1 - value / peak * (height - 2)) for i, value in enumerate(values)]
    line = "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in points)
    area = f"{line} L{points[-1][0]:.1f} {height} L0 {height} Z"
    return {"line": line, "area": area, "width": str(width), "height": str(height)}
