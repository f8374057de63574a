"""The page of an export written by a background job (incidents.export_jobs): its progress,
then the link to its file, and the download itself.

The address holds the job's random token. A public job (no owner) holds only what any
reader may see, so the token is all it takes; a staff member's job holds their view
(drafts, staff-only columns) and opens for them alone: to anyone else it does not exist.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cabar_tracker.parameters import takes_parameters
from cabar_tracker.spreadsheet import NOT_A_FILTER, content_disposition, download_filename
from incidents.export_jobs import file_exists
from incidents.exports import PAGE_EXPORTS
from incidents.models import ExportJob, ExportJobStatus, ExportKind

# Seconds between reloads of the page while its job waits or runs (a meta refresh: no script).
REFRESH_SECONDS = 2

# The list each export follows, for "back to the list" with the same filter.
LISTS = {
    ExportKind.INCIDENTS_CSV: "incidents:incident_list",
    ExportKind.DETENTIONS_CSV: "incidents:incident_list",
    ExportKind.INCIDENTS_JSON: "incidents:incident_list",
    ExportKind.STATEMENTS_CSV: "incidents:statement_list",
}


def job_for_reader(request: HttpRequest, token: str) -> ExportJob:
    """The job with this token if this reader may open it; else 404, whether it does not
    exist or is someone else's, so the answer says nothing about other people's jobs.
    One query."""
    job = ExportJob.objects.for_reader(request.user).filter(token=token).first()
    if job is None:
        raise Http404
    return job


def _gone(request: HttpRequest, job: ExportJob) -> HttpResponse:
    context = {
        "job": job,
        "list_url": _list_url(job),
        "retention_days": settings.JOB_FILE_RETENTION_DAYS,
    }
    return render(request, "incidents/export_expired.html", context, status=410)


def _list_url(job: ExportJob) -> str:
    """The list the export came from, with its filter (not the delivery options)."""
    query = job.query_dict().copy()
    for name in NOT_A_FILTER:
        query.pop(name, None)
    url = reverse(LISTS[job.kind])
    return f"{url}?{query.urlencode()}" if query else url


@require_GET
@takes_parameters()
@never_cache
def export_job(request: HttpRequest, token: str) -> HttpResponse:
    """The job's progress; when done, the link to the file; when failed, why."""
    job = job_for_reader(request, token)
    if job.status == ExportJobStatus.EXPIRED:
        return _gone(request, job)
    export = PAGE_EXPORTS[job.kind]
    context = {
        "job": job,
        "file_name": _file_name(job),
        "extension": export.extension.upper(),
        "percent": (100 * job.rows_done // job.rows_total) if job.rows_total else 0,
        "refresh_seconds": None if job.finished else REFRESH_SECONDS,
        "list_url": _list_url(job),
        "retention_days": settings.JOB_FILE_RETENTION_DAYS,
        "for_staff": job.requested_by_id is not None,
    }
    return render(request, "incidents/export_job.html", context)


@require_GET
@takes_parameters()
@never_cache
def export_download(request: HttpRequest, token: str) -> HttpResponse:
    """The file, as an attachment named as the streamed export would have been named on
    the day it was asked for. Before it is ready, the job's page; after it was deleted, 410."""
    job = job_for_reader(request, token)
    if job.status == ExportJobStatus.EXPIRED:
        return _gone(request, job)
    if job.status != ExportJobStatus.DONE:
        return redirect(job.progress_url())
    if not file_exists(job):
        # Deleted from the storage by hand, or by a clean-up that had not marked it yet.
        return _gone(request, job)
    export = PAGE_EXPORTS[job.kind]
    response = FileResponse(job.file.open("rb"), content_type=export.content_type)
    response["Content-Disposition"] = content_disposition(
        export.resource, job.query_dict(), export.extension, day=_day(job)
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _day(job: ExportJob):
    return timezone.localdate(job.created_at)


def _file_name(job: ExportJob) -> str:
    export = PAGE_EXPORTS[job.kind]
    return download_filename(
        export.resource, job.query_dict(), export.extension, ascii_only=False, day=_day(job)
    )
