"""Public browsing pages beyond the case pages: search, the statements list, the "About the
data" page, and the exports of a filtered incident list (CSV and JSON).

Views stay thin: the queries live in `incidents.public.search`, `incidents.exports` (the
files the API's CSV shares) and the shared FilterSets (`incidents.filters`), so an export
selects exactly what the list with the same query string shows.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import F, Prefetch, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from cabar_tracker.parameters import (
    PAGE,
    note_ignored_parameters,
    refuse_unknown_parameters,
    takes_parameters,
)
from cabar_tracker.spreadsheet import BOM_PARAMETER, bom_requested, content_disposition, in_blocks
from incidents import columns, export_jobs, exports, glossary
from incidents.filters import StatementFilter
from incidents.models import (
    NEWEST_FIRST,
    DisputeStatus,
    ExportKind,
    Incident,
    Source,
    Statement,
    StatementKind,
)
from incidents.public import search
from incidents.public.views import attach_place_labels
from people.models import Organization, Person

STATEMENTS_PER_PAGE = 25
# The About page lists this many sources; each case page lists its own in full.
ABOUT_SOURCES = 50


# --- search ---------------------------------------------------------------------------------


@require_GET
@takes_parameters("q")
def search_view(request: HttpRequest) -> HttpResponse:
    form = search.SearchQueryForm(request.GET)
    if not form.is_valid():
        context = {
            "query": "",
            "query_errors": form.errors.get("q", []),
            "results": None,
            "incident_list_url": reverse("incidents:incident_list"),
        }
        return render(request, "incidents/search.html", context, status=400)
    query = form.cleaned_data["q"]
    results = search.search(request.user, query) if query else None
    if results:
        attach_place_labels(incident.location for incident in results.incidents)
    context = {
        "query": query,
        # The header's search box shows the query again.
        "search_query": query,
        "results": results,
        "incident_list_url": reverse("incidents:incident_list"),
    }
    return render(request, "incidents/search.html", context)


# --- statements -----------------------------------------------------------------------------


def statements_for(user) -> QuerySet[Statement]:
    """Statements the user may see, newest first (undated last), with what a list shows."""
    return (
        Statement.objects.visible_to(user)
        .select_related("speaker_person", "speaker_organization", "position__organization")
        .prefetch_related(
            Prefetch(
                "incidents",
                queryset=Incident.objects.visible_to(user).order_by(*NEWEST_FIRST),
                to_attr="visible_incidents",
            )
        )
        .order_by(F("said_on").desc(nulls_last=True), "-pk")
    )


def statement_filter_choices(user) -> dict[str, QuerySet]:
    """The choices the filter form offers: only speakers, bodies and incidents that have a
    statement the user may see, so the menus stay short and name no withheld person."""
    statements = Statement.objects.visible_to(user)
    return {
        "speakers": Person.objects.searchable_by(user)
        .filter(statements_made__in=statements)
        .distinct()
        .order_by("name"),
        "organizations": Organization.objects.filter(statements__in=statements)
        .distinct()
        .order_by("name"),
        "incidents": Incident.objects.visible_to(user)
        .filter(statements__in=statements)
        .distinct()
        .order_by(*NEWEST_FIRST),
    }


def chosen_slugs(filterset: StatementFilter, name: str) -> list[str]:
    """The current slugs of the records chosen by the filter `name`, when it is valid."""
    records = getattr(filterset.form, "cleaned_data", {}).get(name) or []
    return [record.slug for record in records]


@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    filterset = StatementFilter(request.GET, queryset=statements_for(request.user), request=request)
    note_ignored_parameters(request, [*filterset.filters, PAGE])
    # An invalid filter shows its error and no statements, rather than all of them as if
    # the filter had been applied.
    statements = filterset.qs if filterset.is_valid() else Statement.objects.none()
    page = Paginator(statements, STATEMENTS_PER_PAGE).get_page(request.GET.get("page"))
    # The other filters, kept on the pagination links.
    query = request.GET.copy()
    query.pop("page", None)
    form = filterset.form
    context = {
        "filterset": filterset,
        "filter_errors": [
            (form.fields[name].label if name in form.fields else "", error)
            for name, errors in form.errors.items()
            for error in errors
        ],
        "page": page,
        "query_string": query.urlencode(),
        "kinds": StatementKind.choices,
        "dispute_statuses": DisputeStatus.choices,
        # Several may be chosen (`?speaker=a&speaker=b`, a link from elsewhere): the menus
        # then let several be kept. Old slugs are shown as the records' current ones.
        "selected_speakers": chosen_slugs(filterset, "speaker"),
        "selected_organizations": chosen_slugs(filterset, "organization"),
        "selected_incidents": chosen_slugs(filterset, "incident"),
        "selected_kinds": request.GET.getlist("kind"),
        "selected_dispute_statuses": request.GET.getlist("dispute_status"),
        **statement_filter_choices(request.user),
    }
    # The errors are shown on the page, which answers 400 as the case list does.
    status = 200 if filterset.is_valid() else 400
    return render(request, "incidents/statement_list.html", context, status=status)


# --- about ----------------------------------------------------------------------------------


@require_GET
@takes_parameters()
def about(request: HttpRequest) -> HttpResponse:
    sources = Source.objects.published()
    context = {
        "sources": sources.order_by("publisher", "title", "pk")[:ABOUT_SOURCES],
        "source_count": sources.count(),
        "incident_columns": columns.INCIDENT_COLUMNS,
        "detention_columns": columns.DETENTION_ROW_COLUMNS,
        "statement_columns": columns.STATEMENT_COLUMNS,
        "vocabularies": glossary.vocabularies(),
        "incident_list_url": reverse("incidents:incident_list"),
        "export_jobs": {
            "rows": settings.EXPORT_JOB_ROWS,
            "days": settings.JOB_FILE_RETENTION_DAYS,
        },
        "limits": {
            "exports": _rate(settings.THROTTLE_EXPORTS),
            "pages": _rate(settings.THROTTLE_PAGES),
            "api": _rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"]),
        },
    }
    return render(request, "incidents/about.html", context)


# As in "20 exports per hour": the period of a rate.
PERIOD_NAMES = {
    "second": pgettext_lazy("per", "second"),
    "minute": pgettext_lazy("per", "minute"),
    "hour": pgettext_lazy("per", "hour"),
    "day": pgettext_lazy("per", "day"),
}


def _rate(rate: str) -> tuple[str, str]:
    """`20/hour` as ("20", "hour") in the reader's language, for the about page."""
    count, _slash, period = rate.partition("/")
    return count, PERIOD_NAMES[period]


# --- exports --------------------------------------------------------------------------------


def _invalid(errors: dict) -> HttpResponse:
    problems = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
    return HttpResponseBadRequest(
        _("Invalid filter: %(problems)s") % {"problems": problems},
        content_type="text/plain; charset=utf-8",
    )


def _export(request: HttpRequest, export: exports.PageExport) -> HttpResponse:
    """The records the list selects with these filters, as `export`'s file, named for the
    resource, the filter and the day: streamed, or, when it would hold more than
    settings.EXPORT_JOB_ROWS rows, written by a background job whose page (where the file
    is downloaded when ready) the reader is sent to.

    An invalid filter is refused rather than dropped: a silently ignored `date_after=2022-13-01`
    would export far more than was asked for.
    """
    filterset = export.filterset(request.GET, request.user, request)
    refused = refuse_unknown_parameters(request, [*filterset.filters, BOM_PARAMETER])
    if refused is not None:
        return refused
    errors = {} if filterset.is_valid() else dict(filterset.errors)
    options = {}
    if export.takes_bom:
        try:
            options["bom"] = bom_requested(request.GET.get(BOM_PARAMETER))
        except ValueError:
            errors[BOM_PARAMETER] = [_("Use 1 for a byte order mark (for Excel), or 0.")]
    if errors:
        return _invalid(errors)
    site_url = request.build_absolute_uri("/").rstrip("/")
    if export_jobs.too_large_to_stream(export, filterset, request.user):
        job = export_jobs.start_export(
            kind=export.kind,
            query=request.GET.urlencode(),
            user=request.user,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            site_url=site_url,
        )
        # 303: the answer to this GET is at another address (the job's page).
        return HttpResponseRedirect(job.progress_url(), status=303)
    context = exports.ExportContext(user=request.user, site_url=site_url)
    response = StreamingHttpResponse(
        in_blocks(export.write(filterset.qs, context, **options)),
        content_type=export.content_type,
    )
    response["Content-Disposition"] = content_disposition(
        export.resource, request.GET, export.extension
    )
    return response


@require_GET
def incidents_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, exports.PAGE_EXPORTS[ExportKind.INCIDENTS_CSV])


@require_GET
def detentions_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, exports.PAGE_EXPORTS[ExportKind.DETENTIONS_CSV])


@require_GET
def incidents_json(request: HttpRequest) -> HttpResponse:
    return _export(request, exports.PAGE_EXPORTS[ExportKind.INCIDENTS_JSON])


@require_GET
def statements_csv(request: HttpRequest) -> HttpResponse:
    """The statements the statements page selects with these filters, as CSV."""
    return _export(request, exports.PAGE_EXPORTS[ExportKind.STATEMENTS_CSV])
