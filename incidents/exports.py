"""The export files: every table the site hands out as CSV or JSON, for the pages and the API.

The columns are defined once, in `incidents.columns`, as (name, description, getter). The
page exports (`incidents.public.browse_views`), the API's CSV of incidents, detentions and
statements (`incidents.api.views`), the "About the data" page and the CSV importer all read
the same lists, so a column cannot be exported without being documented and the page and
the API cannot differ. The detentions CSV is also the bulk-import format, so its columns
are complete and self-describing.

Exports are streamed and read in keyset chunks (`cabar_tracker.keyset.chunks`): each chunk
of `CHUNK_SIZE` rows costs the same few queries (positions, rows, the prefetches below),
however deep, and no cursor or transaction stays open while the client reads, so memory
stays flat and the number of queries grows with the number of chunks, never with the
number of rows. Every CSV cell goes through `cabar_tracker.spreadsheet.cell`, which
neutralises formulas.

What anonymous readers get follows the pages' rules: only published records (the caller passes
a queryset built with `visible_to(user)` and the filters), detentions of published persons
only, a withheld person as the neutral public label with no slug, native name, sex or birth
year, and never a staff-only note, for anyone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Prefetch, QuerySet
from django.http import QueryDict
from django_filters import FilterSet

from cabar_tracker.keyset import chunks
from cabar_tracker.spreadsheet import BOM, cell, line_writer
from incidents.columns import (
    DETENTION_COLUMNS,
    DETENTION_ROW_COLUMNS,
    INCIDENT_COLUMNS,
    STATEMENT_COLUMNS,
    Column,
    ExportContext,
    Value,
    columns_for,
)
from incidents.filters import IncidentFilter, StatementFilter
from incidents.models import (
    NEWEST_FIRST,
    Account,
    AccountRank,
    Allegation,
    Detention,
    ExportKind,
    Incident,
    ReportedGroup,
    Source,
    Statement,
)
from people.models import Person

# The rule for which detentions a reader sees (published, of a published person) is the
# case page's; the export must not show a detention the page hides.

# Rows read per step. Each chunk costs the same few queries (positions, rows, the
# prefetches below), so a 10 000-incident export makes about 20 × 6 queries.
CHUNK_SIZE = 500

# --- reading the rows -----------------------------------------------------------------------


def export_queryset(
    incidents: QuerySet[Incident],
    context: ExportContext,
    *,
    with_detentions: bool,
    with_groups: bool = True,
) -> QuerySet[Incident]:
    """The filtered incidents with what the columns read, prefetched per chunk.

    `incidents` must already be limited to what the reader may see (`visible_to(user)` and
    the filters); the related lists are limited here, each by its own visibility rule.
    """
    user = context.user
    # No column reads these; converting their datetimes cost a fifth of the export's time.
    unread = (
        "created_at",
        "published_at",
        *(f"situation__{name}" for name in ("summary", "description", "created_at")),
        *(f"situation__{name}" for name in ("updated_at", "published_at")),
    )
    other_accounts = other_accounts_queryset(user)
    queryset = (
        incidents.select_related("location", "situation")
        .defer(*unread)
        .prefetch_related(Prefetch("accounts", queryset=other_accounts, to_attr="export_accounts"))
    )
    if with_groups:
        # `reported_by_citizenship` (the groups are public with their incident).
        queryset = queryset.prefetch_related(
            Prefetch("reported_groups", queryset=ReportedGroup.objects.order_by("citizenship"))
        )
    if with_detentions:
        detentions = (
            Detention.objects.visible_to(user)
            .select_related(*DETENTION_RELATED)
            .order_by("detained_on", "pk")
        )
        queryset = queryset.prefetch_related(
            Prefetch("detentions", queryset=detentions, to_attr="export_detentions"),
            Prefetch(
                "export_detentions__allegations", queryset=Allegation.objects.order_by("kind", "pk")
            ),
            Prefetch(
                "export_detentions__accounts", queryset=other_accounts, to_attr="export_accounts"
            ),
            Prefetch(
                "export_detentions__allegations__accounts",
                queryset=other_accounts,
                to_attr="export_accounts",
            ),
        )
    return queryset


# What a detention's columns read besides the detention.
DETENTION_RELATED = (
    "person",
    "custody_location",
    "release_location",
    "arrest_location",
    "detaining_organization",
)


def other_accounts_queryset(user) -> QuerySet[Account]:
    """The accounts other than the preferred one (whose value is the record's), for the
    `other_accounts` column, with the sources the reader may see: one query per level and
    chunk, two with their sources (accounts are few)."""
    visible_sources = Source.objects.visible_to(user).only("pk", "url", "title")
    return (
        Account.objects.exclude(rank=AccountRank.PREFERRED)
        .select_related(
            "value_location", "value_organization", "asserted_by_person", "asserted_by_organization"
        )
        .prefetch_related(
            Prefetch("sources", queryset=visible_sources.order_by("pk"), to_attr="export_sources")
        )
        .order_by("fact", "pk")
    )


def attach_sources(records: list, user) -> None:
    """Set `export_sources` on each record (incidents, detentions or statements of one kind):
    the sources it cites that the reader may see, by id.

    Two queries, the links by the records' ids (from the link table's unique index), then
    the sources by theirs. A `prefetch_related("sources")` with the visibility filter made
    SQLite start from the sources instead (their state index), probing the link table once
    per source and record: 0.6 s for each 500 detentions with 5,000 sources."""
    if not records:
        return
    field = type(records[0])._meta.get_field("sources")
    through = field.remote_field.through
    own, other = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
    links = list(
        through.objects.filter(**{f"{own}__in": [record.pk for record in records]}).values_list(
            own, other
        )
    )
    # Only the sources' addresses and titles are exported.
    visible = Source.objects.visible_to(user).only("pk", "url", "title")
    sources = visible.in_bulk({source_id for _record_id, source_id in links})
    cited: dict[int, list[Source]] = {}
    for record_id, source_id in links:
        if source_id in sources:
            cited.setdefault(record_id, []).append(sources[source_id])
    for record in records:
        record.export_sources = sorted(cited.get(record.pk, []), key=lambda source: source.pk)


def prepare_incidents(incidents: list[Incident], context: ExportContext) -> None:
    """What a chunk of incidents needs besides its queryset: their sources."""
    attach_sources(incidents, context.user)


def prepare_detentions(detentions: list[Detention], context: ExportContext) -> None:
    attach_sources(detentions, context.user)


def prepare_statements(statements: list[Statement], context: ExportContext) -> None:
    attach_sources(statements, context.user)


def detention_export_queryset(
    detentions: QuerySet[Detention], context: ExportContext
) -> QuerySet[Detention]:
    """Detentions (already limited to what the reader may see and filtered) with what a
    row of the detentions CSV reads: its incident's key columns, person, places,
    allegations and sources."""
    other_accounts = other_accounts_queryset(context.user)
    return detentions.select_related("incident__location", *DETENTION_RELATED).prefetch_related(
        Prefetch("allegations", queryset=Allegation.objects.order_by("kind", "pk")),
        Prefetch("accounts", queryset=other_accounts, to_attr="export_accounts"),
        Prefetch("allegations__accounts", queryset=other_accounts, to_attr="export_accounts"),
    )


def statement_export_queryset(
    statements: QuerySet[Statement], context: ExportContext
) -> QuerySet[Statement]:
    """Statements (already limited to what the reader may see and filtered) with their
    speaker, post, situation and the cases, people and sources they name that the reader
    may see."""
    user = context.user
    return statements.select_related(
        "speaker_person",
        "speaker_organization",
        "position",
        "situation",
    ).prefetch_related(
        Prefetch(
            "incidents",
            queryset=Incident.objects.visible_to(user).only("pk", "slug").order_by(*NEWEST_FIRST),
            to_attr="export_incidents",
        ),
        Prefetch(
            "people",
            queryset=Person.objects.visible_to(user).order_by("pk"),
            to_attr="export_people",
        ),
    )


def rows(queryset: QuerySet, prepare: Callable[[list], None] | None = None) -> Iterator[Any]:
    """Every row of `queryset`, read in keyset chunks in its order, each chunk given to
    `prepare` first (to attach what a prefetch cannot fetch well)."""
    for chunk in chunks(queryset, CHUNK_SIZE):
        if prepare is not None:
            prepare(chunk)
        yield from chunk


def _record(columns: list[Column], row, context: ExportContext) -> dict[str, Value]:
    """A JSON object; an empty text is null, as a missing number or date is."""
    record = {}
    for column in columns:
        value = column.value(row, context)
        record[column.name] = None if value == "" else value
    return record


def csv_lines(
    columns: list[Column], records: Iterable[Any], context: ExportContext, *, bom: bool = False
) -> Iterator[str]:
    """The CSV of `records`: a header of the columns this reader may see, then a line per
    record, every cell through `spreadsheet.cell` (formulas neutralised). `bom` starts the
    file with a UTF-8 byte order mark, by which Excel knows the file is UTF-8."""
    columns = columns_for(columns, for_staff=context.for_staff)
    writer = line_writer()
    yield (BOM if bom else "") + writer.writerow([column.name for column in columns])
    for record in records:
        yield writer.writerow(
            [cell(column.value(record, context), separator=column.separator) for column in columns]
        )


def incidents_csv(
    incidents: QuerySet[Incident], context: ExportContext, *, bom: bool = False
) -> Iterator[str]:
    """One row per incident."""
    queryset = export_queryset(incidents, context, with_detentions=False)
    records = rows(queryset, lambda chunk: prepare_incidents(chunk, context))
    yield from csv_lines(INCIDENT_COLUMNS, records, context, bom=bom)


def _detentions_of(queryset: QuerySet[Incident], context: ExportContext) -> Iterator[Detention]:
    def prepare(incidents: list[Incident]) -> None:
        prepare_detentions(
            [d for incident in incidents for d in incident.export_detentions], context
        )

    for incident in rows(queryset, prepare):
        # The prefetch set each detention's `incident` to this one: no query per row.
        yield from incident.export_detentions


def detentions_csv(
    incidents: QuerySet[Incident], context: ExportContext, *, bom: bool = False
) -> Iterator[str]:
    """One row per detention the reader may see in these incidents, with its incident's key
    columns (the page export, filtered as the case list)."""
    # The detention rows carry the incident's key columns only, not its reported groups.
    queryset = export_queryset(incidents, context, with_detentions=True, with_groups=False)
    yield from csv_lines(DETENTION_ROW_COLUMNS, _detentions_of(queryset, context), context, bom=bom)


def detention_list_csv(
    detentions: QuerySet[Detention], context: ExportContext, *, bom: bool = False
) -> Iterator[str]:
    """The same rows for a list of detentions (the API, filtered as its detentions list)."""
    queryset = detention_export_queryset(detentions, context)
    records = rows(queryset, lambda chunk: prepare_detentions(chunk, context))
    yield from csv_lines(DETENTION_ROW_COLUMNS, records, context, bom=bom)


def statements_csv(
    statements: QuerySet[Statement], context: ExportContext, *, bom: bool = False
) -> Iterator[str]:
    """One row per statement, with the cases and people it is about and its dispute note."""
    queryset = statement_export_queryset(statements, context)
    records = rows(queryset, lambda chunk: prepare_statements(chunk, context))
    yield from csv_lines(STATEMENT_COLUMNS, records, context, bom=bom)


def incidents_json(incidents: QuerySet[Incident], context: ExportContext) -> Iterator[str]:
    """A JSON array of incidents, each with its detentions nested, written piece by piece."""
    queryset = export_queryset(incidents, context, with_detentions=True)
    incident_columns = columns_for(INCIDENT_COLUMNS, for_staff=context.for_staff)
    detention_columns = columns_for(DETENTION_COLUMNS, for_staff=context.for_staff)

    def prepare(incidents: list[Incident]) -> None:
        prepare_incidents(incidents, context)
        prepare_detentions(
            [d for incident in incidents for d in incident.export_detentions], context
        )

    yield "["
    separator = "\n"
    for incident in rows(queryset, prepare):
        record = _record(incident_columns, incident, context)
        record["detentions"] = [
            _record(detention_columns, detention, context)
            for detention in incident.export_detentions
        ]
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


# --- the page exports -----------------------------------------------------------------------
#
# The site's downloads of a filtered list, streamed by the public views
# (`incidents.public.browse_views`) or, past settings.EXPORT_JOB_ROWS rows, written by a job
# (`incidents.export_jobs`): both build the filter, count and write through these, so a
# job's file is the file the page would have streamed.


@dataclass(frozen=True)
class Reader:
    """What the filters read of a request, its user: for a filter applied where there is
    no request (an export job, run by the worker)."""

    user: Any


@dataclass(frozen=True)
class PageExport:
    kind: str  # an ExportKind
    resource: str  # the first word of the file's name
    extension: str
    content_type: str
    # write(filtered queryset, context, **options) -> the file's lines
    write: Callable[..., Iterator[str]]
    # The list's FilterSet over what `user` may see, in the list's order.
    filterset: Callable[..., FilterSet]
    # The file's rows (what a reader counts) for the filtered queryset and `user`.
    rows: Callable[[QuerySet, Any], QuerySet]
    # How many of `write`'s lines are not rows: a CSV's header; a JSON array's opening and
    # closing lines (every other line is one row).
    framing_lines: int = 1

    @property
    def takes_bom(self) -> bool:
        return self.extension == "csv"


def incident_filterset(data: QueryDict, user, request=None) -> IncidentFilter:
    """The case list's filter, over the incidents `user` may see, newest first."""
    incidents = Incident.objects.visible_to(user).order_by(*NEWEST_FIRST)
    return IncidentFilter(data, queryset=incidents, request=request or Reader(user))


def statement_filterset(data: QueryDict, user, request=None) -> StatementFilter:
    """The statements page's filter, over the statements `user` may see, newest first."""
    statements = Statement.objects.visible_to(user).order_by(
        F("said_on").desc(nulls_last=True), "-pk"
    )
    return StatementFilter(data, queryset=statements, request=request or Reader(user))


def _same_rows(queryset: QuerySet, user) -> QuerySet:
    return queryset


def _detention_rows(incidents: QuerySet[Incident], user) -> QuerySet[Detention]:
    """The detentions `detentions_csv` writes for these incidents: those the reader sees."""
    return Detention.objects.visible_to(user).filter(incident__in=incidents.values("pk"))


PAGE_EXPORTS = {
    export.kind: export
    for export in (
        PageExport(
            kind=ExportKind.INCIDENTS_CSV,
            resource="incidents",
            extension="csv",
            content_type="text/csv; charset=utf-8",
            write=incidents_csv,
            filterset=incident_filterset,
            rows=_same_rows,
        ),
        PageExport(
            kind=ExportKind.DETENTIONS_CSV,
            resource="detentions",
            extension="csv",
            content_type="text/csv; charset=utf-8",
            write=detentions_csv,
            filterset=incident_filterset,
            rows=_detention_rows,
        ),
        PageExport(
            kind=ExportKind.INCIDENTS_JSON,
            resource="incidents",
            extension="json",
            content_type="application/json; charset=utf-8",
            write=incidents_json,
            filterset=incident_filterset,
            rows=_same_rows,
            framing_lines=2,
        ),
        PageExport(
            kind=ExportKind.STATEMENTS_CSV,
            resource="statements",
            extension="csv",
            content_type="text/csv; charset=utf-8",
            write=statements_csv,
            filterset=statement_filterset,
            rows=_same_rows,
        ),
    )
}
