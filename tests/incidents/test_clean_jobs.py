"""`manage.py clean_jobs`: jobs whose worker is gone are marked failed, and the files of
old jobs are deleted (incidents/export_jobs.py, `clean_jobs`)."""

from __future__ import annotations

import datetime
import io
import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from incidents.export_jobs import run_export_job
from incidents.models import ExportJob, ExportJobStatus, ImportJob, ImportJobState
from tests.factories import ExportJobFactory

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.JOB_STUCK_MINUTES = 60
    settings.JOB_FILE_RETENTION_DAYS = 7
    return tmp_path / "media"


def clean(*arguments: str) -> str:
    out = io.StringIO()
    call_command("clean_jobs", *arguments, stdout=out)
    return out.getvalue()


def export_with_file(*, asked_ago: datetime.timedelta, **fields) -> ExportJob:
    """A finished export job asked for `asked_ago`, with its file stored."""
    job = ExportJobFactory(**fields)
    job.file.save("rows.csv", ContentFile(b"incident_slug\r\ncase-1\r\n"))
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJobStatus.DONE, created_at=timezone.now() - asked_ago
    )
    job.refresh_from_db()
    return job


def running_export(*, started_ago: datetime.timedelta, language: str = "en") -> ExportJob:
    return ExportJobFactory(
        status=ExportJobStatus.RUNNING,
        started_at=timezone.now() - started_ago,
        language=language,
    )


def import_job(**fields) -> ImportJob:
    created_ago = fields.pop("created_ago", None)
    job = ImportJob.objects.create(file_name="rows.csv", content="person_name\nA\n", **fields)
    if created_ago is not None:
        ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - created_ago)
        job.refresh_from_db()
    return job


# --- stuck jobs ---------------------------------------------------------------------------------


def test_it_fails_an_export_running_for_longer_than_the_limit_saying_why(client):
    stuck = running_export(started_ago=2 * HOUR)
    busy = running_export(started_ago=HOUR / 2)

    out = clean()

    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert stuck.status == ExportJobStatus.FAILED and stuck.finished_at is not None
    assert "still running after 60 minutes" in stuck.error
    assert busy.status == ExportJobStatus.RUNNING
    page = client.get(stuck.progress_url()).content.decode()
    assert "still running after 60 minutes" in page and 'http-equiv="refresh"' not in page
    assert "0 imports, 1 exports" in out


def test_it_fails_a_stuck_import_in_its_uploaders_language(editor, editor_client):
    checking = import_job(
        uploaded_by=editor,
        state=ImportJobState.CHECKING,
        started_at=timezone.now() - 3 * HOUR,
        language="ru",
    )
    writing = import_job(state=ImportJobState.WRITING, started_at=timezone.now() - 2 * HOUR)
    queued = import_job(created_ago=3 * HOUR)  # no worker yet: not stuck, waiting

    clean()

    for job in (checking, writing, queued):
        job.refresh_from_db()
    assert checking.state == writing.state == ImportJobState.FAILED
    assert "Остановлено" in checking.report["errors"][0]["message"]
    assert "still running after 60 minutes" in writing.report["errors"][0]["message"]
    assert queued.state == ImportJobState.QUEUED
    assert "Остановлено" in editor_client.get(checking.progress_url()).content.decode()


def test_the_limit_is_a_setting(settings):
    settings.JOB_STUCK_MINUTES = 180
    job = running_export(started_ago=2 * HOUR)

    clean()

    job.refresh_from_db()
    assert job.status == ExportJobStatus.RUNNING


# --- old files ----------------------------------------------------------------------------------


def test_it_deletes_an_old_export_file_and_its_page_then_says_gone(client, storage):
    old = export_with_file(asked_ago=8 * DAY)
    recent = export_with_file(asked_ago=6 * DAY)
    assert client.get(old.download_url()).status_code == 200
    path = storage / old.file.name

    out = clean()

    old.refresh_from_db()
    assert old.status == ExportJobStatus.EXPIRED and not old.file
    assert not path.exists()
    for url in (old.progress_url(), old.download_url()):
        response = client.get(url)
        assert response.status_code == 410
        assert "This export has been deleted" in response.content.decode()
    assert client.get(recent.download_url()).status_code == 200
    assert "1 exports expired, 1 export files deleted" in out


def test_a_staff_members_expired_job_stays_theirs_alone(editor, editor_client, client):
    job = export_with_file(asked_ago=8 * DAY, requested_by=editor)

    clean()

    assert editor_client.get(job.progress_url()).status_code == 410
    assert client.get(job.progress_url()).status_code == 404


def test_it_expires_old_jobs_that_never_ran_so_no_worker_runs_them_late():
    never_ran = ExportJobFactory()
    ExportJob.objects.filter(pk=never_ran.pk).update(created_at=timezone.now() - 8 * DAY)

    clean()

    never_ran.refresh_from_db()
    assert never_ran.status == ExportJobStatus.EXPIRED
    run_export_job.call(never_ran.pk)  # the worker comes back at last
    never_ran.refresh_from_db()
    assert never_ran.status == ExportJobStatus.EXPIRED and not never_ran.file


def test_it_empties_the_stored_file_of_an_old_finished_import_and_keeps_its_report():
    report = {"rows": 1, "errors": []}
    old = import_job(state=ImportJobState.SUCCEEDED, report=report, created_ago=8 * DAY)
    recent = import_job(state=ImportJobState.SUCCEEDED, created_ago=6 * DAY)
    waiting = import_job(created_ago=8 * DAY)  # its worker reads the file from there

    out = clean()

    for job in (old, recent, waiting):
        job.refresh_from_db()
    assert old.content == "" and old.report == report
    assert recent.content and waiting.content
    assert "1 import files emptied" in out


def test_it_deletes_old_files_no_job_names(storage):
    orphan = default_storage.save("exports/orphan.csv", ContentFile(b"x"))
    young_orphan = default_storage.save("exports/young.csv", ContentFile(b"x"))
    long_ago = (timezone.now() - 8 * DAY).timestamp()
    os.utime(storage / orphan, (long_ago, long_ago))
    kept = export_with_file(asked_ago=DAY)
    os.utime(storage / kept.file.name, (long_ago, long_ago))  # old file, recent job

    clean()

    assert not default_storage.exists(orphan)
    assert default_storage.exists(young_orphan)
    assert default_storage.exists(kept.file.name)


def test_it_works_before_any_export_was_made():
    assert "0 exports expired, 0 export files deleted" in clean()


# --- a dry run ----------------------------------------------------------------------------------


def test_a_dry_run_says_what_it_would_do_and_does_nothing(storage):
    stuck = running_export(started_ago=2 * HOUR)
    old = export_with_file(asked_ago=8 * DAY)
    old_import = import_job(state=ImportJobState.FAILED, created_ago=8 * DAY)

    out = clean("--dry-run")

    assert "Dry run" in out
    assert "0 imports, 1 exports" in out and "1 exports expired, 1 export files deleted" in out
    assert "1 import files emptied" in out
    stuck.refresh_from_db()
    old.refresh_from_db()
    old_import.refresh_from_db()
    assert stuck.status == ExportJobStatus.RUNNING
    assert old.status == ExportJobStatus.DONE and (storage / old.file.name).exists()
    assert old_import.content
