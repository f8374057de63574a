"""Writes validate like the models do: a bad value answers 400 naming the field, and nothing
is saved, not even part of the record."""

import datetime

import pytest

from incidents.models import Detention, Incident, Source, Statement
from tests.api_personas import API
from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def incident_payload(**extra) -> dict:
    return {
        "title": "Detention at the border",
        "slug": "detention-at-the-border",
        "kind": "detention",
        "location": LocationFactory().pk,
        **extra,
    }


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"kind": "bogus"}, "kind"),
        ({"slug": "not a slug"}, "slug"),
        ({"location": 999999}, "location"),
        ({"start_date": {"value": "2022-13", "precision": "month"}}, "start_date"),
        ({"start_date": {"value": "2022-01", "precision": "week"}}, "start_date"),
        ({"start_date": {"value": "2022", "precision": "day"}}, "start_date"),
        ({"start_date": "2022-01-07"}, "start_date"),
        ({"reported_detained_count": -1}, "reported_detained_count"),
        (
            {
                "start_date": {"value": "2022-01-09", "precision": "day"},
                "end_date": {"value": "2022-01-02", "precision": "day"},
            },
            "end_date",
        ),
        ({"reported_detained_count": 2, "reported_released_count": 5}, "reported_released_count"),
        ({"sources": [999999]}, "sources"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(editor_api, extra, field):
    response = editor_api.post(f"{API}/incidents/", incident_payload(**extra), format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Incident.objects.exists()


def test_it_saves_nothing_when_one_related_record_is_wrong(editor_api):
    source = SourceFactory()

    response = editor_api.post(
        f"{API}/incidents/", incident_payload(sources=[source.pk, 999999]), format="json"
    )

    assert response.status_code == 400
    assert not Incident.objects.exists()


def test_it_takes_partial_dates_as_one_object(editor_api):
    response = editor_api.post(
        f"{API}/incidents/",
        incident_payload(
            start_date={"value": "2022-01-07", "precision": "month"},
            end_date={"value": "2022", "precision": "year"},
        ),
        format="json",
    )

    assert response.status_code == 201, response.json()
    incident = Incident.objects.get()
    assert (incident.start_date, incident.start_date_precision) == (
        datetime.date(2022, 1, 1),
        "month",
    )
    assert response.json()["start_date"] == {"value": "2022-01", "precision": "month"}
    assert response.json()["end_date"] == {"value": "2022", "precision": "year"}


def test_null_clears_a_partial_date(editor_api):
    incident = IncidentFactory(publication_state="draft")

    response = editor_api.patch(
        f"{API}/incidents/{incident.pk}/", {"start_date": None}, format="json"
    )

    assert response.status_code == 200
    incident.refresh_from_db()
    assert (incident.start_date, incident.start_date_precision) == (None, "")


def test_it_checks_the_rules_across_fields_of_a_detention(editor_api):
    detention = DetentionFactory(detained_on=datetime.date(2022, 1, 9))

    before = editor_api.patch(
        f"{API}/detentions/{detention.pk}/",
        {"released_on": {"value": "2022-01-02", "precision": "day"}},
        format="json",
    )
    still_held = editor_api.patch(
        f"{API}/detentions/{detention.pk}/",
        {"released_on": {"value": "2022-01-12", "precision": "day"}, "outcome": "still_held"},
        format="json",
    )
    twice = editor_api.post(
        f"{API}/detentions/",
        {"incident": detention.incident_id, "person": detention.person_id},
        format="json",
    )

    assert before.status_code == 400 and "released_on" in before.json()
    assert still_held.status_code == 400 and "outcome" in still_held.json()
    assert twice.status_code == 400 and "non_field_errors" in twice.json()
    detention.refresh_from_db()
    assert detention.released_on is None
    assert Detention.objects.count() == 1


def test_it_needs_a_speaker_for_a_statement(editor_api):
    response = editor_api.post(
        f"{API}/statements/", {"kind": "claim", "text": "Someone said."}, format="json"
    )

    assert response.status_code == 400
    assert "speaker_person" in response.json()
    assert not Statement.objects.exists()


def test_it_names_the_api_field_of_a_duplicate_source_address(editor_api):
    SourceFactory(url="https://example.org/a")

    response = editor_api.post(
        f"{API}/sources/", {"title": "Again", "web_url": "https://example.org/a"}, format="json"
    )

    assert response.status_code == 400
    assert "web_url" in response.json()
    assert Source.objects.count() == 1


def test_it_refuses_an_unknown_country(editor_api):
    response = editor_api.post(
        f"{API}/people/", {"name": "A", "slug": "a", "citizenship": "XX"}, format="json"
    )

    assert response.status_code == 400
    assert "citizenship" in response.json()


def test_a_write_answers_with_the_staff_representation(editor_api):
    person = PersonFactory(staff_notes="Checked with the family", publication_state="draft")

    response = editor_api.patch(
        f"{API}/people/{person.pk}/", {"occupation": "Pianist"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["occupation"] == "Pianist"
    assert response.json()["staff_notes"] == "Checked with the family"
    assert response["ETag"]
