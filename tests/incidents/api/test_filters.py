"""The list filters: the same FilterSets as the pages, and a 400 naming the parameter for
a value that cannot be understood."""

import datetime

import pytest
from django.utils import timezone

from incidents import filters
from incidents.models import (
    AllegationKind,
    IncidentKind,
    Location,
    LocationKind,
    Outcome,
    SourceKind,
)
from tests.api_personas import API
from tests.factories import (
    AllegationFactory,
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
    PersonNameFactory,
    PositionFactory,
    PublicPlaceFactory,
    SituationFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db


def listed(client, resource: str, **params) -> list:
    response = client.get(f"{API}/{resource}/", params)
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


# --- incidents: IncidentFilter --------------------------------------------------------------


def test_it_filters_incidents_by_place_including_places_inside(api):
    kazakhstan = CountryFactory()
    almaty = LocationFactory(parent=kazakhstan, slug="almaty")
    checkpoint = LocationFactory(parent=almaty, slug="checkpoint")
    elsewhere = LocationFactory(parent=CountryFactory(name="Kyrgyzstan", country="KG"))
    in_city = IncidentFactory(location=almaty)
    at_checkpoint = IncidentFactory(location=checkpoint)
    IncidentFactory(location=elsewhere)

    assert set(listed(api, "incidents", place="almaty")) == {in_city.pk, at_checkpoint.pk}
    assert listed(api, "incidents", place="checkpoint") == [at_checkpoint.pk]


def test_it_filters_incidents_by_kind_date_and_verification(api):
    early = IncidentFactory(kind=IncidentKind.DETENTION, start_date=datetime.date(2022, 1, 5))
    late = IncidentFactory(
        kind=IncidentKind.MASS_DETENTION,
        start_date=datetime.date(2022, 1, 9),
        verification="confirmed",
    )

    assert listed(api, "incidents", kind="mass_detention") == [late.pk]
    assert listed(api, "incidents", date_after="2022-01-06") == [late.pk]
    assert listed(api, "incidents", date_before="2022-01-06") == [early.pk]
    assert listed(api, "incidents", verification="confirmed") == [late.pk]
    both = listed(api, "incidents", kind=["detention", "mass_detention"])
    assert set(both) == {early.pk, late.pk}


def test_it_filters_incidents_by_what_their_detentions_say(api):
    kyrgyz = DetentionFactory(person=PersonFactory(citizenship="KG"), outcome=Outcome.RELEASED)
    AllegationFactory(detention=kyrgyz, kind=AllegationKind.FORCED_CONFESSION)
    uzbek = DetentionFactory(person=PersonFactory(citizenship="UZ"), outcome=Outcome.CHARGED)

    assert listed(api, "incidents", citizenship="KG") == [kyrgyz.incident_id]
    assert listed(api, "incidents", allegation="forced_confession") == [kyrgyz.incident_id]
    assert listed(api, "incidents", outcome="charged") == [uzbek.incident_id]


def test_it_filters_incidents_by_situation_and_update_time(api):
    unrest = SituationFactory(slug="unrest")
    in_unrest = IncidentFactory(situation=unrest)
    other = IncidentFactory()
    # Neither it nor what its item shows (its situation, its place and the places around
    # it, which give its map point) changed lately.
    month_ago = timezone.now() - datetime.timedelta(days=30)
    type(other).objects.filter(pk=other.pk).update(updated_at=month_ago)
    Location.objects.update(updated_at=month_ago)
    type(other.situation).objects.filter(pk=other.situation_id).update(updated_at=month_ago)

    assert listed(api, "incidents", situation="unrest") == [in_unrest.pk]
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert listed(api, "incidents", updated_since=since) == [in_unrest.pk]


def test_it_searches_incidents_with_q_or_its_alias_search(api):
    person = PersonFactory(name="Vikram Ruzakhunov")
    detention = DetentionFactory(person=person)
    IncidentFactory(title="Something else")

    assert listed(api, "incidents", q="Рузахунов") == [detention.incident_id]
    assert listed(api, "incidents", search="Ruzahunov") == [detention.incident_id]


@pytest.mark.parametrize("limit", [100, 1])
def test_a_search_finds_the_same_however_many_it_matches(api, monkeypatch, limit):
    # Under the limit the matches are looked up by index as a list of ids; above it each
    # row is tested as the list is read (incidents.filters.IncidentFilter.text_condition).
    monkeypatch.setattr(filters, "TEXT_ID_LIMIT", limit)
    found = [
        IncidentFactory(title="Протест в Бишкеке", start_date=datetime.date(2022, 1, 3)).pk,
        IncidentFactory(summary="ПРОТЕСТУЮЩИЕ задержаны", start_date=datetime.date(2022, 1, 2)).pk,
        IncidentFactory(description="После протеста", start_date=datetime.date(2022, 1, 1)).pk,
    ]
    named = DetentionFactory(
        person=PersonFactory(name="Aibek Protestov"),
        incident=IncidentFactory(title="Arrest", start_date=datetime.date(2022, 1, 4)),
    )
    IncidentFactory(title="Протест", publication_state="draft")
    IncidentFactory(title="Something else")

    # The name matches in any script: "протест" is in "Protestov".
    assert listed(api, "incidents", q="протест") == [named.incident_id, *found]
    assert listed(api, "incidents", q="protest") == [named.incident_id]


def test_it_orders_incidents_on_request(api):
    older = IncidentFactory(start_date=datetime.date(2022, 1, 3))
    newer = IncidentFactory(start_date=datetime.date(2022, 1, 8))

    assert listed(api, "incidents") == [newer.pk, older.pk]
    assert listed(api, "incidents", ordering="date") == [older.pk, newer.pk]


# --- the other resources --------------------------------------------------------------------


def test_it_filters_statements_with_statement_filter(api):
    organization = OrganizationFactory(slug="mfa")
    said = StatementFactory(speaker_organization=organization, kind="protest", text="We protest")
    StatementFactory(kind="claim")

    assert listed(api, "statements", organization="mfa") == [said.pk]
    assert listed(api, "statements", kind="protest") == [said.pk]
    assert listed(api, "statements", search="protest") == [said.pk]


def test_it_filters_detentions(api):
    person = PersonFactory(slug="aibek", citizenship="KG")
    incident = IncidentFactory(slug="checks")
    match = DetentionFactory(
        incident=incident,
        person=person,
        outcome=Outcome.RELEASED,
        detained_on=datetime.date(2022, 1, 9),
    )
    AllegationFactory(detention=match, kind=AllegationKind.NO_LAWYER)
    DetentionFactory(person=PersonFactory(citizenship="UZ"), detained_on=datetime.date(2022, 1, 2))

    for params in (
        {"incident": "checks"},
        {"person": "aibek"},
        {"outcome": "released"},
        {"citizenship": "KG"},
        {"allegation": "no_lawyer"},
        {"date_after": "2022-01-05"},
    ):
        assert listed(api, "detentions", **params) == [match.pk], params
    assert match.pk not in listed(api, "detentions", date_before="2022-01-05")


def test_it_finds_people_by_any_spelling_in_any_script(api):
    vikram = PersonFactory(name="Vikram Ruzakhunov", citizenship="KG")
    PersonNameFactory(person=vikram, name="Викрам Рузахунов")
    PersonFactory(name="Zakir Yuburov", citizenship="UZ")

    assert listed(api, "people", q="Рузахунов") == [vikram.pk]
    assert listed(api, "people", search="RUZAHUNOV") == [vikram.pk]
    assert listed(api, "people", citizenship="KG") == [vikram.pk]


def test_it_never_finds_a_withheld_identity_by_name(api, staff_api):
    withheld = PersonFactory(name="Hidden Name", identity_withheld=True)

    assert listed(api, "people", q="Hidden Name") == []
    assert listed(staff_api, "people", q="Hidden Name") == [withheld.pk]


def test_it_filters_places(api):
    kazakhstan = CountryFactory()
    almaty = LocationFactory(parent=kazakhstan, slug="almaty", kind=LocationKind.CITY)
    post = PublicPlaceFactory(parent=almaty, kind=LocationKind.BORDER_CROSSING)
    kyrgyzstan = CountryFactory(name="Kyrgyzstan", country="KG")
    IncidentFactory(location=kyrgyzstan)  # places are public once something published uses them

    assert set(listed(api, "locations", within="almaty")) == {almaty.pk, post.pk}
    assert listed(api, "locations", kind="border_crossing") == [post.pk]
    assert listed(api, "locations", country="KG") == [kyrgyzstan.pk]


def test_it_filters_organizations_sources_positions_and_situations(api):
    gknb = OrganizationFactory(
        name="State Committee for National Security", abbreviation="GKNB", country="KG"
    )
    OrganizationFactory(kind="media", country="KZ")
    report = SourceFactory(title="Ombudsman report", kind=SourceKind.REPORT, language="ru")
    SourceFactory(title="News")
    post = PositionFactory(organization=gknb, person=PersonFactory(slug="tashiev"))
    PositionFactory()
    unrest = SituationFactory(title="January unrest")
    SituationFactory(title="Other")

    assert listed(api, "organizations", search="gknb") == [gknb.pk]
    assert listed(api, "organizations", kind="ministry", country="KG") == [gknb.pk]
    assert listed(api, "sources", search="ombudsman") == [report.pk]
    assert listed(api, "sources", kind="report", language="ru") == [report.pk]
    assert listed(api, "positions", person="tashiev") == [post.pk]
    assert listed(api, "positions", organization=gknb.slug) == [post.pk]
    assert listed(api, "situations", q="january") == [unrest.pk]


# --- bad values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource, params, parameter",
    [
        ("incidents", {"date_after": "notadate"}, "date_after"),
        ("incidents", {"kind": "bogus"}, "kind"),
        ("incidents", {"place": "nowhere"}, "place"),
        ("incidents", {"citizenship": "XX"}, "citizenship"),
        ("incidents", {"updated_since": "yesterday"}, "updated_since"),
        ("incidents", {"ordering": "title"}, "ordering"),
        ("statements", {"kind": "bogus"}, "kind"),
        ("detentions", {"outcome": "bogus"}, "outcome"),
        ("detentions", {"date_before": "2022-13-01"}, "date_before"),
        ("people", {"citizenship": "XX"}, "citizenship"),
        ("locations", {"within": "nowhere"}, "within"),
        ("organizations", {"kind": "bogus"}, "kind"),
        ("sources", {"kind": "bogus"}, "kind"),
        ("positions", {"organization": "nobody"}, "organization"),
        ("situations", {"updated_since": "soon"}, "updated_since"),
        ("incidents", {"page_size": "0"}, "page_size"),
        ("incidents", {"page_size": "201"}, "page_size"),
        ("incidents", {"count": "maybe"}, "count"),
        ("incidents", {"cursor": "garbage"}, "cursor"),
        ("removals", {"since": "notatime"}, "since"),
        ("removals", {}, "since"),
    ],
)
def test_it_answers_a_bad_value_with_400_naming_the_parameter(api, resource, params, parameter):
    for fmt in ("json", "csv"):
        response = api.get(f"{API}/{resource}/", {**params, "format": fmt})

        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert parameter in response.json()


def test_it_says_which_date_is_invalid(api):
    response = api.get(f"{API}/incidents/", {"date_after": "notadate", "kind": "bogus"})

    assert response.json()["date_after"] == ["Enter a valid date."]
    assert "kind" in response.json()


def test_it_takes_any_valid_utc_offset_and_refuses_an_impossible_time(api):
    incident = IncidentFactory()

    far_offset = listed(api, "incidents", updated_since="2000-05-01T00:00:00-20:48")
    response = api.get(f"{API}/incidents/", {"updated_since": "9999-12-31T23:59:59-20:00"})

    assert far_offset == [incident.pk]
    assert response.status_code == 400
    assert "updated_since" in response.json()


def test_an_unknown_parameter_is_a_400_naming_it(api):
    response = api.get("/api/v1/incidents/", {"palce": "almaty"})
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["palce"]
    assert "place" in body["palce"][0]


def test_paging_and_format_parameters_are_known(api):
    response = api.get("/api/v1/incidents/", {"page_size": 5, "format": "json", "count": "true"})
    assert response.status_code == 200, response.content


def test_places_and_posts_take_updated_since(api):
    import datetime

    from django.utils import timezone

    from incidents.models import Incident, Location
    from people.models import Organization, Position
    from tests.factories import PositionFactory, PublicPlaceFactory

    PublicPlaceFactory()
    old_post = PositionFactory()
    long_ago = timezone.now() - datetime.timedelta(days=3)
    Location.objects.update(updated_at=long_ago)  # the place and the country it is in
    Incident.objects.update(updated_at=long_ago)  # the case that made it public
    Position.objects.filter(pk=old_post.pk).update(updated_at=long_ago)
    type(old_post.person).objects.filter(pk=old_post.person_id).update(updated_at=long_ago)
    Organization.objects.filter(pk=old_post.organization_id).update(updated_at=long_ago)
    since = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()
    new_place, new_post = PublicPlaceFactory(parent=None), PositionFactory()

    places = api.get("/api/v1/locations/", {"updated_since": since}).json()["results"]
    posts = api.get("/api/v1/positions/", {"updated_since": since}).json()["results"]

    assert [place["id"] for place in places] == [new_place.pk]
    assert [post["id"] for post in posts] == [new_post.pk]
