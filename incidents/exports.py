"""Exports of a filtered list of incidents: incidents CSV, detentions CSV and JSON.

The columns are defined once, below, as (name, description, getter). The CSV and JSON writers
and the "About the data" page all read the same lists, so a column cannot be exported without
being documented. The detentions CSV is also meant to become the bulk-import format, so its
columns are complete and self-describing: codes rather than labels, dates at their known
precision with the precision beside them, places and persons by slug.

Exports are streamed: rows are read with `QuerySet.iterator(chunk_size=…)`, which runs the
prefetches once per chunk, so memory stays flat and the number of queries grows with the
number of chunks (a handful per 500 incidents), never with the number of rows.

What anonymous readers get follows the pages' rules: only published records (the caller passes
a queryset built with `visible_to(user)`), detentions of published persons only, a withheld
person as the neutral public label with no slug, native name, sex or birth year, and never a
staff-only note, for anyone.
"""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cabar_tracker.publishing import can_see_unpublished

from .models import Allegation, Detention, Incident, Source
from .partial_dates import PartialDate

# The rule for which detentions a reader sees (published, of a published person) is the
# case page's; the export must not show a detention the page hides.

# Incidents read per database round trip. Each chunk costs the same few queries (the
# prefetches below), so a 10 000-incident export makes about 20 × 5 queries.
CHUNK_SIZE = 500

Value = str | int | float | bool | list[str] | None


@dataclass(frozen=True)
class ExportContext:
    """Who the export is for and where the site lives (for absolute links)."""

    user: Any
    site_url: str  # scheme and host, no trailing slash: "https://cases.example.org"

    @property
    def for_staff(self) -> bool:
        return can_see_unpublished(self.user)

    @cached_property
    def incident_url_parts(self) -> tuple[str, str]:
        """The absolute address of an incident's page around its slug, reversed once per
        export rather than once per row (a tenth of the time of a 10,000-row export)."""
        pattern = reverse("incidents:incident_detail", kwargs={"slug": "SLUG"})
        prefix, suffix = pattern.split("SLUG")
        return self.site_url + prefix, suffix

    def shows(self, record) -> bool:
        """The pages' rule for a record reached through a relation (see `cases.shown_to`)."""
        if record is None:
            return False
        if self.for_staff:
            return record.archived_at is None
        return record.is_published


@dataclass(frozen=True)
class Column:
    name: str
    description: str | Promise
    value: Callable[[Any, ExportContext], Value]
    # Multi-valued columns are lists in JSON and joined with this in CSV.
    separator: str = ";"


# --- getters --------------------------------------------------------------------------------


def _iso(date: PartialDate | None) -> str | None:
    return date.iso() if date else None


def _precision(date: PartialDate | None) -> str | None:
    return date.precision if date else None


def _coordinate(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _source_urls(sources: Iterable[Source]) -> list[str]:
    return [source.url for source in sources if source.url]


def _identity_shown(detention: Detention, context: ExportContext) -> bool:
    return context.for_staff or not detention.person.identity_withheld


def _person_field(name: str) -> Callable[[Detention, ExportContext], Value]:
    """A person's field, or nothing when the identity is withheld from this reader: slug,
    native name, sex and birth year could all single the person out."""

    def value(detention: Detention, context: ExportContext) -> Value:
        if not _identity_shown(detention, context):
            return None
        return getattr(detention.person, name) or None

    return value


def _person_name(detention: Detention, context: ExportContext) -> str:
    return detention.person.display_name(for_staff=context.for_staff)


def _situation_slug(incident: Incident, context: ExportContext) -> str | None:
    return incident.situation.slug if context.shows(incident.situation) else None


def _place(location, context: ExportContext) -> str | None:
    return location.slug if location else None


def _days_in_custody(detention: Detention, context: ExportContext) -> int | None:
    return detention.days_in_custody


# --- the columns ----------------------------------------------------------------------------

INCIDENT_COLUMNS: list[Column] = [
    Column(
        "incident_slug",
        _("Permanent identifier of the incident; its page is /incidents/<slug>/."),
        lambda incident, context: incident.slug,
    ),
    Column(
        "incident_url",
        _("Permanent link to the incident's page (not imported)."),
        lambda incident, context: incident.slug.join(context.incident_url_parts),
    ),
    Column("incident_title", _("Title of the incident."), lambda incident, context: incident.title),
    Column(
        "incident_kind",
        _("Kind of incident, as a code (see “Kinds of incident” below)."),
        lambda incident, context: incident.kind,
    ),
    Column(
        "incident_start_date",
        _(
            "When it happened, at the precision known: 2022-01-07 (a day), 2022-01 (a month) "
            "or 2022 (a year). Empty if unknown."
        ),
        lambda incident, context: _iso(incident.start),
    ),
    Column(
        "incident_start_date_precision",
        _("How precisely the date is known: day, month, year or approximate."),
        lambda incident, context: _precision(incident.start),
    ),
    Column(
        "incident_end_date",
        _("When it ended, if it lasted and the end is known, in the same form."),
        lambda incident, context: _iso(incident.end),
    ),
    Column(
        "incident_end_date_precision",
        _("How precisely the end date is known."),
        lambda incident, context: _precision(incident.end),
    ),
    Column(
        "situation_slug",
        _(
            "Identifier of the wider situation the incident belongs to; its page is "
            "/situations/<slug>/."
        ),
        _situation_slug,
    ),
    Column(
        "place_slug",
        _("Identifier of the most precise place known; its page is /places/<slug>/."),
        lambda incident, context: incident.location.slug,
    ),
    Column(
        "place_name",
        _("Name of that place in Latin script."),
        lambda incident, context: incident.location.name,
    ),
    Column(
        "place_country",
        _("Country of the place, as an ISO 3166 code (KZ, KG…)."),
        lambda incident, context: incident.location.country.code,
    ),
    Column(
        "place_latitude",
        _("Latitude of the place (WGS 84), if recorded; the place's page says how precise."),
        lambda incident, context: _coordinate(incident.location.latitude),
    ),
    Column(
        "place_longitude",
        _("Longitude of the place (WGS 84), if recorded."),
        lambda incident, context: _coordinate(incident.location.longitude),
    ),
    Column(
        "reported_detained_count",
        _(
            "Number of people reported detained, which may exceed the people named. Empty if "
            "no number was reported."
        ),
        lambda incident, context: incident.reported_detained_count,
    ),
    Column(
        "reported_released_count",
        _("Number of people reported released. Empty if no number was reported."),
        lambda incident, context: incident.reported_released_count,
    ),
    Column(
        "reported_count_note",
        _("The source's words when it gives no exact number, e.g. “tens of”."),
        lambda incident, context: incident.reported_count_note,
    ),
    Column(
        "verification",
        _("How well the incident is verified, as a code (see “Verification status” below)."),
        lambda incident, context: incident.verification,
    ),
    Column("summary", _("One-paragraph summary."), lambda incident, context: incident.summary),
    Column(
        "description",
        _("Longer account of what happened."),
        lambda incident, context: incident.description,
    ),
    Column(
        "source_urls",
        _("Addresses of the sources of the incident, separated by spaces."),
        lambda incident, context: _source_urls(incident.export_sources),
        separator=" ",
    ),
    Column(
        "updated_at",
        _("When the record last changed (ISO 8601, UTC; not imported)."),
        lambda incident, context: incident.updated_at.isoformat(),
    ),
]

# The incident's columns repeated on each detention row, so a row stands on its own.
INCIDENT_KEY_COLUMN_NAMES = [
    "incident_slug",
    "incident_title",
    "incident_kind",
    "incident_start_date",
    "incident_start_date_precision",
    "place_slug",
]
INCIDENT_KEY_COLUMNS = [c for c in INCIDENT_COLUMNS if c.name in INCIDENT_KEY_COLUMN_NAMES]

DETENTION_COLUMNS: list[Column] = [
    Column(
        "person_slug",
        _(
            "Identifier of the person; their page is /people/<slug>/. Empty when the identity "
            "is withheld."
        ),
        _person_field("slug"),
    ),
    Column(
        "person_name",
        _(
            "Name in Latin script, given name first. A withheld identity appears only as a "
            "neutral label such as “Person withheld, citizen of Kyrgyzstan”."
        ),
        _person_name,
    ),
    Column(
        "person_name_native",
        _("Name in its own script (e.g. Cyrillic), if known. Empty when the identity is withheld."),
        _person_field("name_native"),
    ),
    Column(
        "person_identity_withheld",
        _("true when the person's identity is not published, else false."),
        lambda detention, context: detention.person.identity_withheld,
    ),
    Column(
        "person_citizenship",
        _("Citizenship, as an ISO 3166 code (KG, KZ…). Empty if unknown."),
        lambda detention, context: detention.person.citizenship.code or None,
    ),
    Column(
        "person_sex",
        _("female, male or other, if known. Empty when the identity is withheld."),
        _person_field("sex"),
    ),
    Column(
        "person_birth_year",
        _("Year of birth, if known. Empty when the identity is withheld."),
        _person_field("birth_year"),
    ),
    Column(
        "role",
        _("The person's part in the incident: detainee, victim or witness."),
        lambda detention, context: detention.role,
    ),
    Column(
        "detained_on",
        _("When the person was detained, at the precision known (2022-01-07, 2022-01, 2022)."),
        lambda detention, context: _iso(detention.detained),
    ),
    Column(
        "detained_on_precision",
        _("How precisely that date is known: day, month, year or approximate."),
        lambda detention, context: _precision(detention.detained),
    ),
    Column(
        "released_on",
        _(
            "When the person was released or handed over, in the same form. Empty if no "
            "release is recorded."
        ),
        lambda detention, context: _iso(detention.released),
    ),
    Column(
        "released_on_precision",
        _("How precisely the release date is known."),
        lambda detention, context: _precision(detention.released),
    ),
    Column(
        "days_in_custody",
        _(
            "Whole days from detention to release, only when both days are known exactly (not "
            "imported)."
        ),
        _days_in_custody,
    ),
    Column(
        "custody_place_slug",
        _("Identifier of the place where the person was held, if known."),
        lambda detention, context: _place(detention.custody_location, context),
    ),
    Column(
        "release_place_slug",
        _("Identifier of the place of release or handover, if known."),
        lambda detention, context: _place(detention.release_location, context),
    ),
    Column(
        "outcome",
        _("What became of the person, as a code (see “Outcomes” below)."),
        lambda detention, context: detention.outcome,
    ),
    Column(
        "allegations",
        _(
            "What was alleged about the detention, as codes separated by “;” (see "
            "“Allegations” below)."
        ),
        lambda detention, context: [a.kind for a in detention.allegations.all()],
    ),
    Column(
        "charges",
        _("Charges brought, in the source's words."),
        lambda detention, context: detention.charges,
    ),
    Column(
        "details",
        _("Other details of the detention."),
        lambda detention, context: detention.details,
    ),
    Column(
        "source_urls",
        _("Addresses of the sources of the detention, separated by spaces."),
        lambda detention, context: _source_urls(detention.export_sources),
        separator=" ",
    ),
]

DETENTION_ROW_COLUMNS = INCIDENT_KEY_COLUMNS + DETENTION_COLUMNS


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
            Prefetch(
                "export_detentions__allegations",
                queryset=Allegation.objects.order_by("kind", "pk"),
            ),
            Prefetch(
                "export_detentions__sources",
                queryset=visible_sources.order_by("pk"),
                to_attr="export_sources",
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
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return column.separator.join(value)
    return str(value)


class _Echo:
    """A file-like object whose write() returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


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
    writer = csv.writer(_Echo())
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
    writer = csv.writer(_Echo())
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
