"""Persons, their name variants, organizations and posts.

Absolute rules are checked twice: the database rejects a write that bypasses the model, and
full_clean() names the field to correct."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from people.models import NameKind, Person, PersonName
from tests.factories import (
    OrganizationFactory,
    PersonFactory,
    PersonNameFactory,
    PositionFactory,
)

pytestmark = pytest.mark.django_db


def assert_database_rejects(instance: models.Model, **values) -> None:
    """Write `values` straight to the row, past save() and clean(): the database must refuse."""
    with transaction.atomic(), pytest.raises(IntegrityError):
        type(instance).objects.filter(pk=instance.pk).update(**values)


def assert_invalid(instance: models.Model, field: str) -> None:
    """full_clean() refuses the instance, with the error on `field` and nowhere else."""
    with pytest.raises(ValidationError) as error:
        instance.full_clean()
    assert set(error.value.message_dict) == {field}


# Person ---------------------------------------------------------------------------------


def test_the_database_rejects_an_implausible_birth_year():
    person = PersonFactory()

    assert_database_rejects(person, birth_year=1800)


def test_it_rejects_an_implausible_birth_year():
    person = PersonFactory()
    person.birth_year = 1800

    assert_invalid(person, "birth_year")


def test_it_accepts_a_plausible_birth_year():
    person = PersonFactory(birth_year=1987)

    person.full_clean()


@pytest.mark.parametrize("factory", [PersonFactory, OrganizationFactory])
def test_the_database_rejects_a_duplicate_slug(factory):
    first, second = factory(), factory()

    assert_database_rejects(second, slug=first.slug)


@pytest.mark.parametrize("factory", [PersonFactory, OrganizationFactory])
def test_it_rejects_a_duplicate_slug(factory):
    first, second = factory(), factory()
    second.slug = first.slug

    assert_invalid(second, "slug")


def test_it_stores_a_search_key_from_the_name_and_the_native_name():
    person = PersonFactory(name="Vikram Ruzakhunov", name_native="Викрам Рузахунов")

    person.refresh_from_db()
    # Both names fold to the same words; the key holds each spelling's words once per name.
    assert person.name_key == "ruzahunov ruzahunov vikram vikram"


def test_it_updates_the_search_key_when_saving_only_the_name():
    person = PersonFactory(name="Vikram Ruzakhunov")
    person.name = "Zakir Yuburov"

    person.save(update_fields=["name"])

    person.refresh_from_db()
    assert person.name_key == "iuburov zakir"


def test_it_shows_a_withheld_identity_only_to_staff():
    person = PersonFactory(name="Vikram Ruzakhunov", identity_withheld=True, citizenship="KG")

    assert person.display_name(for_staff=True) == "Vikram Ruzakhunov"
    assert "Ruzakhunov" not in person.display_name(for_staff=False)
    assert "Kyrgyzstan" in person.display_name(for_staff=False)


def test_it_shows_a_name_that_is_not_withheld_to_everyone():
    person = PersonFactory(name="Vikram Ruzakhunov")

    assert person.display_name(for_staff=False) == "Vikram Ruzakhunov"


# Name variants --------------------------------------------------------------------------


def test_it_stores_a_variants_search_key_and_script():
    variant = PersonNameFactory(name="Рузахунов Викрам", kind=NameKind.NATIVE_SCRIPT)

    variant.refresh_from_db()
    assert variant.name_key == "ruzahunov vikram"
    assert variant.script == "cyrillic"


def test_it_records_the_latin_script_of_a_variant():
    variant = PersonNameFactory(name="Ruzahunov")

    variant.refresh_from_db()
    assert variant.script == "latin"


@pytest.mark.parametrize("kind", [NameKind.SPELLING, NameKind.ALIAS, NameKind.TRANSLITERATION])
def test_the_database_rejects_a_real_bearer_for_a_name_that_is_not_a_misidentification(kind):
    variant = PersonNameFactory(kind=kind)

    assert_database_rejects(variant, other_person=PersonFactory())


def test_it_rejects_a_real_bearer_for_a_name_that_is_not_a_misidentification():
    variant = PersonNameFactory(kind=NameKind.SPELLING)
    variant.other_person = PersonFactory()

    assert_invalid(variant, "other_person")


def test_it_records_the_real_bearer_of_a_misidentified_name():
    real_bearer = PersonFactory(name="Vikram Ruzakhunov")
    variant = PersonNameFactory(
        name="Vikram Ruzakhunov", kind=NameKind.MISIDENTIFIED_AS, other_person=real_bearer
    )

    variant.full_clean()
    assert list(real_bearer.names_misattributed.all()) == [variant]


def test_the_database_rejects_a_person_misidentified_as_themselves():
    variant = PersonNameFactory(kind=NameKind.MISIDENTIFIED_AS)

    assert_database_rejects(variant, other_person=F("person"))


def test_it_rejects_a_person_misidentified_as_themselves():
    variant = PersonNameFactory(kind=NameKind.MISIDENTIFIED_AS)
    variant.other_person = variant.person

    assert_invalid(variant, "other_person")


def test_the_database_rejects_the_same_variant_twice():
    variant = PersonNameFactory()

    with transaction.atomic(), pytest.raises(IntegrityError):
        PersonName.objects.bulk_create(
            [PersonName(person=variant.person, name=variant.name, kind=variant.kind)]
        )


# Organizations and posts ----------------------------------------------------------------


def test_the_database_rejects_an_organization_inside_itself():
    organization = OrganizationFactory()

    assert_database_rejects(organization, parent=F("pk"))


def test_the_database_rejects_a_post_ending_before_it_starts():
    position = PositionFactory(start_date=datetime.date(2021, 3, 1))

    assert_database_rejects(position, end_date=datetime.date(2020, 1, 1))


def test_it_rejects_a_post_ending_before_it_starts():
    position = PositionFactory(start_date=datetime.date(2021, 3, 1))
    position.end_date = datetime.date(2020, 1, 1)

    assert_invalid(position, "end_date")


def test_it_knows_when_a_post_was_held():
    position = PositionFactory(
        start_date=datetime.date(2021, 3, 1), end_date=datetime.date(2022, 3, 1)
    )

    assert position.was_held_on(datetime.date(2022, 1, 7))
    assert not position.was_held_on(datetime.date(2022, 3, 2))


# Searching by name ----------------------------------------------------------------------


@pytest.fixture
def ruzakhunov():
    person = PersonFactory(name="Vikram Ruzakhunov", name_native="Викрам Рузахунов")
    PersonNameFactory(person=person, name="Rouzakhounov", kind=NameKind.TRANSLITERATION)
    return person


@pytest.fixture
def someone_else():
    return PersonFactory(name="Zakir Yuburov")


@pytest.mark.parametrize(
    "query",
    ["Vikram Ruzakhunov", "RUZAKHUNOV", "ruzahunov", "Рузахунов", "Ruzakhunov, Vikram"],
)
def test_it_finds_a_person_by_the_canonical_name_in_any_spelling(query, ruzakhunov, someone_else):
    assert list(Person.objects.matching_name(query)) == [ruzakhunov]


def test_it_finds_a_person_by_the_native_name(someone_else):
    person = PersonFactory(name="Kamchybek Tashiev", name_native="Камчыбек Ташиев")

    assert list(Person.objects.matching_name("Ташиев")) == [person]


def test_it_finds_a_person_by_a_name_variant(ruzakhunov, someone_else):
    assert list(Person.objects.matching_name("Rouzakhounov")) == [ruzakhunov]


def test_it_requires_every_word_of_the_query(ruzakhunov, someone_else):
    assert list(Person.objects.matching_name("Vikram Yuburov")) == []


def test_it_requires_every_word_in_one_variant(ruzakhunov):
    PersonNameFactory(person=ruzakhunov, name="Vika", kind=NameKind.ALIAS)

    # "Vika" and "Rouzakhounov" are two variants, neither holding both words.
    assert list(Person.objects.matching_name("Vika Rouzakhounov")) == []


def test_it_finds_a_person_once_when_several_names_match(ruzakhunov):
    PersonNameFactory(person=ruzakhunov, name="Ruzakhunov V.", kind=NameKind.SPELLING)

    assert list(Person.objects.matching_name("Ruzakhunov")) == [ruzakhunov]


def test_it_finds_nobody_for_a_query_without_letters(ruzakhunov):
    assert list(Person.objects.matching_name(" - ")) == []


def test_it_searches_within_the_queryset(ruzakhunov):
    ruzakhunov.publication_state = "draft"
    ruzakhunov.save()

    assert list(Person.objects.published().matching_name("Ruzakhunov")) == []
    assert list(Person.objects.matching_name("Ruzakhunov")) == [ruzakhunov]


def test_it_matches_short_words_beside_indexed_ones(ruzakhunov, someone_else):
    # "vi" is too short for the SQLite trigram index: tested by LIKE on what it found.
    assert list(Person.objects.matching_name("Vi Ruzakhunov")) == [ruzakhunov]
    assert list(Person.objects.matching_name("Yu Ruzakhunov")) == []
    assert list(Person.objects.matching_name("Zak")) == [someone_else]


def test_the_name_index_follows_renames_merges_and_deletions(ruzakhunov, someone_else):
    ruzakhunov.name = "Vikram Rouzi"
    ruzakhunov.name_native = ""
    ruzakhunov.save()
    # Only the variant still holds the old surname.
    assert list(Person.objects.matching_name("Ruzakhunov")) == []
    assert list(Person.objects.matching_name("Rouzakhounov")) == [ruzakhunov]
    assert list(Person.objects.matching_name("Rouzi")) == [ruzakhunov]

    ruzakhunov.name_variants.all().delete()
    assert list(Person.objects.matching_name("Rouzakhounov")) == []

    Person.objects.filter(pk=someone_else.pk).update(name_key="tashiev kamchybek")
    assert list(Person.objects.matching_name("Tashiev")) == [someone_else]
    someone_else.delete()
    assert list(Person.objects.matching_name("Tashiev")) == []


def test_name_search_reads_the_trigram_index_on_sqlite(ruzakhunov):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite index; PostgreSQL's is a GIN index LIKE uses by itself")
    with CaptureQueriesContext(connection) as captured:
        assert list(Person.objects.matching_name("Рузахунов")) == [ruzakhunov]

    (query,) = captured.captured_queries
    assert "people_person_key MATCH" in query["sql"]
    assert "people_personname_key MATCH" in query["sql"]
    assert "LIKE" not in query["sql"]
