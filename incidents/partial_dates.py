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
        first, last = plausible_years()
        errors = {}
        for name in self.date_fields():
            value = getattr(self, name)
            if value is not None and not first <= value.year <= last:
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


class PartialDateSpan(PartialDated):
    """A model mixin for a record that spans two partial dates, a start and an optional end
    (a situation's or incident's `start_date`–`end_date`, a detention's `detained_on`–
    `released_on`). Subclasses name the two fields and the message for an end before the
    start; the database constraint for the same rule is `span_constraints`."""

    span_start_field = "start_date"
    span_end_field = "end_date"
    span_end_before_start_message = END_BEFORE_START
    # A field that stores the span's last possible day (see `latest_of_span`), if the model
    # has one.
    span_latest_field = ""

    def date_fields(self) -> tuple[str, ...]:
        return (self.span_start_field, self.span_end_field)

    def normalize_dates(self) -> None:
        normalize_pair(self, self.span_start_field)
        normalize_pair(self, self.span_end_field, not_before=getattr(self, self.span_start_field))
        if self.span_latest_field:
            setattr(self, self.span_latest_field, self.latest_of_span())

    def latest_of_span(self) -> datetime.date | None:
        """The last day the span may reach: its end's last possible day, else its start's."""
        for name in (self.span_end_field, self.span_start_field):
            partial = PartialDate.of(getattr(self, name), getattr(self, f"{name}_precision"))
            if partial is not None:
                return partial.latest
        return None

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
