"""The columns of the exports, defined once as (name, description, getter).

The CSV and JSON writers (`incidents.public.exports`), the "About the data" page and the CSV
importer (`incidents.importer`, which reads the detentions CSV back) all use these lists, so a
column cannot be exported without being documented, and the import format is the export's.

Codes rather than labels, dates at their known precision with the precision beside them,
places and persons by slug. A withheld person is the neutral public label with no slug, native
name, sex or birth year for anyone but staff, and no column holds a staff-only note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cabar_tracker.publishing import can_see_unpublished
from incidents.accounts import asserted_by_for, value_code
from incidents.models import Detention, Incident, Source
from incidents.partial_dates import PartialDate

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


def _custody_bound(index: int) -> Callable[[Detention, ExportContext], int | None]:
    def value(detention: Detention, context: ExportContext) -> int | None:
        bounds = detention.custody_bounds
        return bounds[index] if bounds is not None else None

    return value


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
        "days_in_custody_min",
        _(
            "The fewest whole days the person may have been held, each date taken at its "
            "precision (“January 2022” to 10 January 2022: 0). Equal to days_in_custody when "
            "both days are known exactly; empty when a date is unknown (not imported)."
        ),
        _custody_bound(0),
    ),
    Column(
        "days_in_custody_max",
        _(
            "The most whole days the person may have been held, in the same way "
            "(“January 2022” to 10 January 2022: 9; not imported)."
        ),
        _custody_bound(1),
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

# --- attributed accounts (issue 13, item 3) ---------------------------------------------------
#
# The record's columns above hold the preferred value of each fact; `other_accounts` lists
# the other accounts of the row's facts as text, each with who asserts it and its sources'
# addresses (the exports prefetch them as `export_accounts`).


def _account_text(account, context: ExportContext, prefix: str = "") -> str:
    """ "arrest_place: samsy — Vikram Ruzakhunov, speaking to Viory — https://…"."""
    fact = f"{account.fact}[{prefix}]" if prefix else account.fact
    rank = "" if account.rank == "normal" else f" ({account.rank})"
    parts = [f"{fact}: {value_code(account)}{rank}"]
    who = asserted_by_for(account, context.user)
    if who:
        parts.append(who)
    urls = _source_urls(account.export_sources)
    if urls:
        parts.append(" ".join(urls))
    return " — ".join(parts)


def _other_accounts(record, context: ExportContext) -> list[str]:
    texts = [_account_text(a, context) for a in getattr(record, "export_accounts", ())]
    allegations = record.allegations.all() if isinstance(record, Detention) else ()
    for allegation in allegations:
        texts += [
            _account_text(a, context, allegation.kind)
            for a in getattr(allegation, "export_accounts", ())
        ]
    return texts


OTHER_ACCOUNTS_DESCRIPTION = _(
    "The other accounts of the row's facts, where sources tell them differently, separated "
    "by “ | ”: the fact, the value (in the form of its column), who asserts it and the "
    "addresses of its sources, e.g. “arrest_place: samsy — Vikram Ruzakhunov, speaking to "
    "Viory — https://…”. The row's own columns hold the preferred account (not imported)."
)

INCIDENT_COLUMNS.insert(
    next(i for i, c in enumerate(INCIDENT_COLUMNS) if c.name == "updated_at"),
    Column("other_accounts", OTHER_ACCOUNTS_DESCRIPTION, _other_accounts, separator=" | "),
)

DETENTION_COLUMNS += [
    Column(
        "arrest_place_slug",
        _("Identifier of the place where the person was arrested, if known."),
        lambda detention, context: _place(detention.arrest_location, context),
    ),
    Column(
        "detaining_organization_slug",
        _("Identifier of the organization that detained the person, if known."),
        lambda detention, context: (
            detention.detaining_organization.slug if detention.detaining_organization_id else None
        ),
    ),
    Column(
        "detaining_authority",
        _("Who detained the person, in the source's words, when no organization is known."),
        lambda detention, context: detention.detaining_authority_text,
    ),
    Column(
        "reported_age",
        _("The person's age at the time, as reported."),
        lambda detention, context: detention.reported_age,
    ),
    Column(
        "allegation_statuses",
        _(
            "Whether each allegation stands, as kind:status separated by “;” (alleged, "
            "denied, retracted, confirmed; not imported)."
        ),
        lambda detention, context: [f"{a.kind}:{a.status}" for a in detention.allegations.all()],
    ),
    Column("other_accounts", OTHER_ACCOUNTS_DESCRIPTION, _other_accounts, separator=" | "),
]

DETENTION_ROW_COLUMNS = INCIDENT_KEY_COLUMNS + DETENTION_COLUMNS
