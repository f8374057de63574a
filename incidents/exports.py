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
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet

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
from incidents.models import NEWEST_FIRST, Allegation, Detention, Incident, Source, Statement
from people.models import Person

# The rule for which detentions a reader sees (published, of a published person) is the
# case page's; the export must not show a detention the page hides.

# Rows read per step. Each chunk costs the same few queries (positions, rows, the
# prefetches below), so a 10 000-incident export makes about 20 × 6 queries.
CHUNK_SIZE = 500

# --- reading the rows -----------------------------------------------------------------------


def export_queryset(
    incidents: QuerySet[Incident], context: ExportContext, *, with_detentions: bool
) -> QuerySet[Incident]:
    """The filtered incidents with what the columns read, prefetched per chunk.

    `incidents` must already be limited to what the reader may see (`visible_to(user)` and
    the filters); the related lists are limited here, each by its own visibility rule.
    """
    user = context.user
    visible_sources = _sources(user)
    # No column reads these; converting their datetimes cost a fifth of the export's time.
    unread = (
        "created_at",
        "published_at",
        *(f"situation__{name}" for name in ("summary", "description", "created_at")),
        *(f"situation__{name}" for name in ("updated_at", "published_at")),
    )
    queryset = (
        incidents.select_related("location", "situation")
        .defer(*unread)
        .prefetch_related(
            Prefetch("sources", queryset=visible_sources.order_by("pk"), to_attr="export_sources")
        )
    )
    if with_detentions:
        detentions = (
            Detention.objects.visible_to(user)
            .select_related("person", "custody_location", "release_location")
            .order_by("detained_on", "pk")
        )
        queryset = queryset.prefetch_related(
            Prefetch("detentions", queryset=detentions, to_attr="export_detentions"),
            *_detention_prefetches(user, "export_detentions__"),
        )
    return queryset


def _sources(user) -> QuerySet[Source]:
    # Only the sources' addresses and titles are exported.
    return Source.objects.visible_to(user).only("pk", "url", "title")


def _detention_prefetches(user, prefix: str = "") -> list[Prefetch]:
    return [
        Prefetch(f"{prefix}allegations", queryset=Allegation.objects.order_by("kind", "pk")),
        Prefetch(
            f"{prefix}sources",
            queryset=_sources(user).order_by("pk"),
            to_attr="export_sources",
        ),
    ]


def detention_export_queryset(
    detentions: QuerySet[Detention], context: ExportContext
) -> QuerySet[Detention]:
    """Detentions (already limited to what the reader may see and filtered) with what a
    row of the detentions CSV reads: its incident's key columns, person, places,
    allegations and sources."""
    return detentions.select_related(
        "incident__location", "person", "custody_location", "release_location"
    ).prefetch_related(*_detention_prefetches(context.user))


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
        Prefetch("sources", queryset=_sources(user).order_by("pk"), to_attr="export_sources"),
    )


def rows(queryset: QuerySet) -> Iterator[Any]:
    """Every row of `queryset`, read in keyset chunks in its order."""
    for chunk in chunks(queryset, CHUNK_SIZE):
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
    yield from csv_lines(INCIDENT_COLUMNS, rows(queryset), context, bom=bom)


def _detentions_of(queryset: QuerySet[Incident]) -> Iterator[Detention]:
    for incident in rows(queryset):
        # The prefetch set each detention's `incident` to this one: no query per row.
        yield from incident.export_detentions


def detentions_csv(
    incidents: QuerySet[Incident], context: ExportContext, *, bom: bool = False
) -> Iterator[str]:
    """One row per detention the reader may see in these incidents, with its incident's key
    columns (the page export, filtered as the case list)."""
    queryset = export_queryset(incidents, context, with_detentions=True)
    yield from csv_lines(DETENTION_ROW_COLUMNS, _detentions_of(queryset), context, bom=bom)


def detention_list_csv(
    detentions: QuerySet[Detention], context: ExportContext, *, bom: bool = False
) -> Iterator[str]:
    """The same rows for a list of detentions (the API, filtered as its detentions list)."""
    queryset = detention_export_queryset(detentions, context)
    yield from csv_lines(DETENTION_ROW_COLUMNS, rows(queryset), context, bom=bom)


def statements_csv(
    statements: QuerySet[Statement], context: ExportContext, *, bom: bool = False
) -> Iterator[str]:
    """One row per statement, with the cases and people it is about and its dispute note."""
    queryset = statement_export_queryset(statements, context)
    yield from csv_lines(STATEMENT_COLUMNS, rows(queryset), context, bom=bom)


def incidents_json(incidents: QuerySet[Incident], context: ExportContext) -> Iterator[str]:
    """A JSON array of incidents, each with its detentions nested, written piece by piece."""
    queryset = export_queryset(incidents, context, with_detentions=True)
    incident_columns = columns_for(INCIDENT_COLUMNS, for_staff=context.for_staff)
    detention_columns = columns_for(DETENTION_COLUMNS, for_staff=context.for_staff)
    yield "["
    separator = "\n"
    for incident in rows(queryset):
        record = _record(incident_columns, incident, context)
        record["detentions"] = [
            _record(detention_columns, detention, context)
            for detention in incident.export_detentions
        ]
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"
