"""Permanent links (issue 13, item 4): an old slug answers 301 with the record's current
address, from whichever door the slug changed; a withheld identity's old slugs stay 404;
feed entry ids never change; a change to any part of a case moves its "last updated"."""

import datetime
import importlib
import xml.etree.ElementTree as ET

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents import revisions
from incidents.models import (
    Allegation,
    Detention,
    Incident,
    IncidentEvent,
    Location,
    Situation,
    SlugRedirect,
    Source,
    Statement,
)
from people.models import Organization, Person
from tests.api_personas import API
from tests.factories import (
    AllegationFactory,
    DetentionFactory,
    IncidentEventFactory,
    IncidentFactory,
    PersonFactory,
    PublicOrganizationFactory,
    PublicPlaceFactory,
    SituationFactory,
    SourceFactory,
    StatementFactory,
)
from tests.incidents.staff.test_edit_pages import edit_url, incident_data

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def incident_url(slug: str) -> str:
    return reverse("incidents:incident_detail", kwargs={"slug": slug})


def person_url(slug: str) -> str:
    return reverse("people:person_detail", kwargs={"slug": slug})


def renamed(record, slug: str):
    """`record` with a new slug, saved as the operator's shell would (nobody acting)."""
    record.slug = slug
    record.save()
    return record


# --- old slugs answer 301, from every door ------------------------------------------------


def test_a_reviewer_s_edit_of_the_slug_leaves_the_old_address_redirecting(reviewer_client, client):
    incident = IncidentFactory(slug="old-case")

    response = reviewer_client.post(
        edit_url("incident", incident.pk), incident_data(incident, slug="new-case")
    )

    assert response.status_code == 302, response.content.decode()[:500]
    assert Incident.objects.get(pk=incident.pk).slug == "new-case"
    moved = client.get(incident_url("old-case"))
    assert moved.status_code == 301
    assert moved["Location"] == incident_url("new-case")
    assert client.get(incident_url("new-case")).status_code == 200


def test_the_query_string_goes_along(client):
    incident = renamed(IncidentFactory(slug="old-case"), "new-case")

    moved = client.get(incident_url("old-case") + "?lang=ru")

    assert moved["Location"] == incident.get_absolute_url() + "?lang=ru"


def test_an_api_patch_of_the_slug_leaves_the_old_address_redirecting(admin_api, client):
    incident = IncidentFactory(slug="api-old")

    response = admin_api.patch(
        f"{API}/incidents/{incident.pk}/", {"slug": "api-new"}, format="json"
    )

    assert response.status_code == 200, response.content
    moved = client.get(incident_url("api-old"))
    assert (moved.status_code, moved["Location"]) == (301, incident_url("api-new"))


def test_a_published_revision_of_the_slug_leaves_the_old_address_redirecting(
    editor, reviewer, client
):
    incident = IncidentFactory(slug="proposed-old")
    proposed = Incident.objects.get(pk=incident.pk)
    proposed.slug = "proposed-new"
    proposal = revisions.propose(proposed, user=editor)
    # A proposal is not a change yet: the old address is the live one.
    assert client.get(incident_url("proposed-old")).status_code == 200

    revisions.publish_revision(revision=proposal, user=reviewer)

    moved = client.get(incident_url("proposed-old"))
    assert (moved.status_code, moved["Location"]) == (301, incident_url("proposed-new"))


def test_a_bulk_update_of_the_slug_is_kept_too(client):
    incident = IncidentFactory(slug="bulk-old")

    Incident.objects.filter(pk=incident.pk).update(slug="bulk-new")

    assert client.get(incident_url("bulk-old"))["Location"] == incident_url("bulk-new")


def test_every_old_slug_leads_straight_to_the_current_address(client):
    incident = renamed(renamed(IncidentFactory(slug="first"), "second"), "third")

    for old in ("first", "second"):
        moved = client.get(incident_url(old))
        assert (moved.status_code, moved["Location"]) == (301, incident.get_absolute_url())


@pytest.mark.parametrize(
    "factory, url_name",
    [
        (SituationFactory, "incidents:situation_detail"),
        (PublicPlaceFactory, "incidents:location_detail"),
        (PersonFactory, "people:person_detail"),
        (PublicOrganizationFactory, "people:organization_detail"),
    ],
)
def test_every_kind_of_record_with_a_slug_keeps_its_old_address(client, factory, url_name):
    record = factory(slug="before-rename")
    renamed(record, "after-rename")

    moved = client.get(reverse(url_name, kwargs={"slug": "before-rename"}))

    assert moved.status_code == 301
    assert moved["Location"] == reverse(url_name, kwargs={"slug": "after-rename"})


def test_a_record_the_reader_may_not_see_is_not_redirected_to(staff_client):
    client = Client()  # `staff_client` is pytest-django's `client`, logged in
    incident = renamed(
        IncidentFactory(slug="draft-old", publication_state=PublicationState.DRAFT), "draft-new"
    )

    assert client.get(incident_url("draft-old")).status_code == 404
    assert staff_client.get(incident_url("draft-old"))["Location"] == incident.get_absolute_url()


def test_an_unknown_slug_is_still_404(client):
    assert client.get(incident_url("never-was")).status_code == 404


def test_a_slug_taken_by_another_record_serves_the_live_one(client):
    renamed(IncidentFactory(slug="shared", title="First holder"), "first-holder")
    IncidentFactory(slug="shared", title="Second holder")

    response = client.get(incident_url("shared"))

    assert response.status_code == 200
    assert "Second holder" in response.content.decode()


def test_a_slug_given_up_twice_leads_to_the_last_record_that_had_it(client):
    renamed(IncidentFactory(slug="shared"), "first-holder")
    second = renamed(IncidentFactory(slug="shared"), "second-holder")

    assert client.get(incident_url("shared"))["Location"] == second.get_absolute_url()


# --- a withheld identity ------------------------------------------------------------------


def test_a_withheld_person_s_name_slug_answers_404_to_the_public(staff_client):
    client = Client()  # `staff_client` is pytest-django's `client`, logged in
    person = PersonFactory(name="Baialy Torogeldiev", slug="baialy-torogeldiev")
    person.identity_withheld = True
    person.save()
    assert person.slug.startswith("p-")

    response = client.get(person_url("baialy-torogeldiev"))

    assert response.status_code == 404
    assert not response.has_header("Location")
    assert person.slug not in response.content.decode()
    # Staff may follow it.
    assert staff_client.get(person_url("baialy-torogeldiev"))["Location"] == person_url(person.slug)


def test_a_withheld_person_s_old_random_slug_answers_404_to_the_public(client):
    person = PersonFactory(identity_withheld=True)
    old = person.slug
    Person.objects.filter(pk=person.pk).update(slug="p-0123456789ab")

    response = client.get(person_url(old))

    assert response.status_code == 404
    assert not response.has_header("Location")


def test_a_person_withheld_after_a_rename_hides_every_old_slug(client):
    """The public redirect of an older slug stops once the identity is withheld."""
    person = renamed(PersonFactory(slug="name-one"), "name-two")
    assert client.get(person_url("name-one")).status_code == 301
    person.identity_withheld = True
    person.save()

    for old in ("name-one", "name-two"):
        response = client.get(person_url(old))
        assert response.status_code == 404
        assert not response.has_header("Location")


def test_a_person_shown_again_does_not_link_the_random_slug_to_the_name(client):
    person = PersonFactory(identity_withheld=True)
    hidden_slug = person.slug
    person.identity_withheld = False
    person.slug = "named-again"
    person.save()

    assert client.get(person_url(hidden_slug)).status_code == 404


# --- merge --------------------------------------------------------------------------------


def test_a_merged_person_s_old_slugs_lead_to_the_kept_person(reviewer, client):
    from people.staff.merge import merge_persons

    keep = PersonFactory(slug="vikram-ruzakhunov")
    merge = renamed(PersonFactory(slug="ruzahunov-older"), "ruzahunov")

    merge_persons(keep=keep, merge=merge, user=reviewer)

    for old in ("ruzahunov", "ruzahunov-older"):
        assert client.get(person_url(old))["Location"] == keep.get_absolute_url()


def test_a_draft_merged_away_does_not_redirect_the_public(reviewer, staff_client):
    client = Client()  # `staff_client` is pytest-django's `client`, logged in
    from people.staff.merge import merge_persons

    keep = PersonFactory()
    merge = PersonFactory(slug="draft-duplicate", publication_state=PublicationState.DRAFT)

    merge_persons(keep=keep, merge=merge, user=reviewer)

    assert client.get(person_url("draft-duplicate")).status_code == 404
    assert staff_client.get(person_url("draft-duplicate")).status_code == 301


# --- feed entry ids -----------------------------------------------------------------------


def _feed_entry(client) -> ET.Element:
    (entry,) = ET.fromstring(client.get("/incidents/feed.atom").content).iter(f"{ATOM}entry")
    return entry


def test_a_feed_entry_keeps_its_id_when_the_slug_changes(client, settings):
    settings.FEED_ID_AUTHORITY = "tracker.example.org"
    incident = IncidentFactory(slug="feed-old")
    before = _feed_entry(client)

    renamed(incident, "feed-new")
    after = _feed_entry(client)

    published = incident.published_at.date().isoformat()
    assert (
        before.findtext(f"{ATOM}id")
        == f"tag:tracker.example.org,{published}:incident/{incident.pk}"
    )
    assert after.findtext(f"{ATOM}id") == before.findtext(f"{ATOM}id")
    assert before.find(f"{ATOM}link").get("href").endswith("/incidents/feed-old/")
    assert after.find(f"{ATOM}link").get("href").endswith("/incidents/feed-new/")


# --- "last updated" of a case -------------------------------------------------------------


@pytest.fixture
def case():
    """A published case with one of each part, its "last updated" set well in the past."""
    incident = IncidentFactory()
    detention = DetentionFactory(incident=incident)
    allegation = AllegationFactory(detention=detention)
    event = IncidentEventFactory(incident=incident)
    statement = StatementFactory()
    statement.incidents.add(incident)
    source = SourceFactory()
    Detention.sources.through.objects.create(detention=detention, source=source)
    _set_long_ago(incident)
    return {
        "incident": incident,
        "detention": detention,
        "allegation": allegation,
        "event": event,
        "statement": statement,
        "source": source,
    }


LONG_AGO = datetime.datetime(2022, 1, 1, tzinfo=datetime.UTC)


def _set_long_ago(incident: Incident) -> None:
    Incident._base_manager.filter(pk=incident.pk).update(updated_at=LONG_AGO)


def _stamp(incident: Incident) -> tuple:
    """The case's last updated, version and number of history rows."""
    stored = Incident._base_manager.get(pk=incident.pk)
    return stored.updated_at, stored.version, stored.history.count()


EDITS = {
    "detention": ("details", "Held in a basement."),
    "allegation": ("description", "Beaten during interrogation."),
    "event": ("title", "A broadcast"),
    "statement": ("text", "The ministry now says otherwise."),
    "source": ("title", "A corrected headline"),
}


@pytest.mark.parametrize("part", list(EDITS))
def test_a_change_to_a_part_moves_the_case_s_last_updated_only(case, part):
    incident = case["incident"]
    _, version, history_rows = _stamp(incident)
    record = case[part]
    field, value = EDITS[part]
    setattr(record, field, value)
    record.save()

    updated_at, version_after, history_after = _stamp(incident)
    assert updated_at > LONG_AGO
    assert (version_after, history_after) == (version, history_rows)


def test_a_draft_part_moves_nothing_until_it_is_published(case):
    """A detention being prepared in a published case must not tell the public reader,
    through the case's "last updated", that something is on its way; publishing it does
    move it."""
    from cabar_tracker.publishing import PublicationState

    incident = case["incident"]
    draft = DetentionFactory(incident=incident, publication_state=PublicationState.DRAFT)
    AllegationFactory(detention=draft)
    draft_statement = StatementFactory(publication_state=PublicationState.DRAFT)
    draft_statement.incidents.add(incident)
    _set_long_ago(incident)
    draft.details = "Still being checked."
    draft.save()
    assert _stamp(incident)[0] == LONG_AGO

    draft.publication_state = PublicationState.PUBLISHED
    draft.save()
    assert _stamp(incident)[0] > LONG_AGO


@pytest.mark.parametrize("part", list(EDITS))
def test_an_unchanged_save_of_a_part_moves_nothing(case, part):
    incident = case["incident"]
    before = _stamp(incident)

    type(case[part])._base_manager.get(pk=case[part].pk).save()

    assert _stamp(incident) == before


@pytest.mark.parametrize(
    "model, part",
    [
        (Detention, "detention"),
        (Allegation, "allegation"),
        (IncidentEvent, "event"),
        (Statement, "statement"),
        (Source, "source"),
    ],
)
def test_a_bulk_update_of_a_part_moves_the_case_s_last_updated(case, model, part):
    incident = case["incident"]
    _, version, history_rows = _stamp(incident)
    field, value = EDITS[part]

    model.objects.filter(pk=case[part].pk).update(**{field: value})

    updated_at, version_after, history_after = _stamp(incident)
    assert updated_at > LONG_AGO
    assert (version_after, history_after) == (version, history_rows)


def test_publishing_or_archiving_a_detention_moves_the_case(case):
    detention = case["detention"]
    detention.archived_at = datetime.datetime.now(tz=datetime.UTC)
    detention.save()

    assert _stamp(case["incident"])[0] > LONG_AGO


def test_linking_or_unlinking_a_statement_moves_the_case(case):
    incident, statement = case["incident"], case["statement"]
    statement.incidents.remove(incident)
    assert _stamp(incident)[0] > LONG_AGO

    _set_long_ago(incident)
    statement.incidents.add(incident)
    assert _stamp(incident)[0] > LONG_AGO


def test_a_detention_moved_to_another_case_moves_both(case):
    other = IncidentFactory()
    _set_long_ago(other)
    detention = case["detention"]
    detention.incident = other
    detention.save()

    assert _stamp(case["incident"])[0] > LONG_AGO
    assert _stamp(other)[0] > LONG_AGO


def test_the_case_page_quotes_the_moved_last_updated(case, client):
    detention = case["detention"]
    detention.details = "New detail"
    detention.save()

    stored = Incident.objects.get(pk=case["incident"].pk)
    page = client.get(stored.get_absolute_url()).content.decode()
    assert f'datetime="{stored.updated_at.isoformat()}"' in page
    assert 'datetime="2022-01-01T00:00:00+00:00"' not in page


# --- the migration fills the table from the history ---------------------------------------


def test_the_backfill_finds_old_slugs_in_the_history():
    migration = importlib.import_module("incidents.migrations.0014_slug_redirect_old_addresses")
    incident = renamed(renamed(IncidentFactory(slug="hist-a"), "hist-b"), "hist-c")
    person = renamed(PersonFactory(slug="named-person"), "named-person-2")
    person.identity_withheld = True
    person.save()
    shown = renamed(PersonFactory(slug="shown-a"), "shown-b")
    SlugRedirect.objects.all().delete()  # as before the migration

    migration.backfill_slug_redirects(apps, None)

    rows = {
        (row.content_type.model, row.old_slug): (row.object_id, row.public)
        for row in SlugRedirect.objects.select_related("content_type")
    }
    assert rows[("incident", "hist-a")] == (incident.pk, True)
    assert rows[("incident", "hist-b")] == (incident.pk, True)
    assert ("incident", "hist-c") not in rows
    # Before being withheld, and while withheld: never public.
    assert rows[("person", "named-person")] == (person.pk, False)
    assert rows[("person", "named-person-2")] == (person.pk, False)
    assert rows[("person", "shown-a")] == (shown.pk, True)
    # Running it again adds nothing twice.
    migration.backfill_slug_redirects(apps, None)
    assert SlugRedirect.objects.count() == len(rows)


def test_the_table_holds_one_row_per_kind_and_old_slug():
    renamed(IncidentFactory(slug="one"), "two")
    incident_type = ContentType.objects.get_for_model(Incident)
    assert SlugRedirect.objects.filter(content_type=incident_type, old_slug="one").count() == 1
    assert not SlugRedirect.objects.filter(
        content_type__in=ContentType.objects.get_for_models(
            Situation, Location, Organization
        ).values()
    ).exists()


def test_withholding_marks_every_earlier_slug_private():
    person = renamed(PersonFactory(slug="earlier-name"), "later-name")
    person.identity_withheld = True
    person.save()

    assert not SlugRedirect.objects.filter(object_id=person.pk, public=True).exists()


def test_the_about_page_explains_permanent_links_in_both_languages(client):
    english = client.get(reverse("incidents:about")).content.decode()
    assert "the old address still works" in english
    russian = client.get(reverse("incidents:about"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Постоянные ссылки" in russian
    assert "прежний адрес продолжает работать" in russian
