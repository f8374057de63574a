"""Every write path records history and bumps the version; stale writes are refused."""

import datetime

import pytest
from django.apps import apps

from cabar_tracker.history import StaleVersionError, save_if_current
from incidents.models import Incident, Location
from people.models import Person
from tests.factories import IncidentFactory, PersonFactory, SourceFactory

pytestmark = pytest.mark.django_db


# Derived data, recomputed from the records that keep history; nobody edits it (old
# addresses: the history of the record shows each slug change; public use: when places,
# organizations and posts entered or left public view, as the mirror feed last saw it).
DERIVED = {"PublicIncidentCount", "SlugRedirect", "PublicUse"}
# Proposed changes are themselves the record of who proposed, reviewed and when; once
# published, the record's own history holds the change. An import job is the record of one
# upload (who, when, what it wrote); each record it wrote keeps its own history. An export
# job is a file written for one reader; it changes no record.
WORKFLOW = {"Revision", "ImportJob", "ExportJob"}


def test_every_domain_model_keeps_history():
    for app_label in ("incidents", "people"):
        for model in apps.get_app_config(app_label).get_models():
            if model.__name__.startswith("Historical") or model._meta.auto_created:
                continue
            if model.__name__ in DERIVED | WORKFLOW:
                continue
            assert hasattr(model, "history"), f"{model.__name__} has no history"
            assert any(f.name == "version" for f in model._meta.fields), model.__name__


def test_save_records_create_and_change_with_old_and_new_values():
    incident = IncidentFactory(title="Before")
    incident.title = "After"
    incident.save()
    newest, oldest = incident.history.all()[:2]
    assert [oldest.history_type, newest.history_type] == ["+", "~"]
    changes = {c.field: (c.old, c.new) for c in newest.diff_against(oldest).changes}
    assert changes["title"] == ("Before", "After")


def test_save_bumps_the_version():
    person = PersonFactory()
    assert person.version == 1
    person.occupation = "Pianist"
    person.save()
    person.refresh_from_db()
    assert person.version == 2


def test_queryset_update_records_history_and_bumps_version():
    incident = IncidentFactory(verification="reported")
    Incident.objects.filter(pk=incident.pk).update(verification="confirmed")
    incident.refresh_from_db()
    assert incident.version == 2
    newest = incident.history.first()
    assert newest.history_type == "~"
    assert newest.verification == "confirmed"


def test_bulk_update_records_history_and_bumps_version():
    people = PersonFactory.create_batch(2)
    for person in people:
        person.occupation = "Teacher"
    Person.objects.bulk_update(people, ["occupation"])
    for person in people:
        person.refresh_from_db()
        assert person.version == 2
        assert person.history.first().occupation == "Teacher"


def test_bulk_create_records_history():
    created = Location.objects.bulk_create(
        [Location(name="Osh", slug="osh", kind="city", country="KG", path="/999/")]
    )
    assert created[0].history.count() == 1


def test_source_links_are_part_of_history():
    incident = IncidentFactory()
    source = SourceFactory()
    incident.sources.add(source)
    assert list(incident.history.first().sources.values_list("source_id", flat=True)) == [source.pk]


def test_a_write_from_an_old_version_is_refused_and_changes_nothing():
    incident = IncidentFactory(title="Original")
    first_editor = Incident.objects.get(pk=incident.pk)
    second_editor = Incident.objects.get(pk=incident.pk)

    first_editor.title = "First editor's title"
    save_if_current(first_editor, expected_version=1)

    second_editor.title = "Second editor's title"
    with pytest.raises(StaleVersionError) as refused:
        save_if_current(second_editor, expected_version=1)
    assert refused.value.current.title == "First editor's title"
    incident.refresh_from_db()
    assert incident.title == "First editor's title"
    assert incident.version == 2


def test_a_write_from_the_current_version_is_saved():
    incident = IncidentFactory(start_date=datetime.date(2022, 1, 7))
    incident.title = "Corrected"
    save_if_current(incident, expected_version=1)
    incident.refresh_from_db()
    assert (incident.title, incident.version) == ("Corrected", 2)


def test_an_update_keeps_the_source_links_in_its_history_entry():
    incident = IncidentFactory()
    source = SourceFactory()
    incident.sources.add(source)
    Incident.objects.filter(pk=incident.pk).update(verification="confirmed")
    newest, before = incident.history.all()[:2]
    assert newest.verification == "confirmed"
    assert list(newest.sources.values_list("source_id", flat=True)) == [source.pk]
    # The diff of the update shows the change, not the sources as removed.
    assert [change.field for change in newest.diff_against(before).changes] == ["verification"]
