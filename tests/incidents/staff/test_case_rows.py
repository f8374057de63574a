"""The rows of a case on the staff side: an incident's timeline events and a detention's
allegations, added, changed and removed from their own pages. On a published case an
editor's change is a proposal that the public sees only once a reviewer publishes it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents import revisions
from incidents.models import Allegation, IncidentEvent, Revision, RevisionAction
from tests.factories import (
    AllegationFactory,
    DetentionFactory,
    IncidentEventFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    ReportedGroupFactory,
    SourceFactory,
    StatementFactory,
)
from tests.test_bypass_walk import public_views

pytestmark = pytest.mark.django_db

DRAFT = PublicationState.DRAFT


def event_add_url(incident) -> str:
    return reverse("staff:incidentevent_add", kwargs={"incident_pk": incident.pk})


def event_edit_url(event) -> str:
    return reverse("staff:incidentevent_edit", kwargs={"pk": event.pk})


def allegation_add_url(detention) -> str:
    return reverse("staff:allegation_add", kwargs={"detention_pk": detention.pk})


def allegation_edit_url(allegation) -> str:
    return reverse("staff:allegation_edit", kwargs={"pk": allegation.pk})


def event_data(event: IncidentEvent | None = None, **changes) -> dict:
    """The event form as a browser sends it: `event`'s values, or a new event's."""
    data = {
        "title": "Marker: a video was broadcast",
        "kind": "media_report",
        "description": "",
        "occurred_on": "2022-01-09",
        "occurred_on_precision": "day",
        "location": "",
        "sources": [],
    }
    if event is not None:
        data.update(
            version=event.version,
            title=event.title,
            kind=event.kind,
            description=event.description,
            occurred_on=event.occurred_on.isoformat() if event.occurred_on else "",
            occurred_on_precision=event.occurred_on_precision,
            location=event.location_id or "",
            sources=[s.pk for s in event.sources.all()],
        )
    data.update(changes)
    return data


def allegation_data(allegation: Allegation | None = None, **changes) -> dict:
    data = {
        "kind": "torture",
        "description": "Marker: beaten during interrogation",
        "status": "alleged",
        "alleged_by_person": "",
        "alleged_by_organization": "",
        "statement": "",
        "sources": [],
    }
    if allegation is not None:
        data.update(
            version=allegation.version,
            kind=allegation.kind,
            description=allegation.description,
            status=allegation.status,
            alleged_by_person=allegation.alleged_by_person_id or "",
            alleged_by_organization=allegation.alleged_by_organization_id or "",
            statement=allegation.statement_id or "",
            sources=[s.pk for s in allegation.sources.all()],
        )
    data.update(changes)
    return data


# --- timeline events --------------------------------------------------------------------------


def test_an_editor_s_new_event_on_a_published_case_waits_for_a_reviewer(
    editor_client, reviewer_client
):
    incident = IncidentFactory()
    before = public_views(incident)

    response = editor_client.post(event_add_url(incident), event_data())

    assert response.status_code == 302
    assert response["Location"] == reverse("staff:incident_edit", kwargs={"pk": incident.pk})
    assert not IncidentEvent.objects.filter(incident=incident).exists()
    assert public_views(incident) == before
    proposal = Revision.objects.about(incident).pending().get()
    assert proposal.action == RevisionAction.CREATE
    # The incident's edit page shows the proposal waiting.
    page = editor_client.get(reverse("staff:incident_edit", kwargs={"pk": incident.pk}))
    assert "New timeline event of" in page.content.decode()

    published = reviewer_client.post(
        reverse("staff:proposal_publish", kwargs={"pk": proposal.pk}), {"next": "/staff/"}
    )

    assert published.status_code == 302
    event = IncidentEvent.objects.get(incident=incident)
    assert event.title == "Marker: a video was broadcast"
    assert "Marker: a video was broadcast" in Client().get(incident.get_absolute_url()).text
    assert public_views(incident) != before


def test_a_reviewer_s_new_event_is_saved_at_once_with_its_history(reviewer_client, reviewer):
    incident = IncidentFactory()

    response = reviewer_client.post(event_add_url(incident), event_data())

    assert response.status_code == 302
    event = IncidentEvent.objects.get(incident=incident)
    assert not Revision.objects.about(incident).exists()
    created = event.history.get()
    assert (created.history_type, created.history_user) == ("+", reviewer)
    assert "Marker: a video was broadcast" in Client().get(incident.get_absolute_url()).text


def test_an_editor_s_event_on_a_draft_case_is_saved_directly(editor_client, editor):
    incident = IncidentFactory(publication_state=DRAFT)
    source = SourceFactory()

    response = editor_client.post(
        event_add_url(incident),
        event_data(occurred_on="2022-01-19", occurred_on_precision="month", sources=[source.pk]),
    )

    assert response.status_code == 302
    event = IncidentEvent.objects.get(incident=incident)
    assert str(event.occurred) == "January 2022"
    assert list(event.sources.all()) == [source]
    assert not Revision.objects.exists()
    created = event.history.earliest("history_id")
    assert (created.history_type, created.history_user) == ("+", editor)


def test_an_editor_s_change_to_an_event_of_a_published_case_is_proposed(editor_client, reviewer):
    event = IncidentEventFactory(title="Marker before")
    before = public_views(event.incident)

    response = editor_client.post(event_edit_url(event), event_data(event, title="Marker after"))

    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.title, event.version) == ("Marker before", 1)
    assert public_views(event.incident) == before
    proposal = Revision.objects.of(event).pending().get()
    assert proposal.action == RevisionAction.CHANGE
    # The edit page opens on the proposal.
    page = editor_client.get(event_edit_url(event))
    assert page.context["form"]["title"].value() == "Marker after"

    revisions.publish_revision(revision=proposal, user=reviewer)

    event.refresh_from_db()
    assert event.title == "Marker after"
    assert event.history.first().history_user == reviewer


def test_a_reviewer_edits_an_event_directly(reviewer_client):
    event = IncidentEventFactory(title="Before")

    response = reviewer_client.post(event_edit_url(event), event_data(event, title="After"))

    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.title, event.version) == ("After", 2)
    assert not Revision.objects.exists()


def test_the_event_page_links_back_to_its_incident(editor_client):
    event = IncidentEventFactory()
    body = editor_client.get(event_edit_url(event)).content.decode()
    assert reverse("staff:incident_edit", kwargs={"pk": event.incident_id}) in body
    assert reverse("staff:incidentevent_delete", kwargs={"pk": event.pk}) in body
    assert (
        reverse(
            "staff:history",
            kwargs={"app_label": "incidents", "model_name": "incidentevent", "pk": event.pk},
        )
        in body
    )


def test_an_event_cannot_be_added_to_an_archived_incident(editor_client):
    incident = IncidentFactory(publication_state=DRAFT, archived_at="2024-01-01T00:00Z")
    assert editor_client.get(event_add_url(incident)).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"occurred_on": "9999-12-31"}, "occurred_on", "Enter a year from"),
        ({"occurred_on": "1022-01-07"}, "occurred_on", "Enter a year from"),
        ({"occurred_on": "99999-01-01"}, "occurred_on", "Enter a valid date"),
        ({"occurred_on": "2022-01-09\x00"}, "occurred_on", "Enter a valid date"),
        ({"title": "Marker\x00title"}, "title", "Null characters are not allowed"),
        ({"title": ""}, "title", "This field is required"),
        ({"kind": "nonsense"}, "kind", "Select a valid choice"),
        ({"occurred_on_precision": "century"}, "occurred_on_precision", "Select a valid choice"),
        ({"location": "99999999999999999999999"}, "location", "Select a valid choice"),
        ({"location": "-1"}, "location", "Select a valid choice"),
        ({"sources": ["99999999999999999999999"]}, "sources", "valid choice"),
        ({"sources": ["1\x00"]}, "sources", "Null characters are not allowed"),
    ],
)
def test_bad_event_input_is_a_form_error_and_saves_nothing(editor_client, changes, field, message):
    incident = IncidentFactory(publication_state=DRAFT)

    response = editor_client.post(event_add_url(incident), event_data(**changes))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert message in " ".join(errors[field]), errors
    assert not IncidentEvent.objects.exists()
    assert not Revision.objects.exists()


@pytest.mark.parametrize("version", ["99999999999999999999999", "0", "-3", "x\x00"])
def test_a_bad_version_on_an_event_is_a_4xx_not_a_500(reviewer_client, version):
    event = IncidentEventFactory(title="Before")

    response = reviewer_client.post(
        event_edit_url(event), event_data(event, title="After", version=version)
    )

    assert response.status_code in {400, 409}
    event.refresh_from_db()
    assert (event.title, event.version) == ("Before", 1)


def test_a_huge_incident_number_in_the_address_is_a_404(editor_client):
    url = reverse("staff:incidentevent_add", kwargs={"incident_pk": 10**25})
    assert editor_client.get(url).status_code == 404
    assert editor_client.get(event_edit_url(IncidentEvent(pk=10**25))).status_code == 404


def test_removing_an_event_of_a_published_case_is_proposed(editor_client, reviewer):
    event = IncidentEventFactory(title="Marker to remove")
    incident = event.incident
    before = public_views(incident)

    response = editor_client.post(reverse("staff:incidentevent_delete", kwargs={"pk": event.pk}))

    assert response.status_code == 302
    assert IncidentEvent.objects.filter(pk=event.pk).exists()
    assert public_views(incident) == before
    proposal = Revision.objects.of(event).pending().get()
    assert proposal.action == RevisionAction.DELETE

    revisions.publish_revision(revision=proposal, user=reviewer)

    assert not IncidentEvent.objects.filter(pk=event.pk).exists()
    assert "Marker to remove" not in Client().get(incident.get_absolute_url()).text


def test_removing_an_event_of_a_draft_case_deletes_it_keeping_its_history(editor_client, editor):
    event = IncidentEventFactory(incident=IncidentFactory(publication_state=DRAFT))

    response = editor_client.post(reverse("staff:incidentevent_delete", kwargs={"pk": event.pk}))

    assert response.status_code == 302
    assert not IncidentEvent.objects.filter(pk=event.pk).exists()
    deleted = IncidentEvent.history.filter(id=event.pk).first()
    assert (deleted.history_type, deleted.history_user) == ("-", editor)


def test_removing_takes_a_post_only(editor_client):
    event = IncidentEventFactory()
    url = reverse("staff:incidentevent_delete", kwargs={"pk": event.pk})
    assert editor_client.get(url).status_code == 405
    assert IncidentEvent.objects.filter(pk=event.pk).exists()


# --- allegations ------------------------------------------------------------------------------


def test_an_editor_s_new_allegation_on_a_published_detention_waits_for_a_reviewer(
    editor_client, reviewer
):
    detention = DetentionFactory()
    organization = OrganizationFactory()
    before = public_views(detention.incident)

    response = editor_client.post(
        allegation_add_url(detention), allegation_data(alleged_by_organization=organization.pk)
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("staff:detention_edit", kwargs={"pk": detention.pk})
    assert not detention.allegations.exists()
    assert public_views(detention.incident) == before
    proposal = Revision.objects.about(detention).pending().get()
    assert proposal.action == RevisionAction.CREATE

    revisions.publish_revision(revision=proposal, user=reviewer)

    allegation = detention.allegations.get()
    assert allegation.alleged_by_organization == organization
    page = Client().get(detention.incident.get_absolute_url()).text
    assert "Marker: beaten during interrogation" in page


def test_an_editor_s_change_to_an_allegation_of_a_published_detention_is_proposed(
    editor_client, reviewer
):
    allegation = AllegationFactory(description="Marker before")
    incident = allegation.detention.incident
    before = public_views(incident)

    response = editor_client.post(
        allegation_edit_url(allegation),
        allegation_data(allegation, description="Marker after", kind="forced_confession"),
    )

    assert response.status_code == 302
    allegation.refresh_from_db()
    assert (allegation.description, allegation.kind) == ("Marker before", "ill_treatment")
    assert public_views(incident) == before
    proposal = Revision.objects.of(allegation).pending().get()

    revisions.publish_revision(revision=proposal, user=reviewer)

    allegation.refresh_from_db()
    assert (allegation.description, allegation.kind) == ("Marker after", "forced_confession")
    assert allegation.history.count() == 2


def test_a_reviewer_edits_an_allegation_directly_with_its_history(reviewer_client, reviewer):
    allegation = AllegationFactory(description="Before")
    statement = StatementFactory()

    response = reviewer_client.post(
        allegation_edit_url(allegation),
        allegation_data(allegation, description="After", statement=statement.pk),
    )

    assert response.status_code == 302
    allegation.refresh_from_db()
    assert (allegation.description, allegation.statement, allegation.version) == (
        "After",
        statement,
        2,
    )
    newest = allegation.history.first()
    assert (newest.history_type, newest.history_user) == ("~", reviewer)
    assert not Revision.objects.exists()


def test_an_editor_s_allegation_on_a_draft_detention_is_saved_directly(editor_client):
    detention = DetentionFactory(publication_state=DRAFT)

    response = editor_client.post(allegation_add_url(detention), allegation_data())

    assert response.status_code == 302
    assert detention.allegations.get().kind == "torture"
    assert not Revision.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": ""}, "kind"),
        ({"description": "a\x00b"}, "description"),
        ({"alleged_by_person": "99999999999999999999999"}, "alleged_by_person"),
        ({"statement": "abc"}, "statement"),
    ],
)
def test_bad_allegation_input_is_a_form_error(editor_client, changes, field):
    detention = DetentionFactory()

    response = editor_client.post(allegation_add_url(detention), allegation_data(**changes))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Revision.objects.exists()
    assert not Allegation.objects.exists()


def test_removing_an_allegation_by_a_reviewer_deletes_it(reviewer_client):
    allegation = AllegationFactory()

    response = reviewer_client.post(
        reverse("staff:allegation_delete", kwargs={"pk": allegation.pk})
    )

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "staff:detention_edit", kwargs={"pk": allegation.detention_id}
    )
    assert not Allegation.objects.filter(pk=allegation.pk).exists()


# --- where staff find these pages -------------------------------------------------------------


def test_the_incident_edit_page_lists_its_events_with_edit_links(editor_client):
    incident = IncidentFactory()
    event = IncidentEventFactory(incident=incident, title="Broadcast on Khabar 24")
    body = editor_client.get(reverse("staff:incident_edit", kwargs={"pk": incident.pk})).text
    assert "Broadcast on Khabar 24" in body
    assert event_edit_url(event) in body
    assert event_add_url(incident) in body
    assert "Add timeline event" in body


def test_the_detention_edit_page_lists_its_allegations_with_edit_links(editor_client):
    allegation = AllegationFactory()
    detention = allegation.detention
    body = editor_client.get(reverse("staff:detention_edit", kwargs={"pk": detention.pk})).text
    assert "Ill-treatment or beating" in body
    assert allegation_edit_url(allegation) in body
    assert allegation_add_url(detention) in body
    assert "Add allegation" in body


@pytest.mark.parametrize("rows", [1, 8])
def test_the_incident_edit_page_s_query_count_does_not_grow_with_its_events(
    editor_client, django_assert_max_num_queries, rows
):
    incident = IncidentFactory()
    for n in range(rows):
        IncidentEventFactory(incident=incident, title=f"Event {n}", location=LocationFactory())
    for code in ["KG", "UZ", "TJ", "KZ", "RU", "AF", "CN", "TR"][:rows]:
        ReportedGroupFactory(incident=incident, citizenship=code)
    url = reverse("staff:incident_edit", kwargs={"pk": incident.pk})
    editor_client.get(url)  # warm the per-process caches (content types)
    # The same budget for 1 and 8 events and reported groups: session, user, incident, its
    # reported groups (one query), its events with their places (one query), proposals,
    # the form's choices (situations, sources, places), the accounts of its facts and their
    # sources (listed under the form), the menu's groups and permissions.
    # +1: the evidence section (attachments of the record).
    with django_assert_max_num_queries(17):
        response = editor_client.get(url)
    assert response.text.count("/staff/events/") == rows
    assert response.text.count("/staff/reported-groups/") == rows


@pytest.mark.parametrize("rows", [1, 8])
def test_the_detention_edit_page_s_query_count_does_not_grow_with_its_allegations(
    editor_client, django_assert_max_num_queries, rows
):
    detention = DetentionFactory()
    for _ in range(rows):
        AllegationFactory(detention=detention)
    url = reverse("staff:detention_edit", kwargs={"pk": detention.pk})
    editor_client.get(url)
    # The same budget for 1 and 8: session, user, detention, its allegations with who made
    # them (one query), proposals, the form's choices (incidents, persons, places three
    # times, detaining organizations, sources), the accounts of its facts and their sources
    # (listed under the form), the menu's groups and permissions.
    # +1: the evidence section (attachments of the record).
    with django_assert_max_num_queries(22):
        response = editor_client.get(url)
    assert response.text.count("staff/allegations/") == rows


def test_the_case_page_shows_staff_the_links_to_events_and_allegations(editor_client, client):
    allegation = AllegationFactory()
    detention = allegation.detention
    event = IncidentEventFactory(incident=detention.incident)
    url = detention.incident.get_absolute_url()
    links = [
        event_edit_url(event),
        event_add_url(detention.incident),
        allegation_edit_url(allegation),
        allegation_add_url(detention),
    ]

    staff_page = editor_client.get(url).text
    public_page = client.get(url).text

    for link in links:
        assert link in staff_page
        assert link not in public_page
