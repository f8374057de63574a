"""The columns of the exports, defined once as (name, description, getter): the one column
vocabulary of every table file the site hands out.

The page exports (`/incidents/export.csv`, `detentions.csv`, `export.json`,
`/statements/export.csv`), the API's CSV of incidents, detentions and statements (the same
columns, whatever filter selected the rows), the "About the data" page and the CSV importer
(`incidents.importer`, which reads the detentions CSV back) all read these lists, through
`incidents.exports`, so a column cannot be exported without being documented, the page and
the API cannot drift apart, and the import format is the export's.

To add a column, add a `Column` to its list (`INCIDENT_COLUMNS`, `DETENTION_COLUMNS`,
`STATEMENT_COLUMNS`): name, description (shown on the About page, translated) and getter
(`(record, context) -> value`; a list is joined with the column's `separator` in CSV).
What the getter reads must be fetched by the list's queryset in `incidents.exports`
(`select_related`/`prefetch_related`), or the export makes a query per row; the query-count
tests say so. A column only staff may see has `staff_only=True`. A new detention column the
importer must not read goes into `importer.NOT_IMPORTED_COLUMNS`.

Codes rather than labels, dates at their known precision with the precision beside them,
places and persons by slug. A withheld person is the neutral public label with no slug, native
name, sex or birth year for anyone but staff, and no column holds a staff-only note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cabar_tracker.publishing import can_see_unpublished, name_shown_to
from incidents.accounts import asserted_by_for, value_code
from incidents.models import Detention, Incident, Source, Statement
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
    # Shown to staff only (in their exports, API CSV and on the About page, marked so).
    staff_only: bool = False


def columns_for(columns: list[Column], *, for_staff: bool) -> list[Column]:
    """The columns a reader gets: every column for staff, the public ones for the public."""
    return [column for column in columns if for_staff or not column.staff_only]


def of_incident(column: Column) -> Column:
    """An incident's column read on a row of one of its detentions (`detention.incident`)."""
    return replace(
        column, value=lambda detention, context: column.value(detention.incident, context)
    )


# --- getters --------------------------------------------------------------------------------


def _iso(date: PartialDate | None) -> str | None:
    return date.iso() if date else None


def _precision(date: PartialDate | None) -> str | None:
    return date.precision if date else None


def _coordinate(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _cited(sources: Iterable[Source]) -> list[Source]:
    """A row's sources in the order both source columns list them: those with a web address
    first, so the first titles name the addresses of `source_urls` one for one, then those
    without one (a testimony, a printed article), by title only."""
    return sorted(sources, key=lambda source: (not source.url, source.pk))


def _source_urls(sources: Iterable[Source]) -> list[str]:
    return [source.url for source in _cited(sources) if source.url]


def _source_titles(sources: Iterable[Source]) -> list[str]:
    # One title a line: a title may hold any other separator ("Kazakhstan: 38 detained;
    # released"), never a line break once these are folded.
    return [" ".join(source.title.split()) for source in _cited(sources)]


def _publication_state(record, context: ExportContext) -> str:
    return record.publication_state


PUBLICATION_STATE_DESCRIPTION = _(
    "Staff only: draft, in_review or published (a staff export holds drafts as well; not imported)."
)
SOURCE_TITLES_DESCRIPTION = _(
    "Titles of the sources, one a line: first those of source_urls, in the same order, then "
    "those with no web address (not imported)."
)


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
        "reported_by_citizenship",
        _(
            "Numbers of people reported detained by citizenship, as code:number separated by "
            "“;” (KG:38;UZ:2); “?” when the source gives no exact number (KG:?). People "
            "named in the case are counted in the detentions, not here (not imported)."
        ),
        lambda incident, context: [group.compact for group in incident.reported_groups.all()],
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
        "source_titles",
        SOURCE_TITLES_DESCRIPTION,
        lambda incident, context: _source_titles(incident.export_sources),
        separator="\n",
    ),
    Column(
        "updated_at",
        _("When the record last changed (ISO 8601, UTC; not imported)."),
        lambda incident, context: incident.updated_at.isoformat(),
    ),
    Column("publication_state", PUBLICATION_STATE_DESCRIPTION, _publication_state, staff_only=True),
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
    Column(
        "source_titles",
        SOURCE_TITLES_DESCRIPTION,
        lambda detention, context: _source_titles(detention.export_sources),
        separator="\n",
    ),
    Column("publication_state", PUBLICATION_STATE_DESCRIPTION, _publication_state, staff_only=True),
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

# Before the staff-only columns, which come last in every table.
_first_staff_only = next(i for i, c in enumerate(DETENTION_COLUMNS) if c.staff_only)
DETENTION_COLUMNS[_first_staff_only:_first_staff_only] = [
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

# A row of the detentions CSV (page and API): the detention with its incident's key columns.
DETENTION_ROW_COLUMNS = [of_incident(column) for column in INCIDENT_KEY_COLUMNS] + DETENTION_COLUMNS


# --- statements -----------------------------------------------------------------------------


def _speaker_slug(statement: Statement, context: ExportContext) -> str | None:
    speaker = statement.speaker_person
    if speaker is None or not name_shown_to(speaker, context.user):
        return None
    return speaker.slug


def _speaker_name(statement: Statement, context: ExportContext) -> str | None:
    speaker = statement.speaker_person
    return speaker.name_for(context.user) if speaker is not None else None


def _speaker_position(statement: Statement, context: ExportContext) -> str | None:
    """The post held then; nothing when the speaker's name is not shown: a post ("head of
    the unit") would name them."""
    speaker, position = statement.speaker_person, statement.position
    if position is None or (speaker is not None and not name_shown_to(speaker, context.user)):
        return None
    return position.title


def _organization(name: str) -> Callable[[Statement, ExportContext], Value]:
    def value(statement: Statement, context: ExportContext) -> Value:
        organization = statement.speaker_organization
        return getattr(organization, name) if organization is not None else None

    return value


def _named_first(statement: Statement, context: ExportContext) -> list:
    """The people a statement is about, those whose names this reader sees first, so the
    first names of `person_names` are those of `person_slugs` one for one."""
    people = statement.export_people
    return sorted(people, key=lambda person: (not name_shown_to(person, context.user), person.pk))


STATEMENT_COLUMNS: list[Column] = [
    Column(
        "statement_id",
        _("Permanent number of the statement; its page is /statements/<id>/."),
        lambda statement, context: statement.pk,
    ),
    Column(
        "statement_url",
        _("Permanent link to the statement's page."),
        lambda statement, context: (
            context.site_url + reverse("incidents:statement_detail", kwargs={"pk": statement.pk})
        ),
    ),
    Column(
        "said_on",
        _("When it was said, at the precision known (2022-01-07, 2022-01, 2022)."),
        lambda statement, context: _iso(statement.said),
    ),
    Column(
        "said_on_precision",
        _("How precisely that date is known: day, month, year or approximate."),
        lambda statement, context: _precision(statement.said),
    ),
    Column(
        "statement_kind",
        _(
            "Kind of statement, as a code: claim, denial, protest, demand, assurance, "
            "acknowledgement, testimony (an account by the person concerned) or comment (an "
            "expert's)."
        ),
        lambda statement, context: statement.kind,
    ),
    Column(
        "medium",
        _(
            "How it was made public, as a code: press_release, remarks, speech, "
            "social_media, television, interview, report or other. Empty if unknown."
        ),
        lambda statement, context: statement.medium,
    ),
    Column(
        "text",
        _("The words, quoted or summarised (see is_direct_quote)."),
        lambda statement, context: statement.text,
    ),
    Column(
        "is_direct_quote",
        _("true when text quotes the speaker's words, false when it summarises them."),
        lambda statement, context: statement.is_direct_quote,
    ),
    Column(
        "language",
        _("Language the statement was made in, as a code (ru, ky, en…)."),
        lambda statement, context: statement.language,
    ),
    Column(
        "speaker_person_slug",
        _(
            "Identifier of the person who spoke; their page is /people/<slug>/. Empty when "
            "the identity is withheld."
        ),
        _speaker_slug,
    ),
    Column(
        "speaker_person_name",
        _("Name of the person who spoke, or a neutral label when the identity is withheld."),
        _speaker_name,
    ),
    Column(
        "speaker_position",
        _("The post the speaker held then. Empty when unknown or the identity is withheld."),
        _speaker_position,
    ),
    Column(
        "speaker_organization_slug",
        _(
            "Identifier of the body that spoke or on whose behalf; its page is "
            "/organizations/<slug>/."
        ),
        _organization("slug"),
    ),
    Column(
        "speaker_organization_name",
        _("Name of that body."),
        _organization("name"),
    ),
    Column(
        "situation_slug",
        _("Identifier of the wider situation the statement belongs to."),
        lambda statement, context: (
            statement.situation.slug if context.shows(statement.situation) else None
        ),
    ),
    Column(
        "incident_slugs",
        _(
            "The cases the statement is about, as incident identifiers separated by spaces "
            "(each page is /incidents/<slug>/)."
        ),
        lambda statement, context: [incident.slug for incident in statement.export_incidents],
        separator=" ",
    ),
    Column(
        "person_slugs",
        _(
            "Identifiers of the people the statement is about, separated by spaces; a "
            "withheld identity has none."
        ),
        lambda statement, context: [
            person.slug
            for person in _named_first(statement, context)
            if name_shown_to(person, context.user)
        ],
        separator=" ",
    ),
    Column(
        "person_names",
        _(
            "Names of the people the statement is about, separated by “;”: first those of "
            "person_slugs, in the same order, then the neutral labels of withheld identities."
        ),
        lambda statement, context: [
            person.name_for(context.user) for person in _named_first(statement, context)
        ],
        separator="; ",
    ),
    Column(
        "dispute_status",
        _(
            "Whether the statement was later disputed or refuted, as a code (see "
            "“Statements later disputed” below)."
        ),
        lambda statement, context: statement.dispute_status,
    ),
    Column(
        "dispute_note",
        _("Who disputed or refuted it, and how."),
        lambda statement, context: statement.dispute_note,
    ),
    Column(
        "source_urls",
        _("Addresses of the sources of the statement, separated by spaces."),
        lambda statement, context: _source_urls(statement.export_sources),
        separator=" ",
    ),
    Column(
        "source_titles",
        SOURCE_TITLES_DESCRIPTION,
        lambda statement, context: _source_titles(statement.export_sources),
        separator="\n",
    ),
    Column(
        "updated_at",
        _("When the record last changed (ISO 8601, UTC)."),
        lambda statement, context: statement.updated_at.isoformat(),
    ),
    Column("publication_state", PUBLICATION_STATE_DESCRIPTION, _publication_state, staff_only=True),
]

# The tables, by the name their files and the API's resources carry.
TABLES: dict[str, list[Column]] = {
    "incidents": INCIDENT_COLUMNS,
    "detentions": DETENTION_ROW_COLUMNS,
    "statements": STATEMENT_COLUMNS,
}
