"""Importing a new case that can be published as imported: its source cited by every record
it creates, the incident's summary, description and situation from the file, a change to a
published record proposed rather than written, and the result page linking every record
written (incidents/importer.py, incidents/staff/import_views.py)."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils.html import escape

from cabar_tracker.publishing import PublicationState
from incidents import workflow
from incidents.import_jobs import report_data
from incidents.importer import IMPORT_ONLY_COLUMNS, import_detentions
from incidents.models import Detention, Incident, Outcome, Revision, Source
from incidents.staff.import_views import _imported_records
from people.models import Person
from tests.factories import (
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    SituationFactory,
    SourceFactory,
)
from tests.incidents.staff.test_import import counts, csv_text, new_case_row, run, upload

pytestmark = pytest.mark.django_db

ARTICLE = "https://news.example.org/shymkent-checks"


@pytest.fixture
def shymkent(db):
    return LocationFactory(name="Shymkent", slug="shymkent", parent=CountryFactory())


@pytest.fixture
def unrest(db):
    return SituationFactory(slug="kazakhstan-january-2022", title="January 2022 unrest")


def case_row(**overrides) -> dict[str, str]:
    """A row with everything a reviewer asks for before publishing the case."""
    values = {
        "summary": "38 citizens of Kyrgyzstan were detained in Shymkent and released after checks.",
        "description": "Relatives called the consulate.",
        "situation_slug": "kazakhstan-january-2022",
        "source_urls": ARTICLE,
        "source_title": "Kyrgyz citizens checked in Shymkent",
        **overrides,
    }
    return new_case_row(**values)


# --- provenance ------------------------------------------------------------------------------


def test_the_source_is_cited_by_the_incident_the_person_and_the_detention(shymkent, unrest, editor):
    report = run([case_row()], user=editor)
    assert report.ok, report.errors
    source = Source.objects.get()
    assert source.url == ARTICLE and source.title == "Kyrgyz citizens checked in Shymkent"
    detention = Detention.objects.select_related("incident", "person").get()
    for record in (detention, detention.incident, detention.person):
        assert list(record.sources.all()) == [source], record


def test_later_rows_add_their_sources_to_the_incident_the_import_created(shymkent, unrest):
    rows = [
        case_row(),
        case_row(
            person_name="Aibek Saparov",
            person_name_native="",
            source_urls="https://news.example.org/second",
            source_title="",
        ),
    ]
    assert run(rows).ok
    incident = Incident.objects.get()
    assert sorted(s.url for s in incident.sources.all()) == [
        "https://news.example.org/second",
        ARTICLE,
    ]
    assert Source.objects.get(url="https://news.example.org/second").title == (
        "https://news.example.org/second"  # no title given: the address stands for it
    )
    aibek = Person.objects.get(name="Aibek Saparov")
    assert [s.url for s in aibek.sources.all()] == ["https://news.example.org/second"]


def test_records_it_did_not_create_are_not_given_its_sources(shymkent, editor):
    incident = IncidentFactory(slug="known", location=shymkent)
    person = PersonFactory(slug="known-person", name="Known Person")
    row = case_row(incident_slug="known", person_slug="known-person", person_name="")
    row["situation_slug"] = ""
    report = run([row], user=editor)
    assert report.ok, report.errors
    assert not incident.sources.exists() and not person.sources.exists()
    assert [s.url for s in Detention.objects.get().sources.all()] == [ARTICLE]
    assert not Revision.objects.exists()


def test_an_address_already_recorded_is_found_whatever_its_case(shymkent, unrest):
    recorded = SourceFactory(url="https://NEWS.example.org/shymkent-checks/")
    assert run([case_row()]).ok
    assert Source.objects.get() == recorded
    assert list(Incident.objects.get().sources.all()) == [recorded]


# --- summary and situation -------------------------------------------------------------------


def test_the_incident_takes_its_summary_description_and_situation(shymkent, unrest):
    assert run([case_row()]).ok
    incident = Incident.objects.get()
    assert incident.summary.startswith("38 citizens of Kyrgyzstan")
    assert incident.description == "Relatives called the consulate."
    assert incident.situation == unrest


def test_an_imported_case_can_be_published_as_it_is(shymkent, unrest, editor, reviewer):
    report = run([case_row()], user=editor)
    assert report.ok, report.errors
    incident = Incident.objects.get()
    records = workflow.records_published_with(incident)
    assert [workflow.missing_for_publication(record) for record in records] == [[]] * 4

    workflow.submit_for_review(record=incident, user=editor)
    published = workflow.publish(record=incident, user=reviewer)

    assert len(published) == 4  # the incident, the detention, the person, the source
    for model in (Incident, Detention, Person, Source):
        assert model.objects.get().publication_state == PublicationState.PUBLISHED


def test_the_page_documents_the_import_only_columns(editor_client):
    page = editor_client.get(reverse("staff:import")).content.decode()
    for column in IMPORT_ONLY_COLUMNS:
        assert f"<code>{column.name}</code>" in page
        assert escape(str(column.description)) in page


# --- bad input in the new columns ------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"summary": "A summary\x00 with a NUL byte"}, "summary"),
        ({"description": "bell\x07"}, "description"),
        ({"source_title": "T" * 401, "source_urls": "https://x.example.org/new"}, "source_title"),
        ({"source_title": "Two at once", "source_urls": f"{ARTICLE} https://x.example.org/"}, None),
        ({"source_title": "No address", "source_urls": ""}, None),
        ({"situation_slug": "nowhere"}, "situation_slug"),
        ({"situation_slug": "s" * 5000}, "situation_slug"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_bad_input_in_the_new_columns_is_a_row_error_and_nothing_is_kept(
    shymkent, unrest, overrides, column
):
    rows = [case_row(person_name="First Person", person_name_native=""), case_row(**overrides)]
    report = run(rows)
    assert not report.ok
    expected = column or "source_title"
    assert [(e.row, e.column) for e in report.errors] == [(3, expected)]
    assert counts() == (0, 0, 0, 0, 0)


def test_an_archived_situation_is_refused(shymkent, unrest):
    unrest.archived_at = datetime.datetime(2022, 3, 1, tzinfo=datetime.UTC)
    unrest.save()
    report = run([case_row()])
    assert [(e.row, e.column) for e in report.errors] == [(2, "situation_slug")]


# --- a published record ----------------------------------------------------------------------


def test_an_editors_change_to_a_published_detention_is_proposed(editor, shymkent):
    detention = DetentionFactory(
        incident=IncidentFactory(slug="known"),
        person=PersonFactory(slug="known-person", name="Known Person"),
        outcome=Outcome.CHARGED,
    )
    row = {
        "incident_slug": "known",
        "person_slug": "known-person",
        "person_name": "",
        "outcome": "convicted",
        "allegations": "no_lawyer",
        "source_urls": ARTICLE,
    }
    report = run([row], user=editor)

    assert report.ok, report.errors
    assert report.proposed == 3  # the outcome, the source, the allegation
    detention.refresh_from_db()
    assert detention.outcome == Outcome.CHARGED  # the public record stays
    assert not detention.sources.exists() and not detention.allegations.exists()
    proposal = Revision.objects.of(detention).pending().get()
    assert proposal.proposed["fields"]["outcome"] == "convicted"
    assert [Source.objects.get(url=ARTICLE).pk] == proposal.proposed["links"]["sources"]
    assert [r.action for r in report.records_of(Detention)] == ["proposed"]


def test_an_editor_withholding_a_published_identity_proposes_it(editor, shymkent):
    person = PersonFactory(slug="shown", name="Shown Person")
    report = run(
        [new_case_row(person_slug="shown", person_name="", person_identity_withheld="true")],
        user=editor,
    )
    assert report.ok, report.errors
    person.refresh_from_db()
    assert not person.identity_withheld
    assert Revision.objects.of(person).pending().get().proposed["fields"]["identity_withheld"]


def test_the_page_says_what_waits_for_a_reviewer(editor_client, shymkent):
    DetentionFactory(
        incident=IncidentFactory(slug="known"),
        person=PersonFactory(slug="known-person", name="Known Person"),
    )
    row = {
        "incident_slug": "known",
        "person_slug": "known-person",
        "person_name": "",
        "outcome": "convicted",
    }
    response = editor_client.post(reverse("staff:import"), {"file": upload([row])}, follow=True)
    assert response.status_code == 200
    assert "1 change to a published record waits for a reviewer" in response.content.decode()


# --- the result page -------------------------------------------------------------------------


def test_the_result_links_every_record_written_to_its_edit_page(editor_client, shymkent, unrest):
    rows = [case_row(), case_row(person_name="Aibek Saparov", person_name_native="")]
    response = editor_client.post(reverse("staff:import"), {"file": upload(rows)}, follow=True)
    page = response.content.decode()

    incident = Incident.objects.get()
    expected = [
        (reverse("staff:incident_edit", args=[incident.pk]), incident.title),
        (reverse("staff:source_edit", args=[Source.objects.get().pk]), "Kyrgyz citizens"),
    ]
    for person in Person.objects.all():
        expected.append((reverse("staff:person_edit", args=[person.pk]), person.name))
    for detention in Detention.objects.all():
        expected.append((reverse("staff:detention_edit", args=[detention.pk]), ""))
    assert len(expected) == 6
    for url, label in expected:
        assert f'<a href="{url}">{label}' in page


def test_a_dry_run_links_nothing(editor_client, shymkent, unrest):
    response = editor_client.post(
        reverse("staff:import"), {"file": upload([case_row()]), "dry_run": "on"}, follow=True
    )
    assert "Records written" not in response.content.decode()
    assert response.context["imported_records"] == []


@pytest.mark.parametrize("rows", [1, 20])
def test_the_links_need_no_query(shymkent, unrest, rows, django_assert_max_num_queries):
    # Guards against a query per record listed: the report holds each id and label.
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike"
    words += " november oscar papa quebec romeo sierra tango"
    names = [f"Person {word}" for word in words.split()[:rows]]
    text = csv_text([case_row(person_name=name, person_name_native="") for name in names])
    report = import_detentions(lines=io.StringIO(text))
    assert report.ok, report.errors
    data = report_data(report)
    with django_assert_max_num_queries(0):
        groups = _imported_records(data)
    assert [len(group["links"]) for group in groups] == [1, rows, rows, 1]
