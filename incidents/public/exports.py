"""Exports of a filtered list of incidents: incidents CSV, detentions CSV and JSON.

The columns are defined once, in `incidents.columns`, as (name, description, getter). The CSV
and JSON writers, the "About the data" page and the CSV importer all read the same lists, so a
column cannot be exported without being documented. The detentions CSV is also the bulk-import
format, so its columns are complete and self-describing.

Exports are streamed: rows are read with `QuerySet.iterator(chunk_size=…)`, which runs the
prefetches once per chunk, so memory stays flat and the number of queries grows with the
number of chunks (a handful per 500 incidents), never with the number of rows.

What anonymous readers get follows the pages' rules: only published records (the caller passes
a queryset built with `visible_to(user)`), detentions of published persons only, a withheld
person as the neutral public label with no slug, native name, sex or birth year, and never a
staff-only note, for anyone.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet

from cabar_tracker.spreadsheet import cell, line_writer
from incidents.columns import (
    DETENTION_COLUMNS,
    DETENTION_ROW_COLUMNS,
    INCIDENT_COLUMNS,
    INCIDENT_KEY_COLUMNS,
    Column,
    ExportContext,
    Value,
)
from incidents.models import Account, AccountRank, Allegation, Detention, Incident, Source

# The rule for which detentions a reader sees (published, of a published person) is the
# case page's; the export must not show a detention the page hides.

# Incidents read per database round trip. Each chunk costs the same few queries (the
# prefetches below), so a 10 000-incident export makes about 20 × 5 queries.
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
    # Only the sources' addresses are exported.
    visible_sources = Source.objects.visible_to(user).only("pk", "url")
    # No column reads these; converting their datetimes cost a fifth of the export's time.
    unread = (
        "created_at",
        "published_at",
        *(f"situation__{name}" for name in ("summary", "description", "created_at")),
        *(f"situation__{name}" for name in ("updated_at", "published_at")),
    )
    # The accounts other than the preferred one (whose value is the record's), for the
    # `other_accounts` column: two queries per chunk and level.
    other_accounts = (
        Account.objects.exclude(rank=AccountRank.PREFERRED)
        .select_related(
            "value_location", "value_organization", "asserted_by_person", "asserted_by_organization"
        )
        .prefetch_related(
            Prefetch("sources", queryset=visible_sources.order_by("pk"), to_attr="export_sources")
        )
        .order_by("fact", "pk")
    )
    queryset = (
        incidents.select_related("location", "situation")
        .defer(*unread)
        .prefetch_related(
            Prefetch("sources", queryset=visible_sources.order_by("pk"), to_attr="export_sources"),
            Prefetch("accounts", queryset=other_accounts, to_attr="export_accounts"),
        )
    )
    if with_detentions:
        detentions = (
            Detention.objects.visible_to(user)
            .select_related(
                "person",
                "custody_location",
                "release_location",
                "arrest_location",
                "detaining_organization",
            )
            .order_by("detained_on", "pk")
        )
        queryset = queryset.prefetch_related(
            Prefetch("detentions", queryset=detentions, to_attr="export_detentions"),
            Prefetch(
                "export_detentions__allegations",
                queryset=Allegation.objects.order_by("kind", "pk"),
            ),
            Prefetch(
                "export_detentions__sources",
                queryset=visible_sources.order_by("pk"),
                to_attr="export_sources",
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


def _record(columns: list[Column], row, context: ExportContext) -> dict[str, Value]:
    """A JSON object; an empty text is null, as a missing number or date is."""
    record = {}
    for column in columns:
        value = column.value(row, context)
        record[column.name] = None if value == "" else value
    return record


def _csv_cell(column: Column, value: Value) -> str:
    return cell(value, separator=column.separator)


# Lines are sent in blocks of about this many characters: a write to the socket per line
# cost a fifth of a 10,000-row export through gunicorn.
BLOCK_SIZE = 64 * 1024


def in_blocks(lines: Iterable[str], size: int = BLOCK_SIZE) -> Iterator[str]:
    """The lines joined into blocks of at least `size` characters (the last may be less)."""
    block: list[str] = []
    length = 0
    for line in lines:
        block.append(line)
        length += len(line)
        if length >= size:
            yield "".join(block)
            block, length = [], 0
    if block:
        yield "".join(block)


def _csv_lines(columns: list[Column], rows: Iterable[Any], context: ExportContext) -> Iterator[str]:
    writer = line_writer()
    yield writer.writerow([column.name for column in columns])
    for record in rows:
        yield writer.writerow(
            [_csv_cell(column, column.value(record, context)) for column in columns]
        )


def incidents_csv(incidents: QuerySet[Incident], context: ExportContext) -> Iterator[str]:
    """One row per incident."""
    queryset = export_queryset(incidents, context, with_detentions=False)
    yield from _csv_lines(INCIDENT_COLUMNS, queryset.iterator(chunk_size=CHUNK_SIZE), context)


def _detention_rows(queryset: QuerySet[Incident]) -> Iterator[tuple[Incident, Detention]]:
    for incident in queryset.iterator(chunk_size=CHUNK_SIZE):
        for detention in incident.export_detentions:
            yield incident, detention


def detentions_csv(incidents: QuerySet[Incident], context: ExportContext) -> Iterator[str]:
    """One row per detention the reader may see, with its incident's key columns."""
    queryset = export_queryset(incidents, context, with_detentions=True)
    writer = line_writer()
    yield writer.writerow([column.name for column in DETENTION_ROW_COLUMNS])
    for incident, detention in _detention_rows(queryset):
        cells = [_csv_cell(c, c.value(incident, context)) for c in INCIDENT_KEY_COLUMNS]
        cells += [_csv_cell(c, c.value(detention, context)) for c in DETENTION_COLUMNS]
        yield writer.writerow(cells)


def incidents_json(incidents: QuerySet[Incident], context: ExportContext) -> Iterator[str]:
    """A JSON array of incidents, each with its detentions nested, written piece by piece."""
    queryset = export_queryset(incidents, context, with_detentions=True)
    yield "["
    separator = "\n"
    for incident in queryset.iterator(chunk_size=CHUNK_SIZE):
        record = _record(INCIDENT_COLUMNS, incident, context)
        record["detentions"] = [
            _record(DETENTION_COLUMNS, detention, context)
            for detention in incident.export_detentions
        ]
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


def export_filename(stem: str, extension: str) -> str:
    """`incidents-2024-05-01.csv`: the day in the name tells copies apart."""
    return f"{stem}-{datetime.date.today().isoformat()}.{extension}"
