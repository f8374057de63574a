"""Dates known only to the day, the month, the year, or approximately.

A partial date is stored as two columns: a `DateField` holding a representative day inside
the known period (the first day of the month or year, unless a later bound is known, see
`PartialDate.not_before`) and a precision. The representative day makes sorting and range
filters work in SQL; the precision decides what is *shown*, so a month-precision date is
always shown as "January 2022" and never as an invented "1 January 2022".

Models declare the pair explicitly (``detained_on`` + ``detained_on_precision``) so that
migrations, forms and the admin see ordinary fields, and expose the pair as a `PartialDate`
through `PartialDateAttribute`.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _


class DatePrecision(models.TextChoices):
    DAY = "day", _("Exact day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")
    APPROXIMATE = "approximate", _("Around this day")


# How far "around this day" may stray: an approximate date may be any day this far either
# side of the day given (`PartialDate.not_before` / `not_after`).
APPROXIMATE_DAYS = datetime.timedelta(days=3)

# Finer first: where two dates may begin on the same day, the one known more precisely is
# told first ("1 January 2022" before "January 2022"; see `PartialDate.sort_key`).
PRECISION_RANK = {
    DatePrecision.DAY: 0,
    DatePrecision.APPROXIMATE: 1,
    DatePrecision.MONTH: 2,
    DatePrecision.YEAR: 3,
}


def shifted(day: datetime.date, delta: datetime.timedelta) -> datetime.date:
    """`day + delta`, stopping at the ends of the calendar (year 1 or 9999)."""
    try:
        return day + delta
    except OverflowError:
        return datetime.date.max if delta > datetime.timedelta(0) else datetime.date.min


@dataclass(frozen=True)
class PartialDate:
    value: datetime.date
    precision: str

    @classmethod
    def of(cls, value: datetime.date | None, precision: str) -> PartialDate | None:
        if value is None:
            return None
        return cls(truncate(value, precision), precision or DatePrecision.DAY)

    @property
    def earliest(self) -> datetime.date:
        """First day the date can be."""
        if self.precision == DatePrecision.YEAR:
            return self.value.replace(month=1, day=1)
        if self.precision == DatePrecision.MONTH:
            return self.value.replace(day=1)
        return self.value

    @property
    def latest(self) -> datetime.date:
        """Last day the date can be."""
        if self.precision == DatePrecision.YEAR:
            return self.value.replace(month=12, day=31)
        if self.precision == DatePrecision.MONTH:
            last_day = calendar.monthrange(self.value.year, self.value.month)[1]
            return self.value.replace(day=last_day)
        return self.value

    @property
    def not_before(self) -> datetime.date:
        """The earliest day the date may possibly be: its period's first day, or for a date
        known only approximately, `APPROXIMATE_DAYS` before the day given."""
        if self.precision == DatePrecision.APPROXIMATE:
            return shifted(self.value, -APPROXIMATE_DAYS)
        return self.earliest

    @property
    def not_after(self) -> datetime.date:
        """The latest day the date may possibly be: its period's last day, or for a date
        known only approximately, `APPROXIMATE_DAYS` after the day given."""
        if self.precision == DatePrecision.APPROXIMATE:
            return shifted(self.value, APPROXIMATE_DAYS)
        return self.latest

    def sort_key(self) -> tuple[datetime.date, int]:
        """The order of a timeline: by the earliest possible day, and among dates that may
        begin on the same day, the finer first (day, around a day, month, year). So "1 January
        2022" comes before "January 2022", which comes before "2 January 2022": the month is
        told where it may begin, never after a day it may precede."""
        return (self.not_before, PRECISION_RANK.get(self.precision, len(PRECISION_RANK)))

    @property
    def is_exact_day(self) -> bool:
        return self.precision == DatePrecision.DAY

    def can_be_before(self, other: PartialDate) -> bool:
        """True unless this date is certainly after `other` (their periods do not overlap)."""
        return self.earliest <= other.latest

    def iso(self) -> str:
        """Machine form at the known precision: 2022-01-07, 2022-01 or 2022."""
        if self.precision == DatePrecision.YEAR:
            return f"{self.value.year:04d}"
        if self.precision == DatePrecision.MONTH:
            return f"{self.value.year:04d}-{self.value.month:02d}"
        return self.value.isoformat()

    def __str__(self) -> str:
        if self.precision == DatePrecision.YEAR:
            return formats.date_format(self.value, "Y")
        if self.precision == DatePrecision.MONTH:
            return formats.date_format(self.value, "YEAR_MONTH_FORMAT")
        # "E" is the month name as used inside a date (genitive in Russian: "7 января 2022").
        day = formats.date_format(self.value, "j E Y")
        if self.precision == DatePrecision.APPROXIMATE:
            return pgettext("approximate date", "around %(date)s") % {"date": day}
        return day


def possible_span(
    start: PartialDate | None, end: PartialDate | None
) -> tuple[datetime.date | None, datetime.date | None]:
    """The earliest and the latest day a span `start`…`end` may cover, each date taken at its
    precision: from the start's earliest possible day to the end's latest possible day, or
    the start's when there is no end ("January 2022" → 1–31 January 2022; "around 7 January"
    → 4–10 January). An unknown start gives (None, None): the span may be any days."""
    if start is None:
        return None, None
    return start.not_before, (end or start).not_after


def custody_days(
    detained: PartialDate | None, released: PartialDate | None
) -> tuple[int, int] | None:
    """The fewest and the most whole days from detention to release, each date taken at its
    precision; equal when both are known to the day. None when either is unknown."""
    if detained is None or released is None:
        return None
    if detained.is_exact_day and released.is_exact_day:
        days = (released.value - detained.value).days
        return days, days
    fewest = max(0, (released.not_before - detained.not_after).days)
    most = max(fewest, (released.not_after - detained.not_before).days)
    return fewest, most


class DateMatch(models.TextChoices):
    """How a date range filter treats a date known only to a period."""

    POSSIBLE = "possible", _("may fall in the range")
    CERTAIN = "certain", _("certainly within the range")


def range_condition(
    after: datetime.date | None,
    before: datetime.date | None,
    match: str = DateMatch.POSSIBLE,
    earliest: str = "earliest_date",
    latest: str = "latest_date",
) -> Q:
    """Rows whose possible days (`earliest`…`latest`, see `possible_span`) may share a day with
    the range `after`…`before` (`DateMatch.POSSIBLE`), or lie certainly inside it
    (`DateMatch.CERTAIN`). Either end of the range may be open. A row with no known date may
    fall in any range, and is never certainly within one."""
    if after is None and before is None:
        return Q()
    if match == DateMatch.CERTAIN:
        condition = Q(**{f"{earliest}__isnull": False})
        if after is not None:
            condition &= Q(**{f"{earliest}__gte": after})
        if before is not None:
            condition &= Q(**{f"{latest}__lte": before})
        return condition
    condition = Q()
    if after is not None:
        condition &= Q(**{f"{latest}__gte": after})
    if before is not None:
        condition &= Q(**{f"{earliest}__lte": before})
    return condition | Q(**{f"{earliest}__isnull": True})


def certainly_within(
    earliest: datetime.date | None,
    latest: datetime.date | None,
    after: datetime.date | None,
    before: datetime.date | None,
) -> bool:
    """`range_condition(…, CERTAIN)` for values already read: for marking the rows that
    only possibly match a range."""
    if earliest is None or latest is None:
        return False
    return (after is None or earliest >= after) and (before is None or latest <= before)


def truncate(value: datetime.date, precision: str) -> datetime.date:
    """The representative day stored for a date known to `precision`."""
    if precision == DatePrecision.YEAR:
        return value.replace(month=1, day=1)
    if precision == DatePrecision.MONTH:
        return value.replace(day=1)
    return value


def normalize_pair(
    instance: models.Model, date_field: str, not_before: datetime.date | None = None
) -> None:
    """Store the representative day for the precision; called from the models' `save()`.

    A date without a precision is taken as exact; a precision without a date is dropped.
    `not_before` is a known earlier bound (a release is not before its detention): when it
    falls inside this date's period, the representative day moves up to it, so a release
    in "January 2022" after a detention on 7 January 2022 is stored as 7 January and the
    database's "release not before detention" constraint holds. It is still shown as
    "January 2022".
    """
    precision_name = f"{date_field}_precision"
    value = getattr(instance, date_field)
    if value is None:
        setattr(instance, precision_name, "")
        return
    precision = getattr(instance, precision_name) or DatePrecision.DAY
    value = truncate(value, precision)
    partial = PartialDate(value, precision)
    if not_before is not None and value < not_before <= partial.latest:
        value = not_before
    setattr(instance, precision_name, precision)
    setattr(instance, date_field, value)


def precision_field(verbose_name: str) -> models.CharField:
    return models.CharField(
        verbose_name,
        max_length=16,
        choices=DatePrecision.choices,
        blank=True,
        help_text=_("How precisely the date is known. Empty when the date is unknown."),
    )


def precision_constraint(model_name: str, date_field: str) -> models.CheckConstraint:
    """A date has a precision and a precision has a date: never one without the other."""
    precision = f"{date_field}_precision"
    return models.CheckConstraint(
        condition=(
            Q(**{f"{date_field}__isnull": True, precision: ""})
            | (Q(**{f"{date_field}__isnull": False}) & ~Q(**{precision: ""}))
        ),
        name=f"{model_name}_{date_field}_has_precision",
        violation_error_message=_("A date needs a precision, and a precision needs a date."),
    )


class PartialDateAttribute:
    """Read-only access to a date/precision pair as one `PartialDate` (or None)."""

    def __init__(self, date_field: str):
        self.date_field = date_field
        self.precision_field = f"{date_field}_precision"

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return PartialDate.of(
            getattr(instance, self.date_field), getattr(instance, self.precision_field)
        )


END_BEFORE_START = _("The end date cannot be before the start date.")


def span_constraints(model_name: str) -> list[models.CheckConstraint]:
    """The constraints of a `start_date`–`end_date` span: each date has its precision, and the
    end is not before the start."""
    return [
        precision_constraint(model_name, "start_date"),
        precision_constraint(model_name, "end_date"),
        models.CheckConstraint(
            condition=Q(end_date__isnull=True)
            | Q(start_date__isnull=True)
            | Q(end_date__gte=models.F("start_date")),
            name=f"{model_name}_ends_after_start",
            violation_error_message=END_BEFORE_START,
        ),
    ]


class PartialDated:
    """A model mixin for a record with one partial date (`partial_date_field`, with its
    `<field>_precision`): the date is stored as its representative day on every save and
    on clean(). `PartialDateSpan` extends it to a start and an end."""

    partial_date_field = ""

    def date_fields(self) -> tuple[str, ...]:
        return (self.partial_date_field,)

    def normalize_dates(self) -> None:
        """Store each date's representative day (see `normalize_pair`). Called from clean()
        as well as save(): full_clean() checks the constraints before save() runs, and
        "January 2022" entered as its first day must pass them as it will be stored."""
        normalize_pair(self, self.partial_date_field)

    def save(self, *args, **kwargs):
        self.normalize_dates()
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self.check_plausible_years()
        self.normalize_dates()

    def check_plausible_years(self) -> None:
        """Every write path (staff forms, admin, API, importer) cleans the record: a year
        outside the plausible range is a typo (1022, 9999), refused with the range."""
        check_plausible_dates(self, self.date_fields())


def check_plausible_dates(record, field_names) -> None:
    """Refuse, naming each field, a date of `record` whose year is outside
    `plausible_years()`. For any model's clean(): the partial dates of the mixins below, and
    plain dates (a source's access date, a follow-up's, a post's term)."""
    first, last = plausible_years()
    errors = {}
    for name in field_names:
        value = getattr(record, name)
        if isinstance(value, datetime.date) and not first <= value.year <= last:
            errors[name] = gettext("Enter a year from %(first)d to %(last)d.") % {
                "first": first,
                "last": last,
            }
    if errors:
        raise ValidationError(errors)


def plausible_years() -> tuple[int, int]:
    """The years a date of this tracker may fall in (settings.PLAUSIBLE_FIRST_YEAR to this
    year plus settings.PLAUSIBLE_YEARS_AHEAD, for a date announced ahead: a trial)."""
    return (
        settings.PLAUSIBLE_FIRST_YEAR,
        timezone.localdate().year + settings.PLAUSIBLE_YEARS_AHEAD,
    )


def span_dates(
    row, start_field: str = "start_date", end_field: str = "end_date"
) -> tuple[PartialDate | None, PartialDate | None]:
    """The start and end of a span as `PartialDate`s, read from any object with the fields
    (a model instance, or a historical model's in a data migration)."""
    return tuple(
        PartialDate.of(getattr(row, name), getattr(row, f"{name}_precision"))
        for name in (start_field, end_field)
    )


class PartialDateSpan(PartialDated):
    """A model mixin for a record that spans two partial dates, a start and an optional end
    (a situation's or incident's `start_date`–`end_date`, a detention's `detained_on`–
    `released_on`). Subclasses name the two fields and the message for an end before the
    start; the database constraint for the same rule is `span_constraints`."""

    span_start_field = "start_date"
    span_end_field = "end_date"
    span_end_before_start_message = END_BEFORE_START
    # Fields that store the span's first and last possible day (see `possible_span`), if
    # the model has them.
    span_earliest_field = ""
    span_latest_field = ""

    def date_fields(self) -> tuple[str, ...]:
        return (self.span_start_field, self.span_end_field)

    def normalize_dates(self) -> None:
        normalize_pair(self, self.span_start_field)
        normalize_pair(self, self.span_end_field, not_before=getattr(self, self.span_start_field))
        earliest, latest = self.possible_span()
        if self.span_earliest_field:
            setattr(self, self.span_earliest_field, earliest)
        if self.span_latest_field:
            setattr(self, self.span_latest_field, latest)

    def possible_span(self) -> tuple[datetime.date | None, datetime.date | None]:
        """The first and the last day the span may cover (`possible_span`)."""
        return possible_span(*span_dates(self, self.span_start_field, self.span_end_field))

    def clean(self):
        super().clean()
        start = PartialDate.of(
            getattr(self, self.span_start_field),
            getattr(self, f"{self.span_start_field}_precision"),
        )
        end = PartialDate.of(
            getattr(self, self.span_end_field), getattr(self, f"{self.span_end_field}_precision")
        )
        if start and end and not start.can_be_before(end):
            raise ValidationError({self.span_end_field: self.span_end_before_start_message})
