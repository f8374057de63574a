"""Who sees which records, and the place tree that "in this country" filters use.

Personas: an anonymous reader, a logged-in reader who is not staff, an editor (active
staff) and a former editor whose account was deactivated."""

import pytest
from django.contrib.auth.models import AnonymousUser

from cabar_tracker.publishing import PublicationState
from incidents.models import Detention, Incident, Location, Situation, Source, Statement
from people.models import Person
from tests.factories import (
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    SituationFactory,
    SourceFactory,
    StaffUserFactory,
    StatementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PUBLISHABLE = [
    (Incident, IncidentFactory),
    (Person, PersonFactory),
    (Statement, StatementFactory),
    (Source, SourceFactory),
    (Situation, SituationFactory),
]


@pytest.fixture
def records_in_every_state(request):
    """One record per state of the model under test, keyed by state name."""
    model, factory = request.param
    return model, {
        "published": factory(publication_state=PublicationState.PUBLISHED),
        "draft": factory(publication_state=PublicationState.DRAFT),
        "in_review": factory(publication_state=PublicationState.IN_REVIEW),
        "archived": factory(
            publication_state=PublicationState.PUBLISHED, archived_at="2024-01-01T00:00Z"
        ),
    }


# The personas never log in here, so they get no password: hashing one takes a fifth of a
# second, and make_password(None) stores an unusable one at no cost.
@pytest.fixture
def reader():
    """Logged in, not staff."""
    return UserFactory(username="reader", password=None)


@pytest.fixture
def editor():
    return StaffUserFactory(username="editor", password=None)


@pytest.fixture
def former_editor():
    """Staff whose account was deactivated when they left."""
    return StaffUserFactory(username="former-editor", password=None, is_active=False)


def visible(model, records, user=None):
    """Which of `records` the user (or an anonymous reader, by `published()`) sees."""
    queryset = model.objects.published() if user is None else model.objects.visible_to(user)
    shown = set(queryset.values_list("pk", flat=True))
    return {state for state, record in records.items() if record.pk in shown}


every_publishable_model = pytest.mark.parametrize(
    "records_in_every_state", PUBLISHABLE, indirect=True, ids=lambda p: p[0].__name__
)


@every_publishable_model
def test_it_shows_the_public_only_published_records(records_in_every_state):
    model, records = records_in_every_state

    assert visible(model, records) == {"published"}


@every_publishable_model
def test_it_hides_drafts_reviews_and_archives_from_anonymous(records_in_every_state):
    model, records = records_in_every_state

    assert visible(model, records, AnonymousUser()) == {"published"}


@every_publishable_model
def test_it_shows_staff_drafts_but_not_archived_records(records_in_every_state, editor):
    model, records = records_in_every_state

    assert visible(model, records, editor) == {"published", "draft", "in_review"}


@every_publishable_model
def test_it_shows_a_logged_in_reader_only_published_records(records_in_every_state, reader):
    model, records = records_in_every_state

    assert visible(model, records, reader) == {"published"}


@every_publishable_model
def test_it_shows_a_deactivated_editor_only_published_records(
    records_in_every_state, former_editor
):
    model, records = records_in_every_state

    assert visible(model, records, former_editor) == {"published"}


# Detentions follow their incident -------------------------------------------------------


def test_it_hides_a_published_detention_in_a_draft_incident(editor):
    detention = DetentionFactory(incident=IncidentFactory(publication_state="draft"))

    assert list(Detention.objects.published()) == []
    assert list(Detention.objects.visible_to(AnonymousUser())) == []
    assert list(Detention.objects.visible_to(editor)) == [detention]


def test_it_hides_a_detention_in_an_archived_incident_from_everyone(editor):
    DetentionFactory(incident=IncidentFactory(archived_at="2024-01-01T00:00Z"))

    assert list(Detention.objects.published()) == []
    assert list(Detention.objects.visible_to(editor)) == []


def test_it_hides_a_draft_detention_in_a_published_incident(editor):
    detention = DetentionFactory(publication_state="draft")

    assert list(Detention.objects.published()) == []
    assert list(Detention.objects.visible_to(editor)) == [detention]


def test_it_shows_a_published_detention_in_a_published_incident():
    detention = DetentionFactory()

    assert list(Detention.objects.published()) == [detention]


# First publication ----------------------------------------------------------------------


def test_it_records_when_a_record_is_first_published():
    incident = IncidentFactory(publication_state="draft")
    assert incident.published_at is None

    incident.publication_state = PublicationState.PUBLISHED
    incident.save(update_fields=["publication_state"])

    incident.refresh_from_db()
    assert incident.published_at is not None
    assert incident.is_published


def test_it_keeps_the_first_publication_time_when_republished():
    incident = IncidentFactory()
    first_published_at = incident.published_at

    incident.publication_state = PublicationState.DRAFT
    incident.save()
    incident.publication_state = PublicationState.PUBLISHED
    incident.save()

    incident.refresh_from_db()
    assert incident.published_at == first_published_at


def test_it_leaves_a_draft_without_a_publication_time():
    statement = StatementFactory(publication_state="in_review")

    statement.refresh_from_db()
    assert statement.published_at is None
    assert not statement.is_published


def test_an_archived_record_is_not_published():
    person = PersonFactory(archived_at="2024-01-01T00:00Z")

    assert not person.is_published


# The place tree -------------------------------------------------------------------------


@pytest.fixture
def places():
    """Kazakhstan > Almaty > a police station, a second city, and Kyrgyzstan > Bishkek."""
    kazakhstan = CountryFactory(name="Kazakhstan", country="KZ")
    almaty = LocationFactory(name="Almaty", parent=kazakhstan)
    police_station = LocationFactory(name="Police station", parent=almaty, kind="police_station")
    astana = LocationFactory(name="Astana", parent=kazakhstan)
    kyrgyzstan = CountryFactory(name="Kyrgyzstan", country="KG")
    bishkek = LocationFactory(name="Bishkek", parent=kyrgyzstan)
    return {
        place.name: place
        for place in (kazakhstan, almaty, police_station, astana, kyrgyzstan, bishkek)
    }


def names(locations) -> set[str]:
    return {location.name for location in locations}


def test_it_builds_paths_from_the_root(places):
    kazakhstan, almaty = places["Kazakhstan"], places["Almaty"]
    station = places["Police station"]

    assert kazakhstan.path == f"/{kazakhstan.pk}/"
    assert station.path == f"/{kazakhstan.pk}/{almaty.pk}/{station.pk}/"
    assert station.depth == 3
    assert list(station.ancestors()) == [kazakhstan, almaty]


def test_a_place_is_within_itself_and_holds_its_descendants(places):
    within = Location.objects.within(places["Kazakhstan"])

    assert names(within) == {"Kazakhstan", "Almaty", "Police station", "Astana"}


def test_a_city_does_not_hold_its_sibling(places):
    assert names(Location.objects.within(places["Almaty"])) == {"Almaty", "Police station"}


def test_it_finds_incidents_in_a_country_at_any_depth(places):
    in_city = IncidentFactory(location=places["Almaty"])
    at_site = IncidentFactory(location=places["Police station"])
    in_country = IncidentFactory(location=places["Kazakhstan"])
    IncidentFactory(location=places["Bishkek"])

    found = set(Incident.objects.in_location(places["Kazakhstan"]))

    assert found == {in_city, at_site, in_country}


def test_it_does_not_find_incidents_in_a_sibling_city(places):
    IncidentFactory(location=places["Astana"])
    at_site = IncidentFactory(location=places["Police station"])

    assert list(Incident.objects.in_location(places["Almaty"])) == [at_site]


def test_it_does_not_confuse_ids_sharing_a_prefix():
    # Paths end with "/": place 7 ("/7/") does not hold place 75 ("/75/").
    first = LocationFactory(parent=None, kind="country")
    second = LocationFactory(pk=first.pk * 10 + 5, parent=None, kind="country")
    IncidentFactory(location=second)

    assert second.path.startswith(first.path.rstrip("/"))
    assert list(Location.objects.within(first)) == [first]
    assert list(Incident.objects.in_location(first)) == []


def test_moving_a_place_moves_its_descendants(places):
    almaty, kyrgyzstan = places["Almaty"], places["Kyrgyzstan"]
    incident = IncidentFactory(location=places["Police station"])

    almaty.parent = kyrgyzstan
    almaty.save()

    station = Location.objects.get(pk=places["Police station"].pk)
    assert station.path == f"/{kyrgyzstan.pk}/{almaty.pk}/{station.pk}/"
    assert names(Location.objects.within(kyrgyzstan)) == {
        "Kyrgyzstan",
        "Bishkek",
        "Almaty",
        "Police station",
    }
    assert names(Location.objects.within(places["Kazakhstan"])) == {"Kazakhstan", "Astana"}
    assert list(Incident.objects.in_location(kyrgyzstan)) == [incident]
    assert list(Incident.objects.in_location(places["Kazakhstan"])) == []


def test_a_detention_of_an_unreviewed_person_is_not_public():
    # The person's own record is still a draft: nothing about them is shown, not even a
    # count of their detention in a published case.
    hidden = DetentionFactory(person=PersonFactory(publication_state="draft"))
    shown = DetentionFactory()
    assert list(Detention.objects.published()) == [shown]
    staff = StaffUserFactory()
    assert set(Detention.objects.visible_to(staff)) == {hidden, shown}
