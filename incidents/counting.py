"""The counting rule for people, used by the summary, the list rows, the map and the chart:
an incident's people detained is the larger of its reported number and the number of people
named in its visible detentions (witnesses are not detainees and are not counted); people
released likewise, from the reported number released and the named detentions that ended in
release or handover. A source saying "38 detained" while naming two gives 38, not 40.

The reported number is the incident's overall one (`reported_detained_count`), or, when it
gives none, what its reported groups add up to (`ReportedGroup`: "38 of Kyrgyzstan"): the
groups may not exceed the overall number when both are given, so the overall one, when
there is one, is never less.

It is one module because four places count people (the list's summary, rows, map and
chart, and the maintained counts of `public_counts.py`), and they must agree.
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest

from incidents.models import Detention, DetentionRole, Incident, Outcome, ReportedGroup
from incidents.partial_dates import DatePrecision

RELEASED_OUTCOMES = (Outcome.RELEASED, Outcome.HANDED_OVER)


def named_detentions_count(user, **conditions) -> Coalesce:
    """Per incident (as a correlated subquery): its visible detentions of detained people."""
    detentions = (
        Detention.objects.visible_to(user)
        .filter(incident=OuterRef("pk"), **conditions)
        .exclude(role=DetentionRole.WITNESS)
        .order_by()
        .values("incident")
        .annotate(named=Count("pk"))
        .values("named")
    )
    return Coalesce(Subquery(detentions, output_field=IntegerField()), 0)


def reported_groups_total(field_name: str) -> Subquery:
    """Per incident (as a correlated subquery): what its reported groups add up to, or
    NULL when none gives a number. Read by its unique index (incident, citizenship), and
    only for an incident with no overall number: COALESCE stops at the first value that is
    not NULL on both databases."""
    totals = (
        ReportedGroup.objects.filter(incident=OuterRef("pk"))
        .order_by()
        .values("incident")
        .annotate(total=Sum(field_name))
        .values("total")
    )
    return Subquery(totals, output_field=IntegerField())


def people_detained(user) -> Greatest:
    """max(reported number detained, named detainees) of one incident, as an expression."""
    return Greatest(
        Coalesce(
            "reported_detained_count",
            reported_groups_total("detained_count"),
            0,
            output_field=IntegerField(),
        ),
        named_detentions_count(user),
        output_field=IntegerField(),
    )


def people_released(user) -> Greatest:
    """max(reported number released, named detainees released or handed over)."""
    return Greatest(
        Coalesce(
            "reported_released_count",
            reported_groups_total("released_count"),
            0,
            output_field=IntegerField(),
        ),
        named_detentions_count(user, outcome__in=RELEASED_OUTCOMES),
        output_field=IntegerField(),
    )


def reported_number(overall: int | None, groups: list[int | None]) -> int:
    """The rule above on values already read: the overall number, or the groups' sum."""
    if overall is not None:
        return overall
    return sum(number for number in groups if number is not None)


@dataclass(frozen=True)
class Summary:
    incidents: int
    people_detained: int
    people_released: int


def summarize(incidents: QuerySet[Incident], user) -> Summary:
    """The summary line of a filtered set, in one aggregate query."""
    totals = incidents.order_by().aggregate(
        incidents=Count("pk"),
        detained=Sum(people_detained(user)),
        released=Sum(people_released(user)),
    )
    return Summary(totals["incidents"], totals["detained"] or 0, totals["released"] or 0)


# --- counts over time: the units of the chart and of the maintained counts -------------------

DAY, WEEK, MONTH = "day", "week", "month"

# Which stored precisions can be placed in a bucket of each unit without inventing a day.
PLACEABLE = {
    DAY: {DatePrecision.DAY, DatePrecision.APPROXIMATE},
    WEEK: {DatePrecision.DAY, DatePrecision.APPROXIMATE},
    MONTH: {DatePrecision.DAY, DatePrecision.APPROXIMATE, DatePrecision.MONTH},
}


@dataclass(frozen=True)
class DateRow:
    """One row of the aggregate query: the incidents on one stored date and precision."""

    date: datetime.date | None
    precision: str
    people: int
    incidents: int


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the last day of that month when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def choose_unit(first: datetime.date, last: datetime.date) -> str:
    """Days for up to 31 days, weeks for up to six months, months beyond."""
    if (last - first).days + 1 <= 31:
        return DAY
    try:
        six_months_on = add_months(first, 6)
    except ValueError:  # past year 9999: every later date is within six months
        return WEEK
    if last <= six_months_on:
        return WEEK
    return MONTH


def bucket_index(day: datetime.date, unit: str) -> int:
    """The bucket's place on a line of buckets of `unit`: consecutive buckets differ by 1."""
    if unit == MONTH:
        return day.year * 12 + day.month - 1
    if unit == WEEK:
        return (day.toordinal() - day.weekday()) // 7
    return day.toordinal()


def bucket_start(day: datetime.date, unit: str) -> datetime.date:
    if unit == WEEK:
        return day - datetime.timedelta(days=day.weekday())  # weeks start on Monday (ISO)
    if unit == MONTH:
        return day.replace(day=1)
    return day


def next_bucket(start: datetime.date, unit: str) -> datetime.date:
    if unit == WEEK:
        return start + datetime.timedelta(days=7)
    if unit == MONTH:
        return add_months(start, 1)
    return start + datetime.timedelta(days=1)


# --- one case: which numbers are reported and which people are named -----------------------


@dataclass(frozen=True)
class CitizenshipPeople:
    """One line of a case's "People detained": the people of one citizenship its sources
    report in numbers (`group`, None when none does) and those named in its detentions."""

    citizenship: object  # a django_countries Country
    group: ReportedGroup | None
    named: int


@dataclass(frozen=True)
class CasePeople:
    lines: list[CitizenshipPeople]
    named: int  # named detainees of any citizenship (or none recorded)

    def __bool__(self) -> bool:
        return bool(self.lines or self.named)


def case_people(groups: Iterable[ReportedGroup], detentions: Iterable[Detention]) -> CasePeople:
    """What a case page says about its people detained, from rows already loaded: its
    reported groups, and its visible detentions (witnesses are not detained). A withheld
    person counts as named: the page lists them, by a neutral label with their
    citizenship. The groups come first, largest first, then the citizenships only named."""
    named_by_code: dict[str, int] = defaultdict(int)
    countries_by_code: dict[str, object] = {}
    named = 0
    for detention in detentions:
        if detention.role == DetentionRole.WITNESS:
            continue
        named += 1
        citizenship = detention.person.citizenship
        if citizenship:
            named_by_code[citizenship.code] += 1
            countries_by_code[citizenship.code] = citizenship
    lines = [
        CitizenshipPeople(group.citizenship, group, named_by_code.pop(group.citizenship.code, 0))
        for group in sorted(
            groups,
            key=lambda g: (-(g.detained_count or 0), str(g.citizenship.name)),
        )
    ]
    lines += [
        CitizenshipPeople(countries_by_code[code], None, count)
        for code, count in sorted(
            named_by_code.items(), key=lambda item: (-item[1], str(countries_by_code[item[0]].name))
        )
    ]
    return CasePeople(lines, named)
