"""Two colleagues editing one record: a save from an older version is merged three ways
against the version its author opened, so nobody's change is lost silently."""

import datetime

import pytest
from django.test import Client

from cabar_tracker.publishing import PublicationState
from incidents.models import Incident
from tests.factories import IncidentFactory, SourceFactory
from tests.incidents.staff.test_edit_pages import edit_url, incident_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    return IncidentFactory(
        title="Original title",
        summary="Original summary",
        description="Original description",
        publication_state=PublicationState.DRAFT,
    )


def _colleague_saves(incident: Incident, **changes) -> None:
    stored = Incident.objects.get(pk=incident.pk)
    for name, value in changes.items():
        setattr(stored, name, value)
    stored.save()


def test_fields_only_the_colleague_changed_keep_their_value(editor_client, draft):
    opened = incident_data(draft, title="My title")  # the form as opened, at version 1
    _colleague_saves(draft, summary="Their summary")

    response = editor_client.post(edit_url("incident", draft.pk), opened)

    assert response.status_code == 302  # no question to ask: saved at once
    draft.refresh_from_db()
    assert (draft.title, draft.summary) == ("My title", "Their summary")
    assert draft.version == 3
    # The history has both changes, each by its author.
    assert draft.history.filter(summary="Their summary", title="Original title").exists()


def test_a_colleague_s_new_source_is_kept_when_i_change_the_title(editor_client, draft):
    opened = incident_data(draft, title="My title")
    theirs = SourceFactory(title="Their source")
    stored = Incident.objects.get(pk=draft.pk)
    stored.sources.add(theirs)
    stored.save()

    response = editor_client.post(edit_url("incident", draft.pk), opened)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "My title"
    assert list(draft.sources.all()) == [theirs]


def test_only_fields_both_changed_are_asked(editor, draft):
    client = Client()
    client.force_login(editor)
    opened = incident_data(draft, title="My title", description="My description")
    _colleague_saves(draft, title="Their title", summary="Their summary")

    conflict = client.post(edit_url("incident", draft.pk), opened)

    assert conflict.status_code == 409
    draft.refresh_from_db()
    assert (draft.title, draft.summary, draft.description) == (
        "Their title",
        "Their summary",
        "Original description",
    )
    assert [row.field_name for row in conflict.context["asked"]] == ["title"]
    assert [row.field_name for row in conflict.context["kept_theirs"]] == ["summary"]
    body = conflict.content.decode()
    assert "You both changed these fields" in body
    assert "Only they changed these" in body
    # The form holds the merge: mine where I changed, theirs where only they did.
    form = conflict.context["form"]
    assert form["title"].value() == "My title"
    assert form["description"].value() == "My description"
    assert form["summary"].value() == "Their summary"
    assert form["version"].value() == "2"

    # Saving the form as the page shows it decides the title and keeps their summary.
    data = {**opened, "summary": "Their summary", "version": 2}
    saved = client.post(edit_url("incident", draft.pk), data)
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.summary, draft.description) == (
        "My title",
        "Their summary",
        "My description",
    )


def test_the_same_value_from_both_is_no_conflict(editor_client, draft):
    opened = incident_data(draft, title="Same fix", description="My description")
    _colleague_saves(draft, title="Same fix")

    response = editor_client.post(edit_url("incident", draft.pk), opened)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.description) == ("Same fix", "My description")


def test_a_merge_that_breaks_a_rule_asks_rather_than_saving(editor_client):
    """Both halves valid alone, not together: the merged form is validated as a whole."""
    incident = IncidentFactory(
        start_date=datetime.date(2022, 1, 5),
        start_date_precision="day",
        publication_state=PublicationState.DRAFT,
    )
    opened = incident_data(incident, end_date="2022-01-07", end_date_precision="day")
    _colleague_saves(incident, start_date=datetime.date(2022, 1, 10))

    response = editor_client.post(edit_url("incident", incident.pk), opened)

    assert response.status_code == 409
    incident.refresh_from_db()
    assert (incident.start_date, incident.end_date) == (datetime.date(2022, 1, 10), None)
    form = response.context["form"]
    assert form["start_date"].value() == "2022-01-10"
    assert form.errors  # the page says why the two changes do not fit together
