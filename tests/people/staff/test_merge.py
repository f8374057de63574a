"""Merging two records of one person: what moves, what is refused, who may do it, and that
history records every step."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents.models import Allegation, Detention, Statement
from people.models import NameKind, Person, PersonName, Position
from people.staff.merge import MergeRefused, merge_persons
from tests.factories import (
    AllegationFactory,
    DetentionFactory,
    IncidentFactory,
    OrganizationFactory,
    PersonFactory,
    PersonNameFactory,
    PositionFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db


def merge_url(person) -> str:
    return reverse("staff:person_merge", kwargs={"pk": person.pk})


@pytest.fixture
def pair():
    """Vikram Ruzakhunov, and the same man entered again from a Russian-language report."""
    keep = PersonFactory(name="Vikram Ruzakhunov", citizenship="KG", occupation="")
    merge = PersonFactory(
        name="Vikram Ruzahunov",
        name_native="Викрам Рузахунов",
        citizenship="KG",
        occupation="Jazz pianist",
        staff_notes="Family in Bishkek.",
    )
    return keep, merge


def test_it_moves_everything_to_the_kept_person_and_archives_the_other(pair, reviewer):
    keep, merge = pair
    detention = DetentionFactory(person=merge)
    said = StatementFactory(speaker_person=merge, speaker_organization=None)
    about = StatementFactory()
    about.people.add(merge)
    allegation = AllegationFactory(alleged_by_person=merge)
    position = PositionFactory(person=merge, title="Pianist")
    variant = PersonNameFactory(person=merge, name="Ruzakhunov V.")
    source = SourceFactory()
    merge.sources.add(source)

    merge_persons(keep=keep, merge=merge, user=reviewer)

    assert Detention.objects.get(pk=detention.pk).person == keep
    assert Statement.objects.get(pk=said.pk).speaker_person == keep
    assert list(Statement.objects.get(pk=about.pk).people.all()) == [keep]
    assert Allegation.objects.get(pk=allegation.pk).alleged_by_person == keep
    assert Position.objects.get(pk=position.pk).person == keep
    assert PersonName.objects.get(pk=variant.pk).person == keep
    assert list(keep.sources.all()) == [source]
    names = set(keep.name_variants.values_list("name", "kind"))
    assert ("Vikram Ruzahunov", NameKind.SPELLING) in names
    keep.refresh_from_db()
    # Empty facts are filled; the native name becomes the kept person's own.
    assert keep.occupation == "Jazz pianist"
    assert keep.name_native == "Викрам Рузахунов"
    assert "Family in Bishkek." in keep.staff_notes
    merge.refresh_from_db()
    assert merge.archived_at is not None
    assert "Merged into Vikram Ruzakhunov" in merge.staff_notes
    assert Person.objects.filter(pk=merge.pk).exists()  # archived, never deleted
    # Every spelling still finds him.
    assert list(Person.objects.not_archived().matching_name("Ruzahunov")) == [keep]


def test_it_adds_the_merged_native_name_as_a_variant_when_both_have_one(reviewer):
    keep = PersonFactory(name="Zakir Yuburov", name_native="Закир Юбуров")
    merge = PersonFactory(name="Zakir Iuburov", name_native="Зокир Юбуров")
    merge_persons(keep=keep, merge=merge, user=reviewer)
    assert set(keep.name_variants.values_list("name", "kind")) == {
        ("Zakir Iuburov", NameKind.SPELLING),
        ("Зокир Юбуров", NameKind.NATIVE_SCRIPT),
    }


def test_it_leaves_nothing_pointing_at_the_merged_person(pair, reviewer):
    keep, merge = pair
    DetentionFactory(person=merge)
    StatementFactory(speaker_person=merge, speaker_organization=None).people.add(merge)
    AllegationFactory(alleged_by_person=merge)
    PositionFactory(person=merge)
    PersonNameFactory(person=merge)
    PersonNameFactory(kind=NameKind.MISIDENTIFIED_AS, other_person=merge)
    merge.sources.add(SourceFactory())
    merge_persons(keep=keep, merge=merge, user=reviewer)
    for relation in Person._meta.related_objects:
        if relation.related_model.__name__.startswith("Historical"):
            continue
        model = relation.related_model
        pointing = model._base_manager.filter(**{relation.field.name: merge})
        assert not pointing.exists(), f"{model.__name__}.{relation.field.name}"


def test_it_refuses_two_persons_detained_in_the_same_incident(pair, reviewer):
    keep, merge = pair
    incident = IncidentFactory(title="Almaty, 7 January")
    DetentionFactory(person=keep, incident=incident)
    moved = DetentionFactory(person=merge)
    DetentionFactory(person=merge, incident=incident)
    with pytest.raises(MergeRefused, match="Almaty, 7 January"):
        merge_persons(keep=keep, merge=merge, user=reviewer)
    # Nothing moved, nothing archived.
    assert Detention.objects.get(pk=moved.pk).person == merge
    merge.refresh_from_db()
    assert merge.archived_at is None


def test_a_post_both_held_is_kept_once_with_its_statements(reviewer):
    organization = OrganizationFactory(name="GKNB")
    keep, merge = PersonFactory(), PersonFactory()
    kept_post = PositionFactory(person=keep, organization=organization, title="Head")
    twin = PositionFactory(person=merge, organization=organization, title="Head")
    statement = StatementFactory(speaker_person=merge, position=twin, speaker_organization=None)
    merge_persons(keep=keep, merge=merge, user=reviewer)
    statement.refresh_from_db()
    assert (statement.speaker_person, statement.position) == (keep, kept_post)
    assert list(Position.objects.filter(person=keep)) == [kept_post]


def test_a_misidentification_between_the_two_disappears_with_the_duplicate(reviewer):
    keep, merge = PersonFactory(), PersonFactory()
    PersonNameFactory(person=merge, kind=NameKind.MISIDENTIFIED_AS, other_person=keep)
    merge_persons(keep=keep, merge=merge, user=reviewer)
    assert not PersonName.objects.filter(kind=NameKind.MISIDENTIFIED_AS).exists()


def test_a_withheld_identity_stays_withheld(reviewer):
    keep = PersonFactory(identity_withheld=False)
    merge = PersonFactory(identity_withheld=True)
    merge_persons(keep=keep, merge=merge, user=reviewer)
    keep.refresh_from_db()
    assert keep.identity_withheld


def test_it_records_every_step_in_the_history(pair, reviewer):
    keep, merge = pair
    detention = DetentionFactory(person=merge)
    about = StatementFactory()
    about.people.add(merge)
    merge_persons(keep=keep, merge=merge, user=reviewer)
    for record in (keep, merge, detention, about):
        newest = record.history.first()
        assert newest.history_user == reviewer, record
        assert newest.history_change_reason.startswith("Merged Vikram Ruzahunov")
    archived = merge.history.first()
    assert archived.archived_at is not None
    assert list(about.history.first().people.values_list("person_id", flat=True)) == [keep.pk]


def test_it_refuses_an_editor_and_itself(pair, editor, reviewer):
    keep, merge = pair
    with pytest.raises(PermissionDenied):
        merge_persons(keep=keep, merge=merge, user=editor)
    with pytest.raises(MergeRefused):
        merge_persons(keep=keep, merge=keep, user=reviewer)


# --- the page -------------------------------------------------------------------------------


def test_the_page_shows_both_side_by_side(pair, reviewer_client):
    keep, merge = pair
    DetentionFactory(person=merge)
    response = reviewer_client.get(merge_url(keep) + f"?merge={merge.pk}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Vikram Ruzakhunov" in body and "Vikram Ruzahunov" in body
    assert "Jazz pianist" in body
    assert response.context["other"].detention_count == 1


def test_the_page_suggests_close_names(pair, reviewer_client):
    keep, merge = pair
    PersonFactory(name="Baialy Torogeldiev")
    suggestions = reviewer_client.get(merge_url(keep)).context["suggestions"]
    assert suggestions == [merge]


def test_a_reviewer_merges_through_the_page(pair, reviewer_client, reviewer):
    keep, merge = pair
    response = reviewer_client.post(
        merge_url(keep),
        {"merge": merge.pk, "keep_version": keep.version, "merge_version": merge.version},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:person_edit", kwargs={"pk": keep.pk})
    assert Person._base_manager.get(pk=merge.pk).archived_at is not None
    assert keep.history.first().history_user == reviewer


def test_the_page_refuses_when_a_record_changed_meanwhile(pair, reviewer_client):
    keep, merge = pair
    opened_at = merge.version
    merge.occupation = "Musician"
    merge.save()
    response = reviewer_client.post(
        merge_url(keep),
        {"merge": merge.pk, "keep_version": keep.version, "merge_version": opened_at},
        follow=True,
    )
    assert "nothing was merged" in response.content.decode()
    assert Person._base_manager.get(pk=merge.pk).archived_at is None


def test_the_page_says_why_two_persons_cannot_be_merged(pair, reviewer_client):
    keep, merge = pair
    incident = IncidentFactory(title="Shymkent checks")
    DetentionFactory(person=keep, incident=incident)
    DetentionFactory(person=merge, incident=incident)
    body = reviewer_client.get(merge_url(keep) + f"?merge={merge.pk}").content.decode()
    assert "cannot be merged yet" in body
    assert "Shymkent checks" in body
    response = reviewer_client.post(merge_url(keep), {"merge": merge.pk}, follow=True)
    assert "same incident" in response.content.decode()
    assert Person._base_manager.get(pk=merge.pk).archived_at is None


def test_an_editor_cannot_open_or_post_the_merge_page(pair, editor_client):
    keep, merge = pair
    assert editor_client.get(merge_url(keep)).status_code == 403
    assert editor_client.post(merge_url(keep), {"merge": merge.pk}).status_code == 403
    assert Person._base_manager.get(pk=merge.pk).archived_at is None


def test_the_merged_person_leaves_the_public_site(pair, reviewer, client):
    """Its page is gone; its address (a permanent link) leads to the person it was merged
    into, both being public."""
    keep, merge = pair
    merge.publication_state = PublicationState.PUBLISHED
    merge.save()
    merge_persons(keep=keep, merge=merge, user=reviewer)
    response = client.get(merge.get_absolute_url())
    assert response.status_code == 301
    assert response["Location"] == keep.get_absolute_url()
    assert client.get(keep.get_absolute_url()).status_code == 200
