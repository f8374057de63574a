"""The accounts of a case's facts as readers see them: on the case page the preferred value
with its other accounts and their sources beside it; in the CSV exports the preferred values
and `other_accounts`; and who asserts an account never names a withheld person."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents.accounts import make_preferred
from incidents.models import Account, AccountRank, AllegationStatus, Fact
from tests.factories import (
    AccountFactory,
    AllegationFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

JAN_7 = datetime.date(2022, 1, 7)


def page_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


def csv_rows(client, name: str, **params) -> list[dict]:
    response = client.get(reverse(f"incidents:{name}"), params)
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def case():
    """Detained in Almaty by police, in January 2022 (the record's source says); detained
    in Samsy by the military on 7 January, the detainee told a video agency."""
    almaty = LocationFactory(name="Almaty", slug="almaty")
    samsy = LocationFactory(name="Samsy", slug="samsy")
    article = SourceFactory(title="The article", url="https://article.example/1")
    video = SourceFactory(title="The video", publisher="Viory", url="https://video.example/1")
    detention = DetentionFactory(
        detained_on=datetime.date(2022, 1, 1),
        detained_on_precision="month",
        arrest_location=almaty,
        detaining_authority_text="police officers",
    )
    detention.sources.set([article])
    told = {
        "date": (
            Fact.DETENTION_DATE,
            {"value_date": JAN_7, "value_date_precision": "day"},
        ),
        "place": (Fact.ARREST_PLACE, {"value_location": samsy}),
        "authority": (Fact.DETAINING_AUTHORITY, {"value_text": "the military"}),
    }
    accounts = {}
    for key, (fact, values) in told.items():
        accounts[key] = AccountFactory(
            detention=detention,
            fact=fact,
            **{"value_location": None, **values},
            asserted_by_person=detention.person,
            asserted_by_text="speaking to Viory",
            sources=[video],
        )
    return {
        "detention": detention,
        "incident": detention.incident,
        "accounts": accounts,
        "article": article,
        "video": video,
    }


def test_the_case_page_shows_the_preferred_value_with_the_other_accounts(client, case):
    response = client.get(case["incident"].get_absolute_url())
    text = page_text(response)

    assert "Detained January 2022 2 accounts" in text
    assert "Arrested at Almaty" in text
    assert "Detained by police officers" in text
    # Each other account with who says it and its sources, linked.
    assert "Samsy" in text and "the military" in text and "7 January 2022" in text
    assert "speaking to Viory" in text
    html = response.content.decode()
    assert 'href="https://video.example/1"' in html
    assert f'href="{case["video"].get_absolute_url()}"' in html
    assert '<details class="accounts">' in html


def test_a_fact_with_only_its_preferred_account_shows_no_disclosure(client):
    detention = DetentionFactory()
    response = client.get(detention.incident.get_absolute_url())
    assert '<details class="accounts">' not in response.content.decode()


def test_switching_the_preferred_account_changes_page_csv_and_filters(client, case, reviewer):
    make_preferred(account=case["accounts"]["place"], user=reviewer)
    make_preferred(account=case["accounts"]["date"], user=reviewer)
    make_preferred(account=case["accounts"]["authority"], user=reviewer)

    text = page_text(client.get(case["incident"].get_absolute_url()))
    assert "Detained 7 January 2022" in text
    assert "Arrested at Samsy" in text
    assert "Detained by the military" in text
    [row] = csv_rows(client, "detentions_csv")
    assert (row["detained_on"], row["detained_on_precision"]) == ("2022-01-07", "day")
    assert row["arrest_place_slug"] == "samsy"
    assert row["detaining_authority"] == "the military"
    # The earlier values are other accounts now, with the record's source.
    assert "arrest_place: almaty" in row["other_accounts"]
    assert "https://article.example/1" in row["other_accounts"]


def test_the_detentions_csv_carries_the_preferred_values_and_the_other_accounts(client, case):
    [row] = csv_rows(client, "detentions_csv")

    assert (row["detained_on"], row["detained_on_precision"]) == ("2022-01", "month")
    assert row["arrest_place_slug"] == "almaty"
    assert row["detaining_authority"] == "police officers"
    others = row["other_accounts"].split(" | ")
    name = case["detention"].person.name
    assert f"arrest_place: samsy — {name}, speaking to Viory — https://video.example/1" in others
    assert f"detention_date: 2022-01-07 — {name}, speaking to Viory — https://video.example/1" in (
        others
    )
    assert len(others) == 3


def test_the_incidents_csv_carries_the_other_accounts_of_its_date_and_place(client, reviewer):
    incident = IncidentFactory()
    AccountFactory(
        detention=None,
        incident=incident,
        fact=Fact.INCIDENT_PLACE,
        value_location=LocationFactory(slug="elsewhere"),
        asserted_by_text="a witness",
        sources=[SourceFactory(url="https://witness.example/")],
    )
    [row] = csv_rows(client, "incidents_csv")
    assert row["other_accounts"] == (
        "incident_place: elsewhere — a witness — https://witness.example/"
    )


def test_an_allegation_denied_later_shows_its_status_and_accounts(client, reviewer):
    allegation = AllegationFactory()
    denied = AccountFactory(
        detention=None,
        allegation=allegation,
        fact=Fact.ALLEGATION_STATUS,
        value_location=None,
        value_choice=AllegationStatus.DENIED,
        asserted_by_text="the detainee, later",
    )
    url = allegation.detention.incident.get_absolute_url()
    assert "2 accounts" in page_text(client.get(url))

    make_preferred(account=denied, user=reviewer)

    text = page_text(client.get(url))
    assert "Ill-treatment or beating Denied" in text
    [row] = csv_rows(client, "detentions_csv")
    assert row["allegation_statuses"] == "ill_treatment:denied"
    assert "allegation_status[ill_treatment]: alleged" in row["other_accounts"]


def test_a_withheld_person_asserting_an_account_is_never_named(client, case):
    person = PersonFactory(name="Marker Withheldname", identity_withheld=True, citizenship="KG")
    account = case["accounts"]["place"]
    account.asserted_by_person = person
    account.save()

    page = client.get(case["incident"].get_absolute_url()).content.decode()
    rows = csv_rows(client, "detentions_csv")

    assert "Withheldname" not in page
    assert "Person withheld, citizen of Kyrgyzstan" in page
    assert "Withheldname" not in rows[0]["other_accounts"]
    assert "Person withheld" in rows[0]["other_accounts"]


def test_an_unpublished_source_of_an_account_is_not_shown(client, case):
    draft = SourceFactory(
        title="Marker draft source",
        url="https://draft.example/",
        publication_state=PublicationState.DRAFT,
    )
    case["accounts"]["place"].sources.add(draft)

    page = client.get(case["incident"].get_absolute_url()).content.decode()
    [row] = csv_rows(client, "detentions_csv")

    assert "Marker draft source" not in page and "draft.example" not in page
    assert "draft.example" not in row["other_accounts"]


def test_the_accounts_of_a_draft_detention_are_not_shown(client):
    detention = DetentionFactory(publication_state=PublicationState.DRAFT)
    AccountFactory(detention=detention, note="Marker draft account")
    assert (
        "Marker draft account"
        not in client.get(detention.incident.get_absolute_url()).content.decode()
    )
    assert Account.objects.of_public_records().filter(detention=detention).count() == 0


def test_a_place_or_body_told_only_by_an_account_is_public(client, case):
    samsy = case["accounts"]["place"].value_location
    assert client.get(samsy.get_absolute_url()).status_code == 200
    body = OrganizationFactory(slug="the-army")
    account = case["accounts"]["authority"]
    account.value_text = ""
    account.value_organization = body
    account.save()
    assert client.get(body.get_absolute_url()).status_code == 200
    assert account.rank == AccountRank.NORMAL
