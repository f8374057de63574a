"""Page exports too large to stream, as background jobs; and the clean-up of every job's files.

A page export (`incidents.exports.PAGE_EXPORTS`) whose filter selects more than
settings.EXPORT_JOB_ROWS rows is not streamed: `start_export()` stores what was asked for
(the export, the query string, the language, and for staff the user) as an `ExportJob` and
queues `run_export_job` (django-tasks; settings.TASKS). A worker (`manage.py db_worker`)
writes the file with the same filter, columns and writer as the streamed export, saving its
progress on the job, and stores it in the default storage under `exports/`. The reader
follows the job's page (`/exports/<token>/`) and downloads the file from it.

Who the file is for is fixed when it is asked for: a staff member's job is run with their
view and is theirs alone; every other job has no owner and is run as the public, so it
holds nothing the public may not see, whoever holds its address.

`clean_jobs()` (`manage.py clean_jobs`) marks import and export jobs that have been running
for longer than settings.JOB_STUCK_MINUTES as failed and deletes export files and stored
import files older than settings.JOB_FILE_RETENTION_DAYS.
"""

from __future__ import annotations

import datetime
import logging
import secrets
import tempfile
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_filters import FilterSet
from django_tasks import task

from cabar_tracker.publishing import can_see_unpublished
from cabar_tracker.spreadsheet import BOM_PARAMETER, bom_requested
from incidents.exports import PAGE_EXPORTS, ExportContext, PageExport
from incidents.models import ExportJob, ExportJobStatus, ImportJob, ImportJobState

logger = logging.getLogger(__name__)

# Progress is saved at most this often (seconds): each save is a short write of one row.
PROGRESS_INTERVAL = 1.0
# Where the files are, in the default storage.
EXPORT_FOLDER = "exports"
UNFINISHED = (ExportJobStatus.QUEUED, ExportJobStatus.RUNNING)


# --- asking for an export ---------------------------------------------------------------------


def too_large_to_stream(export: PageExport, filterset: FilterSet, user) -> bool:
    """Whether the file would have more than settings.EXPORT_JOB_ROWS rows. One query that
    counts no further than one row past the limit, however many rows match."""
    limit = settings.EXPORT_JOB_ROWS
    rows = export.rows(filterset.qs, user).order_by()
    return rows[: limit + 1].count() > limit


def start_export(*, kind: str, query: str, user, language: str, site_url: str) -> ExportJob:
    """Store the export asked for as a job and queue it for a worker (with the immediate
    backend, in tests, it has run when this returns).

    `user` is who asked: staff get a job of their own, run with their view; anyone else a
    public one (no owner), run as the public. The same export asked for again while its
    job waits or runs (a reload, a second click) is that job, not a second file."""
    owner = user if can_see_unpublished(user) else None
    fields = {
        "kind": kind,
        "query": query,
        "requested_by": owner,
        "language": language,
        "site_url": site_url[:200],
    }
    waiting = ExportJob.objects.filter(status__in=UNFINISHED, **fields).first()
    if waiting is not None:
        return waiting
    job = ExportJob.objects.create(**fields)
    result = run_export_job.enqueue(job.pk)
    ExportJob.objects.filter(pk=job.pk, task_id="").update(task_id=str(result.id)[:64])
    job.refresh_from_db()
    return job


# --- writing the file ---------------------------------------------------------------------------


@task()
def run_export_job(job_id: int) -> str:
    """The job: write the export's file as the page would have streamed it."""
    started = timezone.now()
    # Taken from the queue in one write: a job run already (a worker restarted after
    # finishing it) or expired while it waited is left as it is.
    taken = ExportJob.objects.filter(pk=job_id, status=ExportJobStatus.QUEUED).update(
        status=ExportJobStatus.RUNNING, started_at=started
    )
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    if not taken:
        return job.status
    try:
        with translation.override(job.language):
            write_file(job)
    except Exception:
        logger.exception("Export job %s stopped with an unexpected error", job.pk)
        with translation.override(job.language):
            message = _(
                "The export stopped with an unexpected error. Ask for it again from the list."
            )
        _set(job, status=ExportJobStatus.FAILED, finished_at=timezone.now(), error=message)
        raise
    return job.status


def reader_of(job: ExportJob):
    """The user whose view the file holds: the owner (staff), else the public."""
    return job.requested_by if job.requested_by is not None else AnonymousUser()


def write_file(job: ExportJob) -> None:
    """Write the file into the default storage, saving the progress as it goes."""
    export = PAGE_EXPORTS[job.kind]
    user = reader_of(job)
    query = job.query_dict()
    filterset = export.filterset(query, user)
    if not filterset.is_valid():
        # Valid when asked for (the view checks): a place or case named by the filter was
        # removed from the reader's view since.
        problems = "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items()
        )
        _set(
            job,
            status=ExportJobStatus.FAILED,
            finished_at=timezone.now(),
            error=_("Invalid filter: %(problems)s") % {"problems": problems},
        )
        return
    options = {}
    if export.takes_bom:
        options["bom"] = bom_requested(query.get(BOM_PARAMETER))
    context = ExportContext(user=user, site_url=job.site_url)
    _set(job, rows_total=export.rows(filterset.qs, user).count())

    lines_written = 0
    last_saved = time.monotonic()
    with tempfile.TemporaryFile() as spool:
        for line in export.write(filterset.qs, context, **options):
            spool.write(line.encode("utf-8"))
            lines_written += 1
            now = time.monotonic()
            if now - last_saved >= PROGRESS_INTERVAL:
                last_saved = now
                rows = max(0, lines_written - 1)
                _set(job, rows_done=min(rows, job.rows_total))
        spool.seek(0)
        name = f"{secrets.token_hex(16)}.{export.extension}"
        job.file.save(name, File(spool), save=False)
    # Rows added or removed while the file was written (it is read in keyset chunks, in no
    # transaction) make the count at the start approximate: the file says how many it holds.
    rows = lines_written - export.framing_lines
    _set(
        job,
        status=ExportJobStatus.DONE,
        file=job.file.name,
        rows_done=rows,
        rows_total=rows,
        finished_at=timezone.now(),
    )


def _set(job: ExportJob, **values) -> None:
    """Save some fields of the job: one short write, so its page sees it at once."""
    for name, value in values.items():
        setattr(job, name, value)
    ExportJob.objects.filter(pk=job.pk).update(**values)


# --- reading it -------------------------------------------------------------------------------


def file_exists(job: ExportJob) -> bool:
    return bool(job.file) and job.file.storage.exists(job.file.name)


# --- cleaning up ------------------------------------------------------------------------------


@dataclass
class CleanUp:
    """What `clean_jobs()` did (or, on a dry run, would do)."""

    stuck_imports: list[int] = field(default_factory=list)
    stuck_exports: list[int] = field(default_factory=list)
    expired_exports: list[int] = field(default_factory=list)
    emptied_imports: list[int] = field(default_factory=list)
    deleted_files: list[str] = field(default_factory=list)


def clean_jobs(*, now: datetime.datetime | None = None, dry_run: bool = False) -> CleanUp:
    """Fail the jobs stuck running, and delete the files past their retention.

    A job "running" for longer than settings.JOB_STUCK_MINUTES lost its worker (stopped,
    crashed, the machine restarted): nothing will finish it, so it is marked failed, with
    a reason its page shows. An export whose job was asked for more than
    settings.JOB_FILE_RETENTION_DAYS ago is marked expired (its page answers 410) and its
    file deleted; a finished import's stored file is emptied (its report stays). Files in
    `exports/` that no job names (the owner's account was deleted, a worker stopped between
    storing the file and recording it) are deleted once as old. The rows change in one
    transaction; the files are deleted after it, so a file is never gone while its job
    still offers it."""
    now = now or timezone.now()
    stuck_since = now - datetime.timedelta(minutes=settings.JOB_STUCK_MINUTES)
    kept_since = now - datetime.timedelta(days=settings.JOB_FILE_RETENTION_DAYS)
    done = CleanUp()
    files_to_delete: list[str] = []
    with transaction.atomic():
        stuck_imports = ImportJob.objects.filter(
            state__in=[ImportJobState.CHECKING, ImportJobState.WRITING],
            started_at__lt=stuck_since,
        ).select_for_update()
        for job in stuck_imports.only("pk", "language"):
            done.stuck_imports.append(job.pk)
            if not dry_run:
                with translation.override(job.language):
                    message = stuck_message()
                ImportJob.objects.filter(pk=job.pk).update(
                    state=ImportJobState.FAILED,
                    finished_at=now,
                    report={"errors": [{"row": None, "column": None, "message": message}]},
                )

        stuck_exports = ExportJob.objects.filter(
            status=ExportJobStatus.RUNNING, started_at__lt=stuck_since
        ).select_for_update()
        for job in stuck_exports.only("pk", "language"):
            done.stuck_exports.append(job.pk)
            if not dry_run:
                with translation.override(job.language):
                    message = stuck_message()
                ExportJob.objects.filter(pk=job.pk).update(
                    status=ExportJobStatus.FAILED, finished_at=now, error=message
                )

        # Running jobs keep their files (a stuck one was failed above, unless dry).
        expired = (
            ExportJob.objects.filter(created_at__lt=kept_since)
            .exclude(status__in=[ExportJobStatus.EXPIRED, ExportJobStatus.RUNNING])
            .select_for_update()
        )
        for pk, name in expired.values_list("pk", "file"):
            done.expired_exports.append(pk)
            if name:
                files_to_delete.append(name)
        if not dry_run:
            ExportJob.objects.filter(pk__in=done.expired_exports).update(
                status=ExportJobStatus.EXPIRED, file=""
            )

        # An import waiting for the worker keeps its file: the worker reads it from there.
        old_imports = (
            ImportJob.objects.filter(
                created_at__lt=kept_since,
                state__in=[ImportJobState.SUCCEEDED, ImportJobState.FAILED],
            )
            .exclude(content="")
            .select_for_update()
        )
        done.emptied_imports = list(old_imports.values_list("pk", flat=True))
        if not dry_run:
            ImportJob.objects.filter(pk__in=done.emptied_imports).update(content="")

    files_to_delete.extend(_orphan_files(kept_since))
    for name in dict.fromkeys(files_to_delete):
        if not default_storage.exists(name):
            continue
        done.deleted_files.append(name)
        if not dry_run:
            default_storage.delete(name)
    return done


def stuck_message() -> str:
    return _(
        "Stopped: the job was still running after %(minutes)s minutes, so its worker was "
        "probably stopped or restarted. Nothing was saved; start it again."
    ) % {"minutes": settings.JOB_STUCK_MINUTES}


def _orphan_files(kept_since: datetime.datetime) -> list[str]:
    """Files in `exports/` older than the retention that no job names."""
    try:
        _folders, names = default_storage.listdir(EXPORT_FOLDER)
    except FileNotFoundError:
        return []
    paths = [f"{EXPORT_FOLDER}/{name}" for name in names]
    named = set(ExportJob.objects.filter(file__in=paths).values_list("file", flat=True))
    return [
        path
        for path in paths
        if path not in named and default_storage.get_modified_time(path) < kept_since
    ]
