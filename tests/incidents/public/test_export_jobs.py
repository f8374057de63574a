"""Page exports of more than EXPORT_JOB_ROWS rows are written by a background job: the export's
address sends the reader to the job's page, which shows its progress and then the file
(incidents/export_jobs.py, incidents/public/export_job_views.py). The anonymous reader is
pytest-django's `client`; the jobs run when queued (the immediate backend, tests/conftest.py)
unless a test queues them for a worker."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from cabar_tracker.throttling import EXPORT_VIEWS
from incidents.export_jobs import run_export_job, start_export
from incidents.models import ExportJob, ExportJobStatus, ExportKind
from tests.factories import (
    DetentionFactory,
    ExportJobFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    SourceFactory,
    StatementFactory,
    UserFactory,
)

# `restricted`: a published case holding every kind of thing the public must not see.
from tests.incidents.public.test_exports import MARKERS, restricted  # noqa: F401
from tests.staff_personas import _member_of

pytestmark = pytest.mark.django_db

INCIDENTS_CSV = reverse("incidents:incidents_csv")
DETENTIONS_CSV = reverse("incidents:detentions_csv")
INCIDENTS_JSON = reverse("incidents:incidents_json")
STATEMENTS_CSV = reverse("incidents:statements_csv")
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
LIMIT = 3


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    """Each test stores its files in a folder of its own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def small_limit(settings):
    settings.EXPORT_JOB_ROWS = LIMIT


@pytest.fixture
def almaty_cases(db):
    """Five published cases in Almaty (one more than the limit allows to stream, plus one),
    each with a detention and a source, a Cyrillic name and a formula-like cell among them;
    one case elsewhere; four statements."""
    almaty = LocationFactory(name="Almaty", slug="almaty")
    for number in range(5):
        incident = IncidentFactory(
            location=almaty, title=f"=Almaty case {number}", summary="Задержан в Алматы."
        )
        incident.sources.add(SourceFactory())
        name = "Викрам Рузахунов" if number == 0 else f"Person {number}"
        DetentionFactory(incident=incident, person=PersonFactory(name=name)).sources.add(
            SourceFactory()
        )
    IncidentFactory(title="Shymkent case")
    for _ in range(4):
        StatementFactory()
    return almaty


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def job_of(response) -> ExportJob:
    assert response.status_code == 303, response.status_code
    token = response["Location"].rstrip("/").rsplit("/", 1)[1]
    return ExportJob.objects.get(token=token)


def downloaded(client, job: ExportJob):
    response = client.get(job.download_url())
    assert response.status_code == 200, response.status_code
    return response


# --- past the limit: a job -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"{INCIDENTS_CSV}?place=almaty",
        f"{DETENTIONS_CSV}?place=almaty&bom=1",
        f"{INCIDENTS_JSON}?place=almaty",
        f"{STATEMENTS_CSV}?kind=claim",
    ],
)
def test_an_export_past_the_limit_sends_the_reader_to_its_job(
    client, almaty_cases, small_limit, url
):
    response = client.get(url)

    job = job_of(response)
    assert response["Location"] == job.progress_url() == f"/exports/{job.token}/"
    assert len(job.token) >= 40
    assert job.status == ExportJobStatus.DONE and job.requested_by is None
    assert job.file.name.startswith("exports/")
    page = client.get(job.progress_url()).content.decode()
    assert "The file is ready" in page
    assert f'href="{job.download_url()}"' in page
    assert 'http-equiv="refresh"' not in page  # done: no more reloading


@pytest.mark.parametrize(
    "url",
    [
        f"{INCIDENTS_CSV}?place=almaty",
        f"{DETENTIONS_CSV}?place=almaty&bom=1",
        f"{INCIDENTS_JSON}?place=almaty",
        f"{STATEMENTS_CSV}?kind=claim&bom=1",
        f"{DETENTIONS_CSV}?q=Алматы",
    ],
)
def test_the_jobs_file_is_the_file_the_page_would_have_streamed(
    client, almaty_cases, settings, url
):
    settings.EXPORT_JOB_ROWS = LIMIT
    job = job_of(client.get(url))
    from_job = downloaded(client, job)
    settings.EXPORT_JOB_ROWS = 10_000
    streamed = client.get(url)

    assert streamed.status_code == 200 and streamed.streaming
    data = content(from_job)
    assert data == content(streamed)
    for header in ("Content-Type", "Content-Disposition"):
        assert from_job[header] == streamed[header], header
    day = job.created_at.date().isoformat()
    assert from_job["Content-Disposition"].startswith("attachment; filename=")
    assert f"-{day}." in from_job["Content-Disposition"]
    assert from_job["X-Content-Type-Options"] == "nosniff"
    # It holds the rows the filter selects, each once.
    text = data.decode("utf-8-sig")
    if url.startswith(INCIDENTS_JSON):
        records = json.loads(text)
    else:
        records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == (4 if url.startswith(STATEMENTS_CSV) else 5)
    job.refresh_from_db()
    assert job.rows_done == job.rows_total == len(records)


def test_the_download_is_named_for_the_day_it_was_asked_for(client, storage):
    job = ExportJobFactory(query="place=almaty&bom=1")
    job.file.save("old.csv", ContentFile(b"incident_slug\r\n"))
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJobStatus.DONE,
        created_at=datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC),
    )

    disposition = downloaded(client, job)["Content-Disposition"]

    assert disposition == (
        'attachment; filename="incidents-place-almaty-2026-03-01.csv"; '
        "filename*=UTF-8''incidents-place-almaty-2026-03-01.csv"
    )


# --- at or under the limit: streamed as before ------------------------------------------------


def test_an_export_of_exactly_the_limit_streams(client, almaty_cases, settings):
    settings.EXPORT_JOB_ROWS = 5  # the five Almaty cases

    response = client.get(INCIDENTS_CSV, {"place": "almaty"})

    assert response.status_code == 200 and response.streaming
    assert len(list(csv.DictReader(io.StringIO(content(response).decode())))) == 5
    assert not ExportJob.objects.exists()


def test_the_detentions_export_counts_detentions_not_cases(client, settings):
    incident = IncidentFactory()
    for _ in range(3):
        DetentionFactory(incident=incident)
    settings.EXPORT_JOB_ROWS = 2  # one case, three rows

    assert client.get(DETENTIONS_CSV).status_code == 303
    assert client.get(INCIDENTS_CSV).status_code == 200


def test_the_apis_csv_streams_every_row_however_many(client, almaty_cases, small_limit):
    response = client.get("/api/v1/incidents/", {"place": "almaty", "format": "csv"})

    assert response.status_code == 200 and response.streaming
    assert len(list(csv.DictReader(io.StringIO(content(response).decode())))) == 5
    assert not ExportJob.objects.exists()


def test_every_export_that_may_queue_a_job_counts_against_the_export_limit():
    for kind in ExportKind.values:
        assert f"incidents:{kind}" in EXPORT_VIEWS
        assert reverse(f"incidents:{kind}")  # the kind names its export's view


def test_an_invalid_filter_is_refused_before_any_job(client, almaty_cases, small_limit):
    assert client.get(INCIDENTS_CSV, {"date_after": "2022-13-01"}).status_code == 400
    assert client.get(INCIDENTS_CSV, {"palce": "almaty"}).status_code == 400
    assert client.get(DETENTIONS_CSV, {"bom": "maybe"}).status_code == 400
    assert not ExportJob.objects.exists()


# --- who may open a job ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [INCIDENTS_CSV, DETENTIONS_CSV, INCIDENTS_JSON])
@pytest.mark.usefixtures("restricted")
def test_a_public_job_holds_only_what_the_public_sees(client, settings, url):
    settings.EXPORT_JOB_ROWS = 1

    job = job_of(client.get(url))

    assert job.requested_by is None
    text = content(downloaded(client, job)).decode()
    assert "public-case" in text
    if url != INCIDENTS_CSV:
        assert "Public Person" in text
    for marker in MARKERS:
        assert marker not in text, marker
    assert "publication_state" not in text


@pytest.mark.usefixtures("restricted")
def test_a_readers_account_without_staff_rights_gets_a_public_job(settings):
    settings.EXPORT_JOB_ROWS = 1
    reader = UserFactory(username="plain_reader")

    job = start_export(
        kind=ExportKind.DETENTIONS_CSV,
        query="",
        user=reader,
        language="en",
        site_url="http://testserver",
    )

    assert job.requested_by is None
    text = job.file.open("rb").read().decode()
    assert "Public Person" in text and "Draftdetention" not in text


@pytest.mark.usefixtures("restricted")
def test_a_staff_job_holds_their_view_and_opens_for_them_alone(
    editor, editor_client, reviewer_client, client, settings
):
    settings.EXPORT_JOB_ROWS = 1

    job = job_of(editor_client.get(DETENTIONS_CSV))

    assert job.requested_by == editor
    text = content(downloaded(editor_client, job)).decode()
    assert "Draftdetention Person" in text and "publication_state" in text
    assert "STAFFNOTE" not in text
    page = editor_client.get(job.progress_url())
    assert "Only you can open this page" in page.content.decode()
    # Another member of staff, and the public, are told it does not exist.
    for other in (reviewer_client, client):
        assert other.get(job.progress_url()).status_code == 404
        assert other.get(job.download_url()).status_code == 404


def test_a_staff_job_closes_when_its_owner_is_no_longer_staff(editor, editor_client, settings):
    job = ExportJobFactory(requested_by=editor)
    assert editor_client.get(job.progress_url()).status_code == 200

    editor.is_staff = False
    editor.save()

    assert editor_client.get(job.progress_url()).status_code == 404


def test_anyone_with_the_address_opens_a_public_job(client, almaty_cases, small_limit):
    job = job_of(client.get(INCIDENTS_CSV, {"place": "almaty"}))
    colleague = _member_of("editor", "other_editor")
    client.force_login(colleague)

    assert client.get(job.progress_url()).status_code == 200
    assert client.get(job.download_url()).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "a" * 43, "x" * 300, "%00", "..%2F..%2Fetc"],
)
def test_an_unknown_address_is_not_found(client, token):
    ExportJobFactory()
    assert client.get(f"/exports/{token}/").status_code == 404
    assert client.get(f"/exports/{token}/download").status_code == 404


# --- while it runs -------------------------------------------------------------------------------


def test_a_queued_job_says_so_and_reloads_itself(client, almaty_cases, small_limit, settings):
    settings.TASKS = DUMMY_TASKS

    job = job_of(client.get(INCIDENTS_CSV, {"place": "almaty"}))
    page = client.get(job.progress_url()).content.decode()

    assert job.status == ExportJobStatus.QUEUED and job.task_id
    assert "Waiting for the worker" in page
    assert '<meta http-equiv="refresh" content="2">' in page
    assert f'href="{job.progress_url()}"' in page  # reload without script
    # No file yet: the download leads back to the page.
    response = client.get(job.download_url())
    assert response.status_code == 302 and response["Location"] == job.progress_url()


def test_asking_again_while_it_waits_follows_the_same_job(
    client, almaty_cases, small_limit, settings
):
    settings.TASKS = DUMMY_TASKS

    first = job_of(client.get(INCIDENTS_CSV, {"place": "almaty"}))
    again = job_of(client.get(INCIDENTS_CSV, {"place": "almaty"}))
    other = job_of(client.get(INCIDENTS_CSV, {"place": "almaty", "bom": "1"}))

    assert again == first and other != first
    assert ExportJob.objects.count() == 2


def test_a_running_job_shows_its_progress(client):
    job = ExportJobFactory(status=ExportJobStatus.RUNNING, rows_total=400, rows_done=100)

    page = client.get(job.progress_url()).content.decode()

    assert "100 of 400 rows written" in page
    assert '<progress max="400" value="100">25%</progress>' in page
    assert '<meta http-equiv="refresh" content="2">' in page


def test_the_page_speaks_the_readers_language(client):
    job = ExportJobFactory(status=ExportJobStatus.RUNNING, rows_total=400, rows_done=100)

    page = client.get(job.progress_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    assert "Создаётся файл" in page and "100 из 400" in page


def test_a_job_whose_writer_fails_says_so(client, almaty_cases, small_limit, monkeypatch):
    from incidents import exports

    def broken(*args, **kwargs):
        yield "incident_slug\r\n"
        raise RuntimeError("the database went away")

    export = exports.PAGE_EXPORTS[ExportKind.INCIDENTS_CSV]
    monkeypatch.setitem(
        exports.PAGE_EXPORTS, ExportKind.INCIDENTS_CSV, dataclasses.replace(export, write=broken)
    )

    job = job_of(client.get(INCIDENTS_CSV, {"place": "almaty"}))
    page = client.get(job.progress_url()).content.decode()

    assert job.status == ExportJobStatus.FAILED and not job.file
    assert "The file could not be written" in page and "unexpected error" in page
    assert client.get(job.download_url()).status_code == 302


def test_a_filter_the_job_cannot_apply_fails_with_the_reason(client):
    # Checked when asked for; a job finds it invalid when what it names left the reader's
    # view meanwhile. (Stored here as it would be found.)
    job = ExportJobFactory(query="date_after=2022-13-01")

    run_export_job.call(job.pk)

    job.refresh_from_db()
    assert job.status == ExportJobStatus.FAILED and not job.file
    assert "Invalid filter: date_after" in client.get(job.progress_url()).content.decode()


def test_the_page_in_fixed_queries(client, editor, editor_client, django_assert_max_num_queries):
    public = ExportJobFactory(status=ExportJobStatus.RUNNING, rows_total=10)
    own = ExportJobFactory(status=ExportJobStatus.RUNNING, rows_total=10, requested_by=editor)
    # The job (by its token, with the visibility rule in the same query).
    with django_assert_max_num_queries(1):
        assert client.get(public.progress_url()).status_code == 200
    # The session, the user, the session's second factor, the job.
    with django_assert_max_num_queries(4):
        assert editor_client.get(own.progress_url()).status_code == 200


# --- the about page ----------------------------------------------------------------------------


def test_the_about_page_explains_large_exports(client, settings):
    settings.EXPORT_JOB_ROWS = 25_000
    settings.JOB_FILE_RETENTION_DAYS = 3

    page = client.get(reverse("incidents:about")).content.decode()

    assert "more than 25,000 rows" in page and "kept for 3 days" in page


# --- the real worker ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_writes_a_queued_export(settings, client, tmp_path):
    """The production setup: the job is a row in the database and `manage.py db_worker`
    writes the file."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EXPORT_JOB_ROWS = 1
    for _ in range(2):
        IncidentFactory()
    IncidentFactory(title="DRAFTINCIDENT", publication_state=PublicationState.DRAFT)

    job = job_of(client.get(INCIDENTS_CSV))
    assert job.status == ExportJobStatus.QUEUED
    assert "Waiting for the worker" in client.get(job.progress_url()).content.decode()

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    job.refresh_from_db()
    assert job.status == ExportJobStatus.DONE, job.error
    text = content(downloaded(client, job)).decode()
    assert len(list(csv.DictReader(io.StringIO(text)))) == 2
    assert "DRAFTINCIDENT" not in text
