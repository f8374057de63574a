"""A save that changes nothing writes nothing: no version, no history entry, no new time."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from incidents.models import Incident
from tests import factories

pytestmark = pytest.mark.django_db


def sent_back(page) -> dict:
    """The edit form of `page` as a browser sends it back unchanged."""
    form = page.context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    return data


def test_saving_the_stored_values_again_writes_no_history():
    incident = factories.IncidentFactory(title="Same title")
    before = (incident.version, incident.history.count(), incident.updated_at)
    again = Incident.objects.get(pk=incident.pk)
    again.save()
    again.refresh_from_db()
    assert (again.version, again.history.count(), again.updated_at) == before


def test_equal_values_in_another_form_count_as_unchanged():
    place = factories.LocationFactory(latitude=Decimal("42.876500"), longitude=Decimal("74.6"))
    place.coordinate_precision = "city"
    place.save()
    before = (place.version, place.history.count())
    place.latitude = Decimal("42.8765")  # the same number, written differently
    place.country = "KG" if place.country.code == "KG" else place.country.code
    place.save()
    place.refresh_from_db()
    assert (place.version, place.history.count()) == before


def test_a_real_change_still_writes_a_version_and_history():
    incident = factories.IncidentFactory(start_date=datetime.date(2022, 1, 5))
    before = (incident.version, incident.history.count())
    incident.title = "Changed title"
    incident.save()
    incident.refresh_from_db()
    assert incident.version == before[0] + 1
    assert incident.history.count() == before[1] + 1


def test_update_fields_naming_only_bookkeeping_is_a_deliberate_touch():
    incident = factories.IncidentFactory()
    before = incident.history.count()
    incident.save(update_fields=["updated_at"])
    assert incident.history.count() == before + 1


def test_an_unchanged_staff_form_save_writes_no_history(editor_client):
    client = editor_client
    incident = factories.IncidentFactory(publication_state="draft")
    page = client.get(reverse("staff:incident_edit", args=[incident.pk]))
    data = sent_back(page)
    before = (incident.version, incident.history.count())
    response = client.post(reverse("staff:incident_edit", args=[incident.pk]), data)
    assert response.status_code == 302, (
        getattr(response, "context", None) and response.context["form"].errors
    )
    incident.refresh_from_db()
    assert (incident.version, incident.history.count()) == before


def test_a_link_change_saved_with_history_off_is_still_recorded_by_the_save():
    incident = factories.IncidentFactory()
    source = factories.SourceFactory()
    before = (incident.version, incident.history.count())
    incident.skip_history_when_saving = True
    incident.sources.add(source)
    del incident.skip_history_when_saving
    incident.save()
    incident.refresh_from_db()
    assert incident.version == before[0] + 1
    latest = incident.history.order_by("-history_id").first()
    assert list(latest.sources.values_list("source_id", flat=True)) == [source.pk]


def test_a_staff_form_that_changes_only_the_sources_records_them(editor_client):
    incident = factories.IncidentFactory(publication_state="draft")
    source = factories.SourceFactory()
    page = editor_client.get(reverse("staff:incident_edit", args=[incident.pk]))
    data = sent_back(page)
    data["sources"] = [str(source.pk)]
    before = incident.history.count()
    response = editor_client.post(reverse("staff:incident_edit", args=[incident.pk]), data)
    assert response.status_code == 302
    assert incident.history.count() == before + 1
    assert list(incident.sources.all()) == [source]


def test_a_form_sent_back_with_the_browser_s_line_breaks_changes_nothing(editor_client):
    """Browsers send a text area's line breaks as CRLF: that is not a change."""
    incident = factories.IncidentFactory(
        publication_state="draft", description="First paragraph.\n\nSecond paragraph."
    )
    page = editor_client.get(reverse("staff:incident_edit", args=[incident.pk]))
    data = sent_back(page)
    data["description"] = data["description"].replace("\n", "\r\n")
    before = (incident.version, incident.history.count())
    response = editor_client.post(reverse("staff:incident_edit", args=[incident.pk]), data)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.version, incident.history.count()) == before
    assert incident.description == "First paragraph.\n\nSecond paragraph."


def test_an_unchanged_form_on_a_published_record_proposes_nothing(editor_client):
    from incidents.models import Revision

    incident = factories.IncidentFactory(description="One.\n\nTwo.")
    page = editor_client.get(reverse("staff:incident_edit", args=[incident.pk]))
    data = sent_back(page)
    data["description"] = data["description"].replace("\n", "\r\n")
    editor_client.post(reverse("staff:incident_edit", args=[incident.pk]), data)
    assert not Revision.objects.exists()
