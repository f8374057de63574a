"""Bulk import of detentions from CSV: the service, the management command and the page."""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents import exports
from incidents.columns import DETENTION_ROW_COLUMNS
from incidents.importer import COLUMNS, IMPORTED_COLUMNS, NOT_IMPORTED_COLUMNS, import_detentions
from incidents.models import Allegation, Detention, Incident, Outcome, Source
from people.models import Person, is_withheld_slug
from tests.factories import (
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    SourceFactory,
)


def csv_text(rows: list[dict[str, str]]) -> str:
    columns = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def run(rows: list[dict[str, str]], **kwargs):
    return import_detentions(lines=io.StringIO(csv_text(rows)), **kwargs)


@pytest.fixture
def shymkent(db):
    return LocationFactory(name="Shymkent", slug="shymkent", parent=CountryFactory())


def new_case_row(**overrides) -> dict[str, str]:
    row = {
        "incident_slug": "shymkent-checks",
        "incident_title": "Checks of Kyrgyz citizens in Shymkent",
        "incident_kind": "mass_detention",
        "incident_start_date": "2022-01",
        "incident_start_date_precision": "month",
        "place_slug": "shymkent",
        "person_slug": "",
        "person_name": "Baialy Torogeldiev",
        "person_name_native": "Баялы Торогельдиев",
        "person_citizenship": "KG",
        "role": "detainee",
        "detained_on": "2022-01-08",
        "detained_on_precision": "day",
        "released_on": "2022-01",
        "released_on_precision": "month",
        "custody_place_slug": "shymkent",
        "outcome": "released",
        "allegations": "ill_treatment;no_lawyer",
        "charges": "",
        "details": "Beaten during interrogation.",
        "source_urls": "https://news.example.org/a https://news.example.org/b",
    }
    row.update(overrides)
    return row


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Incident, Person, Detention, Source, Allegation)
    )


# --- the format -----------------------------------------------------------------------------


def test_it_reads_every_column_of_the_export_but_the_derived_ones():
    assert [c.name for c in DETENTION_ROW_COLUMNS] == COLUMNS
    assert set(IMPORTED_COLUMNS) | NOT_IMPORTED_COLUMNS == set(COLUMNS)
    assert {
        "days_in_custody",
        "days_in_custody_min",
        "days_in_custody_max",
        "source_titles",
        "publication_state",
        # Entered on the staff pages, each account with its sources and who asserts it.
        "allegation_statuses",
        "other_accounts",
    } == NOT_IMPORTED_COLUMNS


# --- creating and updating ------------------------------------------------------------------


def test_it_creates_the_incident_person_detention_sources_and_allegations_as_drafts(
    shymkent, editor
):
    report = run([new_case_row()], user=editor)
    assert report.ok, report.errors
    detention = Detention.objects.select_related("incident", "person").get()
    assert detention.incident.title == "Checks of Kyrgyz citizens in Shymkent"
    assert detention.incident.location == shymkent
    assert str(detention.incident.start) == "January 2022"
    assert detention.person.name_native == "Баялы Торогельдиев"
    assert detention.person.slug == "baialy-torogeldiev"
    assert detention.detained_on == datetime.date(2022, 1, 8)
    # Released "January 2022", after the 8 January detention: stored on the 8th, shown as
    # the month.
    assert detention.released.iso() == "2022-01"
    assert detention.custody_location == shymkent and detention.outcome == Outcome.RELEASED
    assert sorted(a.kind for a in detention.allegations.all()) == ["ill_treatment", "no_lawyer"]
    assert sorted(s.url for s in detention.sources.all()) == [
        "https://news.example.org/a",
        "https://news.example.org/b",
    ]
    for record in (detention, detention.incident, detention.person, *detention.sources.all()):
        assert record.publication_state == PublicationState.DRAFT
        assert record.history.earliest().history_user == editor
    assert report.summary() == [
        ("incidents", 1, 0),
        ("persons", 1, 0),
        ("detentions", 1, 0),
        ("sources", 2, 0),
        ("allegations", 2, 0),
    ]


def test_it_imports_the_same_file_twice_without_duplicates(shymkent):
    rows = [new_case_row(), new_case_row(person_name="Aibek Saparov", person_name_native="")]
    assert run(rows).ok
    before = counts()
    report = run(rows)
    assert report.ok, report.errors
    assert counts() == before == (1, 2, 2, 2, 4)
    assert report.unchanged_detentions == 2
    assert all(created == updated == 0 for _, created, updated in report.summary())


def test_it_updates_an_existing_detention_from_the_file(shymkent):
    assert run([new_case_row(outcome="unknown", released_on="", released_on_precision="")]).ok
    detention = Detention.objects.get()
    report = run([new_case_row(outcome="released", details="Freed after checks.")])
    assert report.ok, report.errors
    detention.refresh_from_db()
    assert detention.outcome == Outcome.RELEASED and detention.details == "Freed after checks."
    assert detention.version == 2
    assert {name: updated for name, _, updated in report.summary()}["detentions"] == 1


def test_it_leaves_fields_alone_whose_columns_the_file_lacks(shymkent):
    detention = DetentionFactory(
        incident=IncidentFactory(slug="known"),
        person=PersonFactory(slug="known-person", name="Known Person"),
        details="Kept.",
        outcome=Outcome.CHARGED,
    )
    report = run(
        [
            {
                "incident_slug": "known",
                "person_slug": "known-person",
                "person_name": "",
                "outcome": "convicted",
            }
        ]
    )
    assert report.ok, report.errors
    detention.refresh_from_db()
    assert (detention.outcome, detention.details) == (Outcome.CONVICTED, "Kept.")


def test_it_round_trips_a_staff_export_without_changes(shymkent, editor):
    incident = IncidentFactory(slug="round-trip", location=shymkent)
    DetentionFactory(
        incident=incident,
        person=PersonFactory(name="Vikram Ruzakhunov", identity_withheld=True),
        detained_on=datetime.date(2022, 1, 1),
        detained_on_precision="month",
        released_on=datetime.date(2022, 1, 10),
        released_on_precision="day",
        outcome=Outcome.HANDED_OVER,
    ).sources.add(SourceFactory())
    DetentionFactory(incident=incident, released_on=None, outcome=Outcome.STILL_HELD)
    context = exports.ExportContext(user=editor, site_url="https://example.org")
    text = "".join(exports.detentions_csv(Incident.objects.visible_to(editor), context))
    before = counts()
    report = import_detentions(lines=io.StringIO(text))
    assert report.ok, report.errors
    assert counts() == before
    assert report.unchanged_detentions == 2


def test_it_finds_a_person_by_name_in_another_script_and_the_same_citizenship(shymkent):
    person = PersonFactory(name="Vikram Ruzakhunov", citizenship="KG")
    PersonFactory(name="Vikram Ruzakhunov", citizenship="KZ")
    report = run([new_case_row(person_name="Вікрам Рузахунов", person_name_native="")])
    assert report.ok, report.errors
    assert Detention.objects.get().person == person


def test_it_creates_a_new_person_when_the_citizenship_differs(shymkent):
    PersonFactory(name="Baialy Torogeldiev", citizenship="KZ")
    assert run([new_case_row()]).ok
    assert Person.objects.filter(name="Baialy Torogeldiev").count() == 2


def test_it_gives_a_withheld_person_a_slug_that_does_not_spell_the_name(shymkent):
    assert run([new_case_row(person_identity_withheld="true")]).ok
    person = Person.objects.get()
    assert person.identity_withheld
    assert is_withheld_slug(person.slug) and "torogeldiev" not in person.slug


def test_it_can_withhold_an_existing_identity_but_never_reveal_one(shymkent):
    shown = PersonFactory(name="Shown Person", slug="shown")
    hidden = PersonFactory(name="Hidden Person", slug="hidden", identity_withheld=True)
    report = run(
        [
            new_case_row(person_slug="shown", person_name="", person_identity_withheld="true"),
            new_case_row(person_slug=hidden.slug, person_name="", person_identity_withheld="false"),
        ]
    )
    assert report.ok, report.errors
    shown.refresh_from_db()
    hidden.refresh_from_db()
    assert shown.identity_withheld and hidden.identity_withheld


def test_it_reuses_an_incident_without_slug_by_title_place_and_date(shymkent):
    row = new_case_row(incident_slug="")
    assert run([row]).ok
    assert run([row]).ok
    incident = Incident.objects.get()
    assert incident.slug == "checks-of-kyrgyz-citizens-in-shymkent"


def test_it_imports_nothing_on_a_dry_run(shymkent):
    report = run([new_case_row()], dry_run=True)
    assert report.ok and report.dry_run
    assert counts() == (0, 0, 0, 0, 0)
    assert {name: created for name, created, _ in report.summary()}["detentions"] == 1


# --- errors ---------------------------------------------------------------------------------


def test_it_imports_nothing_and_names_the_row_and_column_of_each_error(shymkent):
    rows = [
        new_case_row(),  # row 2: valid, and still not imported
        new_case_row(person_name="Second Person", detained_on="2022-13-01"),  # row 3
        new_case_row(person_name="Third Person", outcome="freed", place_slug="nowhere"),
        new_case_row(
            person_name="Fourth Person",
            released_on="2022-01",
            released_on_precision="day",
            allegations="beating",
            source_urls="not-a-url",
        ),
    ]
    report = run(rows)
    assert not report.ok
    found = {(error.row, error.column) for error in report.errors}
    assert found == {
        (3, "detained_on"),
        (4, "outcome"),
        (4, "place_slug"),
        (5, "released_on_precision"),
        (5, "allegations"),
        (5, "source_urls"),
    }
    assert counts() == (0, 0, 0, 0, 0)
    messages = " ".join(str(error) for error in report.errors)
    assert "row 4, column outcome: “freed” is not one of" in messages
    assert "No place has the slug “nowhere”" in messages


def test_it_reports_what_the_models_refuse_at_its_column(shymkent):
    report = run(
        [
            new_case_row(
                detained_on="2022-01-10", released_on="2022-01-05", released_on_precision="day"
            ),
            new_case_row(
                person_name="Held Man",
                outcome="still_held",
                released_on="2022-01-12",
                released_on_precision="day",
            ),
            new_case_row(person_name="Old Man", person_birth_year="1800"),
        ]
    )
    found = {(error.row, error.column) for error in report.errors}
    assert found == {(2, "released_on"), (3, "outcome"), (4, "person_birth_year")}
    assert counts() == (0, 0, 0, 0, 0)


def test_it_needs_enough_columns_to_create_an_unknown_incident(shymkent):
    report = run([new_case_row(incident_slug="unknown", incident_title="", incident_kind="")])
    assert {(e.row, e.column) for e in report.errors} == {
        (2, "incident_title"),
        (2, "incident_kind"),
    }


def test_it_refuses_a_header_with_unknown_or_missing_columns(shymkent):
    report = import_detentions(lines=io.StringIO("incident_slug,outcom\nx,released\n"))
    assert {(e.row, e.column) for e in report.errors} == {(1, "outcom"), (1, "person_name")}


def test_it_refuses_an_empty_file(db):
    assert not import_detentions(lines=io.StringIO("")).ok
    report = import_detentions(lines=io.StringIO("incident_slug,person_name\n,\n"))
    assert [str(e) for e in report.errors] == ["row 2: The file has no rows to import."]


def test_it_refuses_the_same_person_twice_in_one_incident(shymkent):
    report = run([new_case_row(), new_case_row(outcome="unknown")])
    assert [(e.row, e.column) for e in report.errors] == [(3, None)]
    assert "Row 2 already imports" in report.errors[0].message


def test_it_refuses_a_slug_that_belongs_to_someone_else(shymkent):
    PersonFactory(slug="vikram-ruzakhunov", name="Vikram Ruzakhunov")
    report = run([new_case_row(person_slug="vikram-ruzakhunov", person_name="Zakir Yuburov")])
    assert [(e.row, e.column) for e in report.errors] == [(2, "person_name")]


def test_it_refuses_the_public_label_of_a_withheld_person_as_a_name(shymkent):
    report = run([new_case_row(person_name="Person withheld, citizen of Kyrgyzstan")])
    assert [(e.row, e.column) for e in report.errors] == [(2, "person_name")]


def test_it_asks_for_a_slug_when_several_persons_share_the_name(shymkent):
    PersonFactory(name="Baialy Torogeldiev", citizenship="KG")
    PersonFactory(name="Baialy Torogeldiev", citizenship="KG")
    report = run([new_case_row()])
    assert [(e.row, e.column) for e in report.errors] == [(2, "person_slug")]


# --- the command ----------------------------------------------------------------------------


def test_the_command_imports_and_prints_a_summary(shymkent, tmp_path, capsys):
    path = tmp_path / "detentions.csv"
    path.write_text("\ufeff" + csv_text([new_case_row()]), encoding="utf-8")
    call_command("import_detentions", str(path))
    out = capsys.readouterr().out
    assert "1 rows read." in out
    assert "detentions: 1 were created, 0 were updated" in out
    assert Detention.objects.count() == 1


def test_the_command_changes_nothing_on_a_dry_run(shymkent, tmp_path, capsys):
    path = tmp_path / "detentions.csv"
    path.write_text(csv_text([new_case_row()]), encoding="utf-8")
    call_command("import_detentions", str(path), "--dry-run")
    assert "detentions: 1 would be created" in capsys.readouterr().out
    assert counts() == (0, 0, 0, 0, 0)


def test_the_command_fails_and_lists_the_errors(shymkent, tmp_path, capsys):
    path = tmp_path / "detentions.csv"
    path.write_text(csv_text([new_case_row(outcome="freed")]), encoding="utf-8")
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_detentions", str(path))
    assert "row 2, column outcome" in capsys.readouterr().err
    assert counts() == (0, 0, 0, 0, 0)


# --- the page -------------------------------------------------------------------------------


def upload(rows_or_text, name="detentions.csv") -> SimpleUploadedFile:
    text = rows_or_text if isinstance(rows_or_text, str) else csv_text(rows_or_text)
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_the_page_shows_each_error_with_its_row_and_column(shymkent, editor_client):
    response = editor_client.post(
        reverse("staff:import"),
        {"file": upload([new_case_row(), new_case_row(person_name="B", outcome="freed")])},
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 error: nothing was imported" in page
    assert "<td>3</td><td><code>outcome</code></td>" in page
    assert counts() == (0, 0, 0, 0, 0)


def test_the_page_checks_first_and_imports_when_asked(shymkent, editor_client):
    url = reverse("staff:import")
    checked = editor_client.post(
        url, {"file": upload([new_case_row()]), "dry_run": "on"}, follow=True
    )
    assert "The file is valid: nothing was imported yet" in checked.content.decode()
    assert counts() == (0, 0, 0, 0, 0)
    imported = editor_client.post(url, {"file": upload([new_case_row()])}, follow=True)
    page = imported.content.decode()
    assert "Imported: new records are drafts" in page
    assert "<td>Detentions</td><td>1</td><td>0</td>" in page
    assert Detention.objects.count() == 1


def test_the_page_refuses_a_file_that_is_not_utf8(editor_client, db):
    response = editor_client.post(
        reverse("staff:import"),
        {"file": SimpleUploadedFile("x.csv", "person_name\nÄ\n".encode("latin-1"))},
    )
    assert "not UTF-8" in response.content.decode()


def test_the_page_is_for_editors_only(staff_client):
    assert staff_client.get(reverse("staff:import")).status_code == 403


def test_the_page_documents_the_columns_in_fixed_queries(
    editor_client, django_assert_max_num_queries
):
    # session, user, the user's permissions (two: own and through groups), the user's
    # groups (staff menu), the recent import jobs
    with django_assert_max_num_queries(7):
        response = editor_client.get(reverse("staff:import"))
    page = response.content.decode()
    for name in COLUMNS:
        assert f"<code>{name}</code>" in page
