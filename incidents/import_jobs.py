"""CSV imports as background jobs: the file is stored, a worker checks and imports it.

`start_import()` is the one door every way of importing uses (the staff page and
`manage.py import_detentions`): it stores the file as an `ImportJob` and queues
`run_import_job` on the job queue (django-tasks; settings.TASKS). A worker
(`manage.py db_worker`) runs it: `incidents.importer` checks every row without writing,
saving the progress on the job as it goes, then writes the whole file in one transaction or
nothing. The report (counts, errors with their rows, the records written) is saved on the
job, which the staff progress page shows.
"""

from __future__ import annotations

import io
import logging
import time

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from incidents.importer import IMPORTED_MODELS, ImportReport, import_detentions
from incidents.models import ImportJob, ImportJobState

logger = logging.getLogger(__name__)

# Progress is saved at most this often (seconds): each save is a short write of one row.
PROGRESS_INTERVAL = 1.0


def start_import(
    *,
    text: str,
    file_name: str,
    user=None,
    dry_run: bool = False,
    language: str = "en",
    run_here: bool = False,
) -> ImportJob:
    """Store the file as a job and queue it for a worker, or with `run_here` run it in this
    process (the command line, which no request timeout limits). With the immediate
    backend (tests) a queued job has run when this returns."""
    job = ImportJob.objects.create(
        uploaded_by=user if user is not None and user.is_authenticated else None,
        file_name=file_name[:255],
        content=text,
        dry_run=dry_run,
        language=language,
    )
    if run_here:
        run_import_job.call(job.pk)
    else:
        result = run_import_job.enqueue(job.pk)
        ImportJob.objects.filter(pk=job.pk, task_id="").update(task_id=str(result.id)[:64])
    job.refresh_from_db()
    return job


@task()
def run_import_job(job_id: int) -> str:
    """The job: check and import the stored file, recording progress and the report."""
    job = ImportJob.objects.select_related("uploaded_by").get(pk=job_id)
    if job.state != ImportJobState.QUEUED:
        return job.state  # run already (a worker restarted after finishing it)
    _set(job, state=ImportJobState.CHECKING, started_at=timezone.now())
    try:
        with translation.override(job.language):
            report = perform_import(job)
    except Exception:
        # The transaction rolled back: nothing was imported. The report says so; the log
        # has the traceback for the operator.
        logger.exception("Import job %s stopped with an unexpected error", job.pk)
        with translation.override(job.language):
            message = _("The import stopped with an unexpected error; nothing was imported.")
        _set(
            job,
            state=ImportJobState.FAILED,
            finished_at=timezone.now(),
            report={"errors": [{"row": None, "column": None, "message": message}]},
        )
        raise
    _set(
        job,
        state=ImportJobState.SUCCEEDED if report.ok else ImportJobState.FAILED,
        finished_at=timezone.now(),
        report=report_data(report),
    )
    return job.state


def perform_import(job: ImportJob) -> ImportReport:
    """Run the importer on the job's file, saving the progress as it goes."""
    last_saved = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == "writing":
            if done == 0:
                # The last save before the transaction: from here the import is one write.
                _set(job, state=ImportJobState.WRITING, rows_checked=total, rows_total=total)
            return
        if done == total or now - last_saved[0] >= PROGRESS_INTERVAL:
            last_saved[0] = now
            _set(job, rows_checked=done, rows_total=total)

    return import_detentions(
        lines=io.StringIO(job.content, newline=""),
        user=job.uploaded_by,
        dry_run=job.dry_run,
        progress=progress,
    )


def _set(job: ImportJob, **values) -> None:
    """Save some fields of the job: one short write, in no transaction of the import's
    (the "writing" state is saved just before the import's transaction begins), so the
    progress page sees it at once and no other writer waits for long on SQLite."""
    for name, value in values.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**values)


def report_data(report: ImportReport) -> dict:
    """The report as JSON for the job: what the progress page and the command show."""
    return {
        "rows": report.rows,
        "dry_run": report.dry_run,
        "errors": [
            {"row": error.row, "column": error.column, "message": error.message}
            for error in report.errors
        ],
        "summary": [
            {"model": model._meta.label_lower, "created": created, "updated": updated}
            for model, created, updated in (
                (model, report.created.get(model, 0), report.updated.get(model, 0))
                for model in IMPORTED_MODELS
            )
        ],
        "unchanged_detentions": report.unchanged_detentions,
        "proposed": report.proposed,
        "records": [
            {
                "model": record.model._meta.label_lower,
                "pk": record.pk,
                "label": record.label,
                "action": record.action,
            }
            for record in report.records
        ]
        if report.ok and not report.dry_run
        else [],
    }
