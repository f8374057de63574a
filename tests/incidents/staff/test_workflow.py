"""The review workflow (draft → in review → published), its role rules, completeness checks
and cascade; archiving and restoring; the review queue and the archived list."""

import pytest
from django.urls import reverse
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from incidents.models import Detention, Incident, Source
from incidents.workflow import (
    PublicationBlocked,
    WorkflowError,
    missing_for_publication,
    publish,
    return_to_draft,
    review_queue,
    submit_for_review,
    unpublish,
)
from people.models import Person
from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    PersonFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

DRAFT, IN_REVIEW, PUBLISHED = (
    PublicationState.DRAFT,
    PublicationState.IN_REVIEW,
    PublicationState.PUBLISHED,
)


def action_url(action: str, record) -> str:
    return reverse(
        f"staff:{action}", kwargs={"model_name": record._meta.model_name, "pk": record.pk}
    )


def complete_incident(state=IN_REVIEW, **kwargs) -> Incident:
    """An incident with everything publication asks for, and one detention in draft."""
    incident = IncidentFactory(publication_state=state, **kwargs)
    source = SourceFactory(publication_state=DRAFT, title="Cabar article")
    incident.sources.add(source)
    person = PersonFactory(publication_state=DRAFT, name="Vikram Ruzakhunov")
    person.sources.add(source)
    detention = DetentionFactory(incident=incident, person=person, publication_state=DRAFT)
    detention.sources.add(source)
    return incident


def state_of(record) -> str:
    return type(record)._base_manager.get(pk=record.pk).publication_state


# --- transitions ----------------------------------------------------------------------------


def test_an_editor_submits_a_draft_for_review(editor_client, editor):
    incident = IncidentFactory(publication_state=DRAFT)
    response = editor_client.post(action_url("submit_for_review", incident))
    assert response.status_code == 302
    assert state_of(incident) == IN_REVIEW
    newest = incident.history.first()
    assert (newest.history_user, newest.history_change_reason) == (editor, "Submitted for review")


def test_an_editor_cannot_publish(editor_client):
    incident = complete_incident()
    changes_before = incident.history.count()
    response = editor_client.post(action_url("publish", incident))
    assert response.status_code == 403
    assert state_of(incident) == IN_REVIEW
    assert incident.history.count() == changes_before
    assert Detention.objects.get().publication_state == DRAFT


def test_an_editor_cannot_unpublish_or_return_to_draft(editor_client):
    published = IncidentFactory(publication_state=PUBLISHED)
    waiting = IncidentFactory(publication_state=IN_REVIEW)
    assert editor_client.post(action_url("unpublish", published)).status_code == 403
    response = editor_client.post(action_url("return_to_draft", waiting), {"note": "no"})
    assert response.status_code == 403
    assert (state_of(published), state_of(waiting)) == (PUBLISHED, IN_REVIEW)


def test_a_reviewer_publishes_and_the_record_goes_public(reviewer_client, reviewer, client):
    incident = complete_incident()
    assert client.get(incident.get_absolute_url()).status_code == 404
    response = reviewer_client.post(action_url("publish", incident))
    assert response.status_code == 302
    assert state_of(incident) == PUBLISHED
    newest = incident.history.first()
    assert (newest.history_type, newest.history_user) == ("~", reviewer)
    assert client.get(incident.get_absolute_url()).status_code == 200


def test_publishing_an_incident_publishes_its_detentions_persons_and_sources(reviewer):
    incident = complete_incident()
    published = publish(record=incident, user=reviewer)
    assert len(published) == 4
    assert state_of(incident) == PUBLISHED
    assert Detention.objects.get().publication_state == PUBLISHED
    assert Person.objects.get().publication_state == PUBLISHED
    assert Source.objects.get().publication_state == PUBLISHED
    for record in (Detention.objects.get(), Person.objects.get(), Source.objects.get()):
        newest = record.history.first()
        assert newest.history_user == reviewer
        assert newest.history_change_reason.startswith("Published with")


def test_it_refuses_to_publish_without_a_source_and_lists_what_is_missing(reviewer_client):
    incident = IncidentFactory(publication_state=IN_REVIEW)
    response = reviewer_client.post(action_url("publish", incident))
    assert response.status_code == 409
    assert "at least one source" in response.content.decode()
    assert state_of(incident) == IN_REVIEW


def test_a_failing_check_anywhere_publishes_nothing_and_lists_every_record(reviewer):
    incident = complete_incident(summary="")
    person = Person.objects.get()
    person.sources.clear()
    Person.objects.filter(pk=person.pk).update(citizenship="")
    with pytest.raises(PublicationBlocked) as blocked:
        publish(record=incident, user=reviewer)
    problems = {type(record).__name__: missing for record, missing in blocked.value.problems}
    assert problems["Incident"] == ["a summary"]
    assert "at least one source" in problems["Person"]
    assert any("citizenship" in item for item in problems["Person"])
    assert "Detention" not in problems
    # Nothing was published.
    assert state_of(incident) == IN_REVIEW
    assert Detention.objects.get().publication_state == DRAFT
    assert Source.objects.get().publication_state == DRAFT


def test_the_blocked_page_lists_every_missing_item_per_record(reviewer_client):
    incident = complete_incident(summary="")
    Detention.objects.get().sources.clear()
    body = reviewer_client.post(action_url("publish", incident)).content.decode()
    assert "a summary" in body
    assert "Detention" in body and "at least one source" in body
    assert reverse("staff:detention_edit", kwargs={"pk": Detention.objects.get().pk}) in body


def test_a_note_in_the_staff_notes_stands_in_for_an_unknown_date(reviewer):
    incident = complete_incident(start_date=None, start_date_precision="")
    assert any("date" in item for item in missing_for_publication(incident))
    incident.staff_notes = "Date unknown: the source says only 'in the first days'."
    incident.save()
    assert missing_for_publication(incident) == []


def test_archived_sources_do_not_count(reviewer):
    source = SourceFactory(archived_at=timezone.now())
    incident = IncidentFactory(publication_state=IN_REVIEW)
    incident.sources.add(source)
    assert "at least one source" in missing_for_publication(incident)


def test_a_statement_needs_text_and_a_source(reviewer):
    statement = StatementFactory(publication_state=IN_REVIEW, text=" ")
    missing = missing_for_publication(statement)
    assert "the text of the statement" in missing
    assert "at least one source" in missing


def test_publishing_needs_the_record_to_be_in_review(reviewer):
    incident = complete_incident(state=DRAFT)
    with pytest.raises(WorkflowError):
        publish(record=incident, user=reviewer)


def test_a_reviewer_returns_a_record_to_draft_with_a_note(reviewer_client, reviewer):
    incident = IncidentFactory(publication_state=IN_REVIEW)
    response = reviewer_client.post(
        action_url("return_to_draft", incident), {"note": "Add the consulate's statement"}
    )
    assert response.status_code == 302
    assert state_of(incident) == DRAFT
    newest = incident.history.first()
    assert newest.history_user == reviewer
    assert newest.history_change_reason == "Returned to draft: Add the consulate's statement"


def test_returning_to_draft_needs_a_note(reviewer):
    incident = IncidentFactory(publication_state=IN_REVIEW)
    with pytest.raises(WorkflowError):
        return_to_draft(record=incident, user=reviewer, note="  ")
    assert state_of(incident) == IN_REVIEW


def test_a_reviewer_unpublishes(reviewer, client):
    incident = IncidentFactory(publication_state=PUBLISHED)
    unpublish(record=incident, user=reviewer)
    assert state_of(incident) == DRAFT
    assert client.get(incident.get_absolute_url()).status_code == 404
    assert incident.history.first().history_user == reviewer


def test_submitting_twice_is_refused_with_a_message(editor_client, editor):
    incident = IncidentFactory(publication_state=DRAFT)
    submit_for_review(record=incident, user=editor)
    response = editor_client.post(action_url("submit_for_review", incident), follow=True)
    assert "not possible for a record" in response.content.decode()


def test_state_changes_reject_get(reviewer_client):
    incident = IncidentFactory(publication_state=IN_REVIEW)
    assert reviewer_client.get(action_url("publish", incident)).status_code == 405


def test_the_case_page_shows_state_buttons_to_staff_only(client, editor_client, reviewer_client):
    incident = IncidentFactory(publication_state=PUBLISHED)
    assert "Staff actions" not in client.get(incident.get_absolute_url()).content.decode()
    editor_page = editor_client.get(incident.get_absolute_url()).content.decode()
    assert reverse("staff:incident_edit", kwargs={"pk": incident.pk}) in editor_page
    assert action_url("unpublish", incident) not in editor_page
    reviewer_page = reviewer_client.get(incident.get_absolute_url()).content.decode()
    assert action_url("unpublish", incident) in reviewer_page
    assert reverse("staff:incident_archive", kwargs={"pk": incident.pk}) in reviewer_page


def test_the_person_page_shows_state_buttons_to_staff(editor_client, client):
    person = PersonFactory(publication_state=DRAFT)
    page = editor_client.get(person.get_absolute_url()).content.decode()
    assert action_url("submit_for_review", person) in page
    person.publication_state = PUBLISHED
    person.save()
    assert "Staff actions" not in client.get(person.get_absolute_url()).content.decode()


# --- archive and restore --------------------------------------------------------------------


def test_archiving_removes_a_record_from_the_public_site_and_restoring_brings_it_back(
    client, reviewer_client, reviewer
):
    incident = IncidentFactory(publication_state=PUBLISHED, title="Shymkent checks")
    assert "Shymkent checks" in client.get(reverse("home")).content.decode()

    response = reviewer_client.post(reverse("staff:incident_archive", kwargs={"pk": incident.pk}))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.archived_at is not None
    assert client.get(incident.get_absolute_url()).status_code == 404
    assert "Shymkent checks" not in client.get(reverse("home")).content.decode()
    archived = incident.history.first()
    assert (archived.history_user, archived.history_change_reason) == (reviewer, "Archived")
    assert "Shymkent checks" in reviewer_client.get(reverse("staff:archived")).content.decode()

    reviewer_client.post(reverse("staff:incident_restore", kwargs={"pk": incident.pk}))
    incident.refresh_from_db()
    assert incident.archived_at is None
    assert client.get(incident.get_absolute_url()).status_code == 200
    restored = incident.history.first()
    assert (restored.history_user, restored.history_change_reason) == (
        reviewer,
        "Restored from the archive",
    )


@pytest.mark.parametrize(
    ("name", "factory"),
    [
        ("detention", DetentionFactory),
        ("person", PersonFactory),
        ("statement", StatementFactory),
        ("source", SourceFactory),
    ],
)
def test_every_kind_can_be_archived_and_restored(reviewer_client, reviewer, name, factory):
    record = factory()
    model = type(record)
    reviewer_client.post(reverse(f"staff:{name}_archive", kwargs={"pk": record.pk}))
    assert model._base_manager.get(pk=record.pk).archived_at is not None
    assert not model.objects.published().filter(pk=record.pk).exists()
    reviewer_client.post(reverse(f"staff:{name}_restore", kwargs={"pk": record.pk}))
    assert model.objects.published().filter(pk=record.pk).exists()
    assert [row.history_user for row in record.history.all()[:2]] == [reviewer, reviewer]


def test_an_archived_person_leaves_the_public_page_and_api(client, reviewer):
    from incidents.workflow import archive

    person = PersonFactory(name="Zakir Yuburov")
    archive(record=person, user=reviewer)
    assert client.get(person.get_absolute_url()).status_code == 404


def test_an_editor_archives_a_draft_but_not_a_published_record(editor_client):
    draft = IncidentFactory(publication_state=DRAFT)
    published = IncidentFactory(publication_state=PUBLISHED)
    editor_client.post(reverse("staff:incident_archive", kwargs={"pk": draft.pk}))
    response = editor_client.post(reverse("staff:incident_archive", kwargs={"pk": published.pk}))
    assert response.status_code == 403
    assert Incident._base_manager.get(pk=draft.pk).archived_at is not None
    assert Incident._base_manager.get(pk=published.pk).archived_at is None


def test_archive_rejects_get(reviewer_client):
    incident = IncidentFactory()
    assert (
        reviewer_client.get(
            reverse("staff:incident_archive", kwargs={"pk": incident.pk})
        ).status_code
        == 405
    )
    assert Incident._base_manager.get(pk=incident.pk).archived_at is None


@pytest.mark.parametrize("rows", [1, 8])
def test_the_archived_page_query_count_does_not_grow_with_rows(
    reviewer_client, django_assert_max_num_queries, rows
):
    archived_at = timezone.now()
    for _ in range(rows):
        DetentionFactory(archived_at=archived_at)
        StatementFactory(archived_at=archived_at)
        IncidentFactory(archived_at=archived_at)
        PersonFactory(archived_at=archived_at)
    # session, user, one query per kind (incidents, detentions, persons, statements,
    # sources, situations), the user's permissions (2), the staff menu's groups.
    with django_assert_max_num_queries(12):
        response = reviewer_client.get(reverse("staff:archived"))
    assert response.status_code == 200


# --- the review queue -----------------------------------------------------------------------


def test_the_queue_lists_every_kind_waiting_longest_first(editor, reviewer_client):
    person = PersonFactory(publication_state=DRAFT, name="Baialy Torogeldiev")
    incident = IncidentFactory(publication_state=DRAFT, title="Beaten in Shymkent")
    statement = StatementFactory(publication_state=DRAFT, text="The ministry denied it.")
    IncidentFactory(publication_state=DRAFT, title="Not submitted")
    # Submitted in this order: the statement, then the person, then the incident.
    for record in (statement, person, incident):
        submit_for_review(record=record, user=editor)
    # Editing a record while it waits does not move it to the back of the queue.
    incident.refresh_from_db()
    incident.summary = "Edited while waiting."
    incident.save()

    entries = review_queue()
    assert [entry.record for entry in entries] == [statement, person, incident]
    assert {entry.submitted_by for entry in entries} == {editor.username}
    body = reviewer_client.get(reverse("staff:review_queue")).content.decode()
    # The page groups them by case: the incident's case, then what belongs to no case
    # (the statement is about no incident, the person detained in none), longest first.
    assert body.index("Beaten in Shymkent") < body.index("Records of no case")
    assert body.index("Records of no case") < body.index("The ministry denied it.")
    assert body.index("The ministry denied it.") < body.index("Baialy Torogeldiev")
    assert "Not submitted" not in body
    assert action_url("publish", incident) in body


def test_the_queue_orders_by_when_a_record_was_last_sent_to_review(editor, reviewer):
    first = IncidentFactory(publication_state=DRAFT)
    second = IncidentFactory(publication_state=DRAFT)
    submit_for_review(record=first, user=editor)
    submit_for_review(record=second, user=editor)
    # The first goes back to draft and comes again: now it waits behind the second.
    return_to_draft(record=first, user=reviewer, note="Add a source")
    submit_for_review(record=first, user=editor)
    assert [entry.record for entry in review_queue()] == [second, first]


def test_a_record_created_in_review_waits_since_its_creation():
    incident = IncidentFactory(publication_state=IN_REVIEW)
    (entry,) = review_queue()
    assert entry.record == incident
    assert entry.submitted_at == incident.history.get().history_date


def test_editors_see_the_queue_without_publish_buttons(editor_client):
    incident = IncidentFactory(publication_state=IN_REVIEW)
    body = editor_client.get(reverse("staff:review_queue")).content.decode()
    assert incident.title in body
    assert action_url("publish", incident) not in body


@pytest.mark.parametrize("rows", [1, 8])
def test_the_review_queue_query_count_does_not_grow_with_rows(
    reviewer_client, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        DetentionFactory(publication_state=IN_REVIEW)
        StatementFactory(publication_state=IN_REVIEW)
        SourceFactory(publication_state=IN_REVIEW)
        IncidentFactory(publication_state=IN_REVIEW)
    # session, user, one query per kind (incidents, detentions, persons, statements,
    # sources, situations) each with its submission read from the history in subqueries,
    # the proposed changes waiting, the case of each (one per kind: detentions,
    # statements, sources), the cases' incidents, the user's permissions (2), the staff
    # menu's groups.
    with django_assert_max_num_queries(17):
        response = reviewer_client.get(reverse("staff:review_queue"))
    assert response.status_code == 200
    assert sum(len(case.entries) for case in response.context["cases"]) == 4 * rows


def test_it_records_the_day_published(reviewer):
    incident = complete_incident()
    publish(record=incident, user=reviewer)
    incident.refresh_from_db()
    assert incident.published_at is not None
