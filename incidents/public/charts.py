"""The chart of people detained over time on the case list, drawn as inline SVG on the
server so it needs no JavaScript.

Bars are per day, week or month depending on how long a period the filtered incidents
span (up to 31 days: days; up to six months: weeks; longer: months). A bar's height is the
number of people detained in incidents dated in it, by the list's counting rule
(`counting.people_detained`).

Partial dates are kept honest. A date known only to the month is stored as the first day
of its month; on a chart of days or weeks it would pretend to be the 1st, so such dates are
reported in a note ("date known only to the month: January 2022, 44 people") instead of a
bar. The same goes for dates known only to the year on any chart.

The database does one aggregate query, grouped by date and precision, because the choice of
bucket depends on the range of dates, which is only known from the rows; the rows (one per
distinct date) are then bucketed here by `build_chart`, which needs no database.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum
from django.utils import formats
from django.utils.translation import gettext as _

from incidents.counting import (
    DAY,
    MONTH,
    PLACEABLE,
    WEEK,
    DateRow,
    bucket_index,
    bucket_start,
    choose_unit,
    next_bucket,
    people_detained,
)
from incidents.models import Incident
from incidents.partial_dates import DatePrecision, PartialDate

# SVG geometry, in viewBox units; CSS scales the whole drawing to the page width.
# About the width the chart gets beside the map, so its text keeps a readable size.
WIDTH, HEIGHT = 480, 210
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 12, 28
MAX_X_LABELS = 6
# The most bars a chart draws (20 years of months); see `_within_bounds`.
MAX_BARS = 240
# The "precision" of a note for a bucket left out of the bars, far from the other dates.
OUTSIDE = "outside"
MAX_BAR_WIDTH = 28  # a lone bar stays a bar, not a block


@dataclass(frozen=True)
class Bar:
    start: datetime.date
    label: str  # "7 January 2022", "week of 3 January 2022", "January 2022"
    short_label: str  # under the axis: "7 Jan", "Jan 2022"
    people: int
    incidents: int
    x: float
    y: float
    width: float
    height: float
    label_x: float
    show_label: bool


@dataclass(frozen=True)
class CoarseDate:
    """Incidents whose date is too coarse for the chart's bars."""

    label: str  # "January 2022" or "2022"
    precision: str
    people: int
    incidents: int


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Chart:
    unit: str
    bars: list[Bar]
    coarse: list[CoarseDate]
    undated_incidents: int
    undated_people: int
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM
    right_edge: int = WIDTH - RIGHT

    @property
    def tick_label_x(self) -> int:
        return self.left - 6

    @property
    def label_y(self) -> float:
        return self.baseline + 17

    @property
    def listed_bars(self) -> list[Bar]:
        """The bars the text alternative lists: periods with at least one incident."""
        return [bar for bar in self.bars if bar.incidents]

    @property
    def unit_label(self) -> str:
        return {DAY: _("per day"), WEEK: _("per week"), MONTH: _("per month")}[self.unit]


# --- bucketing --------------------------------------------------------------------------------


def bucket_label(start: datetime.date, unit: str) -> tuple[str, str]:
    """(full label, short label under the axis)."""
    if unit == MONTH:
        return str(PartialDate(start, DatePrecision.MONTH)), formats.date_format(start, "M Y")
    day = str(PartialDate(start, DatePrecision.DAY))
    short = formats.date_format(start, "j M")
    if unit == WEEK:
        return _("week of %(date)s") % {"date": day}, short
    return day, short


def coarse_label(day: datetime.date, precision: str) -> str:
    return str(PartialDate(day, precision))


def build_chart(rows: Iterable[DateRow]) -> Chart | None:
    """Bucket the per-date rows into bars and notes; None when no incident is dated."""
    rows = list(rows)
    dated = [row for row in rows if row.date is not None]
    undated = [row for row in rows if row.date is None]
    if not dated:
        return None
    # The range that decides the unit is that of the dates known to the day: a
    # month-precision date, stored on the 1st, would otherwise stretch it. With no date
    # known to the day, months are the finest honest bars.
    exact = [row.date for row in dated if row.precision in PLACEABLE[DAY]]
    unit = choose_unit(min(exact), max(exact)) if exact else MONTH

    placed: dict[datetime.date, list[int]] = {}
    coarse: dict[tuple[datetime.date, str], list[int]] = {}
    for row in dated:
        if row.precision in PLACEABLE[unit]:
            totals = placed.setdefault(bucket_start(row.date, unit), [0, 0])
        else:
            # Year-precision dates are stored on 1 January, month ones on the 1st: the key
            # is the period itself.
            totals = coarse.setdefault((row.date, row.precision), [0, 0])
        totals[0] += row.people
        totals[1] += row.incidents

    placed, outliers = _within_bounds(placed, unit)
    top = _nice_ceiling(max((people for people, _ in placed.values()), default=0))
    bars = _bars(placed, unit, top) if placed else []
    notes = [
        CoarseDate(coarse_label(day, precision), precision, people, incidents)
        for (day, precision), (people, incidents) in sorted(coarse.items())
    ] + [
        CoarseDate(bucket_label(start, unit)[0], OUTSIDE, people, incidents)
        for start, (people, incidents) in sorted(outliers.items())
    ]
    plot_height = HEIGHT - TOP - BOTTOM
    tick_values = [0, top // 2, top] if top % 2 == 0 else [0, top]
    ticks = [
        Tick(value, round(HEIGHT - BOTTOM - plot_height * value / top, 1)) for value in tick_values
    ]
    return Chart(
        unit=unit,
        bars=bars,
        coarse=notes,
        undated_incidents=sum(row.incidents for row in undated),
        undated_people=sum(row.people for row in undated),
        ticks=ticks,
    )


def _within_bounds(
    placed: dict[datetime.date, list[int]], unit: str
) -> tuple[dict[datetime.date, list[int]], dict[datetime.date, list[int]]]:
    """(the buckets the bars show, the ones listed as notes instead).

    The bars run evenly from the first bucket to the last, so one implausible date (a typo
    of 1022 or 9999 among dates of 2022) would make thousands of empty bars. At most
    MAX_BARS buckets are drawn: the run of that many holding the most incidents; the rest
    are listed as notes, "far outside the other dates"."""
    if not placed:
        return placed, {}
    index = {start: bucket_index(start, unit) for start in placed}
    if max(index.values()) - min(index.values()) < MAX_BARS:
        return placed, {}
    starts = sorted(placed, key=index.get)
    best_first, best_total, total, first = 0, -1, 0, 0
    for start in starts:
        total += placed[start][1]
        while index[start] - index[starts[first]] >= MAX_BARS:
            total -= placed[starts[first]][1]
            first += 1
        if total > best_total:
            best_first, best_total = first, total
    low = index[starts[best_first]]
    shown = {
        start: totals for start, totals in placed.items() if 0 <= index[start] - low < MAX_BARS
    }
    outside = {start: totals for start, totals in placed.items() if start not in shown}
    return shown, outside


def _bars(placed: dict[datetime.date, list[int]], unit: str, top: int) -> list[Bar]:
    """One bar per bucket from the first to the last, empty ones included: time runs at
    an even pace along the axis."""
    starts = []
    start, last = min(placed), max(placed)
    while True:
        starts.append(start)
        if start >= last:  # no bucket after the last: past 9999 there is none
            break
        start = next_bucket(start, unit)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / len(starts)
    every = math.ceil(len(starts) / MAX_X_LABELS)
    width = min(max(slot * 0.8, 1), MAX_BAR_WIDTH)
    bars = []
    for index, start in enumerate(starts):
        people, incidents = placed.get(start, (0, 0))
        height = plot_height * people / top
        label, short_label = bucket_label(start, unit)
        bars.append(
            Bar(
                start=start,
                label=label,
                short_label=short_label,
                people=people,
                incidents=incidents,
                x=round(LEFT + index * slot + (slot - width) / 2, 1),
                y=round(HEIGHT - BOTTOM - height, 1),
                width=round(width, 1),
                height=round(height, 1),
                label_x=round(LEFT + index * slot + slot / 2, 1),
                show_label=index % every == 0,
            )
        )
    return bars


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… that is at least `value` (and at least 1), so
    the axis reads in round numbers."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


# --- the query ------------------------------------------------------------------------------


def date_rows(incidents: QuerySet[Incident], user) -> list[DateRow]:
    """People detained and incidents per stored date and precision (one GROUP BY query)."""
    rows = (
        incidents.order_by()
        .values("start_date", "start_date_precision")
        .annotate(people=Sum(people_detained(user)), incidents=Count("pk"))
    )
    return [
        DateRow(
            row["start_date"], row["start_date_precision"], row["people"] or 0, row["incidents"]
        )
        for row in rows
    ]


def detentions_chart(incidents: QuerySet[Incident], user) -> Chart | None:
    return build_chart(date_rows(incidents, user))
