"""Edit pages: what they save, what they refuse, and the conflict page that keeps two
colleagues from overwriting each other silently."""

import datetime

import pytest
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents.models import Incident, Location, Revision, Source, Statement
from people.models import NameKind, Person, PersonName
from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
    PersonNameFactory,
    PositionFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db


def incident_data(incident: Incident, **changes) -> dict:
    """The edit form of `incident` as the browser would send it, unchanged unless told."""
    data = {
        "version": incident.version,
        "title": incident.title,
        "slug": incident.slug,
        "kind": incident.kind,
        "situation": incident.situation_id or "",
        "verification": incident.verification,
        "location": incident.location_id,
        "start_date": incident.start_date.isoformat() if incident.start_date else "",
        "start_date_precision": incident.start_date_precision,
        "end_date": "",
        "end_date_precision": "",
        "reported_detained_count": incident.reported_detained_count or "",
        "reported_released_count": "",
        "reported_count_note": incident.reported_count_note,
        "summary": incident.summary,
        "description": incident.description,
        "sources": [s.pk for s in incident.sources.all()],
        "staff_notes": incident.staff_notes,
    }
    data.update(changes)
    return data


def edit_url(name: str, pk: int) -> str:
    return reverse(f"staff:{name}_edit", kwargs={"pk": pk})


# --- access ---------------------------------------------------------------------------------


def _every_page_url():
    incident = IncidentFactory()
    detention = DetentionFactory(incident=incident)
    person = detention.person
    statement = StatementFactory()
    source = SourceFactory()
    location = incident.location
    return [
        edit_url("incident", incident.pk),
        edit_url("detention", detention.pk),
        edit_url("person", person.pk),
        edit_url("statement", statement.pk),
        edit_url("source", source.pk),
        edit_url("location", location.pk),
        reverse("staff:statement_add"),
        reverse("staff:source_add"),
        reverse("staff:location_add"),
        reverse("staff:person_add"),
        reverse("staff:person_merge", kwargs={"pk": person.pk}),
        reverse("staff:review_queue"),
        reverse("staff:archived"),
        reverse("staff:incident_archive", kwargs={"pk": incident.pk}),
        reverse("staff:incident_restore", kwargs={"pk": incident.pk}),
        reverse("staff:detention_archive", kwargs={"pk": detention.pk}),
        reverse("staff:person_archive", kwargs={"pk": person.pk}),
        reverse("staff:statement_restore", kwargs={"pk": statement.pk}),
        reverse("staff:source_archive", kwargs={"pk": source.pk}),
        reverse("staff:publish", kwargs={"model_name": "incident", "pk": incident.pk}),
        reverse("staff:submit_for_review", kwargs={"model_name": "incident", "pk": incident.pk}),
        reverse("staff:unpublish", kwargs={"model_name": "incident", "pk": incident.pk}),
        reverse("staff:return_to_draft", kwargs={"model_name": "incident", "pk": incident.pk}),
        reverse(
            "staff:history",
            kwargs={"app_label": "incidents", "model_name": "incident", "pk": incident.pk},
        ),
        reverse(
            "staff:history_revert",
            kwargs={
                "app_label": "incidents",
                "model_name": "incident",
                "pk": incident.pk,
                "history_id": incident.history.first().history_id,
            },
        ),
    ]


def test_it_sends_anonymous_visitors_to_the_login_page_on_every_page_and_post(client):
    for url in _every_page_url():
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login")), url


def test_it_refuses_logged_in_users_who_are_not_staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("reader", password="x"))
    for url in _every_page_url():
        assert client.get(url).status_code == 403, url


def test_it_changes_nothing_for_anonymous_posts(client):
    incident = IncidentFactory(title="Before")
    client.post(edit_url("incident", incident.pk), incident_data(incident, title="Changed"))
    incident.refresh_from_db()
    assert (incident.title, incident.version) == ("Before", 1)


# --- editing --------------------------------------------------------------------------------


def test_it_shows_the_edit_form_with_the_version_it_was_opened_at(editor_client):
    incident = IncidentFactory(title="Detention in Almaty")
    response = editor_client.get(edit_url("incident", incident.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="version" value="1"' in body
    assert "Detention in Almaty" in body
    assert (
        reverse(
            "staff:history",
            kwargs={"app_label": "incidents", "model_name": "incident", "pk": incident.pk},
        )
        in body
    )


def test_it_saves_an_edit_and_records_who_made_it(editor_client, editor):
    incident = IncidentFactory(title="Before", publication_state=PublicationState.DRAFT)
    source = SourceFactory()
    response = editor_client.post(
        edit_url("incident", incident.pk),
        incident_data(incident, title="After", sources=[source.pk]),
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "After"
    assert incident.version == 2
    assert list(incident.sources.all()) == [source]
    newest = incident.history.first()
    assert (newest.history_type, newest.history_user) == ("~", editor)
    # One history entry holds the new fields and the new sources together.
    assert incident.history.count() == 2
    assert list(newest.sources.values_list("source_id", flat=True)) == [source.pk]


def test_it_keeps_only_the_month_for_a_month_precise_date(editor_client):
    incident = IncidentFactory(publication_state=PublicationState.DRAFT)
    editor_client.post(
        edit_url("incident", incident.pk),
        incident_data(incident, start_date="2022-01-19", start_date_precision="month"),
    )
    incident.refresh_from_db()
    assert incident.start_date == datetime.date(2022, 1, 1)
    assert str(incident.start) == "January 2022"


def test_it_shows_errors_beside_the_field_and_saves_nothing(editor_client):
    incident = IncidentFactory(title="Before")
    response = editor_client.post(
        edit_url("incident", incident.pk),
        incident_data(
            incident, title="After", reported_detained_count=2, reported_released_count=5
        ),
    )
    assert response.status_code == 400
    assert "cannot exceed the number detained" in response.content.decode()
    incident.refresh_from_db()
    assert (incident.title, incident.version) == ("Before", 1)


def test_it_lists_what_is_missing_for_publication_on_the_edit_page(editor_client):
    incident = IncidentFactory(publication_state=PublicationState.DRAFT, summary="")
    body = editor_client.get(edit_url("incident", incident.pk)).content.decode()
    assert "Before this can be published" in body
    assert "a summary" in body
    assert "at least one source" in body


def test_it_edits_a_detention(editor_client):
    detention = DetentionFactory(outcome="unknown", publication_state=PublicationState.DRAFT)
    data = {
        "version": 1,
        "incident": detention.incident_id,
        "person": detention.person_id,
        "role": "detainee",
        "detained_on": "2022-01-07",
        "detained_on_precision": "day",
        "released_on": "2022-01-10",
        "released_on_precision": "day",
        "outcome": "released",
        "charges": "",
        "details": "",
        "staff_notes": "Family informed.",
    }
    response = editor_client.post(edit_url("detention", detention.pk), data)
    assert response.status_code == 302, response.content.decode()
    detention.refresh_from_db()
    assert detention.outcome == "released"
    assert detention.days_in_custody == 3


def test_it_edits_a_person_with_name_variants(editor_client):
    person = PersonFactory(name="Vikram Ruzakhunov", publication_state=PublicationState.DRAFT)
    variant = PersonNameFactory(person=person, name="Ruzahunov", kind=NameKind.SPELLING)
    data = {
        "version": 1,
        "name": "Vikram Ruzakhunov",
        "name_native": "Викрам Рузахунов",
        "slug": person.slug,
        "sex": "male",
        "birth_year": "",
        "citizenship": "KG",
        "occupation": "Jazz pianist",
        "public_notes": "",
        "staff_notes": "",
        "name_variants-TOTAL_FORMS": "2",
        "name_variants-INITIAL_FORMS": "1",
        "name_variants-MIN_NUM_FORMS": "0",
        "name_variants-MAX_NUM_FORMS": "1000",
        "name_variants-0-id": variant.pk,
        "name_variants-0-person": person.pk,
        "name_variants-0-name": "Ruzakhunov V.",
        "name_variants-0-kind": "spelling",
        "name_variants-0-note": "",
        "name_variants-1-person": person.pk,
        "name_variants-1-name": "Рузахунов",
        "name_variants-1-kind": "native_script",
        "name_variants-1-note": "",
    }
    response = editor_client.post(edit_url("person", person.pk), data)
    assert response.status_code == 302, response.content.decode()
    person.refresh_from_db()
    assert person.occupation == "Jazz pianist"
    assert sorted(person.name_variants.values_list("name", flat=True)) == [
        "Ruzakhunov V.",
        "Рузахунов",
    ]
    assert Person.objects.matching_name("Рузахунов").get() == person


def test_it_adds_a_person(editor_client):
    data = {
        "name": "Baialy Torogeldiev",
        "slug": "baialy-torogeldiev",
        "citizenship": "KG",
        "name_variants-TOTAL_FORMS": "1",
        "name_variants-INITIAL_FORMS": "0",
        "name_variants-MIN_NUM_FORMS": "0",
        "name_variants-MAX_NUM_FORMS": "1000",
        "name_variants-0-name": "",
        "name_variants-0-kind": "spelling",
    }
    response = editor_client.post(reverse("staff:person_add"), data)
    assert response.status_code == 302, response.content.decode()
    person = Person.objects.get(slug="baialy-torogeldiev")
    assert person.publication_state == PublicationState.DRAFT
    assert response["Location"] == edit_url("person", person.pk)


def test_it_adds_a_statement_with_the_post_its_speaker_held(editor_client, editor):
    position = PositionFactory(title="Head of GKNB")
    incident = IncidentFactory()
    source = SourceFactory()
    data = {
        "speaker_person": position.person_id,
        "position": position.pk,
        "said_on": "2022-01-10",
        "said_on_precision": "day",
        "kind": "claim",
        "medium": "remarks",
        "text": "All our citizens will be returned.",
        "is_direct_quote": "on",
        "language": "ru",
        "incidents": [incident.pk],
        "dispute_status": "not_disputed",
        "sources": [source.pk],
    }
    response = editor_client.post(reverse("staff:statement_add"), data)
    assert response.status_code == 302, response.content.decode()
    statement = Statement.objects.get()
    assert statement.position == position
    assert list(statement.incidents.all()) == [incident]
    assert statement.history.first().history_user == editor


def test_it_refuses_a_post_held_by_someone_else(editor_client):
    speaker = PersonFactory()
    someone_elses = PositionFactory()
    data = {
        "speaker_person": speaker.pk,
        "position": someone_elses.pk,
        "kind": "claim",
        "text": "Something.",
        "dispute_status": "not_disputed",
    }
    response = editor_client.post(reverse("staff:statement_add"), data)
    assert response.status_code == 400
    assert "This post is held by someone else." in response.content.decode()
    assert not Statement.objects.exists()


def test_it_takes_the_speaker_from_the_post(editor_client):
    position = PositionFactory()
    data = {"position": position.pk, "kind": "claim", "text": "x", "dispute_status": "not_disputed"}
    response = editor_client.post(reverse("staff:statement_add"), data)
    assert response.status_code == 302, response.content.decode()
    assert Statement.objects.get().speaker_person == position.person


def test_it_marks_each_post_with_its_holder_for_the_speaker_filter(editor_client):
    position = PositionFactory()
    body = editor_client.get(reverse("staff:statement_add")).content.decode()
    assert f'data-person="{position.person_id}"' in body
    assert "js/staff_forms.js" in body


def test_it_prefills_the_statement_from_the_case_it_was_started_on(editor_client):
    incident = IncidentFactory(title="Almaty detention")
    response = editor_client.get(reverse("staff:statement_add") + f"?incident={incident.pk}")
    assert response.context["form"].initial["incidents"] == [incident.pk]


def test_it_adds_a_source_and_a_place(editor_client):
    response = editor_client.post(
        reverse("staff:source_add"),
        {
            "title": "Kyrgyz citizens detained",
            "kind": "news_article",
            "url": "https://cabar.asia/en/x",
            "published_on": "2022-01-12",
            "published_on_precision": "day",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert Source.objects.filter(url="https://cabar.asia/en/x").exists()
    country = LocationFactory(parent=None, kind="country", name="Kazakhstan", slug="kz")
    response = editor_client.post(
        reverse("staff:location_add"),
        {
            "name": "Ak Zhol",
            "slug": "ak-zhol",
            "kind": "border_crossing",
            "parent": country.pk,
            "country": "KZ",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert Location.objects.get(slug="ak-zhol").path.startswith(country.path)


def test_it_shows_places_as_a_tree(editor_client):
    city = LocationFactory(name="Shymkent")
    body = editor_client.get(edit_url("incident", IncidentFactory(location=city).pk))
    body = body.content.decode()
    # The city is indented under its country.
    assert "\u2003Shymkent" in body


# --- no silent overwrite --------------------------------------------------------------------


def test_two_stale_saves_give_one_conflict_and_lose_nothing(client, editor, reviewer):
    incident = IncidentFactory(
        title="Original", summary="Original summary", publication_state=PublicationState.DRAFT
    )
    first, second = client.__class__(), client.__class__()
    first.force_login(editor)
    second.force_login(reviewer)
    # Both open the page at version 1.
    assert first.get(edit_url("incident", incident.pk)).context["form"]["version"].value() == 1
    assert second.get(edit_url("incident", incident.pk)).context["form"]["version"].value() == 1

    saved = first.post(
        edit_url("incident", incident.pk), incident_data(incident, title="First editor's title")
    )
    assert saved.status_code == 302
    conflict = second.post(
        edit_url("incident", incident.pk),
        incident_data(incident, title="Second editor's title", summary="Second summary"),
    )

    assert conflict.status_code == 409
    incident.refresh_from_db()
    # The first save is stored, the second is not.
    assert (incident.title, incident.summary, incident.version) == (
        "First editor's title",
        "Original summary",
        2,
    )
    body = conflict.content.decode()
    # Both values side by side, with who made the stored change.
    assert "First editor&#x27;s title" in body
    assert "Second editor&#x27;s title" in body
    assert editor.username in body
    rows = {row.label: row for row in conflict.context["rows"]}
    assert rows["Title"].theirs == "First editor's title"
    assert rows["Title"].yours == "Second editor's title"
    assert rows["Title"].they_changed and rows["Title"].you_changed
    assert rows["Summary"].you_changed and not rows["Summary"].they_changed
    # The form is the second editor's, now based on the new version.
    form = conflict.context["form"]
    assert form["title"].value() == "Second editor's title"
    assert form["version"].value() == "2"

    # Saving it again overwrites on purpose.
    resaved = second.post(
        edit_url("incident", incident.pk),
        incident_data(incident, title="Second editor's title", summary="Second summary", version=2),
    )
    assert resaved.status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.summary, incident.version) == (
        "Second editor's title",
        "Second summary",
        3,
    )
    # And the first editor's title is still in the history.
    assert incident.history.filter(title="First editor's title").exists()


def test_it_saves_over_a_change_that_touched_none_of_the_forms_fields(editor_client, reviewer):
    """A reviewer submitting or publishing meanwhile is not a conflict with an edit."""
    incident = IncidentFactory(publication_state=PublicationState.IN_REVIEW, title="Before")
    opened = incident_data(incident, title="Typo fixed")
    incident.publication_state = PublicationState.PUBLISHED
    incident.save()
    response = editor_client.post(edit_url("incident", incident.pk), opened)
    assert response.status_code == 302  # no conflict page
    incident.refresh_from_db()
    # Published meanwhile, so the editor's fix waits for a reviewer instead of going live.
    assert incident.title == "Before"
    assert incident.publication_state == PublicationState.PUBLISHED
    assert incident.version == 2
    proposal = Revision.objects.of(incident).pending().get()
    assert proposal.proposed["fields"]["title"] == "Typo fixed"
    assert proposal.base_version == 2


def test_it_shows_a_conflict_on_a_person_and_keeps_the_name_variants_sent(editor_client):
    person = PersonFactory(occupation="Pianist")
    stored = Person.objects.get(pk=person.pk)
    stored.occupation = "Jazz pianist"
    stored.save()
    data = {
        "version": 1,
        "name": person.name,
        "slug": person.slug,
        "citizenship": "KG",
        "occupation": "Musician",
        "name_variants-TOTAL_FORMS": "1",
        "name_variants-INITIAL_FORMS": "0",
        "name_variants-MIN_NUM_FORMS": "0",
        "name_variants-MAX_NUM_FORMS": "1000",
        "name_variants-0-name": "Another spelling",
        "name_variants-0-kind": "spelling",
    }
    response = editor_client.post(edit_url("person", person.pk), data)
    assert response.status_code == 409
    assert not PersonName.objects.exists()
    body = response.content.decode()
    assert "Jazz pianist" in body and "Musician" in body
    assert 'value="Another spelling"' in body


def test_a_conflict_compares_sources_by_title(editor_client):
    incident = IncidentFactory()
    theirs, mine = SourceFactory(title="Their source"), SourceFactory(title="My source")
    stored = Incident.objects.get(pk=incident.pk)
    stored.sources.add(theirs)
    stored.save()
    response = editor_client.post(
        edit_url("incident", incident.pk), incident_data(incident, sources=[mine.pk])
    )
    assert response.status_code == 409
    rows = {row.label: row for row in response.context["rows"]}
    assert "Their source" in rows["Sources"].theirs
    assert "My source" in rows["Sources"].yours


def test_a_statement_edit_conflict_keeps_the_stored_text(editor_client):
    organization = OrganizationFactory()
    statement = StatementFactory(speaker_organization=organization, text="Stored text")
    stored = Statement.objects.get(pk=statement.pk)
    stored.text = "Corrected text"
    stored.save()
    data = {
        "version": 1,
        "speaker_organization": organization.pk,
        "kind": "claim",
        "text": "My text",
        "dispute_status": "not_disputed",
    }
    response = editor_client.post(edit_url("statement", statement.pk), data)
    assert response.status_code == 409
    statement.refresh_from_db()
    assert statement.text == "Corrected text"


@pytest.mark.parametrize("rows", [1, 8])
def test_the_person_edit_page_query_count_does_not_grow_with_name_variants(
    editor_client, django_assert_max_num_queries, rows
):
    person = PersonFactory(publication_state=PublicationState.DRAFT)
    PersonNameFactory.create_batch(rows, person=person)
    # session, user, the person, its sources (the form's initial values), its name variants,
    # the persons every variant row offers (once for all rows), the sources the form offers,
    # whether it cites a source (the checklist), proposed changes waiting for it, the staff
    # menu's groups, the user's permissions (2).
    with django_assert_max_num_queries(13):
        assert editor_client.get(edit_url("person", person.pk)).status_code == 200


@pytest.mark.parametrize("rows", [1, 8])
def test_the_incident_edit_page_query_count_does_not_grow_with_sources(
    editor_client, django_assert_max_num_queries, rows
):
    incident = IncidentFactory(publication_state=PublicationState.DRAFT)
    incident.sources.add(*SourceFactory.create_batch(rows))
    # session, user, the incident, its sources (the form's initial values), whether it cites
    # a source (the publication checklist), the proposals, the situations, places and
    # sources the form offers, its reported groups and timeline events (listed under the
    # form), the accounts of its facts and their sources (listed under the form), the
    # accounts that cite no source (the checklist), the staff menu's groups, the user's
    # permissions (2: the menu offers the pages their role may use).
    # +1: the evidence section (attachments of the record).
    with django_assert_max_num_queries(19):
        assert editor_client.get(edit_url("incident", incident.pk)).status_code == 200


@pytest.mark.parametrize("field", ["incidents", "people", "sources"])
@pytest.mark.parametrize("key", ["99999999999999999999999", "-99999999999999999999999"])
def test_a_linked_record_key_too_large_for_the_database_is_an_invalid_choice(
    editor_client, field, key
):
    """Every list of linked records, the generated ones too (a statement's cases), refuses
    a key no database column can hold with the form's own message, not a 500."""
    from tests.cabar_tracker.test_noop_saves import sent_back

    statement = StatementFactory(publication_state=PublicationState.DRAFT, text="Stored")
    url = edit_url("statement", statement.pk)
    data = sent_back(editor_client.get(url))
    data[field] = [key]

    response = editor_client.post(url, data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    statement.refresh_from_db()
    assert statement.version == 1
