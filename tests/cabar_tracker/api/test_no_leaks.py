"""No anonymous API answer reveals a withheld identity, a draft or a staff-only field.

The data holds a published person whose identity is withheld, with a marker string in every
place their identity is stored (name, native name, a name variant, slug, occupation, the
title of their post, another person's "misidentified as" name that is theirs), marker staff
notes on the person, an incident and a detention, and a draft. Then EVERY list and detail
endpoint is fetched anonymously in every format it offers, with and without searches for
the markers, and no body may hold a marker or the NAME of a staff-only field. The browsable
API (HTML, "api") is walked for a few resources too: it renders filter forms with choices.
"""

import pytest

from cabar_tracker.publishing import PublicationState
from incidents.models import AllegationKind
from people.models import NameKind
from tests.api_personas import API
from tests.factories import (
    AllegationFactory,
    DetentionFactory,
    IncidentFactory,
    OrganizationFactory,
    PersonFactory,
    PersonNameFactory,
    PositionFactory,
    SituationFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

MARKERS = ["zqxmarker", "зкхмаркер"]
STAFF_ONLY_NAMES = ["staff_notes", "publication_state", "published_at", "name_key"]
FORMATS = {
    "incidents": ["json", "csv", "geojson", "api"],
    "locations": ["json", "csv", "geojson"],
    "detentions": ["json", "csv", "api"],
    "people": ["json", "csv", "api"],
    "organizations": ["json", "csv"],
    "positions": ["json", "csv"],
    "situations": ["json", "csv"],
    "statements": ["json", "csv"],
    "sources": ["json", "csv"],
}


@pytest.fixture
def world(db):
    """Published records around a withheld identity, and a draft of every kind."""
    source = SourceFactory()
    incident = IncidentFactory(staff_notes="Zqxmarker staff note on the incident")
    withheld = PersonFactory(
        name="Aibek Zqxmarker",
        name_native="Айбек Зкхмаркер",
        slug="aibek-zqxmarker",
        occupation="Zqxmarker pianist",
        birth_year=1990,
        staff_notes="Zqxmarker staff note on the person",
        identity_withheld=True,
    )
    withheld.sources.add(source)
    PersonNameFactory(person=withheld, name="Aibeck Zqxmarker-Variant", kind=NameKind.SPELLING)
    other = PersonFactory(name="Someone Else", slug="someone-else")
    # The ministry said the man in the video was "Aibek Zqxmarker": that name is the withheld
    # person's real name and must not show on the other person's record either.
    PersonNameFactory(
        person=other,
        name="Aibek Zqxmarker",
        kind=NameKind.MISIDENTIFIED_AS,
        other_person=withheld,
    )
    detention = DetentionFactory(
        incident=incident,
        person=withheld,
        staff_notes="Zqxmarker staff note on the detention",
    )
    detention.sources.add(source)
    AllegationFactory(detention=detention, kind=AllegationKind.TORTURE, alleged_by_person=withheld)
    DetentionFactory(incident=incident, person=other)
    organization = OrganizationFactory()
    post = PositionFactory(person=withheld, organization=organization, title="Zqxmarker adviser")
    statement = StatementFactory(
        speaker_person=withheld, position=post, speaker_organization=organization
    )
    statement.people.add(withheld, other)
    statement.incidents.add(incident)
    statement.sources.add(source)
    incident.sources.add(source)

    draft = PublicationState.DRAFT
    IncidentFactory(title="Zqxmarker draft incident", publication_state=draft)
    PersonFactory(name="Zqxmarker Draftperson", slug="zqxmarker-draft", publication_state=draft)
    StatementFactory(text="Zqxmarker draft statement", publication_state=draft)
    SourceFactory(title="Zqxmarker draft source", publication_state=draft)
    draft_situation = SituationFactory(
        title="Zqxmarker draft situation", slug="zqxmarker-situation", publication_state=draft
    )
    # Published records pointing at the draft: the draft must not show through them.
    IncidentFactory(situation=draft_situation)
    StatementFactory(situation=draft_situation)
    return {"withheld": withheld, "post": post, "detention": detention}


def assert_clean(response, where: str) -> None:
    # A list's CSV is streamed (every row in one response).
    content = b"".join(response.streaming_content) if response.streaming else response.content
    body = content.decode()
    folded = body.lower()
    for marker in MARKERS:
        assert marker not in folded, f"{where} shows {marker!r}"
        escaped = marker.encode("unicode_escape").decode().lower()
        assert escaped not in folded, f"{where} shows {marker!r} (escaped)"
    for name in STAFF_ONLY_NAMES:
        assert name not in body, f"{where} names the staff-only field {name!r}"


def test_no_anonymous_answer_leaks_anything(api, world):
    fetched = 0
    for resource, formats in FORMATS.items():
        listing = api.get(f"{API}/{resource}/", {"page_size": 200})
        assert listing.status_code == 200
        detail_ids = [item["id"] for item in listing.json()["results"]]
        for fmt in formats:
            searches = [{"q": "Zqxmarker"}, {"search": "Зкхмаркер"}]
            # The browsable API ("api", HTML) echoes the address asked for, searches included.
            for query in [{}, {"count": "true"}, *(searches if fmt != "api" else [])]:
                response = api.get(f"{API}/{resource}/", {"format": fmt, **query})
                if response.status_code == 400:  # a list without text search refuses `q`
                    assert set(response.json()) <= set(query), (resource, fmt, query)
                else:
                    assert response.status_code == 200, (resource, fmt, query)
                assert_clean(response, f"{resource} list as {fmt} {query}")
                fetched += 1
            for pk in detail_ids:
                response = api.get(f"{API}/{resource}/{pk}/", {"format": fmt})
                assert response.status_code == 200
                assert_clean(response, f"{resource} {pk} as {fmt}")
                fetched += 1
    for fmt in ("json", "csv"):
        removals = api.get(f"{API}/removals/", {"since": "2000-01-01T00:00:00Z", "format": fmt})
        assert_clean(removals, f"removals as {fmt}")
    assert fetched > 100


def test_the_withheld_person_appears_only_as_a_label(api, world):
    withheld = world["withheld"]

    person = api.get(f"{API}/people/{withheld.pk}/").json()
    detention = api.get(f"{API}/detentions/{world['detention'].pk}/").json()

    assert person["display_name"] == "Person withheld, citizen of Kyrgyzstan"
    assert person["identity_withheld"] is True
    for key in ("name", "name_native", "slug", "html_url", "occupation", "birth_year"):
        assert key not in person
    assert "name_variants" not in person and "positions" not in person
    assert person["url"] == f"http://testserver{API}/people/{withheld.pk}/"
    assert detention["person"]["display_name"] == person["display_name"]


def test_staff_tokens_see_the_withheld_identity(staff_api, world):
    withheld = world["withheld"]

    person = staff_api.get(f"{API}/people/{withheld.pk}/").json()

    assert person["name"] == "Aibek Zqxmarker"
    assert person["name_native"] == "Айбек Зкхмаркер"
    assert person["staff_notes"] == "Zqxmarker staff note on the person"
    assert [v["name"] for v in person["name_variants"]] == ["Aibeck Zqxmarker-Variant"]
    assert person["positions"][0]["title"] == "Zqxmarker adviser"


def test_a_withheld_identity_cannot_be_picked_out_by_its_slug(api, world):
    for path in ("detentions", "positions"):
        response = api.get(f"{API}/{path}/", {"person": "aibek-zqxmarker"})
        assert response.status_code == 400
        assert_clean(response, f"{path} filtered by the withheld slug")


def test_the_post_of_a_withheld_identity_is_not_public(api, world):
    assert api.get(f"{API}/positions/{world['post'].pk}/").status_code == 404
