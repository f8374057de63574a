"""Public browsing pages beyond the case pages: search, the statements list, the "About the
data" page, and the exports of a filtered incident list (CSV and JSON).

Views stay thin: the queries live in `incidents.public.search`, `incidents.public.exports`
and the shared FilterSets (`incidents.filters`), so an export selects exactly what the case
list with the same query string shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.core.paginator import Paginator
from django.db.models import F, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from incidents import glossary
from incidents.filters import IncidentFilter, StatementFilter
from incidents.models import NEWEST_FIRST, DisputeStatus, Incident, Source, Statement, StatementKind
from incidents.public import exports, search
from incidents.public.views import attach_place_labels
from people.models import Organization, Person

STATEMENTS_PER_PAGE = 25
# The About page lists this many sources; each case page lists its own in full.
ABOUT_SOURCES = 50


# --- search ---------------------------------------------------------------------------------


@require_GET
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


@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    filterset = StatementFilter(request.GET, queryset=statements_for(request.user), request=request)
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
        "selected_kinds": request.GET.getlist("kind"),
        "selected_dispute_statuses": request.GET.getlist("dispute_status"),
        **statement_filter_choices(request.user),
    }
    # The errors are shown on the page, which answers 400 as the case list does.
    status = 200 if filterset.is_valid() else 400
    return render(request, "incidents/statement_list.html", context, status=status)


# --- about ----------------------------------------------------------------------------------


@require_GET
def about(request: HttpRequest) -> HttpResponse:
    sources = Source.objects.published()
    context = {
        "sources": sources.order_by("publisher", "title", "pk")[:ABOUT_SOURCES],
        "source_count": sources.count(),
        "incident_columns": exports.INCIDENT_COLUMNS,
        "detention_columns": exports.DETENTION_ROW_COLUMNS,
        "nested_detention_columns": exports.DETENTION_COLUMNS,
        "vocabularies": glossary.vocabularies(),
        "incident_list_url": reverse("incidents:incident_list"),
    }
    return render(request, "incidents/about.html", context)


# --- exports --------------------------------------------------------------------------------


def _export(
    request: HttpRequest,
    write: Callable[[QuerySet[Incident], exports.ExportContext], Iterator[str]],
    *,
    stem: str,
    extension: str,
    content_type: str,
) -> HttpResponse:
    """Stream `write`'s output for the incidents the case list selects with these filters.

    An invalid filter is refused rather than dropped: a silently ignored `date_after=2022-13-01`
    would export far more than was asked for.
    """
    incidents = Incident.objects.visible_to(request.user).order_by(*NEWEST_FIRST)
    filterset = IncidentFilter(request.GET, queryset=incidents, request=request)
    if not filterset.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()
        )
        return HttpResponseBadRequest(
            _("Invalid filter: %(problems)s") % {"problems": problems},
            content_type="text/plain; charset=utf-8",
        )
    context = exports.ExportContext(
        user=request.user, site_url=request.build_absolute_uri("/").rstrip("/")
    )
    response = StreamingHttpResponse(
        exports.in_blocks(write(filterset.qs, context)), content_type=content_type
    )
    filename = exports.export_filename(stem, extension)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def incidents_csv(request: HttpRequest) -> HttpResponse:
    return _export(
        request,
        exports.incidents_csv,
        stem="incidents",
        extension="csv",
        content_type="text/csv; charset=utf-8",
    )


@require_GET
def detentions_csv(request: HttpRequest) -> HttpResponse:
    return _export(
        request,
        exports.detentions_csv,
        stem="detentions",
        extension="csv",
        content_type="text/csv; charset=utf-8",
    )


@require_GET
def incidents_json(request: HttpRequest) -> HttpResponse:
    return _export(
        request,
        exports.incidents_json,
        stem="incidents",
        extension="json",
        content_type="application/json; charset=utf-8",
    )
