"""Conditional requests: ETag and Last-Modified on details, 304 for a fresh copy, 412 for a
write based on a stale one."""

import pytest

from tests.api_personas import API
from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    PositionFactory,
    PublicPlaceFactory,
)

pytestmark = pytest.mark.django_db


def test_a_detail_has_an_etag_and_a_last_modified_date(api):
    incident = IncidentFactory()

    response = api.get(f"{API}/incidents/{incident.pk}/")

    assert response["ETag"].startswith('"')
    assert response["Last-Modified"].endswith("GMT")


def test_it_answers_304_to_a_matching_if_none_match(api):
    incident = IncidentFactory()
    etag = api.get(f"{API}/incidents/{incident.pk}/")["ETag"]

    response = api.get(f"{API}/incidents/{incident.pk}/", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_change_gives_a_new_etag(api):
    incident = IncidentFactory()
    etag = api.get(f"{API}/incidents/{incident.pk}/")["ETag"]
    incident.title = "Renamed"
    incident.save()

    response = api.get(f"{API}/incidents/{incident.pk}/", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag


def test_a_change_to_an_embedded_record_gives_a_new_etag(api):
    detention = DetentionFactory()
    url = f"{API}/incidents/{detention.incident_id}/"
    etag = api.get(url)["ETag"]
    detention.charges = "Participation in riots"
    detention.save()

    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_staff_and_the_public_get_different_etags(api, staff_api):
    incident = IncidentFactory()

    public = api.get(f"{API}/incidents/{incident.pk}/")["ETag"]
    staff = staff_api.get(f"{API}/incidents/{incident.pk}/")["ETag"]

    assert public != staff


def test_records_without_a_timestamp_have_etags_too(api):
    for record, resource in ((PublicPlaceFactory(), "locations"), (PositionFactory(), "positions")):
        etag = api.get(f"{API}/{resource}/{record.pk}/")["ETag"]
        assert api.get(f"{API}/{resource}/{record.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_it_refuses_a_write_based_on_a_stale_version(editor_api):
    incident = IncidentFactory(title="First", publication_state="draft")
    stale = editor_api.get(f"{API}/incidents/{incident.pk}/")["ETag"]
    editor_api.patch(f"{API}/incidents/{incident.pk}/", {"title": "Second"}, format="json")

    response = editor_api.patch(
        f"{API}/incidents/{incident.pk}/", {"title": "Third"}, format="json", HTTP_IF_MATCH=stale
    )

    assert response.status_code == 412
    assert response["ETag"] != stale
    incident.refresh_from_db()
    assert incident.title == "Second"


def test_it_accepts_a_write_based_on_the_current_version(editor_api):
    incident = IncidentFactory(title="First", publication_state="draft")
    current = editor_api.get(f"{API}/incidents/{incident.pk}/")["ETag"]

    response = editor_api.put(
        f"{API}/incidents/{incident.pk}/",
        {
            "title": "Second",
            "slug": incident.slug,
            "kind": "detention",
            "location": incident.location_id,
        },
        format="json",
        HTTP_IF_MATCH=current,
    )

    assert response.status_code == 200, response.json()
    assert response["ETag"] != current
    incident.refresh_from_db()
    assert incident.title == "Second"


def test_it_refuses_to_archive_a_stale_version(admin_api):
    incident = IncidentFactory()

    response = admin_api.delete(f"{API}/incidents/{incident.pk}/", HTTP_IF_MATCH='"stale"')

    assert response.status_code == 412
    incident.refresh_from_db()
    assert incident.archived_at is None


def test_the_public_etag_folds_in_nothing_the_public_does_not_receive(api):
    """A guessed hidden value (a withheld person's name variant, a post, a staff note)
    cannot be confirmed offline against the public ETag: the ETag hashes the body."""
    from people.models import Person
    from tests.factories import PersonFactory, PersonNameFactory

    person = PersonFactory(identity_withheld=True, staff_notes="first")
    url = f"{API}/people/{person.pk}/"
    before = api.get(url)["ETag"]

    PersonNameFactory(person=person, name="Hidden Variant")
    PositionFactory(person=person, title="Head of the unit")
    Person.objects.filter(pk=person.pk).update(staff_notes="second", name="Other Name")
    assert api.get(url)["ETag"] == before

    Person.objects.filter(pk=person.pk).update(citizenship="KZ")  # in its public label
    assert api.get(url)["ETag"] != before


def test_each_format_has_its_own_public_etag(api):
    incident = IncidentFactory()
    url = f"{API}/incidents/{incident.pk}/"
    assert api.get(url)["ETag"] != api.get(url, {"format": "csv"})["ETag"]
