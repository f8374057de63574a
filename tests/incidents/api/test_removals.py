"""/api/v1/removals/?since=…: what a mirror must drop."""

import datetime

import pytest
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from tests.api_personas import API
from tests.factories import DetentionFactory, IncidentFactory, PersonFactory, SourceFactory

pytestmark = pytest.mark.django_db


def removals(client, since) -> list[dict]:
    response = client.get(f"{API}/removals/", {"since": since.isoformat()})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_it_lists_records_archived_or_unpublished_since_then(api):
    before = timezone.now() - datetime.timedelta(minutes=1)
    archived = SourceFactory()
    archived.archived_at = timezone.now()
    archived.save()
    unpublished = IncidentFactory()
    unpublished.publication_state = PublicationState.DRAFT
    unpublished.save()
    IncidentFactory()  # still published

    results = removals(api, before)

    assert {"type": "source", "id": archived.pk, "reason": "archived"} in results
    assert {"type": "incident", "id": unpublished.pk, "reason": "unpublished"} in results
    assert len([r for r in results if r["type"] == "incident"]) == 1


def test_it_lists_detentions_whose_incident_went(api):
    before = timezone.now() - datetime.timedelta(minutes=1)
    detention = DetentionFactory()
    detention.incident.archived_at = timezone.now()
    detention.incident.save()

    results = removals(api, before)

    assert {"type": "detention", "id": detention.pk, "reason": "incident_removed"} in results


def test_it_lists_persons_whose_identity_became_withheld(api):
    before = timezone.now() - datetime.timedelta(minutes=1)
    person = PersonFactory()
    person.identity_withheld = True
    person.save()

    assert {"type": "person", "id": person.pk, "reason": "identity_withheld"} in removals(
        api, before
    )


def test_it_does_not_list_what_was_never_published_or_changed_before(api):
    draft = IncidentFactory(publication_state=PublicationState.DRAFT)
    old = SourceFactory(archived_at=timezone.now() - datetime.timedelta(days=3))

    results = removals(api, timezone.now() - datetime.timedelta(days=1))

    assert draft.published_at is None
    assert {"type": "incident", "id": draft.pk} not in [
        {"type": r["type"], "id": r["id"]} for r in results
    ]
    assert old.pk not in [r["id"] for r in results if r["type"] == "source"]


def test_it_answers_csv(api):
    before = timezone.now() - datetime.timedelta(minutes=1)
    SourceFactory(archived_at=timezone.now())

    response = api.get(f"{API}/removals/", {"since": before.isoformat(), "format": "csv"})

    lines = response.content.decode().splitlines()
    assert lines[0] == "type,id,reason"
    assert lines[1].startswith("source,")


def test_it_does_not_list_a_detention_whose_case_was_never_public(api):
    before = timezone.now() - datetime.timedelta(minutes=1)
    draft_case = IncidentFactory(publication_state=PublicationState.DRAFT)
    # The detention itself was once marked published, but inside a case that never was.
    detention = DetentionFactory(incident=draft_case)
    detention.archived_at = timezone.now()
    detention.save()
    draft_case.archived_at = timezone.now()
    draft_case.save()
    never_shown_person = PersonFactory(publication_state=PublicationState.DRAFT)
    other = DetentionFactory(person=never_shown_person)
    other.incident.archived_at = timezone.now()
    other.incident.save()

    ids = [(r["type"], r["id"]) for r in removals(api, before)]

    assert ("detention", detention.pk) not in ids
    assert ("detention", other.pk) not in ids
    assert ("incident", other.incident.pk) in ids


def test_a_detention_back_with_its_incident_is_in_updated_since(api, reviewer):
    from incidents import workflow

    detention = DetentionFactory()
    incident = detention.incident
    workflow.unpublish(record=incident, user=reviewer)
    Detention = type(detention)
    Detention._base_manager.filter(pk=detention.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=2)
    )
    since = timezone.now() - datetime.timedelta(minutes=1)
    incident.refresh_from_db()
    incident.publication_state = PublicationState.PUBLISHED  # published again
    incident._history_user = reviewer
    incident.save()

    response = api.get(f"{API}/detentions/", {"updated_since": since.isoformat()})

    assert response.status_code == 200
    assert detention.pk in [item["id"] for item in response.json()["results"]]


def test_a_detention_edit_moves_its_case_last_updated(db):
    detention = DetentionFactory()
    before = type(detention.incident).objects.get(pk=detention.incident_id).updated_at
    detention.details = "More"
    detention.save()
    after = type(detention.incident).objects.get(pk=detention.incident_id).updated_at
    assert after > before
