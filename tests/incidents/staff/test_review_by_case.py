"""The review queue reads case by case, and a reviewer publishes a whole case in one step:
every record of it in review and every change proposed to it, all or nothing."""

import pytest
from django.test import Client
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents import revisions
from incidents.models import Detention, Incident, Revision, RevisionStatus
from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    SourceFactory,
    StatementFactory,
)
from tests.incidents.staff.test_workflow import complete_incident, state_of

pytestmark = pytest.mark.django_db

IN_REVIEW = PublicationState.IN_REVIEW
PUBLISHED = PublicationState.PUBLISHED


def publish_case_url(incident) -> str:
    return reverse("staff:incident_publish_case", args=[incident.pk])


@pytest.fixture
def case_waiting(editor):
    """A new case in review (with its draft detention and person), a statement about it in
    review, and an editor's proposed change to a detention of the same case already public."""
    incident = complete_incident(title="Beaten in Shymkent")
    statement = StatementFactory(publication_state=IN_REVIEW, text="The ministry denied it.")
    statement.incidents.add(incident)
    statement.sources.add(SourceFactory())
    public_detention = DetentionFactory(incident=incident, details="Public details")
    public_detention.sources.add(SourceFactory())
    public_detention.details = "Proposed details"
    proposal = revisions.propose(public_detention, user=editor)
    other = IncidentFactory(publication_state=IN_REVIEW, title="Another case")
    return {
        "incident": incident,
        "statement": statement,
        "proposal": proposal,
        "public_detention": public_detention,
        "other": other,
    }


def test_the_queue_groups_records_and_proposals_by_case(reviewer_client, case_waiting):
    response = reviewer_client.get(reverse("staff:review_queue"))
    cases = {case.incident.title: case for case in response.context["cases"] if case.incident}
    shymkent = cases["Beaten in Shymkent"]
    assert {entry.record for entry in shymkent.entries} == {
        case_waiting["incident"],
        case_waiting["statement"],
    }
    assert [item.revision for item in shymkent.proposals] == [case_waiting["proposal"]]
    assert [entry.record for entry in cases["Another case"].entries] == [case_waiting["other"]]
    body = response.content.decode()
    # The diff of the proposal is shown inside its case, with the publish-all button.
    case_start = body.index("Beaten in Shymkent")
    assert case_start < body.index("Proposed details") < body.index("Another case")
    assert publish_case_url(case_waiting["incident"]) in body


def test_a_reviewer_publishes_a_whole_case_in_one_step(client, reviewer_client, case_waiting):
    incident = case_waiting["incident"]
    response = reviewer_client.post(publish_case_url(incident))
    assert response.status_code == 302

    assert state_of(incident) == PUBLISHED
    assert state_of(case_waiting["statement"]) == PUBLISHED
    # The draft detention and its person came with the incident, as publishing it does.
    assert not Detention.objects.filter(incident=incident).exclude(publication_state=PUBLISHED)
    proposal = Revision.objects.get(pk=case_waiting["proposal"].pk)
    assert proposal.status == RevisionStatus.PUBLISHED
    assert Detention.objects.get(pk=case_waiting["public_detention"].pk).details == (
        "Proposed details"
    )
    # Another case waiting is left as it is.
    assert state_of(case_waiting["other"]) == IN_REVIEW
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Proposed details" in page and "The ministry denied it." in page


def test_nothing_of_the_case_is_published_if_one_part_cannot_be(reviewer_client, case_waiting):
    incident = case_waiting["incident"]
    # The statement lost its sources: it cannot be published, so nothing of the case is.
    case_waiting["statement"].sources.clear()

    response = reviewer_client.post(publish_case_url(incident), follow=True)

    assert "Nothing of the case was published" in response.content.decode()
    assert state_of(incident) == IN_REVIEW
    assert state_of(case_waiting["statement"]) == IN_REVIEW
    proposal = Revision.objects.get(pk=case_waiting["proposal"].pk)
    assert proposal.status == RevisionStatus.PENDING
    assert Detention.objects.get(pk=case_waiting["public_detention"].pk).details == (
        "Public details"
    )


def test_a_conflict_in_one_proposal_stops_the_whole_case(reviewer, case_waiting):
    client = Client()
    client.force_login(reviewer)
    detention = Detention.objects.get(pk=case_waiting["public_detention"].pk)
    detention.details = "Changed by a reviewer meanwhile"
    detention._history_user = reviewer
    detention.save()

    response = client.post(publish_case_url(case_waiting["incident"]), follow=True)

    assert "Nothing of the case was published" in response.content.decode()
    assert state_of(case_waiting["incident"]) == IN_REVIEW


def test_an_editor_may_not_publish_a_case(editor_client, case_waiting):
    incident = case_waiting["incident"]
    assert editor_client.post(publish_case_url(incident)).status_code == 403
    assert state_of(incident) == IN_REVIEW
    body = editor_client.get(reverse("staff:review_queue")).content.decode()
    assert publish_case_url(incident) not in body


def test_publishing_a_case_with_nothing_waiting_changes_nothing(reviewer_client):
    incident = IncidentFactory(location=LocationFactory())
    version = incident.version
    response = reviewer_client.post(publish_case_url(incident))
    assert response.status_code == 302
    assert Incident.objects.get(pk=incident.pk).version == version


def test_publishing_an_unknown_case_is_404(reviewer_client):
    assert (
        reviewer_client.post(reverse("staff:incident_publish_case", args=[999999])).status_code
        == 404
    )
