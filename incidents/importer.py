"""Bulk import of detentions from CSV, in the columns of the detentions export.

The format is the detentions CSV whose columns `incidents.columns` defines and documents (the
"About the data" page lists them): one row per detention, with its incident's key columns. A file
exported by staff can be edited and imported back; a hand-made file needs only the columns it
uses, and at least `incident_slug` and `person_name` (either may be empty in a row). A few more
columns, which the detentions export does not have, give what a new case needs to be
published without editing it by hand (`IMPORT_ONLY_COLUMNS`): the incident's `summary`,
`description` and `situation_slug`, and the `source_title` of a new source.

How a row finds its records:

- incident: by `incident_slug`; an unknown slug, or an empty one, creates an incident from
  `incident_title`, `incident_kind`, `place_slug` (and the start date, `summary`,
  `description` and `situation_slug` if given). With an empty slug, an existing incident with
  the same title, place and date is reused, so importing the same file twice does not create
  it twice. An existing incident is never changed.
- person: by `person_slug` if it is known (the row's name must then be one of that person's
  names); else by the same normalized name (any script, see `people.names.name_key`) and the
  same citizenship; else a new person. An existing person is never changed, except that
  `person_identity_withheld=true` withholds the identity: the import can make a record more
  private, never less.
- detention: one per incident and person (a database constraint); an existing one is
  updated with the row's values, for the columns the file has.
- sources: by URL (an address already recorded is found whatever the case of its scheme and
  host, or a trailing slash), created when new, titled `source_title` (or the URL); added to
  the detention, and to the incident and the person when the import creates them, so a new
  case cites its source on every record; never removed.
- a published record (a detention updated, its sources, an allegation added to it, an identity
  withheld) is not changed by an editor's import: the change is proposed for a reviewer
  (`incidents.revisions`), as on the edit pages.
- allegations: the kinds listed are added when missing, never removed (an allegation may
  carry who alleged it and in which statement, which the file does not hold).

Every row is checked before anything is written, in two passes over the file:

1. the check writes nothing and takes no write lock (so on SQLite other users keep writing
   while a long file is checked): it calls `full_clean()` on each record it would write, and
   remembers the records earlier rows would create, so later rows find them as the import
   will; a dry run stops here;
2. if no row has an error, the import runs again in one transaction, which is the authority:
   any error there (a colleague's change since the check) rolls everything back.

So a file imports completely or not at all. Records it creates are drafts, and their history
names the importing user. Both passes report their progress to an optional callback (the
import job's progress page, `incidents.import_jobs`).
"""

from __future__ import annotations

import csv
import datetime
import re
import unicodedata
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, models, transaction
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_countries import countries

from cabar_tracker.publishing import PublicationState
from incidents import revisions
from incidents.columns import DETENTION_ROW_COLUMNS
from incidents.models import (
    Allegation,
    AllegationKind,
    Detention,
    DetentionRole,
    Incident,
    IncidentKind,
    Location,
    Outcome,
    Situation,
    Source,
    normalized_url,
)
from incidents.partial_dates import DatePrecision
from people.models import Organization, Person, Sex, new_withheld_slug
from people.names import name_key, transliterate

# Export columns that are derived or descriptive and so are read from no file.
NOT_IMPORTED_COLUMNS = frozenset(
    {
        "days_in_custody",
        "days_in_custody_min",
        "days_in_custody_max",
        # A source is cited by its address (source_urls); a new one is titled by source_title.
        "source_titles",
        # Publishing is a reviewer's decision, never a column's.
        "publication_state",
        # An allegation's status and the other accounts are entered on the staff pages, each
        # with its sources and who asserts it: a cell of text cannot say that.
        "allegation_statuses",
        "other_accounts",
    }
)
COLUMNS = [column.name for column in DETENTION_ROW_COLUMNS]
IMPORTED_COLUMNS = [name for name in COLUMNS if name not in NOT_IMPORTED_COLUMNS]
REQUIRED_COLUMNS = ("incident_slug", "person_name")


@dataclass(frozen=True)
class ImportColumn:
    name: str
    description: str


# Columns the import reads that the detentions export does not write: what a new case needs
# to be published as imported. Named as in the incidents export.
IMPORT_ONLY_COLUMNS = [
    ImportColumn(
        "summary",
        _lazy(
            "One-paragraph public summary of the incident, for an incident the row creates "
            "(a reviewer publishes an incident only with one)."
        ),
    ),
    ImportColumn(
        "description",
        _lazy("Longer account of what happened, for an incident the row creates."),
    ),
    ImportColumn(
        "situation_slug",
        _lazy(
            "Identifier of the wider situation, already recorded, for an incident the row "
            "creates; its page is /situations/<slug>/."
        ),
    ),
    ImportColumn(
        "source_title",
        _lazy(
            "Title of the source, when source_urls holds one address not yet recorded (a new "
            "source is otherwise titled with its address)."
        ),
    ),
]
ACCEPTED_COLUMNS = COLUMNS + [column.name for column in IMPORT_ONLY_COLUMNS]

# The models the import writes, in the order its summary lists them.
IMPORTED_MODELS = (Incident, Person, Detention, Source, Allegation)

# Which column to blame for a model's validation error on a field.
INCIDENT_FIELD_COLUMNS = {
    "title": "incident_title",
    "slug": "incident_slug",
    "kind": "incident_kind",
    "start_date": "incident_start_date",
    "start_date_precision": "incident_start_date_precision",
    "location": "place_slug",
    "summary": "summary",
    "description": "description",
    "situation": "situation_slug",
}
SOURCE_FIELD_COLUMNS = {"url": "source_urls", "title": "source_title"}
PERSON_FIELD_COLUMNS = {
    "name": "person_name",
    "name_native": "person_name_native",
    "slug": "person_slug",
    "citizenship": "person_citizenship",
    "sex": "person_sex",
    "birth_year": "person_birth_year",
}
DETENTION_FIELD_COLUMNS = {
    "role": "role",
    "detained_on": "detained_on",
    "detained_on_precision": "detained_on_precision",
    "released_on": "released_on",
    "released_on_precision": "released_on_precision",
    "custody_location": "custody_place_slug",
    "release_location": "release_place_slug",
    "arrest_location": "arrest_place_slug",
    "detaining_organization": "detaining_organization_slug",
    "detaining_authority_text": "detaining_authority",
    "reported_age": "reported_age",
    "outcome": "outcome",
    "charges": "charges",
    "details": "details",
}

# The detention fields a row sets, by the column (or date column) that carries them.
DETENTION_COLUMN_FIELDS = {
    "role": ["role"],
    "detained_on": ["detained_on", "detained_on_precision"],
    "released_on": ["released_on", "released_on_precision"],
    "custody_place_slug": ["custody_location_id"],
    "release_place_slug": ["release_location_id"],
    "arrest_place_slug": ["arrest_location_id"],
    "detaining_organization_slug": ["detaining_organization_id"],
    "detaining_authority": ["detaining_authority_text"],
    "reported_age": ["reported_age"],
    "outcome": ["outcome"],
    "charges": ["charges"],
    "details": ["details"],
}

# "2022", "2022-01" or "2022-01-07": the form of the date says how precisely it is known.
DATE_FORMS = [
    (re.compile(r"^(\d{4})$"), DatePrecision.YEAR),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), DatePrecision.MONTH),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), DatePrecision.DAY),
]
# Precisions a date of each form may declare: an exact day may be "around" that day.
PRECISIONS_OF_FORM = {
    DatePrecision.YEAR: {DatePrecision.YEAR},
    DatePrecision.MONTH: {DatePrecision.MONTH},
    DatePrecision.DAY: {DatePrecision.DAY, DatePrecision.APPROXIMATE},
}
TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes"}, {"false", "0", "no", ""}


@dataclass(frozen=True)
class RowError:
    """One problem, at a row of the file (the header is row 1) and a column (None: the row)."""

    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = _("row %(row)s") % {"row": self.row}
        if self.column:
            where += ", " + _("column %(column)s") % {"column": self.column}
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ImportedRecord:
    """A record the import created, changed, or proposed a change to, for the report's links."""

    model: type[models.Model]
    pk: int
    label: str
    action: str  # "created", "updated" or "proposed"


@dataclass
class ImportReport:
    rows: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    created: dict[type[models.Model], int] = field(default_factory=dict)
    updated: dict[type[models.Model], int] = field(default_factory=dict)
    unchanged_detentions: int = 0
    # Changes to published records, waiting for a reviewer.
    proposed: int = 0
    records: list[ImportedRecord] = field(default_factory=list)
    _kept: set[tuple[type[models.Model], int]] = field(default_factory=set, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, row: int, column: str | None, message: str) -> None:
        self.errors.append(RowError(row, column, str(message)))

    def count(self, model: type[models.Model], *, created: bool) -> None:
        counts = self.created if created else self.updated
        counts[model] = counts.get(model, 0) + 1

    def keep(self, record: models.Model, label: str, action: str) -> None:
        """Note a record written, once (its first action), for the report's links."""
        key = (type(record), _key(record))
        if key not in self._kept:
            self._kept.add(key)
            self.records.append(ImportedRecord(type(record), record.pk, label, action))

    def records_of(self, model: type[models.Model]) -> list[ImportedRecord]:
        return [record for record in self.records if record.model is model]

    def summary(self) -> list[tuple[str, int, int]]:
        """(records, created, updated) per model, in a fixed order."""
        return [
            (
                str(model._meta.verbose_name_plural),
                self.created.get(model, 0),
                self.updated.get(model, 0),
            )
            for model in IMPORTED_MODELS
        ]


def _key(record: models.Model):
    """A key for a record, saved or not (the check saves nothing)."""
    return record.pk if record.pk is not None else ("unsaved", id(record))


class _RowFailed(Exception):
    """A row has an error: undo what the row wrote so far (its savepoint) and go on."""


# Called as progress(stage, rows_done, rows_total): stage is "checking" or "writing".
ProgressCallback = Callable[[str, int, int], None]
# How often the passes report progress, in rows.
PROGRESS_EVERY = 100


def import_detentions(
    *,
    lines: Iterable[str],
    user=None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import the detentions of a CSV file (text lines, e.g. an open file or a StringIO).

    All or nothing: when any row has an error, or on a dry run, nothing is kept, and the
    report lists every error found with its row and column. `user` is recorded in the
    history of what is written. The file is checked first without writing anything; only a
    file without errors is written, in one transaction (see the module's docstring).
    """
    report = ImportReport(dry_run=dry_run)
    parsed = _read_rows(lines, report)
    if parsed is None:
        return report
    header, rows = parsed
    report = _run_pass(header, rows, user, dry_run=dry_run, write=False, progress=progress)
    if not report.ok or dry_run:
        return report
    with transaction.atomic():
        report = _run_pass(header, rows, user, dry_run=False, write=True, progress=progress)
        if not report.ok:
            transaction.set_rollback(True)
    return report


def _read_rows(lines: Iterable[str], report: ImportReport):
    """The header and the numbered rows of the file, or None (with errors in the report)."""
    reader = csv.DictReader(lines)
    try:
        # Spreadsheets sometimes pad the names of the columns with spaces.
        header = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = header
    except csv.Error as error:
        report.add_error(1, None, _("The file is not readable CSV: %(error)s") % {"error": error})
        return None
    if not _check_header(header, report):
        return None
    try:
        rows = [(index + 2, row) for index, row in enumerate(reader)]
    except csv.Error as error:
        report.add_error(
            reader.line_num, None, _("The file is not readable CSV: %(error)s") % {"error": error}
        )
        return None
    return header, rows


def _run_pass(
    header: list[str],
    rows: list[tuple[int, dict]],
    user,
    *,
    dry_run: bool,
    write: bool,
    progress: ProgressCallback | None,
) -> ImportReport:
    """One pass over the rows: a check that writes nothing, or the import itself (inside
    the caller's transaction, each row in a savepoint so that every error is reported)."""
    report = ImportReport(dry_run=dry_run)
    importer = _Importer(header, report, user, write=write)
    stage = "writing" if write else "checking"
    for done, (number, row) in enumerate(rows):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(stage, done, len(rows))
        cells = {name: (value or "").strip() for name, value in row.items() if name}
        if None in row:
            report.add_error(number, None, _("The row has more cells than the header."))
            continue
        if not any(cells.values()):
            continue  # Spreadsheets leave blank lines at the end; they are not rows.
        report.rows += 1
        try:
            with transaction.atomic() if write else nullcontext():
                importer.import_row(number, cells)
        except _RowFailed:
            pass
    if progress is not None:
        progress(stage, len(rows), len(rows))
    if not report.rows and not report.errors:
        report.add_error(2, None, _("The file has no rows to import."))
    return report


def _date_form(text: str) -> tuple[str | None, list[int]]:
    """The precision a date's form gives ("2022-01" is a month) and its numbers."""
    for pattern, form in DATE_FORMS:
        match = pattern.match(text)
        if match:
            return form, [int(part) for part in match.groups()]
    return None, []


def _public_labels(citizenship: str) -> set[str]:
    """The neutral labels an export shows instead of a withheld name, in English and in the
    current language: a file exported by an anonymous reader holds these, not names."""
    labels = set()
    for language in ("en", None):
        with translation.override(language) if language else nullcontext():
            labels |= {str(Person(citizenship=citizenship).public_label), _("Person withheld")}
    return labels


def _check_header(header: list[str], report: ImportReport) -> bool:
    if not header:
        report.add_error(1, None, _("The file is empty: the first row must name the columns."))
        return False
    seen = set()
    for name in header:
        if name in seen:
            report.add_error(1, name, _("This column appears twice."))
        elif name not in ACCEPTED_COLUMNS:
            report.add_error(
                1,
                name,
                _(
                    "Unknown column. Use the columns of the detentions export (and those listed "
                    "on the import page)."
                ),
            )
        seen.add(name)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            report.add_error(1, name, _("This column is required (its cells may be empty)."))
    return not report.errors


class _Importer:
    """Imports one row at a time into the open transaction, recording errors in the report."""

    def __init__(self, header: list[str], report: ImportReport, user, *, write: bool = True):
        self.columns = set(header)
        self.report = report
        self.user = user if user is not None and user.is_authenticated else None
        # False: the check, which validates every record but saves none.
        self.write = write
        self.places: dict[str, Location] = {}
        self.situations: dict[str, Situation | None] = {}
        self.detentions_seen: dict[tuple, int] = {}
        # Records this import created: they cite the sources of every row about them.
        self.new_incidents: set = set()
        self.new_persons: set = set()
        # What the check would have created (unsaved), so that later rows find these records
        # as the import finds them in the database; and the persons it would have withheld.
        self.unsaved_incidents: dict[str, Incident] = {}
        self.unsaved_incidents_by_key: dict[tuple, Incident] = {}
        self.unsaved_persons: dict[str, Person] = {}
        self.unsaved_persons_by_name: dict[tuple[str, str], list[Person]] = {}
        self.unsaved_sources: dict[str, Source] = {}
        self.withheld: dict[int, bool] = {}
        # What the current row added to those, forgotten if the row fails (as the import's
        # savepoint forgets what a failed row wrote).
        self.row_remembered: list[tuple[dict, object]] = []

    # --- one row ---------------------------------------------------------------------------

    def import_row(self, number: int, cells: dict[str, str]) -> None:
        self.row_remembered = []
        try:
            self._import_row(number, cells)
        except _RowFailed:
            for mapping, key in self.row_remembered:
                mapping.pop(key, None)
            raise

    def _remember(self, mapping: dict, key, value) -> None:
        """In the check, note a record the import would have written, for later rows."""
        if not self.write:
            mapping[key] = value
            self.row_remembered.append((mapping, key))

    def _import_row(self, number: int, cells: dict[str, str]) -> None:
        self.number, self.cells, self.row_failed = number, cells, False
        for column, value in cells.items():
            # A NUL byte is refused by PostgreSQL (a 500) and stored raw by SQLite; other
            # control characters (but tabs and line breaks in a text) are no text either.
            if any(unicodedata.category(char) == "Cc" and char not in "\t\n\r" for char in value):
                self._error(column, _("The cell holds a control character (such as a NUL byte)."))
        if self.row_failed:
            raise _RowFailed
        values = self._parse_detention_values()
        allegation_kinds = self._parse_allegations()
        source_urls = self._parse_source_urls()
        source_title = self._cell("source_title")
        if source_title and len(source_urls) != 1 and "source_urls" not in self._failed_columns:
            self._error(
                "source_title",
                _("A title names one source: give one address in source_urls."),
            )
        incident = self._incident()
        person = self._person()
        if self.row_failed or incident is None or person is None:
            raise _RowFailed
        first_row = self.detentions_seen.get((_key(incident), _key(person)))
        if first_row is not None:
            self._fail(
                None,
                _("Row %(row)s already imports this person in this incident.") % {"row": first_row},
            )
        detention, status = self._save_detention(incident, person, values)
        sources = [self._source(url, source_title) for url in source_urls]
        new_sources = self._cite(detention, sources)
        # A new case cites its sources on every record (publishing asks each for one).
        if _key(incident) in self.new_incidents:
            self._cite(incident, sources)
        if _key(person) in self.new_persons:
            self._cite(person, sources)
        added_allegations = self._add_allegations(detention, allegation_kinds)
        if self.row_failed:
            raise _RowFailed
        # Only rows that succeed count: a failed row's records are rolled back, and their
        # ids may be handed out again.
        self.detentions_seen[(_key(incident), _key(person))] = number
        label = f"{person.name} · {incident.title}"
        if status == "created":
            self.report.count(Detention, created=True)
            self.report.keep(detention, label, "created")
        elif status != "unchanged" or new_sources or added_allegations:
            self.report.count(Detention, created=False)
            proposed = status == "proposed" or self._needs_review(detention)
            self.report.keep(detention, label, "proposed" if proposed else "updated")
        else:
            self.report.unchanged_detentions += 1

    def _error(self, column: str | None, message: str) -> None:
        self.report.add_error(self.number, column, message)
        self.row_failed = True

    @property
    def _failed_columns(self) -> set[str | None]:
        return {error.column for error in self.report.errors if error.row == self.number}

    def _fail(self, column: str | None, message: str):
        self._error(column, message)
        raise _RowFailed

    def _cell(self, column: str) -> str:
        return self.cells.get(column, "")

    # --- parsing cells ---------------------------------------------------------------------

    def _choice(self, column: str, choices: type[models.TextChoices], default: str = ""):
        value = self._cell(column)
        if not value:
            return default
        if value not in choices.values:
            self._error(
                column,
                _("“%(value)s” is not one of: %(choices)s.")
                % {"value": value, "choices": ", ".join(choices.values)},
            )
            return default
        return value

    def _date(self, column: str) -> tuple[datetime.date | None, str]:
        """A partial date and its precision, from the column and its `_precision` column."""
        text, precision_column = self._cell(column), f"{column}_precision"
        declared = self._cell(precision_column)
        if declared and declared not in DatePrecision.values:
            self._error(
                precision_column,
                _("“%(value)s” is not one of: %(choices)s.")
                % {"value": declared, "choices": ", ".join(DatePrecision.values)},
            )
            return None, ""
        if not text:
            if declared:
                self._error(column, _("A precision is given but no date."))
            return None, ""
        form, parts = _date_form(text)
        if form is None:
            self._error(
                column,
                _("“%(value)s” is not a date: write 2022-01-07, 2022-01 or 2022.")
                % {"value": text},
            )
            return None, ""
        try:
            value = datetime.date(parts[0], *(parts[1:] + [1] * (3 - len(parts))))
        except ValueError:
            self._error(column, _("“%(value)s” is not a real date.") % {"value": text})
            return None, ""
        if declared and declared not in PRECISIONS_OF_FORM[form]:
            self._error(
                precision_column,
                _("The date “%(date)s” is known to the %(form)s, not “%(precision)s”.")
                % {"date": text, "form": form, "precision": declared},
            )
            return None, ""
        return value, declared or form

    def _place(self, column: str) -> Location | None:
        slug = self._cell(column)
        if not slug:
            return None
        if slug not in self.places:
            self.places[slug] = Location.objects.filter(slug=slug).first()
        if self.places[slug] is None:
            self._error(column, _("No place has the slug “%(slug)s”.") % {"slug": slug})
        return self.places[slug]

    def _organization(self, column: str) -> Organization | None:
        slug = self._cell(column)
        if not slug:
            return None
        found = Organization.objects.filter(slug=slug).first()
        if found is None:
            self._error(column, _("No organization has the slug “%(slug)s”.") % {"slug": slug})
        return found

    def _age(self, column: str) -> int | None:
        text = self._cell(column)
        if not text:
            return None
        if not text.isdigit() or int(text) > 130:
            self._error(column, _("Give the age as a whole number of years, at most 130."))
            return None
        return int(text)

    def _parse_detention_values(self) -> dict[str, object]:
        """The detention's fields from the columns the file has."""
        values: dict[str, object] = {}
        if "role" in self.columns:
            values["role"] = self._choice("role", DetentionRole, DetentionRole.DETAINEE)
        if "outcome" in self.columns:
            values["outcome"] = self._choice("outcome", Outcome, Outcome.UNKNOWN)
        for column in ("detained_on", "released_on"):
            if column in self.columns:
                values[column], values[f"{column}_precision"] = self._date(column)
        for column, field_name in (
            ("custody_place_slug", "custody_location"),
            ("release_place_slug", "release_location"),
            ("arrest_place_slug", "arrest_location"),
        ):
            if column in self.columns:
                values[field_name] = self._place(column)
        if "detaining_organization_slug" in self.columns:
            values["detaining_organization"] = self._organization("detaining_organization_slug")
        if "detaining_authority" in self.columns:
            values["detaining_authority_text"] = self._cell("detaining_authority")
        if "reported_age" in self.columns:
            values["reported_age"] = self._age("reported_age")
        for column in ("charges", "details"):
            if column in self.columns:
                values[column] = self._cell(column)
        return values

    def _parse_allegations(self) -> list[str]:
        kinds = [kind.strip() for kind in self._cell("allegations").split(";") if kind.strip()]
        unknown = [kind for kind in kinds if kind not in AllegationKind.values]
        if unknown:
            self._error(
                "allegations",
                _("Unknown allegation kind(s): %(kinds)s. Use: %(choices)s.")
                % {"kinds": ", ".join(unknown), "choices": ", ".join(AllegationKind.values)},
            )
        return list(dict.fromkeys(kind for kind in kinds if kind in AllegationKind.values))

    def _parse_source_urls(self) -> list[str]:
        urls = list(dict.fromkeys(self._cell("source_urls").split()))
        validate = URLValidator(schemes=["http", "https"])
        good = []
        for url in urls:
            try:
                validate(url)
            except ValidationError:
                self._error("source_urls", _("“%(url)s” is not a web address.") % {"url": url})
                continue
            good.append(url)
        return good

    # --- finding or creating records -------------------------------------------------------

    def _situation(self) -> Situation | None:
        slug = self._cell("situation_slug")
        if not slug:
            return None
        if slug not in self.situations:
            self.situations[slug] = Situation.objects.not_archived().filter(slug=slug).first()
        if self.situations[slug] is None:
            self._error(
                "situation_slug",
                _("No situation has the slug “%(slug)s” (or it is archived).") % {"slug": slug},
            )
        return self.situations[slug]

    def _incident(self) -> Incident | None:
        slug = self._cell("incident_slug")
        title = self._cell("incident_title")
        kind = self._choice("incident_kind", IncidentKind)
        start_date, start_precision = self._date("incident_start_date")
        place = self._place("place_slug")
        situation = self._situation()
        if slug:
            incident = Incident.objects.filter(slug=slug).first() or self.unsaved_incidents.get(
                slug
            )
            if incident is not None:
                if incident.archived_at is not None:
                    self._error(
                        "incident_slug",
                        _("The incident “%(slug)s” is archived; restore it first.")
                        % {"slug": slug},
                    )
                    return None
                return incident
        missing = [
            column
            for column, value in (
                ("incident_title", title),
                ("incident_kind", kind),
                ("place_slug", place),
            )
            if not value
        ]
        for column in missing:
            if not self._cell(column):  # An invalid value has had its own message.
                self._error(
                    column,
                    _("Needed to create the incident, which is not known by its slug.")
                    if slug
                    else _("Needed to create the incident: no incident slug is given."),
                )
        if missing or self.row_failed:
            return None
        if not slug:
            existing = (
                Incident.objects.not_archived()
                .filter(title=title, location=place, start_date=start_date)
                .first()
            ) or self.unsaved_incidents_by_key.get((title, place.pk, start_date))
            if existing is not None:
                return existing
        incident = Incident(
            slug=slug or self._unique_slug(Incident, slugify(transliterate(title))[:80]),
            title=title,
            kind=kind,
            location=place,
            start_date=start_date,
            start_date_precision=start_precision,
            situation=situation,
            summary=self._cell("summary"),
            description=self._cell("description"),
            publication_state=PublicationState.DRAFT,
        )
        self._save(incident, INCIDENT_FIELD_COLUMNS, "incident_slug")
        self._remember(self.unsaved_incidents, incident.slug, incident)
        self._remember(self.unsaved_incidents_by_key, (title, place.pk, start_date), incident)
        self.report.count(Incident, created=True)
        self.report.keep(incident, incident.title, "created")
        self.new_incidents.add(_key(incident))
        return incident

    def _person(self) -> Person | None:
        slug, name = self._cell("person_slug"), self._cell("person_name")
        native = self._cell("person_name_native")
        citizenship = self._cell("person_citizenship").upper()
        if citizenship and citizenship not in countries:
            self._error(
                "person_citizenship",
                _("“%(value)s” is not an ISO 3166 country code such as KG or KZ.")
                % {"value": citizenship},
            )
        withheld = self._cell("person_identity_withheld").lower()
        if withheld not in TRUE_WORDS | FALSE_WORDS:
            self._error("person_identity_withheld", _("Write true or false."))
        person = None
        if slug:
            person = Person.objects.filter(slug=slug).first() or self.unsaved_persons.get(slug)
            if person is not None and name and not self._is_named(person, name):
                self._error(
                    "person_name",
                    _("The person “%(slug)s” is %(name)s, not %(given)s.")
                    % {"slug": slug, "name": person.name, "given": name},
                )
                return None
        if person is None:
            if not name:
                self._error("person_name", _("A name is needed to find or create the person."))
                return None
            if name in _public_labels(citizenship):
                self._error(
                    "person_name",
                    _(
                        "This is the public label of a withheld identity, not a name. Import "
                        "a staff export, or give the person's slug."
                    ),
                )
                return None
            if self.row_failed:
                return None
            person = self._person_by_name(name, native, citizenship)
        if person is not None and person.archived_at is not None:
            self._error(
                "person_slug",
                _("The person “%(slug)s” is archived; restore the record first.")
                % {"slug": person.slug},
            )
            return None
        if self.row_failed:
            return None
        if person is not None:
            if person.pk in self.withheld:
                person.identity_withheld = True  # by an earlier row, in the check
            if withheld in TRUE_WORDS and not person.identity_withheld:
                # Making a record more private is always safe; the reverse needs a review.
                person.identity_withheld = True
                action = self._write(person, PERSON_FIELD_COLUMNS, "person_name")
                self._remember(self.withheld, person.pk, True)
                self.report.count(Person, created=False)
                self.report.keep(person, person.name, action)
            return person
        return self._create_person(slug, name, native, citizenship, withheld in TRUE_WORDS)

    def _is_named(self, person: Person, name: str) -> bool:
        """Whether `name` (any spelling, any script) is one of this person's names."""
        if person.pk is None:  # created by an earlier row, in the check
            return name_key(name) in {name_key(person.name), name_key(person.name_native)}
        return Person.objects.filter(pk=person.pk).matching_name(name).exists()

    def _person_by_name(self, name: str, native: str, citizenship: str) -> Person | None:
        """The one person with exactly this name (normalized) and citizenship, if any."""
        keys = {name_key(name)} | ({name_key(native)} if native else set())
        candidates = Person.objects.not_archived().filter(citizenship=citizenship)
        unsaved = {
            id(person): person
            for key in keys
            for person in self.unsaved_persons_by_name.get((key, citizenship), [])
        }
        matches = [
            person
            for person in [*candidates.matching_name(name), *unsaved.values()]
            if keys & {name_key(person.name), name_key(person.name_native)} - {""}
        ]
        if len(matches) > 1:
            self._error(
                "person_slug",
                _("Several persons are named %(name)s (%(slugs)s): give the person's slug.")
                % {"name": name, "slugs": ", ".join(p.slug for p in matches)},
            )
            return None
        return matches[0] if matches else None

    def _create_person(
        self, slug: str, name: str, native: str, citizenship: str, withheld: bool
    ) -> Person:
        sex = self._choice("person_sex", Sex)
        birth_year = self._cell("person_birth_year")
        if birth_year and not (birth_year.isascii() and birth_year.isdigit()):
            self._fail("person_birth_year", _("Write the year as four digits, e.g. 1985."))
        if self.row_failed:
            raise _RowFailed
        if withheld:
            # A withheld identity gets a neutral slug, whatever the row says: the address of
            # its page must not spell the name (Person.save() would enforce it too).
            slug = new_withheld_slug()
        elif not slug:
            slug = self._unique_slug(Person, slugify(transliterate(name))[:80] or "person")
        person = Person(
            slug=slug,
            name=name,
            name_native=native,
            citizenship=citizenship,
            sex=sex,
            birth_year=int(birth_year) if birth_year else None,
            identity_withheld=withheld,
            publication_state=PublicationState.DRAFT,
        )
        self._save(person, PERSON_FIELD_COLUMNS, "person_name")
        self._remember(self.unsaved_persons, person.slug, person)
        for key in {name_key(name), name_key(native)} - {""}:
            same_name = [*self.unsaved_persons_by_name.get((key, citizenship), []), person]
            self._remember(self.unsaved_persons_by_name, (key, citizenship), same_name)
        self.report.count(Person, created=True)
        self.report.keep(person, person.name, "created")
        self.new_persons.add(_key(person))
        return person

    def _save_detention(
        self, incident: Incident, person: Person, values: dict
    ) -> tuple[Detention, str]:
        """The detention of this person in this incident, created or updated from the row,
        and which of "created", "updated" or "unchanged" happened."""
        detention = None
        if incident.pk is not None and person.pk is not None:
            detention = (
                Detention.objects.filter(incident=incident, person=person)
                .prefetch_related("sources", "allegations")
                .first()
            )
        if detention is None:
            detention = Detention(
                incident=incident, person=person, publication_state=PublicationState.DRAFT
            )
        elif detention.archived_at is not None:
            self._fail(None, _("This detention is archived; restore it before importing it again."))
        fields = [
            name
            for column, names in DETENTION_COLUMN_FIELDS.items()
            if column in self.columns
            for name in names
        ]
        before = {name: getattr(detention, name) for name in fields}
        for name, value in values.items():
            setattr(detention, name, value)
        # Compare what would be stored: "January 2022" is stored on a representative day.
        detention.normalize_dates()
        if detention.pk is None:
            self._save(detention, DETENTION_FIELD_COLUMNS, None)
            return detention, "created"
        if any(getattr(detention, name) != before[name] for name in fields):
            return detention, self._write(detention, DETENTION_FIELD_COLUMNS, None)
        return detention, "unchanged"

    def _source(self, url: str, title: str) -> Source:
        source = Source.objects.filter(url=url).first()
        if source is None:
            recorded = Source.objects.not_archived().with_url(url)
            source = recorded[0] if recorded else None
        if source is None:
            source = self.unsaved_sources.get(normalized_url(url))
            if source is not None:
                return source
        if source is None:
            source = Source(
                url=url, title=title or url[:400], publication_state=PublicationState.DRAFT
            )
            self._save(source, SOURCE_FIELD_COLUMNS, "source_urls")
            self._remember(self.unsaved_sources, normalized_url(url), source)
            self.report.count(Source, created=True)
            self.report.keep(source, source.title, "created")
        return source

    def _cite(self, record: models.Model, sources: list[Source]) -> list[Source]:
        """Link the sources the record does not cite yet (proposed, for a published record
        an editor imports); the ones that were new to it."""
        linked = {source.pk for source in record.sources.all()} if record.pk else set()
        new = [source for source in sources if source.pk is None or source.pk not in linked]
        if not new:
            return []
        if self._needs_review(record):
            if self.write:
                ids = [source.pk for source in new]
                revisions.propose_links_added(record, user=self.user, name="sources", ids=ids)
            self.report.proposed += 1
        elif self.write:
            record._history_user = self.user
            record.sources.add(*new)
        return new

    def _add_allegations(self, detention: Detention, kinds: list[str]) -> int:
        """Add the allegations of these kinds the detention lacks; how many were added."""
        present = set()
        if detention.pk is not None:
            present = {allegation.kind for allegation in detention.allegations.all()}
        missing = [kind for kind in kinds if kind not in present]
        for kind in missing:
            allegation = Allegation(detention=detention, kind=kind)
            if self._write(allegation, {"kind": "allegations"}, "allegations") == "updated":
                self.report.count(Allegation, created=True)
        return len(missing)

    # --- saving ----------------------------------------------------------------------------

    def _needs_review(self, record: models.Model) -> bool:
        return revisions.needs_review(record, self.user)

    def _write(self, record: models.Model, columns: dict[str, str], other: str | None) -> str:
        """Save the record, or, when it is public and the importing user may not publish,
        propose the change for a reviewer (the public record stays as it is): "updated"
        (saved) or "proposed". Either way the record is checked first, as `_save` does."""
        if not self._needs_review(record):
            self._save(record, columns, other)
            return "updated"
        self._validate(record, columns, other)
        if self.write:
            revisions.propose(record, user=self.user)
        self.report.proposed += 1
        return "proposed"

    def _save(self, record: models.Model, columns: dict[str, str], other: str | None) -> None:
        """full_clean() and save (the check only validates), or record each error at its
        column and fail the row."""
        self._validate(record, columns, other)
        if not self.write:
            return
        if self.user is not None:
            record._history_user = self.user  # simple_history reads it; see cabar_tracker.history
        try:
            record.save()
        except IntegrityError as error:
            # A concurrent write can still break a constraint full_clean() checked.
            self._fail(other, _("The database refused the row: %(error)s") % {"error": error})

    def _validate(self, record: models.Model, columns: dict[str, str], other: str | None) -> None:
        """full_clean(), or record each error at its column and fail the row."""
        # In the check, a record may point to one an earlier row would create: that link is
        # not checked until the import (the record it points to is checked itself).
        unsaved_links = [
            field.name
            for field in record._meta.concrete_fields
            if field.many_to_one and getattr(field.get_cached_value(record, None), "pk", 0) is None
        ]
        try:
            # The import after the check leaves the constraints (unique slugs, one detention
            # per person and incident…) to the database, whose refusal `_save` reports: the
            # check has given each its message already, and the queries they cost would
            # lengthen the one transaction that holds SQLite's write lock.
            record.full_clean(
                exclude=unsaved_links or None,
                validate_unique=not self.write,
                validate_constraints=not self.write,
            )
        except ValidationError as error:
            for field_name, messages in error.message_dict.items():
                column = None if field_name == NON_FIELD_ERRORS else columns.get(field_name, other)
                for message in messages:
                    self._error(column, message)
            raise _RowFailed from None

    def _unique_slug(self, model: type[models.Model], base: str) -> str:
        base = base.strip("-") or model._meta.model_name
        taken = set(
            model._default_manager.filter(slug__startswith=base).values_list("slug", flat=True)
        )
        # And the slugs of what the check would have created.
        taken |= {*self.unsaved_incidents, *self.unsaved_persons}
        slug, number = base, 2
        while slug in taken:
            slug, number = f"{base}-{number}", number + 1
        return slug
