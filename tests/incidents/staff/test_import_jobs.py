"""CSV imports as background jobs: the file is stored, a job checks and imports it, and a
progress page shows how far it is and, when done, its report (incidents/import_jobs.py)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import importer
from incidents.import_jobs import start_import
from incidents.models import Detention, ImportJob, ImportJobState
from tests.factories import CountryFactory, LocationFactory, StaffUserFactory
from tests.incidents.staff.test_import import counts, csv_text, new_case_row, upload
from tests.staff_personas import _member_of

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def shymkent(db):
    return LocationFactory(name="Shymkent", slug="shymkent", parent=CountryFactory())


def two_people() -> str:
    return csv_text(
        [new_case_row(), new_case_row(person_name="Aibek Saparov", person_name_native="")]
    )


# --- the job --------------------------------------------------------------------------------


def test_the_page_stores_the_file_and_sends_the_browser_to_the_job(shymkent, editor_client):
    response = editor_client.post(reverse("staff:import"), {"file": upload(two_people())})

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.progress_url()
    assert job.content == two_people() and job.file_name == "detentions.csv"
    assert job.state == ImportJobState.SUCCEEDED
    assert job.rows_checked == job.rows_total == 2
    assert Detention.objects.count() == 2


def test_the_report_links_what_was_created(shymkent, editor_client):
    editor_client.post(reverse("staff:import"), {"file": upload(two_people())})
    job = ImportJob.objects.get()

    page = editor_client.get(job.progress_url()).content.decode()

    assert "Imported: new records are drafts" in page
    assert "<td>Detentions</td><td>2</td><td>0</td>" in page
    for detention in Detention.objects.all():
        assert reverse("staff:detention_edit", args=[detention.pk]) in page
    assert 'http-equiv="refresh"' not in page  # done: no more reloading


def test_a_failed_job_lists_each_error_by_row_and_imports_nothing(shymkent, editor_client):
    rows = [new_case_row(), new_case_row(person_name="B", detained_on="2022-13-40")]
    editor_client.post(reverse("staff:import"), {"file": upload(rows)})
    job = ImportJob.objects.get()

    page = editor_client.get(job.progress_url()).content.decode()

    assert job.state == ImportJobState.FAILED
    assert job.report["errors"][0]["row"] == 3
    assert "1 error: nothing was imported" in page
    assert "<td>3</td><td><code>detained_on</code></td>" in page
    assert counts() == (0, 0, 0, 0, 0)


def test_a_failure_while_writing_leaves_nothing_half_saved(shymkent, editor, monkeypatch):
    """The check passed; the write fails at the second row (a crash, a lost connection):
    the first row's records are rolled back with it, and the job says nothing was imported."""
    real = importer._Importer._save_detention

    def failing(self, incident, person, values):
        if self.write and self.number == 3:
            raise RuntimeError("the database went away")
        return real(self, incident, person, values)

    monkeypatch.setattr(importer._Importer, "_save_detention", failing)

    job = start_import(text=two_people(), file_name="rows.csv", user=editor)

    assert job.state == ImportJobState.FAILED
    assert "nothing was imported" in job.report["errors"][0]["message"]
    assert counts() == (0, 0, 0, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_the_check_writes_nothing():
    """A check (and the first pass of every import) opens no transaction and writes
    nothing, so it takes no write lock: on SQLite other users go on saving while a long
    file is checked. (Outside a test's transaction, as in the worker.)"""
    LocationFactory(name="Shymkent", slug="shymkent", parent=CountryFactory())
    editor = StaffUserFactory(username="checking_editor")
    with CaptureQueriesContext(connection) as queries:
        report = importer.import_detentions(
            lines=io.StringIO(two_people()), user=editor, dry_run=True
        )
    assert report.ok, report.errors
    assert report.created[Detention] == 2
    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE", "SAVEPOINT", "BEGIN"}
    ]
    assert writes == []


def test_the_check_finds_what_earlier_rows_would_create(shymkent, editor):
    # Row 3 uses the incident row 2 creates, and repeats row 2's person in it.
    rows = [new_case_row(), new_case_row()]
    report = importer.import_detentions(
        lines=io.StringIO(csv_text(rows)), user=editor, dry_run=True
    )
    assert [(error.row, error.message) for error in report.errors] == [
        (3, "Row 2 already imports this person in this incident.")
    ]


def test_progress_is_saved_while_the_rows_are_checked(shymkent, editor, monkeypatch):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 1)
    monkeypatch.setattr("incidents.import_jobs.PROGRESS_INTERVAL", 0)
    seen = []
    real_update = ImportJob.objects.filter

    def spy(*args, **kwargs):
        queryset = real_update(*args, **kwargs)
        original = queryset.update

        def update(**values):
            seen.append(values)
            return original(**values)

        queryset.update = update
        return queryset

    monkeypatch.setattr(ImportJob.objects, "filter", spy)
    start_import(text=two_people(), file_name="rows.csv", user=editor)

    checked = [values["rows_checked"] for values in seen if "rows_checked" in values]
    assert checked[:3] == [0, 1, 2]
    assert [values["state"] for values in seen if "state" in values] == [
        ImportJobState.CHECKING,
        ImportJobState.WRITING,
        ImportJobState.SUCCEEDED,
    ]


# --- the progress page ----------------------------------------------------------------------


def queued_job(user, **fields) -> ImportJob:
    return ImportJob.objects.create(
        uploaded_by=user, file_name="rows.csv", content=two_people(), **fields
    )


def test_a_running_job_shows_its_progress_and_reloads_itself(editor, editor_client):
    job = queued_job(editor, state=ImportJobState.CHECKING, rows_total=400, rows_checked=100)

    page = editor_client.get(job.progress_url()).content.decode()

    assert '<meta http-equiv="refresh" content="2">' in page
    assert "100 of 400 rows checked" in page
    assert f'href="{job.progress_url()}"' in page  # reload without script


def test_a_queued_job_says_what_it_waits_for(editor, editor_client):
    page = editor_client.get(queued_job(editor).progress_url()).content.decode()
    assert "Waiting for the worker" in page and "db_worker" in page


def test_only_the_uploader_and_reviewers_see_a_job(editor, reviewer_client, client):
    job = queued_job(editor, state=ImportJobState.SUCCEEDED, report={"rows": 2})
    colleague = _member_of("editor", "other_editor")
    client.force_login(colleague)

    assert client.get(job.progress_url()).status_code == 404
    assert reviewer_client.get(job.progress_url()).status_code == 200


def test_anonymous_readers_are_sent_to_the_login_page(editor, client):
    response = client.get(queued_job(editor).progress_url())
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_import_page_lists_the_users_jobs_in_fixed_queries(
    editor, editor_client, django_assert_max_num_queries
):
    for _ in range(3):
        queued_job(editor)
    queued_job(_member_of("editor", "other_editor"))
    # session, user, the user's permissions (own and through groups), the user's groups
    # (staff menu), the jobs with their uploaders (one join)
    with django_assert_max_num_queries(7):
        response = editor_client.get(reverse("staff:import"))
    assert len(response.context["recent_jobs"]) == 3


def test_the_progress_page_in_fixed_queries(editor, editor_client, django_assert_max_num_queries):
    job = queued_job(editor, state=ImportJobState.SUCCEEDED, report={"rows": 2})
    # session, user, the job with its uploader, the user's permissions (two: visibility,
    # staff menu), the user's groups (staff menu)
    with django_assert_max_num_queries(7):
        assert editor_client.get(job.progress_url()).status_code == 200


# --- the command ----------------------------------------------------------------------------


def test_the_command_runs_the_job_and_prints_where_its_report_is(shymkent, editor, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(two_people())
    out = io.StringIO()

    call_command("import_detentions", str(path), "--user", editor.username, stdout=out)

    job = ImportJob.objects.get()
    assert job.state == ImportJobState.SUCCEEDED and job.uploaded_by == editor
    assert f"Report: {job.progress_url()}" in out.getvalue()
    assert Detention.objects.count() == 2


def test_the_command_can_leave_the_job_to_the_worker(shymkent, editor, tmp_path, settings):
    settings.TASKS = DUMMY_TASKS
    path = tmp_path / "rows.csv"
    path.write_text(two_people())
    out = io.StringIO()

    call_command("import_detentions", str(path), "--queue", stdout=out)

    job = ImportJob.objects.get()
    assert job.state == ImportJobState.QUEUED and job.task_id
    assert "queued for the worker" in out.getvalue()
    assert Detention.objects.count() == 0


# --- the real worker ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_a_queued_import(settings, client):
    """The production setup: the job is a row in the database, `manage.py db_worker` (the
    command dev.py run starts) picks it up and runs it."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    LocationFactory(name="Shymkent", slug="shymkent", parent=CountryFactory())
    # The groups are data of a migration, which a test outside a transaction may not find:
    # the permission itself, as the editor role gives it.
    uploader = StaffUserFactory(username="worker_editor")
    uploader.user_permissions.add(
        Permission.objects.get(content_type__app_label="incidents", codename="add_detention")
    )
    client.force_login(uploader)

    client.post(reverse("staff:import"), {"file": upload(two_people())})
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.QUEUED
    assert "Waiting for the worker" in client.get(job.progress_url()).content.decode()
    assert DBTaskResult.objects.get().status == "READY"

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    job.refresh_from_db()
    assert job.state == ImportJobState.SUCCEEDED, job.report
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert Detention.objects.count() == 2
    assert "Imported: new records are drafts" in client.get(job.progress_url()).content.decode()
