"""The staff page that imports detentions from a CSV file (the service is incidents.importer)."""

from __future__ import annotations

import io

from django import forms
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cabar_tracker.staff.access import staff_required
from incidents.columns import DETENTION_ROW_COLUMNS
from incidents.importer import (
    IMPORT_ONLY_COLUMNS,
    NOT_IMPORTED_COLUMNS,
    REQUIRED_COLUMNS,
    ImportReport,
    import_detentions,
)
from incidents.models import Detention, Incident, Source
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
    report = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            text = form.cleaned_data["file"]
            dry_run = form.cleaned_data["dry_run"]
            # The report below says what happened, in full; no message is queued.
            report = import_detentions(
                lines=io.StringIO(text, newline=""), user=request.user, dry_run=dry_run
            )
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
    context = {
        "form": form,
        "report": report,
        "columns": columns,
        "import_only_columns": [column.name for column in IMPORT_ONLY_COLUMNS],
        "imported_records": _imported_records(report),
    }
    return render(request, "staff/import.html", context)


def _imported_records(report: ImportReport | None) -> list[dict]:
    """What the import wrote, by kind, each with the address of its staff edit page; none
    on a dry run or a refused file, whose records were rolled back. No query: the report
    holds the ids and labels."""
    if report is None or report.dry_run or not report.ok:
        return []
    groups = []
    for model, url_name in LINKED_RECORDS:
        records = report.records_of(model)
        if records:
            links = [
                {
                    "label": record.label,
                    "url": reverse(url_name, args=[record.pk]),
                    "action": record.action,
                }
                for record in records
            ]
            groups.append({"name": model._meta.verbose_name_plural, "links": links})
    return groups
