"""The staff pages that import detentions from a CSV file: the form, and the progress and
report of each import job (incidents.import_jobs runs it; incidents.importer is the service)."""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from cabar_tracker.staff.access import staff_required
from incidents.columns import DETENTION_ROW_COLUMNS
from incidents.import_jobs import start_import
from incidents.importer import IMPORT_ONLY_COLUMNS, NOT_IMPORTED_COLUMNS, REQUIRED_COLUMNS
from incidents.models import Detention, ImportJob, Incident, Source
from people.models import Person

# The records the report links to, in this order, with their staff edit pages. (An
# allegation is edited on its detention's page; places are not created by an import.)
LINKED_RECORDS = [
    (Incident, "staff:incident_edit"),
    (Detention, "staff:detention_edit"),
    (Person, "staff:person_edit"),
    (Source, "staff:source_edit"),
]

# Far above any real batch of detentions (a row is a few hundred bytes), far below what would
# tie up a worker.
MAX_FILE_SIZE = 5 * 1024 * 1024
# The import page lists this many of the latest jobs.
RECENT_JOBS = 10
# Seconds between reloads of a progress page while its job runs (a meta refresh: no script).
REFRESH_SECONDS = 2


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 text, in the columns of the detentions export."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    dry_run = forms.BooleanField(
        label=_("Check only: report errors and counts, import nothing"),
        required=False,
        initial=True,
    )

    def clean_file(self) -> str:
        """The file's text: UTF-8, with or without the byte-order mark spreadsheets add."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_SIZE:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB; split it.")
                % {"size": MAX_FILE_SIZE // (1024 * 1024)}
            )
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _("The file is not UTF-8 text. Save it from the spreadsheet as “CSV UTF-8”.")
            ) from None


@staff_required
@permission_required("incidents.add_detention", raise_exception=True)
def import_page(request: HttpRequest) -> HttpResponse:
    """The form; a file sent is stored and imported by a background job, whose progress
    page the browser is sent to."""
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            job = start_import(
                text=form.cleaned_data["file"],
                file_name=request.FILES["file"].name,
                user=request.user,
                dry_run=form.cleaned_data["dry_run"],
                language=translation.get_language() or "en",
            )
            return redirect(job.progress_url())
    else:
        form = ImportForm()
    columns = [
        {
            "name": column.name,
            "description": column.description,
            "imported": column.name not in NOT_IMPORTED_COLUMNS,
            "required": column.name in REQUIRED_COLUMNS,
        }
        for column in [*DETENTION_ROW_COLUMNS, *IMPORT_ONLY_COLUMNS]
    ]
    # One query: the latest jobs this user may follow (the content is not needed).
    recent_jobs = (
        ImportJob.objects.visible_to(request.user)
        .select_related("uploaded_by")
        .defer("content", "report")[:RECENT_JOBS]
    )
    context = {
        "form": form,
        "columns": columns,
        "import_only_columns": [column.name for column in IMPORT_ONLY_COLUMNS],
        "recent_jobs": recent_jobs,
    }
    return render(request, "staff/import.html", context)


@staff_required
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress of an import job and, when it is done, its report. Only its uploader and
    reviewers see it (404 for anyone else: the file may name withheld persons)."""
    job = get_object_or_404(
        ImportJob.objects.visible_to(request.user).select_related("uploaded_by").defer("content"),
        pk=pk,
    )
    report = job.report or {}
    context = {
        "job": job,
        "report": report,
        "summary": _summary(report),
        "imported_records": _imported_records(report),
        "percent": (100 * job.rows_checked // job.rows_total) if job.rows_total else 0,
        "refresh_seconds": None if job.finished else REFRESH_SECONDS,
    }
    return render(request, "staff/import_job.html", context)


def _summary(report: dict) -> list[tuple[str, int, int]]:
    """(records, created, updated) per kind of record, named in the reader's language."""
    return [
        (apps.get_model(row["model"])._meta.verbose_name_plural, row["created"], row["updated"])
        for row in report.get("summary", [])
    ]


def _imported_records(report: dict) -> list[dict]:
    """What the import wrote, by kind, each with the address of its staff edit page; none
    on a dry run or a refused file, whose records were rolled back. No query: the report
    holds the ids and labels."""
    by_model: dict[str, list[dict]] = {}
    for record in report.get("records", []):
        by_model.setdefault(record["model"], []).append(record)
    groups = []
    for model, url_name in LINKED_RECORDS:
        records = by_model.get(model._meta.label_lower, [])
        if records:
            links = [
                {
                    "label": record["label"],
                    "url": reverse(url_name, args=[record["pk"]]),
                    "action": record["action"],
                }
                for record in records
            ]
            groups.append({"name": model._meta.verbose_name_plural, "links": links})
    return groups
