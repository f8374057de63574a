"""Filters a reader would give several values to take them (`?place=almaty&place=shymkent`)
on the pages, the exports, the feed and the API alike; slug filters also find a record by
an old slug (a link made before its slug was corrected), but never, for the public, a
withheld identity by the slug it had."""

import csv
import io

import pytest
from django.urls import reverse

from people.models import Person
from tests.api_personas import API
from tests.factories import (
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
    PositionFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

LIST = reverse("incidents:incident_list")


@pytest.fixture
def three_cities():
    kazakhstan = CountryFactory()
    cities = {
        slug: LocationFactory(name=slug.title(), slug=slug, parent=kazakhstan)
        for slug in ("almaty", "shymkent", "aktau")
    }
    site = LocationFactory(name="Checkpoint", slug="checkpoint", parent=cities["almaty"])
    cases = {
        "almaty": IncidentFactory(title="Almaty case", location=cities["almaty"]),
        "checkpoint": IncidentFactory(title="Checkpoint case", location=site),
        "shymkent": IncidentFactory(title="Shymkent case", location=cities["shymkent"]),
        "aktau": IncidentFactory(title="Aktau case", location=cities["aktau"]),
    }
    for case in cases.values():
        DetentionFactory(incident=case)
    return cases


BOTH = {"place": ["almaty", "shymkent"]}
FOUND = {"Almaty case", "Checkpoint case", "Shymkent case"}


def titles(response) -> set[str]:
    return {incident.title for incident in response.context["page"].object_list}


def test_the_case_list_takes_several_places_each_with_everything_inside(client, three_cities):
    response = client.get(LIST, BOTH)

    assert response.status_code == 200
    assert titles(response) == FOUND
    active = [(f.name, f.value) for f in response.context["active_filters"]]
    assert active == [("place", "Almaty"), ("place", "Shymkent")]
    assert "in Almaty · in Shymkent" in response.context["title"]


def test_a_place_facet_adds_or_removes_one_place(client, three_cities):
    response = client.get(LIST, BOTH)

    places = {v.value: v for f in response.context["facets"] if f.name == "place" for v in f.values}
    assert places["almaty"].selected and places["shymkent"].selected
    assert not places["aktau"].selected
    assert places["aktau"].url == "?place=almaty&place=shymkent&place=aktau"
    assert places["shymkent"].url == "?place=almaty"
    # The facet counts what choosing the place would add, the other filters kept.
    assert places["aktau"].count == 1


def test_the_exports_and_the_feed_take_several_places(client, three_cities):
    exported = client.get(reverse("incidents:incidents_csv"), BOTH)
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    feed = client.get(reverse("incidents:incident_feed"), BOTH).content.decode()

    assert {row["incident_title"] for row in rows} == FOUND
    assert all(title in feed for title in FOUND) and "Aktau case" not in feed


def test_the_api_takes_several_places_in_json_and_csv(api, three_cities):
    listed = api.get(f"{API}/incidents/", BOTH).json()["results"]
    response = api.get(f"{API}/incidents/", {**BOTH, "format": "csv"})
    as_csv = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(as_csv)))

    assert {item["title"] for item in listed} == FOUND
    assert {row["incident_title"] for row in rows} == FOUND


def test_the_api_takes_several_values_of_its_other_slug_and_country_filters(api):
    first, second, third = (PositionFactory() for _ in range(3))
    said = [StatementFactory(speaker_person=p.person, position=p) for p in (first, second, third)]
    detained = [DetentionFactory(person=p.person) for p in (first, second, third)]
    kyrgyzstan = LocationFactory(kind="country", country="KG", parent=None, slug="kyrgyzstan")
    IncidentFactory(location=kyrgyzstan)
    IncidentFactory()  # in Kazakhstan
    two_people = {"person": [first.person.slug, second.person.slug]}

    def ids(resource, **params) -> set[int]:
        response = api.get(f"{API}/{resource}/", params)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["results"]}

    assert ids("statements", speaker=two_people["person"]) == {said[0].pk, said[1].pk}
    assert ids("detentions", **two_people) == {detained[0].pk, detained[1].pk}
    assert ids("positions", organization=[first.organization.slug, third.organization.slug]) == {
        first.pk,
        third.pk,
    }
    countries = {item["country"] for item in api.get(f"{API}/locations/").json()["results"]}
    assert countries == {"KZ", "KG"}
    both = api.get(f"{API}/locations/", {"country": ["KZ", "KG"]}).json()["results"]
    assert {item["country"] for item in both} == {"KZ", "KG"}


def test_the_statement_list_keeps_several_speakers(client):
    first, second = OrganizationFactory(), OrganizationFactory()
    StatementFactory(speaker_organization=first, text="First said")
    StatementFactory(speaker_organization=second, text="Second said")
    StatementFactory(text="Third said")

    response = client.get(
        reverse("incidents:statement_list"), {"organization": [first.slug, second.slug]}
    )

    page = response.content.decode()
    assert "First said" in page and "Second said" in page and "Third said" not in page
    assert 'name="organization" multiple' in page


# --- old slugs ------------------------------------------------------------------------------


def test_an_old_place_slug_still_filters_and_the_links_use_the_new_one(client, api, three_cities):
    almaty = three_cities["almaty"].location
    almaty.slug = "almaty-city"
    almaty.save()

    page = client.get(LIST, {"place": "almaty"})
    listed = api.get(f"{API}/incidents/", {"place": "almaty"}).json()["results"]

    assert page.status_code == 200
    assert titles(page) == {"Almaty case", "Checkpoint case"}
    places = {v.value: v for f in page.context["facets"] if f.name == "place" for v in f.values}
    assert places["almaty-city"].selected
    assert places["aktau"].url == "?place=almaty-city&place=aktau"
    assert {item["title"] for item in listed} == {"Almaty case", "Checkpoint case"}


def test_an_old_person_slug_finds_their_detentions(api):
    detention = DetentionFactory(person=PersonFactory(slug="vikram"))
    person = detention.person
    person.slug = "vikram-ruzakhunov"
    person.save()

    response = api.get(f"{API}/detentions/", {"person": "vikram"})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [detention.pk]


def test_a_withheld_persons_old_slug_finds_nothing_for_the_public(api, admin_api):
    detention = DetentionFactory(person=PersonFactory(slug="vikram"))
    person = Person.objects.get(pk=detention.person_id)
    person.identity_withheld = True
    person.save()

    public = api.get(f"{API}/detentions/", {"person": "vikram"})
    staff = admin_api.get(f"{API}/detentions/", {"person": "vikram"})

    # Refused exactly as a slug that never existed: nothing says someone had it.
    never = api.get(f"{API}/detentions/", {"person": "nobody-had-this"})
    assert public.status_code == never.status_code == 400
    assert public.json() == never.json()
    assert "vikram" not in public.content.decode()
    assert staff.status_code == 200
    assert [item["id"] for item in staff.json()["results"]] == [detention.pk]
