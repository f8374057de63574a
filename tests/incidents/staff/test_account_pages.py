"""The staff pages of the accounts of a record's facts: listed on the record's edit page,
added, edited, made preferred and removed; on a published case an editor's change waits for
a reviewer."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents import revisions
from incidents.models import Account, AccountRank, Fact, Revision, RevisionAction
from tests.factories import (
    AccountFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def add_url(detention) -> str:
    return reverse("staff:detention_account_add", kwargs={"detention_pk": detention.pk})


def new_account(source, **changes) -> dict:
    data = {
        "fact": Fact.DETENTION_DATE,
        "rank": AccountRank.NORMAL,
        "value_date": "2022-01-07",
        "value_date_precision": "day",
        "asserted_by_text": "speaking to Viory",
        "sources": [source.pk],
        "note": "He said he was detained on 7 January.",
    }
    data.update(changes)
    return data


def test_the_detention_edit_page_lists_its_accounts_by_fact(reviewer_client):
    account = AccountFactory(note="Marker note", asserted_by_text="speaking to a newspaper")

    page = reviewer_client.get(reverse("staff:detention_edit", kwargs={"pk": account.detention_id}))

    text = page.content.decode()
    assert "Accounts of the facts" in text
    assert "Place of arrest" in text and "asserted by speaking to a newspaper" in text
    assert reverse("staff:account_prefer", kwargs={"pk": account.pk}) in text
    assert add_url(account.detention) in text


def test_a_reviewer_adds_an_account_to_a_published_detention(reviewer_client):
    detention = DetentionFactory()
    source = SourceFactory()

    response = reviewer_client.post(add_url(detention), new_account(source))

    assert response.status_code == 302, response.content.decode()
    account = Account.objects.get(detention=detention, rank=AccountRank.NORMAL)
    assert str(account.date) == "7 January 2022"
    assert list(account.sources.all()) == [source]


def test_an_editors_addition_to_a_published_detention_waits_for_a_reviewer(editor_client, reviewer):
    detention = DetentionFactory()

    response = editor_client.post(add_url(detention), new_account(SourceFactory()))

    assert response.status_code == 302
    assert not Account.objects.filter(detention=detention, rank=AccountRank.NORMAL).exists()
    proposal = Revision.objects.about(detention).pending().get()
    assert proposal.action == RevisionAction.CREATE
    revisions.publish_revision(revision=proposal, user=reviewer)
    assert Account.objects.filter(detention=detention, rank=AccountRank.NORMAL).exists()


def test_an_account_with_the_wrong_kind_of_value_is_refused_naming_the_field(reviewer_client):
    detention = DetentionFactory()
    data = new_account(SourceFactory(), value_location=LocationFactory().pk)

    response = reviewer_client.post(add_url(detention), data)

    assert response.status_code == 400
    assert "This fact takes a date: leave this empty." in response.content.decode()
    assert not Account.objects.filter(detention=detention, rank=AccountRank.NORMAL).exists()


def test_a_reviewer_makes_an_account_preferred(reviewer_client):
    detention = DetentionFactory(
        detained_on=datetime.date(2022, 1, 1), detained_on_precision="month"
    )
    other = AccountFactory(
        detention=detention,
        fact=Fact.DETENTION_DATE,
        value_location=None,
        value_date=datetime.date(2022, 1, 7),
        value_date_precision="day",
    )

    response = reviewer_client.post(reverse("staff:account_prefer", kwargs={"pk": other.pk}))

    assert response.status_code == 302
    detention.refresh_from_db()
    assert str(detention.detained) == "7 January 2022"


def test_an_editors_choice_of_the_preferred_account_waits_for_a_reviewer(editor_client, reviewer):
    detention = DetentionFactory()
    other = AccountFactory(detention=detention)

    editor_client.post(reverse("staff:account_prefer", kwargs={"pk": other.pk}))

    detention.refresh_from_db()
    assert detention.arrest_location is None
    proposal = Revision.objects.of(other).pending().get()
    revisions.publish_revision(revision=proposal, user=reviewer)
    detention.refresh_from_db()
    assert detention.arrest_location == other.value_location


def test_an_incidents_only_place_account_cannot_be_removed(reviewer_client):
    incident = IncidentFactory()
    [place] = Account.objects.filter(incident=incident, fact=Fact.INCIDENT_PLACE)

    response = reviewer_client.post(
        reverse("staff:account_delete", kwargs={"pk": place.pk}), follow=True
    )

    assert "An incident always has a place" in response.content.decode()
    assert Account.objects.filter(pk=place.pk).exists()


def test_a_reviewer_removes_another_account(reviewer_client):
    other = AccountFactory()
    response = reviewer_client.post(reverse("staff:account_delete", kwargs={"pk": other.pk}))
    assert response.status_code == 302
    assert not Account.objects.filter(pk=other.pk).exists()


def test_an_editor_edits_the_accounts_of_a_draft_directly(editor_client):
    detention = DetentionFactory(publication_state=PublicationState.DRAFT)
    other = AccountFactory(detention=detention)
    url = reverse("staff:account_edit", kwargs={"pk": other.pk})
    page = editor_client.get(url)
    assert page.status_code == 200
    data = {
        "version": other.version,
        "fact": other.fact,
        "rank": AccountRank.PREFERRED,
        "value_location": other.value_location_id,
        "asserted_by_text": other.asserted_by_text,
        "sources": [s.pk for s in other.sources.all()],
        "note": "Corrected",
    }

    response = editor_client.post(url, data)

    assert response.status_code == 302, response.content.decode()
    detention.refresh_from_db()
    assert detention.arrest_location == other.value_location


def test_the_detention_form_edits_the_new_facts(reviewer_client):
    detention = DetentionFactory(publication_state=PublicationState.DRAFT)
    page = reviewer_client.get(reverse("staff:detention_edit", kwargs={"pk": detention.pk}))
    text = page.content.decode()
    for label in ("Place of arrest", "Detaining authority (organization)", "Reported age"):
        assert label in text
