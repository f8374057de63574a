"""Proposed changes: an editor's change to a public record waits for a reviewer, on every
door, and the public sees nothing of it until it is published (incidents/revisions.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client
from django.urls import reverse

from cabar_tracker.publishing import ChangeNeedsReview, PublicationState
from incidents import revisions
from incidents.models import Incident, Revision, RevisionStatus, Source
from incidents.workflow import WorkflowError
from people.models import NameKind, PersonName
from tests.api_personas import API, token_client
from tests.factories import (
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
    PersonNameFactory,
    SourceFactory,
    StatementFactory,
)
from tests.incidents.staff.test_edit_pages import edit_url, incident_data
from tests.test_bypass_walk import CSRF_TOKEN
from tests.test_bypass_walk import public_views as walk_public_views
from tests.test_one_door import person_form

DRAFT = PublicationState.DRAFT


def public_views(incident: Incident) -> dict[str, bytes]:
    """Everything an anonymous reader or script gets that shows the incident: the walk's
    views (tests/test_bypass_walk.py) plus the JSON export and search."""
    views = walk_public_views(incident)
    client = Client()
    for name, url in {
        "json": reverse("incidents:incidents_json"),
        "api csv": f"{API}/incidents/?format=csv",
        "search": reverse("incidents:search") + "?q=Marker",
    }.items():
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        views[name] = (response.status_code, CSRF_TOKEN.sub(b"csrf", body))
    return views


@pytest.fixture
def published_incident():
    return IncidentFactory(title="Marker before", summary="Marker summary before")


def test_an_editor_s_edit_leaves_every_public_view_byte_identical(
    editor_client, reviewer_client, published_incident
):
    before = public_views(published_incident)
    data = incident_data(published_incident, title="Marker after", summary="Marker summary after")

    response = editor_client.post(edit_url("incident", published_incident.pk), data)

    assert response.status_code == 302
    after_proposal = public_views(published_incident)
    for name in before:
        assert after_proposal[name] == before[name], name
    proposal = Revision.objects.of(published_incident).pending().get()
    assert set(proposal.changed_fields()) == {"title", "summary"}

    # The reviewer sees it in the queue with its diff, and publishes it.
    queue = reviewer_client.get(reverse("staff:review_queue")).content.decode()
    assert "Marker summary after" in queue and "Marker before" in queue
    response = reviewer_client.post(
        reverse("staff:proposal_publish", args=[proposal.pk]), {"next": "/staff/review/"}
    )
    assert response.status_code == 302
    after = public_views(published_incident)
    assert b"Marker after" in after["page"][1] and b"Marker after" in after["api detail"][1]
    assert b"Marker before" not in after["page"][1]
    proposal.refresh_from_db()
    assert proposal.status == RevisionStatus.PUBLISHED
    latest = published_incident.history.order_by("-history_id").first()
    assert latest.history_user.username == "rahat_reviewer"
    assert "proposed by" in latest.history_change_reason


def test_the_edit_page_shows_the_proposal_with_a_banner_and_opens_on_it(
    editor_client, published_incident
):
    data = incident_data(published_incident, title="Marker after")
    editor_client.post(edit_url("incident", published_incident.pk), data)

    page = editor_client.get(edit_url("incident", published_incident.pk))

    body = page.content.decode()
    assert "A change waits for review" in body
    assert page.context["form"]["title"].value() == "Marker after"
    assert [c.proposed for c in page.context["proposals"][0].changes] == ["Marker after"]


def test_saving_the_proposal_again_replaces_it_and_a_save_back_to_public_withdraws_it(
    editor_client, published_incident
):
    url = edit_url("incident", published_incident.pk)
    editor_client.post(url, incident_data(published_incident, title="Marker one"))
    editor_client.post(url, incident_data(published_incident, title="Marker two"))
    statuses = list(Revision.objects.of(published_incident).values_list("status", flat=True))
    assert statuses == [RevisionStatus.SUPERSEDED, RevisionStatus.PENDING]

    editor_client.post(url, incident_data(published_incident))

    assert not Revision.objects.of(published_incident).pending().exists()


def test_a_returned_proposal_shows_the_reviewer_s_note_to_the_editor(
    editor_client, reviewer_client, published_incident
):
    editor_client.post(
        edit_url("incident", published_incident.pk),
        incident_data(published_incident, title="Marker after"),
    )
    proposal = Revision.objects.of(published_incident).pending().get()

    reviewer_client.post(
        reverse("staff:proposal_return", args=[proposal.pk]), {"note": "Which source says so?"}
    )

    body = editor_client.get(edit_url("incident", published_incident.pk)).content.decode()
    assert "Your proposed change was returned" in body
    assert "Which source says so?" in body
    published_incident.refresh_from_db()
    assert published_incident.title == "Marker before"


def test_an_editor_cannot_publish_or_return_a_proposal(editor_client, published_incident):
    editor_client.post(
        edit_url("incident", published_incident.pk),
        incident_data(published_incident, title="Marker after"),
    )
    proposal = Revision.objects.of(published_incident).pending().get()
    for name in ("staff:proposal_publish", "staff:proposal_return"):
        response = editor_client.post(reverse(name, args=[proposal.pk]), {"note": "x"})
        assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == RevisionStatus.PENDING


# --- publishing merges three ways ------------------------------------------------------------


def test_a_colleague_s_change_to_another_field_is_kept_when_the_proposal_is_published(
    editor, reviewer, published_incident
):
    proposed = Incident.objects.get(pk=published_incident.pk)
    proposed.title = "Marker after"
    proposal = revisions.propose(proposed, user=editor)
    live = Incident.objects.get(pk=published_incident.pk)
    live.summary = "Reviewer's summary"
    live._history_user = reviewer
    live.save()

    revisions.publish_revision(revision=proposal, user=reviewer)

    published_incident.refresh_from_db()
    assert (published_incident.title, published_incident.summary) == (
        "Marker after",
        "Reviewer's summary",
    )


def test_a_change_to_the_same_field_meanwhile_is_a_conflict_and_changes_nothing(
    editor, reviewer, published_incident
):
    proposed = Incident.objects.get(pk=published_incident.pk)
    proposed.title = "Marker after"
    proposal = revisions.propose(proposed, user=editor)
    live = Incident.objects.get(pk=published_incident.pk)
    live.title = "Reviewer's title"
    live._history_user = reviewer
    live.save()

    with pytest.raises(revisions.RevisionConflict) as conflict:
        revisions.publish_revision(revision=proposal, user=reviewer)

    assert conflict.value.fields == ["title"]
    published_incident.refresh_from_db()
    assert published_incident.title == "Reviewer's title"
    proposal.refresh_from_db()
    assert proposal.status == RevisionStatus.PENDING


def test_publishing_a_proposal_that_cites_a_draft_source_publishes_the_source(
    editor, reviewer, published_incident
):
    draft_source = SourceFactory(publication_state=DRAFT, title="New account")
    proposal = revisions.propose(
        Incident.objects.get(pk=published_incident.pk),
        user=editor,
        links={
            "sources": [*published_incident.sources.values_list("pk", flat=True), draft_source.pk]
        },
    )

    revisions.publish_revision(revision=proposal, user=reviewer)

    draft_source.refresh_from_db()
    assert draft_source.is_published
    assert published_incident.sources.filter(pk=draft_source.pk).exists()


def test_an_incomplete_draft_source_blocks_the_proposal_and_changes_nothing(
    editor, reviewer, published_incident
):
    incomplete = SourceFactory(publication_state=DRAFT, title="", url="", publisher="")
    cited = list(published_incident.sources.values_list("pk", flat=True))
    proposal = revisions.propose(
        Incident.objects.get(pk=published_incident.pk),
        user=editor,
        links={"sources": [*cited, incomplete.pk]},
    )

    with pytest.raises(revisions.PublicationBlocked):
        revisions.publish_revision(revision=proposal, user=reviewer)

    assert sorted(published_incident.sources.values_list("pk", flat=True)) == sorted(cited)
    assert not Source.objects.get(pk=incomplete.pk).is_published


def test_only_a_reviewer_publishes_a_proposal(editor, published_incident):
    proposed = Incident.objects.get(pk=published_incident.pk)
    proposed.title = "Marker after"
    proposal = revisions.propose(proposed, user=editor)
    with pytest.raises(PermissionDenied):
        revisions.publish_revision(revision=proposal, user=editor)
    published_incident.refresh_from_db()
    assert published_incident.title == "Marker before"


# --- name variants of a published person -----------------------------------------------------


def test_name_variants_of_a_published_person_are_proposed_and_published_with_review(
    editor_client, reviewer
):
    person = PersonFactory(name="Vikram Ruzakhunov")
    variant = PersonNameFactory(person=person, name="Ruzahunov", kind=NameKind.SPELLING)
    data = person_form(
        person,
        **{
            "name_variants-TOTAL_FORMS": "2",
            "name_variants-INITIAL_FORMS": "1",
            "name_variants-0-id": variant.pk,
            "name_variants-0-name": "Ruzakhounov",
            "name_variants-0-kind": NameKind.SPELLING,
            "name_variants-1-name": "Рузахунов",
            "name_variants-1-kind": NameKind.SPELLING,
        },
    )

    response = editor_client.post(reverse("staff:person_edit", kwargs={"pk": person.pk}), data)

    assert response.status_code == 302
    assert sorted(person.name_variants.values_list("name", flat=True)) == ["Ruzahunov"]
    waiting = list(Revision.objects.about(person).pending())
    assert sorted(r.action for r in waiting) == ["change", "create"]
    for proposal in waiting:
        revisions.publish_revision(revision=proposal, user=reviewer)
    assert sorted(person.name_variants.values_list("name", flat=True)) == [
        "Ruzakhounov",
        "Рузахунов",
    ]


# --- no door writes a public record directly -------------------------------------------------


def test_a_direct_save_by_an_editor_is_refused(editor, published_incident):
    incident = Incident.objects.get(pk=published_incident.pk)
    incident.title = "Marker after"
    incident._history_user = editor
    with pytest.raises(ChangeNeedsReview):
        incident.save()


def test_linking_a_source_to_a_public_record_directly_is_refused_from_either_side(
    editor, published_incident
):
    source = SourceFactory()
    incident = Incident.objects.get(pk=published_incident.pk)
    incident._history_user = editor
    # (Each in its own savepoint: the refusal rolls back the link's transaction.)
    with pytest.raises(ChangeNeedsReview), transaction.atomic():
        incident.sources.add(source)
    source._history_user = editor
    with pytest.raises(ChangeNeedsReview), transaction.atomic():
        source.incidents.add(incident)
    assert not published_incident.sources.filter(pk=source.pk).exists()


def test_adding_or_removing_a_name_of_a_published_person_directly_is_refused(editor):
    person = PersonFactory()
    variant = PersonNameFactory(person=person)
    new = PersonName(person=person, name="Marker", kind=NameKind.ALIAS)
    new._history_user = editor
    with pytest.raises(ChangeNeedsReview), transaction.atomic():
        new.save()
    variant._history_user = editor
    with pytest.raises(ChangeNeedsReview), transaction.atomic():
        variant.delete()
    assert person.name_variants.count() == 1


def test_a_place_edit_by_an_editor_waits_for_a_reviewer(editor):
    place = LocationFactory(name="Almaty")
    IncidentFactory(location=place)  # a published case uses it: the place is public
    response = token_client(editor).patch(
        f"{API}/locations/{place.pk}/", {"name": "Marker"}, format="json"
    )
    assert response.status_code == 202, response.content
    place.refresh_from_db()
    assert place.name == "Almaty"


def test_a_draft_s_place_is_a_draft_until_something_published_uses_it(client, editor, reviewer):
    """Entering a draft case with a new place (its name, exact coordinates) publishes
    nothing; publishing the case makes the place public; until then the editor corrects
    it directly."""
    from decimal import Decimal

    from incidents.workflow import publish

    samsy = LocationFactory(
        name="Samsy", slug="samsy", latitude=Decimal("43.27"), longitude=Decimal("75.75")
    )
    samsy.coordinate_precision = "exact"
    samsy.save()
    in_review = PublicationState.IN_REVIEW
    case = IncidentFactory(location=samsy, publication_state=in_review)
    unit = OrganizationFactory(name="Samsy garrison", slug="samsy-garrison")
    spoken = StatementFactory(speaker_organization=unit, publication_state=in_review)
    spoken.incidents.add(case)
    for record in (case, spoken):
        record.sources.add(SourceFactory())

    for url in (
        "/places/samsy/",
        "/organizations/samsy-garrison/",
        f"{API}/locations/{samsy.pk}/",
        f"{API}/organizations/{unit.pk}/",
        "/incidents/?place=samsy",
    ):
        assert client.get(url).status_code in (400, 404), url
    listed = client.get(f"{API}/locations/").content.decode()
    assert "Samsy" not in listed and "75.75" not in listed
    assert "Samsy" not in client.get(f"{API}/organizations/").content.decode()
    # The editor's correction of the draft's place is saved as it is: nothing public.
    response = token_client(editor).patch(
        f"{API}/locations/{samsy.pk}/", {"name": "Samsy village"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert not Revision.objects.exists()

    case.refresh_from_db()
    publish(record=case, user=reviewer)
    assert client.get("/places/samsy/").status_code == 200
    assert "Samsy village" in client.get(f"{API}/locations/").content.decode()
    # Its country came with it: a public place's ancestors are public.
    assert client.get(samsy.parent.get_absolute_url()).status_code == 200
    # The organization becomes public with the statement that names it.
    spoken.refresh_from_db()
    publish(record=spoken, user=reviewer)
    assert client.get("/organizations/samsy-garrison/").status_code == 200


def test_an_editor_still_edits_drafts_and_the_operator_s_commands_run(editor):
    draft = IncidentFactory(publication_state=DRAFT)
    draft.title = "Changed"
    draft._history_user = editor
    draft.save()
    published = IncidentFactory()
    published.title = "Changed by the operator"
    published.save()  # nobody acting: a shell or a management command
    assert Incident.objects.get(pk=published.pk).title == "Changed by the operator"


# --- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 6])
def test_the_review_queue_query_count_does_not_grow_with_proposals(
    reviewer_client, editor, django_assert_max_num_queries, rows
):
    for index in range(rows):
        incident = IncidentFactory()
        incident.title = f"Marker {index}"
        revisions.propose(incident, user=editor)
        person = PersonFactory()
        revisions.propose(
            PersonName(person=person, name=f"Alias {index}", kind=NameKind.ALIAS), user=editor
        )
    # session, user, permissions (2), menu groups, one query per kind waiting for review
    # (6), the proposals, their records and parents (one per kind: incident, person), the
    # names of related records in the diffs (places, persons), the case of each person,
    # the cases' incidents.
    with django_assert_max_num_queries(20):
        response = reviewer_client.get(reverse("staff:review_queue"))
    assert sum(len(case.proposals) for case in response.context["cases"]) == 2 * rows


def test_the_desk_lists_the_editor_s_returned_proposals_until_proposed_again(
    editor_client, reviewer, published_incident
):
    url = edit_url("incident", published_incident.pk)
    editor_client.post(url, incident_data(published_incident, title="Marker after"))
    proposal = Revision.objects.of(published_incident).pending().get()
    revisions.return_revision(revision=proposal, user=reviewer, note="Cite the ministry")

    desk = editor_client.get(reverse("staff:dashboard")).content.decode()
    assert "Cite the ministry" in desk

    editor_client.post(url, incident_data(published_incident, title="Marker again"))
    desk = editor_client.get(reverse("staff:dashboard")).content.decode()
    assert "Cite the ministry" not in desk


def test_a_return_note_with_a_nul_byte_is_refused_and_nothing_changes(
    editor, reviewer, published_incident
):
    proposed = Incident.objects.get(pk=published_incident.pk)
    proposed.title = "Marker after"
    proposal = revisions.propose(proposed, user=editor)
    with pytest.raises(WorkflowError):
        revisions.return_revision(revision=proposal, user=reviewer, note="bad\x00note")
    proposal.refresh_from_db()
    assert proposal.status == RevisionStatus.PENDING
