"""Rules on incidents, detentions, places, statements and sources.

Each absolute rule is checked twice: the database rejects a write that bypasses the model
(`update()` skips save() and clean()), and full_clean(), which forms and services call, names
the field to correct, so an editor sees the message next to it.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F

from incidents.models import (
    Detention,
    DisputeStatus,
    Incident,
    IncidentEvent,
    Situation,
    Source,
    Statement,
)
from tests.factories import (
    CountryFactory,
    DetentionFactory,
    IncidentEventFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    PositionFactory,
    SituationFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

JAN_7 = datetime.date(2022, 1, 7)


def assert_database_rejects(instance: models.Model, **values) -> None:
    """Write `values` straight to the row, past save() and clean(): the database must refuse.

    The atomic block keeps the failed statement from breaking the test's transaction on
    PostgreSQL."""
    with transaction.atomic(), pytest.raises(IntegrityError):
        type(instance).objects.filter(pk=instance.pk).update(**values)


def assert_invalid(instance: models.Model, field: str) -> None:
    """full_clean() refuses the instance, with the error on `field` and nowhere else."""
    with pytest.raises(ValidationError) as error:
        instance.full_clean()
    assert set(error.value.message_dict) == {field}


# Detention dates ------------------------------------------------------------------------


def test_the_database_rejects_a_release_before_the_detention():
    detention = DetentionFactory(detained_on=JAN_7, detained_on_precision="day")

    assert_database_rejects(
        detention, released_on=datetime.date(2022, 1, 5), released_on_precision="day"
    )


def test_it_rejects_a_release_before_the_detention():
    detention = DetentionFactory(detained_on=JAN_7, detained_on_precision="day")
    detention.released_on = datetime.date(2022, 1, 5)
    detention.released_on_precision = "day"

    assert_invalid(detention, "released_on")


def test_it_rejects_a_release_in_a_month_before_the_detention():
    detention = DetentionFactory(detained_on=JAN_7, detained_on_precision="day")
    detention.released_on = datetime.date(2021, 12, 1)
    detention.released_on_precision = "month"

    assert_invalid(detention, "released_on")


def test_it_accepts_a_release_in_the_month_of_the_detention():
    detention = DetentionFactory(detained_on=JAN_7, detained_on_precision="day")
    detention.released_on = datetime.date(2022, 1, 1)
    detention.released_on_precision = "month"
    detention.outcome = "released"

    detention.full_clean()
    detention.save()

    detention.refresh_from_db()
    assert detention.released_on == JAN_7
    assert str(detention.released) == "January 2022"


def test_it_rejects_a_release_date_for_someone_still_held():
    detention = DetentionFactory(released_on=datetime.date(2022, 1, 9), released_on_precision="day")
    detention.outcome = "still_held"

    assert_invalid(detention, "outcome")


def test_the_database_rejects_a_second_detention_of_a_person_in_one_incident():
    detention = DetentionFactory()

    with transaction.atomic(), pytest.raises(IntegrityError):
        Detention.objects.bulk_create(
            [Detention(incident=detention.incident, person=detention.person)]
        )


# Incident dates and counts --------------------------------------------------------------


def test_the_database_rejects_an_incident_ending_before_it_starts():
    incident = IncidentFactory(start_date=JAN_7, start_date_precision="day")

    assert_database_rejects(incident, end_date=datetime.date(2022, 1, 6), end_date_precision="day")


def test_it_rejects_an_incident_ending_before_it_starts():
    incident = IncidentFactory(start_date=JAN_7, start_date_precision="day")
    incident.end_date = datetime.date(2022, 1, 6)
    incident.end_date_precision = "day"

    assert_invalid(incident, "end_date")


def test_it_rejects_a_situation_ending_before_it_starts():
    situation = SituationFactory(start_date=JAN_7, start_date_precision="day")
    situation.end_date = datetime.date(2021, 1, 1)
    situation.end_date_precision = "year"

    assert_invalid(situation, "end_date")


@pytest.mark.parametrize("field", ["reported_detained_count", "reported_released_count"])
def test_the_database_rejects_a_negative_count(field):
    incident = IncidentFactory()

    assert_database_rejects(incident, **{field: -1})


@pytest.mark.parametrize("field", ["reported_detained_count", "reported_released_count"])
def test_it_rejects_a_negative_count(field):
    incident = IncidentFactory()
    setattr(incident, field, -1)

    assert_invalid(incident, field)


def test_the_database_rejects_more_released_than_detained():
    incident = IncidentFactory()

    assert_database_rejects(incident, reported_detained_count=3, reported_released_count=5)


def test_it_rejects_more_released_than_detained():
    incident = IncidentFactory(reported_detained_count=3)
    incident.reported_released_count = 5

    assert_invalid(incident, "reported_released_count")


def test_it_accepts_a_released_count_without_a_detained_count():
    incident = IncidentFactory()
    incident.reported_released_count = 5

    incident.full_clean()


# Dates and their precision --------------------------------------------------------------

DATED_RECORDS = [
    (IncidentFactory, "start_date"),
    (SituationFactory, "start_date"),
    (DetentionFactory, "detained_on"),
    (IncidentEventFactory, "occurred_on"),
    (StatementFactory, "said_on"),
    (SourceFactory, "published_on"),
]


@pytest.mark.parametrize(("factory", "date_field"), DATED_RECORDS)
def test_the_database_rejects_a_date_without_a_precision(factory, date_field):
    record = factory()

    assert_database_rejects(record, **{f"{date_field}_precision": ""})


@pytest.mark.parametrize(("factory", "date_field"), DATED_RECORDS)
def test_the_database_rejects_a_precision_without_a_date(factory, date_field):
    record = factory()

    assert_database_rejects(record, **{date_field: None})


def test_the_precision_constraints_cover_every_dated_model():
    # A new dated model must join DATED_RECORDS above (and get its constraint).
    names = {
        constraint.name
        for model in (Incident, Situation, Detention, IncidentEvent, Statement, Source)
        for constraint in model._meta.constraints
        if constraint.name.endswith("_has_precision")
    }

    assert names == {
        "incident_start_date_has_precision",
        "incident_end_date_has_precision",
        "situation_start_date_has_precision",
        "situation_end_date_has_precision",
        "detention_detained_on_has_precision",
        "detention_released_on_has_precision",
        "incidentevent_occurred_on_has_precision",
        "statement_said_on_has_precision",
        "source_published_on_has_precision",
    }


# Locations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(Decimal("91"), Decimal("0")), (Decimal("0"), Decimal("-181"))]
)
def test_the_database_rejects_coordinates_off_the_globe(latitude, longitude):
    location = LocationFactory()

    assert_database_rejects(location, latitude=latitude, longitude=longitude)


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        (Decimal("91"), Decimal("0"), "latitude"),
        (Decimal("-90.5"), Decimal("0"), "latitude"),
        (Decimal("0"), Decimal("-181"), "longitude"),
        (Decimal("0"), Decimal("180.5"), "longitude"),
    ],
)
def test_it_rejects_coordinates_off_the_globe(latitude, longitude, field):
    location = LocationFactory()
    location.latitude, location.longitude = latitude, longitude
    location.coordinate_precision = "exact"

    assert_invalid(location, field)


def test_it_accepts_coordinates_at_the_edge_of_the_globe():
    location = LocationFactory()
    location.latitude, location.longitude = Decimal("-90"), Decimal("180")
    location.coordinate_precision = "exact"

    location.full_clean()


def test_the_database_rejects_a_latitude_without_a_longitude():
    location = LocationFactory()

    assert_database_rejects(location, latitude=Decimal("42.87"))


def test_it_asks_for_the_missing_longitude():
    location = LocationFactory()
    location.latitude = Decimal("42.87")
    location.coordinate_precision = "city"

    assert_invalid(location, "longitude")


def test_it_asks_for_the_missing_latitude():
    location = LocationFactory()
    location.longitude = Decimal("74.59")
    location.coordinate_precision = "city"

    assert_invalid(location, "latitude")


def test_it_asks_how_precise_coordinates_are():
    location = LocationFactory()
    location.latitude, location.longitude = Decimal("42.87"), Decimal("74.59")

    assert_invalid(location, "coordinate_precision")


def test_the_database_rejects_a_place_inside_itself():
    location = LocationFactory()

    assert_database_rejects(location, parent=F("pk"))


def test_it_rejects_a_place_inside_itself():
    location = LocationFactory()
    location.parent = location

    assert_invalid(location, "parent")


def test_it_rejects_a_place_inside_its_own_descendant():
    country = CountryFactory()
    city = LocationFactory(parent=country)
    police_station = LocationFactory(parent=city, kind="police_station")
    country.parent = police_station

    assert_invalid(country, "parent")


def test_it_accepts_moving_a_place_under_another_branch():
    country = CountryFactory()
    city = LocationFactory(parent=country)
    other_city = LocationFactory(parent=country)
    police_station = LocationFactory(parent=city, kind="police_station")
    police_station.parent = other_city

    police_station.full_clean()


# Unique slugs and URLs ------------------------------------------------------------------


@pytest.mark.parametrize("factory", [IncidentFactory, LocationFactory, SituationFactory])
def test_the_database_rejects_a_duplicate_slug(factory):
    first, second = factory(), factory()

    assert_database_rejects(second, slug=first.slug)


@pytest.mark.parametrize("factory", [IncidentFactory, LocationFactory, SituationFactory])
def test_it_rejects_a_duplicate_slug(factory):
    first, second = factory(), factory()
    second.slug = first.slug

    assert_invalid(second, "slug")


def test_the_database_rejects_a_duplicate_source_url():
    first, second = SourceFactory(), SourceFactory()

    assert_database_rejects(second, url=first.url)


def test_it_rejects_a_duplicate_source_url():
    first, second = SourceFactory(), SourceFactory()
    second.url = first.url

    assert_invalid(second, "url")


def test_it_allows_several_sources_without_a_url():
    # Printed reports and testimonies have no URL; the uniqueness is only among URLs.
    SourceFactory(url="")
    second = SourceFactory(url="")

    second.full_clean()
    assert Source.objects.filter(url="").count() == 2


# Statements -----------------------------------------------------------------------------


def test_the_database_rejects_a_statement_without_a_speaker():
    statement = StatementFactory()

    assert_database_rejects(statement, speaker_organization=None, speaker_person=None)


def test_it_rejects_a_statement_without_a_speaker():
    statement = StatementFactory()
    statement.speaker_organization = None

    assert_invalid(statement, "speaker_person")


def test_it_accepts_a_statement_by_a_person_alone():
    statement = StatementFactory(speaker_organization=None, speaker_person=PersonFactory())

    statement.full_clean()


@pytest.mark.parametrize("status", [DisputeStatus.DISPUTED, DisputeStatus.REFUTED])
def test_it_asks_how_a_disputed_statement_was_disputed(status):
    statement = StatementFactory(dispute_status=status, dispute_note="   ")

    assert_invalid(statement, "dispute_note")


def test_it_accepts_a_disputed_statement_with_a_note():
    statement = StatementFactory(
        dispute_status=DisputeStatus.DISPUTED, dispute_note="Denied by his lawyer (source 3)."
    )

    statement.full_clean()


def test_it_rejects_a_post_held_by_someone_else():
    speaker = PersonFactory()
    statement = StatementFactory(speaker_person=speaker, position=PositionFactory())

    assert_invalid(statement, "position")


def test_it_accepts_a_post_held_by_the_speaker():
    speaker = PersonFactory()
    statement = StatementFactory(speaker_person=speaker, position=PositionFactory(person=speaker))

    statement.full_clean()


def test_it_rejects_a_language_that_is_not_an_iso_code():
    statement = StatementFactory()
    statement.language = "RU"

    assert_invalid(statement, "language")
