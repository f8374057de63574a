"""Partial dates: shown at the precision they are known to, stored as a sortable day."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from incidents.models import Detention, Incident
from incidents.partial_dates import DatePrecision, PartialDate
from tests.factories import DetentionFactory, IncidentFactory, LocationFactory, PersonFactory

JAN_7 = datetime.date(2022, 1, 7)


# Display --------------------------------------------------------------------------------


def test_it_shows_an_exact_day_with_day_month_and_year():
    assert str(PartialDate(JAN_7, DatePrecision.DAY)) == "7 January 2022"


def test_it_shows_a_month_without_inventing_a_day():
    shown = str(PartialDate.of(JAN_7, DatePrecision.MONTH))

    assert shown == "January 2022"
    assert "1 January" not in shown


def test_it_shows_a_year_alone():
    assert str(PartialDate.of(JAN_7, DatePrecision.YEAR)) == "2022"


def test_it_shows_an_approximate_day_as_around_that_day():
    assert str(PartialDate(JAN_7, DatePrecision.APPROXIMATE)) == "around 7 January 2022"


def test_it_shows_a_russian_day_with_the_genitive_month():
    with translation.override("ru"):
        shown = str(PartialDate(JAN_7, DatePrecision.DAY))

    assert shown == "7 января 2022"


def test_it_shows_a_russian_month_with_the_month_name_and_year():
    with translation.override("ru"):
        shown = str(PartialDate.of(JAN_7, DatePrecision.MONTH))

    # Django's Russian YEAR_MONTH_FORMAT is "Январь 2022 г."; what matters is that the month
    # is named and no day is invented.
    assert "январь" in shown.lower()
    assert "2022" in shown
    assert "1 " not in shown and "7" not in shown


def test_it_shows_a_russian_year_alone():
    with translation.override("ru"):
        assert str(PartialDate.of(JAN_7, DatePrecision.YEAR)) == "2022"


# Machine form and bounds ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        (DatePrecision.DAY, "2022-01-07"),
        (DatePrecision.APPROXIMATE, "2022-01-07"),
        (DatePrecision.MONTH, "2022-01"),
        (DatePrecision.YEAR, "2022"),
    ],
)
def test_it_gives_the_iso_form_at_the_known_precision(precision, expected):
    assert PartialDate.of(JAN_7, precision).iso() == expected


def test_it_bounds_a_month_by_its_first_and_last_day():
    january = PartialDate.of(JAN_7, DatePrecision.MONTH)

    assert january.earliest == datetime.date(2022, 1, 1)
    assert january.latest == datetime.date(2022, 1, 31)


def test_it_knows_february_has_29_days_in_a_leap_year():
    assert PartialDate.of(datetime.date(2024, 2, 10), "month").latest == datetime.date(2024, 2, 29)
    assert PartialDate.of(datetime.date(2023, 2, 10), "month").latest == datetime.date(2023, 2, 28)


def test_it_bounds_a_year_by_new_year_and_new_years_eve():
    year = PartialDate.of(JAN_7, DatePrecision.YEAR)

    assert year.earliest == datetime.date(2022, 1, 1)
    assert year.latest == datetime.date(2022, 12, 31)


def test_it_bounds_an_exact_day_by_itself():
    day = PartialDate(JAN_7, DatePrecision.DAY)

    assert day.earliest == day.latest == JAN_7


def test_it_reads_a_date_without_precision_as_an_exact_day():
    assert PartialDate.of(JAN_7, "").precision == DatePrecision.DAY


def test_it_has_no_partial_date_without_a_date():
    assert PartialDate.of(None, DatePrecision.MONTH) is None


# Saving ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_stores_the_first_day_of_a_month():
    incident = IncidentFactory(start_date=datetime.date(2022, 1, 19), start_date_precision="month")

    incident.refresh_from_db()
    assert incident.start_date == datetime.date(2022, 1, 1)
    assert str(incident.start) == "January 2022"


@pytest.mark.django_db
def test_it_stores_the_first_day_of_a_year():
    incident = IncidentFactory(start_date=datetime.date(2022, 8, 19), start_date_precision="year")

    incident.refresh_from_db()
    assert incident.start_date == datetime.date(2022, 1, 1)
    assert incident.start.iso() == "2022"


@pytest.mark.django_db
def test_it_saves_a_date_without_precision_as_an_exact_day():
    incident = IncidentFactory(start_date=JAN_7, start_date_precision="")

    incident.refresh_from_db()
    assert incident.start_date_precision == DatePrecision.DAY
    assert str(incident.start) == "7 January 2022"


@pytest.mark.django_db
def test_it_drops_a_precision_without_a_date():
    incident = IncidentFactory(start_date=None, start_date_precision="month")

    incident.refresh_from_db()
    assert incident.start_date_precision == ""
    assert incident.start is None


@pytest.mark.django_db
def test_it_accepts_a_month_precision_date_through_full_clean():
    # A form enters "January 2022" as its first day; full_clean() runs before save(), so
    # the date must be normalized there too or the constraints reject a valid release.
    detention = DetentionFactory.build(
        incident=IncidentFactory(),
        person=PersonFactory(),
        detained_on=JAN_7,
        detained_on_precision="day",
        released_on=datetime.date(2022, 1, 1),
        released_on_precision="month",
    )

    detention.full_clean()


@pytest.mark.django_db
def test_it_accepts_a_date_without_precision_through_full_clean():
    incident = IncidentFactory.build(
        location=LocationFactory(), situation=None, start_date_precision=""
    )

    incident.full_clean()

    assert incident.start_date_precision == DatePrecision.DAY


# Release in the month of the detention (the not_before clamp) ---------------------------


@pytest.mark.django_db
def test_it_saves_a_release_in_the_month_of_a_detention_on_a_later_day():
    detention = DetentionFactory(
        detained_on=JAN_7,
        detained_on_precision="day",
        released_on=datetime.date(2022, 1, 1),
        released_on_precision="month",
    )

    detention.refresh_from_db()
    assert detention.released_on == JAN_7
    assert str(detention.released) == "January 2022"
    assert detention.released.iso() == "2022-01"


@pytest.mark.django_db
def test_it_does_not_move_a_release_in_a_later_month():
    detention = DetentionFactory(
        detained_on=JAN_7,
        detained_on_precision="day",
        released_on=datetime.date(2022, 2, 20),
        released_on_precision="month",
    )

    detention.refresh_from_db()
    assert detention.released_on == datetime.date(2022, 2, 1)


@pytest.mark.django_db
def test_it_clamps_an_incident_end_in_the_month_of_its_start():
    incident = IncidentFactory(
        start_date=JAN_7,
        start_date_precision="day",
        end_date=datetime.date(2022, 1, 3),
        end_date_precision="month",
    )

    incident.refresh_from_db()
    assert incident.end_date == JAN_7
    assert str(incident.end) == "January 2022"


@pytest.mark.django_db
def test_the_database_still_rejects_a_release_before_the_detention_without_the_clamp():
    # The clamp lives in save(); the constraint is what guards a bypassing write.
    detention = DetentionFactory(detained_on=JAN_7, detained_on_precision="day")

    with transaction.atomic(), pytest.raises(IntegrityError):
        Detention.objects.filter(pk=detention.pk).update(
            released_on=datetime.date(2022, 1, 1), released_on_precision="month"
        )


# Days in custody ------------------------------------------------------------------------


def test_it_counts_days_in_custody_between_exact_days():
    detention = Detention(
        detained_on=JAN_7,
        detained_on_precision="day",
        released_on=datetime.date(2022, 1, 17),
        released_on_precision="day",
    )

    assert detention.days_in_custody == 10


@pytest.mark.parametrize(
    ("detained_precision", "released_precision"),
    [("day", "month"), ("month", "day"), ("approximate", "day"), ("day", "year")],
)
def test_it_does_not_count_days_in_custody_unless_both_days_are_exact(
    detained_precision, released_precision
):
    detention = Detention(
        detained_on=JAN_7,
        detained_on_precision=detained_precision,
        released_on=datetime.date(2022, 1, 17),
        released_on_precision=released_precision,
    )

    assert detention.days_in_custody is None


def test_it_does_not_count_days_in_custody_for_someone_not_released():
    detention = Detention(detained_on=JAN_7, detained_on_precision="day")

    assert detention.days_in_custody is None


@pytest.mark.django_db
def test_an_incident_with_a_month_start_sorts_by_its_first_day():
    IncidentFactory(slug="late", start_date=datetime.date(2022, 1, 20), start_date_precision="day")
    IncidentFactory(slug="month", start_date=JAN_7, start_date_precision="month")

    slugs = list(Incident.objects.order_by("start_date").values_list("slug", flat=True))

    assert slugs == ["month", "late"]
