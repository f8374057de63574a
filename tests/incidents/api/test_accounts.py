"""The API's incident and detention details carry the preferred values of the facts and every
account of them: value, precision, rank, who asserts it (a withheld person only as their
label), sources."""

from __future__ import annotations

import datetime

import pytest

from cabar_tracker.publishing import PublicationState
from incidents.accounts import make_preferred
from incidents.models import AllegationStatus, Fact
from tests.api_personas import API, token_client
from tests.factories import (
    AccountFactory,
    AllegationFactory,
    DetentionFactory,
    LocationFactory,
    PersonFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def detention():
    detention = DetentionFactory(
        detained_on=datetime.date(2022, 1, 1),
        detained_on_precision="month",
        detaining_authority_text="police officers",
    )
    detention.sources.set([SourceFactory(title="The article", url="https://article.example/")])
    return detention


@pytest.fixture
def other(detention):
    return AccountFactory(
        detention=detention,
        fact=Fact.DETENTION_DATE,
        value_location=None,
        value_date=datetime.date(2022, 1, 7),
        value_date_precision="day",
        asserted_by_person=detention.person,
        asserted_by_text="speaking to Viory",
        sources=[SourceFactory(title="The video", url="https://video.example/")],
    )


def accounts_of(data: dict, fact: str) -> list[dict]:
    return [account for account in data["accounts"] if account["fact"] == fact]


def test_the_detention_detail_carries_the_accounts(api, detention, other):
    data = api.get(f"{API}/detentions/{detention.pk}/").json()

    assert data["detained_on"] == {"value": "2022-01", "precision": "month"}
    assert data["detaining_authority_text"] == "police officers"
    preferred, second = accounts_of(data, "detention_date")
    assert (preferred["rank"], preferred["value"], preferred["precision"]) == (
        "preferred",
        "2022-01",
        "month",
    )
    assert [s["title"] for s in preferred["sources"]] == ["The article"]
    assert (second["rank"], second["value"], second["precision"]) == ("normal", "2022-01-07", "day")
    assert second["asserted_by"]["person"]["display_name"] == detention.person.name
    assert second["asserted_by"]["text"] == "speaking to Viory"
    assert second["sources"][0]["web_url"] == "https://video.example/"
    assert {"id", "url", "title"} <= set(second["sources"][0])


def test_the_incident_detail_carries_the_accounts_of_its_detentions(api, detention, other):
    data = api.get(f"{API}/incidents/{detention.incident.pk}/").json()

    assert {a["fact"] for a in data["accounts"]} == {"incident_date", "incident_place"}
    [embedded] = data["detentions"]
    assert [a["value"] for a in accounts_of(embedded, "detention_date")] == [
        "2022-01",
        "2022-01-07",
    ]


def test_switching_the_preferred_account_changes_the_api(api, detention, other, reviewer):
    make_preferred(account=other, user=reviewer)

    data = api.get(f"{API}/detentions/{detention.pk}/").json()

    assert data["detained_on"] == {"value": "2022-01-07", "precision": "day"}
    assert [a["rank"] for a in accounts_of(data, "detention_date")] == ["preferred", "normal"]
    assert accounts_of(data, "detention_date")[0]["value"] == "2022-01-07"


def test_an_allegations_status_and_its_accounts_are_embedded(api, reviewer):
    allegation = AllegationFactory()
    denied = AccountFactory(
        detention=None,
        allegation=allegation,
        fact=Fact.ALLEGATION_STATUS,
        value_location=None,
        value_choice=AllegationStatus.DENIED,
    )
    make_preferred(account=denied, user=reviewer)

    data = api.get(f"{API}/detentions/{allegation.detention.pk}/").json()

    [embedded] = data["allegations"]
    assert embedded["status"] == "denied"
    assert [(a["value"], a["rank"]) for a in embedded["accounts"]] == [
        ("denied", "preferred"),
        ("alleged", "normal"),
    ]


def test_a_withheld_asserter_is_only_their_label(api, detention, other):
    other.asserted_by_person = PersonFactory(name="Marker Withheldname", identity_withheld=True)
    other.save()

    response = api.get(f"{API}/detentions/{detention.pk}/")

    assert b"Withheldname" not in response.content
    [_, second] = accounts_of(response.json(), "detention_date")
    assert second["asserted_by"]["person"]["display_name"].startswith("Person withheld")


def test_a_draft_source_of_an_account_is_for_staff_only(api, detention, other, editor):
    other.sources.add(SourceFactory(title="Marker draft", publication_state=PublicationState.DRAFT))
    assert b"Marker draft" not in api.get(f"{API}/detentions/{detention.pk}/").content
    staff = token_client(editor).get(f"{API}/detentions/{detention.pk}/")
    assert b"Marker draft" in staff.content


def test_the_new_detention_facts_are_written_through_the_api(admin_api):
    detention = DetentionFactory(publication_state=PublicationState.DRAFT)
    village = LocationFactory(slug="samsy")

    response = admin_api.patch(
        f"{API}/detentions/{detention.pk}/",
        {
            "arrest_location": village.pk,
            "detaining_authority_text": "the military",
            "reported_age": 34,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    detention.refresh_from_db()
    assert (detention.arrest_location, detention.reported_age) == (village, 34)
    facts = {a["fact"]: a["value"] for a in response.json()["accounts"]}
    assert facts["arrest_place"] == "samsy"
    assert facts["detaining_authority"] == "the military"
    assert facts["reported_age"] == "34"
