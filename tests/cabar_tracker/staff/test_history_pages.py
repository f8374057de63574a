"""The history page of a record (who, when, what changed, readably) and reverting to an
earlier version."""

import datetime

import pytest
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from cabar_tracker.staff.history_views import revert_to_version
from incidents.models import Incident, Location
from people.models import Person
from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def history_url(record) -> str:
    return reverse(
        "staff:history",
        kwargs={
            "app_label": record._meta.app_label,
            "model_name": record._meta.model_name,
            "pk": record.pk,
        },
    )


def revert_url(record, historical) -> str:
    return reverse(
        "staff:history_revert",
        kwargs={
            "app_label": record._meta.app_label,
            "model_name": record._meta.model_name,
            "pk": record.pk,
            "history_id": historical.history_id,
        },
    )


def edit(record, user=None, **changes):
    record = type(record)._base_manager.get(pk=record.pk)
    for name, value in changes.items():
        setattr(record, name, value)
    if user is not None:
        record._history_user = user
    record.save()
    return record


def test_it_shows_each_change_with_who_when_and_a_readable_diff(editor_client, editor):
    old_place = LocationFactory(name="Almaty")
    new_place = LocationFactory(name="Shymkent")
    incident = IncidentFactory(
        location=old_place, kind="detention", verification="reported", publication_state="draft"
    )
    edit(
        incident,
        user=editor,
        kind="mass_detention",
        verification="confirmed",
        location=new_place,
        start_date=datetime.date(2022, 1, 5),
        start_date_precision="month",
    )
    response = editor_client.get(history_url(incident))
    assert response.status_code == 200
    newest, created = response.context["entries"]
    assert created.type_label == "created"
    assert newest.type_label == "changed"
    assert newest.row.history_user == editor
    changes = {change.label: (change.old, change.new) for change in newest.changes}
    # Verbose names, choices by their label, related records by name, dates at their precision.
    assert changes["Kind"] == ("Detention", "Mass detention")
    assert changes["Verification status"] == ("Reported", "Confirmed")
    assert changes["Place"] == ("Almaty", "Shymkent")
    assert changes["Date"] == ("7 January 2022", "January 2022")
    body = response.content.decode()
    assert editor.username in body
    assert "Mass detention" in body


def test_it_lists_sources_added_and_removed(editor_client):
    incident = IncidentFactory()
    first = SourceFactory(title="Cabar article")
    second = SourceFactory(title="Ombudsman statement")
    incident.sources.add(first)
    incident.sources.add(second)
    incident.sources.remove(first)
    entries = editor_client.get(history_url(incident)).context["entries"]
    (newest_change,) = entries[0].changes
    assert newest_change.label == "Sources"
    assert newest_change.removed == ["Example News: Cabar article"]
    assert newest_change.added == []
    (added,) = entries[1].changes
    assert added.added == ["Example News: Ombudsman statement"]


def test_it_shows_archive_and_restore_as_changes(reviewer_client, reviewer):
    incident = IncidentFactory()
    reviewer_client.post(reverse("staff:incident_archive", kwargs={"pk": incident.pk}))
    reviewer_client.post(reverse("staff:incident_restore", kwargs={"pk": incident.pk}))
    entries = reviewer_client.get(history_url(incident)).context["entries"]
    restored, archived, _ = entries
    assert archived.row.history_change_reason == "Archived"
    assert [c.label for c in archived.changes] == ["Archived at"]
    assert restored.changes[0].new == "—"
    assert {restored.row.history_user, archived.row.history_user} == {reviewer}


def test_it_shows_the_history_of_a_person_a_detention_and_a_place(editor_client):
    for record in (PersonFactory(), DetentionFactory(), LocationFactory()):
        response = editor_client.get(history_url(record))
        assert response.status_code == 200, record


def test_it_has_no_history_page_for_models_outside_the_domain(editor_client, editor):
    url = reverse(
        "staff:history", kwargs={"app_label": "auth", "model_name": "user", "pk": editor.pk}
    )
    assert editor_client.get(url).status_code == 404
    url = reverse(
        "staff:history", kwargs={"app_label": "incidents", "model_name": "nothing", "pk": 1}
    )
    assert editor_client.get(url).status_code == 404


def test_the_history_of_a_deleted_record_still_shows(editor_client):
    from people.models import PersonName

    variant = PersonName.objects.create(person=PersonFactory(), name="Ruzahunov")
    pk = variant.pk
    variant.delete()
    url = reverse(
        "staff:history", kwargs={"app_label": "people", "model_name": "personname", "pk": pk}
    )
    response = editor_client.get(url)
    assert response.status_code == 200
    assert response.context["entries"][0].type_label == "deleted"


@pytest.mark.parametrize("changes", [2, 12])
def test_the_history_page_query_count_does_not_grow_with_changes(
    editor_client, django_assert_max_num_queries, changes
):
    incident = IncidentFactory()
    places = [LocationFactory() for _ in range(3)]
    sources = [SourceFactory() for _ in range(3)]
    for number in range(changes):
        incident = edit(incident, title=f"Title {number}", location=places[number % 3])
        incident.sources.add(sources[number % 3])
    # session, user, the record, its history rows (with their authors), the source links
    # of those rows, names of the places, situations and sources they mention (3), the
    # user's permissions (2), the staff menu's groups.
    with django_assert_max_num_queries(12):
        response = editor_client.get(history_url(incident))
    assert response.status_code == 200


def test_it_pages_long_histories(editor_client):
    incident = IncidentFactory()
    for number in range(55):
        incident = edit(incident, title=f"Title {number}")
    first = editor_client.get(history_url(incident))
    assert len(first.context["entries"]) == 50
    assert first.context["has_older"]
    second = editor_client.get(history_url(incident) + "?page=2")
    assert len(second.context["entries"]) == 6
    assert second.context["entries"][-1].type_label == "created"


# --- revert ---------------------------------------------------------------------------------


def test_a_reviewer_reverts_to_an_earlier_version_as_a_new_change(reviewer_client, reviewer):
    source = SourceFactory()
    incident = IncidentFactory(title="Right title", summary="Right summary")
    incident.sources.add(source)
    good = incident.history.first()
    incident = edit(incident, title="Vandalised", summary="Wrong")
    incident.sources.clear()

    response = reviewer_client.post(revert_url(incident, good), {"version": incident.version})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.summary) == ("Right title", "Right summary")
    assert list(incident.sources.all()) == [source]
    newest = incident.history.first()
    assert (newest.history_type, newest.history_user) == ("~", reviewer)
    assert newest.history_change_reason.startswith("Reverted to the version of")
    # The vandalised version is still in the history.
    assert incident.history.filter(title="Vandalised").exists()


def test_a_revert_keeps_the_publication_state(reviewer):
    incident = IncidentFactory(publication_state=PublicationState.DRAFT, title="Draft title")
    draft = incident.history.first()
    incident = edit(incident, publication_state=PublicationState.PUBLISHED, title="New")
    revert_to_version(historical=draft, user=reviewer, expected_version=incident.version)
    incident.refresh_from_db()
    assert incident.title == "Draft title"
    assert incident.publication_state == PublicationState.PUBLISHED


def test_a_revert_from_an_old_page_is_refused(reviewer_client):
    incident = IncidentFactory(title="One")
    first = incident.history.first()
    incident = edit(incident, title="Two")
    opened_at = incident.version
    edit(incident, title="Three")
    response = reviewer_client.post(
        revert_url(incident, first), {"version": opened_at}, follow=True
    )
    assert "nothing was reverted" in response.content.decode()
    assert Incident.objects.get().title == "Three"


def test_an_editor_cannot_revert(editor_client):
    incident = IncidentFactory(title="One")
    first = incident.history.first()
    incident = edit(incident, title="Two")
    response = editor_client.post(revert_url(incident, first), {"version": incident.version})
    assert response.status_code == 403
    assert Incident.objects.get().title == "Two"
    body = editor_client.get(history_url(incident)).content.decode()
    assert ">Revert to this version</button>" not in body


def test_a_reviewer_sees_revert_buttons_except_on_the_current_version(reviewer_client):
    incident = IncidentFactory()
    edit(incident, title="Two")
    body = reviewer_client.get(history_url(incident)).content.decode()
    assert body.count(">Revert to this version</button>") == 1


def test_reverting_a_person_restores_the_name_and_its_search_key(reviewer):
    person = PersonFactory(name="Vikram Ruzakhunov")
    original = person.history.first()
    person = edit(person, name="Zakir Yuburov")
    revert_to_version(historical=original, user=reviewer, expected_version=person.version)
    assert Person.objects.matching_name("Ruzakhunov").get() == person


def test_reverting_a_place_keeps_the_tree_paths(reviewer):
    country = LocationFactory(parent=None, kind="country", slug="kyrgyzstan", country="KG")
    other = LocationFactory(parent=None, kind="country", slug="kazakhstan-2", country="KZ")
    city = LocationFactory(parent=country, name="Osh")
    original = city.history.first()
    city = edit(city, parent=other)
    revert_to_version(historical=original, user=reviewer, expected_version=city.version)
    city = Location.objects.get(pk=city.pk)
    assert city.parent == country
    assert city.path.startswith(country.path)


def test_a_revert_that_is_no_longer_valid_saves_nothing(reviewer_client):
    incident = IncidentFactory(slug="almaty")
    original = incident.history.first()
    incident = edit(incident, slug="almaty-2022")
    IncidentFactory(slug="almaty")
    response = reviewer_client.post(
        revert_url(incident, original), {"version": incident.version}, follow=True
    )
    assert "nothing was reverted" in response.content.decode()
    assert Incident.objects.get(pk=incident.pk).slug == "almaty-2022"


def test_every_write_path_is_in_the_history_with_its_author(
    editor_client, reviewer_client, editor, reviewer
):
    """Edit page, submit, publish, archive, restore and revert each leave an entry."""
    source = SourceFactory()
    incident = IncidentFactory(publication_state=PublicationState.DRAFT, title="First")
    incident.sources.add(source)
    form = editor_client.get(reverse("staff:incident_edit", kwargs={"pk": incident.pk}))
    data = {
        name: value for name, value in form.context["form"].initial.items() if value is not None
    }
    data.update(title="Second", sources=[source.pk], version=incident.history.first().version)
    data["location"] = incident.location_id
    data["situation"] = incident.situation_id
    data["start_date"] = incident.start_date.isoformat()
    assert (
        editor_client.post(
            reverse("staff:incident_edit", kwargs={"pk": incident.pk}), data
        ).status_code
        == 302
    )
    editor_client.post(
        reverse("staff:submit_for_review", kwargs={"model_name": "incident", "pk": incident.pk})
    )
    reviewer_client.post(
        reverse("staff:publish", kwargs={"model_name": "incident", "pk": incident.pk})
    )
    reviewer_client.post(reverse("staff:incident_archive", kwargs={"pk": incident.pk}))
    reviewer_client.post(reverse("staff:incident_restore", kwargs={"pk": incident.pk}))
    first = incident.history.get(history_type="+")
    current = Incident.objects.get(pk=incident.pk)
    reviewer_client.post(revert_url(current, first), {"version": current.version})

    rows = list(incident.history.order_by("history_id"))
    recorded = [(row.history_type, row.history_user, row.history_change_reason) for row in rows]
    assert recorded[-6:] == [
        ("~", editor, None),
        ("~", editor, "Submitted for review"),
        ("~", reviewer, "Published"),
        ("~", reviewer, "Archived"),
        ("~", reviewer, "Restored from the archive"),
        ("~", reviewer, rows[-1].history_change_reason),
    ]
    current.refresh_from_db()
    assert current.title == "First"
    assert current.publication_state == PublicationState.PUBLISHED


# --- undoing one field of one change ---------------------------------------------------------


def undo_url(record, historical, field_name: str) -> str:
    return reverse(
        "staff:history_undo_field",
        kwargs={
            "app_label": record._meta.app_label,
            "model_name": record._meta.model_name,
            "pk": record.pk,
            "history_id": historical.history_id,
            "field_name": field_name,
        },
    )


def test_a_reviewer_undoes_one_field_of_a_change_after_confirming(reviewer_client, reviewer):
    incident = IncidentFactory(title="Right title", summary="Right summary")
    incident = edit(incident, title="Wrong title", summary="Better summary")
    change = incident.history.order_by("-history_id").first()
    incident = edit(incident, description="A later, unrelated change")

    # The history offers the undo beside the field, and the link asks first.
    page = reviewer_client.get(history_url(incident)).content.decode()
    assert undo_url(incident, change, "title") in page
    confirm = reviewer_client.get(undo_url(incident, change, "title"))
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "Wrong title" in body and "Right title" in body
    incident.refresh_from_db()
    assert incident.title == "Wrong title"  # nothing changed by looking

    response = reviewer_client.post(
        undo_url(incident, change, "title"), {"version": incident.version}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    # Only the title went back; the summary of the same change and the later change stay.
    assert incident.title == "Right title"
    assert incident.summary == "Better summary"
    assert incident.description == "A later, unrelated change"
    newest = incident.history.order_by("-history_id").first()
    assert newest.history_user == reviewer
    assert newest.history_change_reason.startswith("Undid the change of Title")


def test_undoing_a_date_restores_its_precision_too(reviewer_client):
    incident = IncidentFactory(start_date=datetime.date(2022, 1, 1), start_date_precision="month")
    incident = edit(incident, start_date=datetime.date(2022, 1, 7), start_date_precision="day")
    change = incident.history.order_by("-history_id").first()
    response = reviewer_client.post(
        undo_url(incident, change, "start_date"), {"version": incident.version}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.start_date, incident.start_date_precision) == (
        datetime.date(2022, 1, 1),
        "month",
    )


def test_undoing_a_source_change_takes_back_only_that_change(reviewer_client):
    kept, wrong, later = SourceFactory(), SourceFactory(), SourceFactory()
    incident = IncidentFactory()
    incident.sources.add(kept)
    incident.sources.add(wrong)
    change = incident.history.order_by("-history_id").first()
    incident.sources.add(later)
    incident.refresh_from_db()
    response = reviewer_client.post(
        undo_url(incident, change, "sources"), {"version": incident.version}
    )
    assert response.status_code == 302
    assert set(incident.sources.all()) == {kept, later}


def test_an_undo_from_an_old_page_is_refused(reviewer_client):
    incident = IncidentFactory(title="Right title")
    incident = edit(incident, title="Wrong title")
    change = incident.history.order_by("-history_id").first()
    opened_at = incident.version
    incident = edit(incident, summary="Changed meanwhile")
    response = reviewer_client.post(
        undo_url(incident, change, "title"), {"version": opened_at}, follow=True
    )
    assert "nothing was undone" in response.content.decode()
    incident.refresh_from_db()
    assert incident.title == "Wrong title"


def test_an_editor_may_not_undo(editor_client):
    incident = IncidentFactory(title="Right title")
    incident = edit(incident, title="Wrong title")
    change = incident.history.order_by("-history_id").first()
    assert editor_client.get(undo_url(incident, change, "title")).status_code == 403
    response = editor_client.post(
        undo_url(incident, change, "title"), {"version": incident.version}
    )
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.title == "Wrong title"


@pytest.mark.parametrize("field_name", ["summary", "no_such_field", "version", "a\x00b"])
def test_undoing_a_field_the_change_did_not_touch_is_404(reviewer_client, field_name):
    incident = IncidentFactory(title="Right title")
    incident = edit(incident, title="Wrong title")
    change = incident.history.order_by("-history_id").first()
    response = reviewer_client.get(undo_url(incident, change, field_name))
    assert response.status_code == 404


def test_an_undo_that_would_leave_a_published_record_without_sources_is_refused(
    reviewer_client,
):
    only = SourceFactory()
    incident = IncidentFactory()
    incident.sources.add(only)
    change = incident.history.order_by("-history_id").first()
    incident.refresh_from_db()
    response = reviewer_client.post(
        undo_url(incident, change, "sources"), {"version": incident.version}, follow=True
    )
    assert "nothing was undone" in response.content.decode()
    assert list(incident.sources.all()) == [only]
