"""Reported numbers by citizenship on the staff side: added, changed and removed from the
incident's edit page. On a published case an editor's change is a proposal that the public
sees, and the counts count, only once a reviewer publishes it."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents.models import ReportedGroup, Revision, RevisionAction
from tests.factories import IncidentFactory, ReportedGroupFactory, SourceFactory
from tests.test_bypass_walk import public_views

pytestmark = pytest.mark.django_db

DRAFT = PublicationState.DRAFT


def add_url(incident) -> str:
    return reverse("staff:reportedgroup_add", kwargs={"incident_pk": incident.pk})


def edit_url(group) -> str:
    return reverse("staff:reportedgroup_edit", kwargs={"pk": group.pk})


def delete_url(group) -> str:
    return reverse("staff:reportedgroup_delete", kwargs={"pk": group.pk})


def group_data(group: ReportedGroup | None = None, **changes) -> dict:
    """The form as a browser sends it: `group`'s values, or a new group's."""
    data = {
        "citizenship": "KG",
        "detained_count": "38",
        "released_count": "",
        "note": "",
        "sources": [],
    }
    if group is not None:
        data.update(
            version=group.version,
            citizenship=group.citizenship.code,
            detained_count="" if group.detained_count is None else str(group.detained_count),
            released_count="" if group.released_count is None else str(group.released_count),
            note=group.note,
            sources=[source.pk for source in group.sources.all()],
        )
    data.update(changes)
    return data


def kg_facet(client) -> tuple[int, str] | None:
    response = client.get(reverse("incidents:incident_list"))
    (facet,) = [f for f in response.context["facets"] if f.name == "citizenship"]
    return next(((v.count, v.detail) for v in facet.values if v.value == "KG"), None)


def test_an_editor_s_group_on_a_draft_case_is_saved_directly(editor_client, editor):
    incident = IncidentFactory(publication_state=DRAFT, reported_detained_count=40)
    source = SourceFactory()

    response = editor_client.post(add_url(incident), group_data(sources=[source.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("staff:incident_edit", kwargs={"pk": incident.pk})
    group = ReportedGroup.objects.get(incident=incident)
    assert (group.citizenship.code, group.detained_count) == ("KG", 38)
    assert list(group.sources.all()) == [source]
    assert not Revision.objects.exists()
    assert group.history.earliest("history_id").history_user == editor


def test_an_editor_s_group_on_a_published_case_waits_for_a_reviewer(
    client, editor_client, reviewer_client
):
    incident = IncidentFactory(title="Marker Shymkent", reported_detained_count=38)
    before = public_views(incident)

    response = editor_client.post(add_url(incident), group_data())

    assert response.status_code == 302
    assert not ReportedGroup.objects.filter(incident=incident).exists()
    assert public_views(incident) == before
    assert kg_facet(client) is None
    proposal = Revision.objects.about(incident).pending().get()
    assert proposal.action == RevisionAction.CREATE

    published = reviewer_client.post(
        reverse("staff:proposal_publish", kwargs={"pk": proposal.pk}), {"next": "/staff/"}
    )

    assert published.status_code == 302
    assert ReportedGroup.objects.get(incident=incident).detained_count == 38
    assert kg_facet(client) == (1, "38 reported")
    listed = client.get(reverse("incidents:incident_list"), {"citizenship": "KG"})
    assert [i.title for i in listed.context["page"].object_list] == ["Marker Shymkent"]


def test_an_editor_s_change_to_a_group_of_a_published_case_is_proposed(
    client, editor_client, editor
):
    group = ReportedGroupFactory(detained_count=5)
    before = public_views(group.incident)

    response = editor_client.post(edit_url(group), group_data(group, detained_count="7"))

    assert response.status_code == 302
    group.refresh_from_db()
    assert group.detained_count == 5
    assert public_views(group.incident) == before
    assert kg_facet(client) == (1, "5 reported")
    proposal = Revision.objects.of(group).pending().get()
    assert proposal.changed_fields() == ["detained_count"]
    assert proposal.created_by == editor


def test_an_editor_s_removal_of_a_group_of_a_published_case_is_proposed(editor_client):
    group = ReportedGroupFactory()

    response = editor_client.post(delete_url(group))

    assert response.status_code == 302
    assert ReportedGroup.objects.filter(pk=group.pk).exists()
    assert Revision.objects.of(group).pending().get().action == RevisionAction.DELETE


def test_a_reviewer_s_change_is_public_at_once(client, reviewer_client):
    group = ReportedGroupFactory(detained_count=5)

    response = reviewer_client.post(edit_url(group), group_data(group, detained_count="7"))

    assert response.status_code == 302
    assert kg_facet(client) == (1, "7 reported")


def test_numbers_above_the_overall_one_are_refused_with_nothing_saved(editor_client):
    incident = IncidentFactory(publication_state=DRAFT, reported_detained_count=38)
    ReportedGroupFactory(incident=incident, citizenship="UZ", detained_count=5)

    response = editor_client.post(add_url(incident), group_data(detained_count="34"))

    assert response.status_code == 400
    assert (
        "The numbers detained by citizenship add up to 39, more than the incident's reported "
        "number detained (38)." in html.unescape(response.text)
    )
    assert ReportedGroup.objects.filter(incident=incident).count() == 1


def test_a_second_group_of_one_citizenship_is_refused_on_the_field(editor_client):
    group = ReportedGroupFactory(incident=IncidentFactory(publication_state=DRAFT))

    response = editor_client.post(add_url(group.incident), group_data(detained_count="2"))

    assert response.status_code == 400
    assert "This incident already has a reported number for this citizenship." in response.text
    assert ReportedGroup.objects.count() == 1


def test_the_incident_edit_page_and_the_case_page_lead_to_the_groups(editor_client):
    group = ReportedGroupFactory(detained_count=38, note="released after checks")

    edit_page = editor_client.get(reverse("staff:incident_edit", kwargs={"pk": group.incident_id}))
    case_page = editor_client.get(group.incident.get_absolute_url())

    assert "Reported numbers by citizenship" in edit_page.text
    assert "38 detained, released after checks" in edit_page.text
    assert edit_url(group) in edit_page.text and add_url(group.incident) in edit_page.text
    assert edit_url(group) in case_page.text and add_url(group.incident) in case_page.text
    assert edit_url(group) not in Client().get(group.incident.get_absolute_url()).text


def test_the_staff_pages_answer_404_for_a_group_or_case_that_does_not_exist(editor_client):
    assert editor_client.get(edit_url(ReportedGroup(pk=10**6))).status_code == 404
    assert editor_client.get(add_url(IncidentFactory.build(pk=10**6))).status_code == 404
