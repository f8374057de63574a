"""Entering a new detention in one sitting: the incident, the people, the sources.

Two halves:

- `enter_detention()`, the service: one transaction that builds every record (a new place,
  the incident, new persons, detentions, allegations, sources), calls `full_clean()` on each
  before saving it, and raises `EntryInvalid` with every error it found, keyed by the part of
  the page it belongs to. A save that fails therefore saves nothing.
- the forms of the page, bundled by `EntryPage`: they parse what the editor typed, warn of a
  probable duplicate person, turn the input into the service's arguments, and put the
  service's errors back beside the fields they are about.

Probable duplicates stop a save until the editor chooses: a new incident at the same place
(or one inside or around it) on dates that may overlap with an incident already recorded, a
new place named like one already recorded in the same place, a new person named like one
already recorded (`people.staff.duplicates`). The editor either uses the record found or
says "create anyway"; that answer covers the records found *then* (every id up to the
highest one shown), so the same form sent again — the back button, a second click — meets
the records its first sending made and is stopped. The form checks first, to report
everything at once; the service checks again inside its transaction, after locking the
place (or the incident) the entry is about, so two sendings at the same moment are taken
one after the other and the second is stopped too.

Everything is created as a draft; a reviewer publishes it.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.forms.utils import ErrorDict
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents import revisions
from incidents.models import (
    NEWEST_FIRST,
    Allegation,
    AllegationKind,
    Detention,
    DetentionRole,
    Incident,
    Location,
    Outcome,
    Situation,
    Source,
    SourceKind,
    normalized_url,
)
from incidents.partial_dates import DatePrecision, PartialDate
from people.models import Organization, Person, Script, new_withheld_slug
from people.names import detect_script, name_key, transliterate
from people.staff.duplicates import Candidate, find_person_candidates

# --- what the service takes -----------------------------------------------------------------


@dataclass
class NewPlace:
    """A place added on the spot, inside `parent` (its country is the parent's if not given)."""

    name: str
    kind: str
    parent: Location | None = None
    country: str = ""
    name_native: str = ""
    # "Create anyway": places named alike with an id up to this one are not duplicates.
    checked_up_to: int | None = None


@dataclass
class NewIncident:
    title: str
    kind: str
    location: Location | None = None  # a place already recorded…
    new_place: NewPlace | None = None  # …or one added on the spot
    situation: Situation | None = None
    start_date: datetime.date | None = None
    start_date_precision: str = ""
    reported_detained_count: int | None = None
    summary: str = ""
    # "Create anyway": incidents with an id up to this one are not duplicates.
    checked_up_to: int | None = None


@dataclass
class NewPerson:
    name: str
    name_native: str = ""
    citizenship: str = ""
    birth_year: int | None = None
    occupation: str = ""
    identity_withheld: bool = False
    # "A different person": persons with an id up to this one are not duplicates.
    checked_up_to: int | None = None


@dataclass
class PersonEntry:
    """One person's detention: an existing `person` or a `new_person`, and what happened."""

    person: Person | None = None
    new_person: NewPerson | None = None
    role: str = DetentionRole.DETAINEE
    custody_location: Location | None = None
    detained_on: datetime.date | None = None
    detained_on_precision: str = ""
    released_on: datetime.date | None = None
    released_on_precision: str = ""
    outcome: str = Outcome.UNKNOWN
    details: str = ""
    staff_notes: str = ""
    allegation_kinds: list[str] = field(default_factory=list)
    alleged_by_organization: Organization | None = None
    allegation_description: str = ""


@dataclass
class SourceEntry:
    """A source; one whose URL is already recorded (`Source.objects.with_url`: case of the
    host and a trailing slash aside) is cited as it is, not created again, and then only
    the URL is needed."""

    title: str
    url: str = ""
    publisher: str = ""
    published_on: datetime.date | None = None
    published_on_precision: str = ""
    kind: str = SourceKind.NEWS_ARTICLE


ErrorMap = dict[str, list[str]]


@dataclass
class EntryErrors:
    """Errors by where they belong: the incident (and its new place), a person row, a source
    row (rows by their index in the lists given), or the entry as a whole. Keys of each map
    are the names of the input dataclasses' fields, or NON_FIELD_ERRORS."""

    incident: ErrorMap = field(default_factory=dict)
    people: dict[int, ErrorMap] = field(default_factory=dict)
    sources: dict[int, ErrorMap] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    # Records the new incident or place may duplicate (each also has a message above).
    incident_duplicates: PossibleDuplicates | None = None
    place_duplicates: PossibleDuplicates | None = None

    def __bool__(self) -> bool:
        return bool(self.incident or self.people or self.sources or self.general)


@dataclass
class PossibleDuplicates:
    """Records a new one may duplicate, newest first, and the highest id among them, which
    an answer of "create anyway" covers."""

    records: list[models.Model]
    checked_up_to: int

    def __bool__(self) -> bool:
        return bool(self.records)

    @property
    def more(self) -> bool:
        """Whether more were found than are listed."""
        return len(self.records) >= MAX_DUPLICATES_SHOWN


# Enough to recognise the one meant; more say the place or dates are too vague to tell.
MAX_DUPLICATES_SHOWN = 10

INCIDENT_DUPLICATE_MESSAGE = _(
    "An incident at this place on these dates may already be recorded: see the incidents "
    "listed, and use one or record a new one anyway."
)
PLACE_DUPLICATE_MESSAGE = _(
    "A place of this name is already recorded there: use it, or add the new one anyway."
)
PERSON_IN_INCIDENT_MESSAGE = _(
    "A person of this name is already recorded in this incident: link that record, or say "
    "this is a different person."
)


def duplicate_incidents(new: NewIncident) -> PossibleDuplicates:
    """Incidents not archived, at the new incident's place, a place inside it or a place
    around it, whose dates may overlap its date at the precision each is known to (an
    unknown date may be any), with an id above `new.checked_up_to`."""
    if new.location is not None:
        found = Incident.objects.around_place(at=new.location)
    elif new.new_place is not None and new.new_place.parent is not None:
        found = Incident.objects.around_place(inside=new.new_place.parent)
    else:
        return PossibleDuplicates([], 0)
    found = found.not_archived().may_overlap(
        PartialDate.of(new.start_date, new.start_date_precision)
    )
    if new.checked_up_to is not None:
        found = found.filter(pk__gt=new.checked_up_to)
    records = list(found.select_related("location").order_by(*NEWEST_FIRST)[:MAX_DUPLICATES_SHOWN])
    if not records:
        return PossibleDuplicates([], 0)
    if len(records) < MAX_DUPLICATES_SHOWN:
        return PossibleDuplicates(records, max(record.pk for record in records))
    return PossibleDuplicates(records, found.aggregate(highest=models.Max("pk"))["highest"])


def duplicate_places(new: NewPlace) -> PossibleDuplicates:
    """Places inside the same place as the new one (or, for a new top-level place, other
    top-level places) named like it, in Latin or native script, whatever the case, with an
    id above `new.checked_up_to`."""
    names = {_place_name_key(name) for name in (new.name, new.name_native)} - {""}
    if not names:
        return PossibleDuplicates([], 0)
    # Compared in Python: SQLite ignores the case of Latin letters only, not of Cyrillic.
    siblings = Location.objects.filter(parent=new.parent).only(
        "pk", "name", "name_native", "slug", "path", "kind"
    )
    if new.checked_up_to is not None:
        siblings = siblings.filter(pk__gt=new.checked_up_to)
    records = [
        place
        for place in siblings.order_by("name", "pk")
        if names & {_place_name_key(place.name), _place_name_key(place.name_native)}
    ]
    return PossibleDuplicates(records, max((place.pk for place in records), default=0))


def _place_name_key(name: str) -> str:
    return " ".join(name.casefold().split())


class EntryInvalid(Exception):
    """The entry was not saved (nothing of it was); `errors` says why, and where."""

    def __init__(self, errors: EntryErrors):
        super().__init__("The detention entry is invalid; nothing was saved.")
        self.errors = errors


class _RollBack(Exception):
    pass


# --- the service ----------------------------------------------------------------------------


def enter_detention(
    *,
    user,
    incident: Incident | None = None,
    new_incident: NewIncident | None = None,
    people: Sequence[PersonEntry],
    sources: Sequence[SourceEntry],
) -> Incident:
    """Record detentions of `people` in an existing `incident` or a `new_incident`, citing
    `sources`, in one transaction. Every new record is a draft; the sources are linked to the
    incident, the detentions, their allegations and the new persons.

    Every record is checked with `full_clean()` before it is saved, and checking goes on
    after a failure so that all errors are reported at once; if there is any, the
    transaction is rolled back and `EntryInvalid` raised. History rows name `user`.
    """
    if (incident is None) == (new_incident is None):
        raise ValueError("Give either an existing incident or a new one.")
    errors = EntryErrors()
    if not people:
        errors.general.append(gettext("Add at least one person."))
    if not sources:
        errors.general.append(gettext("Add at least one source: every fact needs a source."))
    try:
        with transaction.atomic():
            if new_incident is not None:
                incident = _create_incident(new_incident, user, errors)
            else:
                # Entries for the same incident, one after the other (see the module's
                # docstring): the second sees the first's people.
                _lock(Incident, incident.pk)
            namesakes = _people_by_name_key(incident)
            cited = []
            for index, entry in enumerate(sources):
                source = _cite_source(entry, user, errors.sources.setdefault(index, {}))
                if source is not None:
                    cited.append(source)
            for index, entry in enumerate(people):
                row_errors = errors.people.setdefault(index, {})
                if entry.new_person is not None and _namesake_in_incident(
                    entry.new_person, namesakes
                ):
                    row_errors.setdefault("duplicate_person", []).append(
                        str(PERSON_IN_INCIDENT_MESSAGE)
                    )
                _enter_person(entry, incident, cited, user, row_errors)
            if incident.pk is not None and revisions.needs_review(incident, user):
                # A published incident cites the new sources once a reviewer agrees.
                if {source.pk for source in cited} - set(
                    incident.sources.values_list("pk", flat=True)
                ):
                    revisions.propose_links_added(
                        incident, user=user, name="sources", ids=[s.pk for s in cited]
                    )
            elif incident.pk is not None:
                incident._history_user = user
                incident.sources.add(*cited)
            _drop_empty(errors)
            if errors:
                raise _RollBack
    except _RollBack:
        raise EntryInvalid(errors) from None
    except IntegrityError:
        # Checked first, refused by the database anyway: someone else saved a record with
        # the same unique value (the slug made from a title) between check and save.
        errors = EntryErrors()
        errors.general.append(
            gettext(
                "Someone else saved a record with the same name at the same moment, so "
                "nothing was saved. Send the form again."
            )
        )
        raise EntryInvalid(errors) from None
    return incident


def _lock(model: type[models.Model], pk: int | None) -> None:
    """Hold the row until the transaction ends (PostgreSQL; SQLite writes one at a time)."""
    if pk is not None:
        list(model._base_manager.select_for_update().filter(pk=pk).values_list("pk", flat=True))


def _people_by_name_key(incident: Incident) -> dict[str, list[int]]:
    """The ids of the persons detained in the incident, by the search key of each name."""
    if incident.pk is None:
        return {}
    by_key: dict[str, list[int]] = {}
    persons = Person.objects.filter(detentions__incident=incident).values_list(
        "pk", "name", "name_native"
    )
    for pk, *names in persons:
        for name in names:
            if name:
                by_key.setdefault(name_key(name), []).append(pk)
    return by_key


def _namesake_in_incident(person: NewPerson, namesakes: dict[str, list[int]]) -> bool:
    keys = {name_key(name) for name in (person.name, person.name_native) if name}
    found = {pk for key in keys for pk in namesakes.get(key, [])}
    return any(pk > (person.checked_up_to or 0) for pk in found)


def _create_incident(new: NewIncident, user, all_errors: EntryErrors) -> Incident:
    errors = all_errors.incident
    # Entries at the same place, one after the other: the second sees the first's records.
    anchor = new.location or (new.new_place.parent if new.new_place else None)
    _lock(Location, anchor.pk if anchor else None)
    if new.new_place is not None:
        all_errors.place_duplicates = duplicate_places(new.new_place) or None
        if all_errors.place_duplicates:
            errors.setdefault("new_place_name", []).append(str(PLACE_DUPLICATE_MESSAGE))
    all_errors.incident_duplicates = duplicate_incidents(new) or None
    if all_errors.incident_duplicates:
        errors.setdefault("title", []).append(str(INCIDENT_DUPLICATE_MESSAGE))
    location, place_failed = new.location, False
    if new.new_place is not None:
        location = _place(new.new_place)
        if _check(location, errors, rename=PLACE_FIELDS) and not all_errors.place_duplicates:
            _save(location, user)
        else:
            location, place_failed = None, True
    incident = Incident(
        title=new.title,
        slug=unique_slug(Incident, new.title, fallback="incident"),
        kind=new.kind,
        situation=new.situation,
        location=location,
        start_date=new.start_date,
        start_date_precision=new.start_date_precision,
        reported_detained_count=new.reported_detained_count,
        summary=new.summary,
    )
    # A place that failed its own check has been reported; do not report it twice.
    exclude = ["location"] if place_failed else []
    valid = _check(incident, errors, exclude=exclude)
    if valid and not place_failed and not all_errors.incident_duplicates:
        _save(incident, user)
    return incident


def _place(new: NewPlace) -> Location:
    country = new.country or (new.parent.country.code if new.parent else "")
    return Location(
        name=new.name,
        name_native=new.name_native,
        slug=unique_slug(Location, new.name, fallback="place"),
        kind=new.kind,
        parent=new.parent,
        country=country,
    )


def _cite_source(entry: SourceEntry, user, errors: ErrorMap) -> Source | None:
    if entry.url:
        recorded = Source.objects.not_archived().with_url(entry.url)
        if recorded:
            return recorded[0]
    source = Source(**asdict(entry))
    if not _check(source, errors):
        return None
    _save(source, user)
    return source


def _enter_person(
    entry: PersonEntry, incident: Incident, sources: list[Source], user, errors: ErrorMap
) -> None:
    person, is_new = entry.person, entry.person is None
    if is_new:
        values = asdict(entry.new_person)
        del values["checked_up_to"]
        person = Person(**values, slug=person_slug(entry.new_person))
        if _check(person, errors):
            _save(person, user)
    detention = Detention(
        incident=incident,
        person=person,
        role=entry.role,
        custody_location=entry.custody_location,
        detained_on=entry.detained_on,
        detained_on_precision=entry.detained_on_precision,
        released_on=entry.released_on,
        released_on_precision=entry.released_on_precision,
        outcome=entry.outcome,
        details=entry.details,
        staff_notes=entry.staff_notes,
    )
    # A record that could not be saved has had its own errors reported; check the rest
    # without it, so the editor sees every error at once.
    unsaved = [
        name for name, record in (("incident", incident), ("person", person)) if not record.pk
    ]
    valid = _check(detention, errors, rename={"person": "existing_person"}, exclude=unsaved)
    if valid and not unsaved:
        _save(detention, user)
    allegations = [
        Allegation(
            detention=detention,
            kind=kind,
            alleged_by_organization=entry.alleged_by_organization,
            description=entry.allegation_description,
        )
        for kind in entry.allegation_kinds
    ]
    for allegation in allegations:
        valid = _check(allegation, errors, rename=ALLEGATION_FIELDS, exclude=["detention"])
        if valid and detention.pk:
            _save(allegation, user)
    if detention.pk and sources:
        detention.sources.add(*sources)
        for allegation in allegations:
            allegation.sources.add(*sources)
        if is_new:
            person.sources.add(*sources)


# Model field → input field, where they differ.
PLACE_FIELDS = {
    "name": "new_place_name",
    "name_native": "new_place_name_native",
    "kind": "new_place_kind",
    "parent": "new_place_parent",
    "country": "new_place_country",
    "slug": "new_place_name",
}
ALLEGATION_FIELDS = {
    "kind": "allegation_kinds",
    "description": "allegation_description",
}


def _check(
    record: models.Model,
    errors: ErrorMap,
    *,
    rename: dict[str, str] | None = None,
    exclude: Sequence[str] = (),
) -> bool:
    """full_clean() the record, adding its errors to `errors`; True if it is valid."""
    try:
        record.full_clean(exclude=list(exclude))
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault((rename or {}).get(name, name), []).extend(messages)
        return False
    return True


def _save(record: models.Model, user) -> None:
    # The middleware tells simple-history who is editing during a request; saying it on the
    # record also covers the service called from a script or a test, and the history rows
    # written when sources are linked (the m2m signal reads the same attribute).
    record._history_user = user
    record.save()


def _drop_empty(errors: EntryErrors) -> None:
    errors.people = {index: found for index, found in errors.people.items() if found}
    errors.sources = {index: found for index, found in errors.sources.items() if found}


def unique_slug(model: type[models.Model], text: str, *, fallback: str) -> str:
    """A slug for `text` (any script, transliterated) not yet used by `model`: "almaty",
    else "almaty-2", "almaty-3"…"""
    max_length = model._meta.get_field("slug").max_length
    base = slugify(transliterate(text))[: max_length - 6].strip("-") or fallback
    taken = set(model._base_manager.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in itertools.count(2) if f"{base}-{n}" not in taken)


def person_slug(person: NewPerson) -> str:
    """The slug of a new person. A withheld identity gets a random one: the slug is in the
    address of the person's page, and the public must never read the name there."""
    if not person.identity_withheld:
        return unique_slug(Person, person.name, fallback="person")
    return new_withheld_slug()


# --- the page's forms -----------------------------------------------------------------------


@dataclass
class EntryChoices:
    """The records the page's selects offer, read once per request: a formset's rows would
    otherwise each read them again (a ModelChoiceField queries on every rendering)."""

    incidents: list[Incident]
    locations: list[Location]
    situations: list[Situation]
    organizations: list[Organization]

    @classmethod
    def load(cls) -> EntryChoices:
        return cls(
            incidents=list(
                Incident.objects.not_archived()
                .order_by(*NEWEST_FIRST)
                .only(
                    "pk", "slug", "title", "start_date", "start_date_precision", "publication_state"
                )
            ),
            locations=list(Location.objects.order_by("path").only("pk", "name", "path", "country")),
            situations=list(Situation.objects.not_archived().only("pk", "title")),
            organizations=list(
                Organization.objects.order_by("name").only("pk", "name", "abbreviation")
            ),
        )


def incident_label(incident: Incident) -> str:
    date = str(incident.start) if incident.start else gettext("undated")
    label = f"{date} · {incident.title}"
    if incident.publication_state != "published":
        label += f" ({incident.get_publication_state_display()})"
    return label


def place_label(location: Location) -> str:
    # Indented by depth in the tree; non-breaking spaces, which an <option> does not collapse.
    return "\u00a0\u00a0\u00a0" * (location.depth - 1) + location.name


class RecordChoiceField(forms.ChoiceField):
    """A select of records already read (see EntryChoices); cleans to the record or None."""

    def __init__(self, *, records: Sequence[models.Model], label_of=str, **kwargs):
        self.records = {str(record.pk): record for record in records}
        choices = [("", "—"), *((str(record.pk), label_of(record)) for record in records)]
        super().__init__(choices=choices, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return self.records.get(value) if value else None


def date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kwargs,
    )


PRECISION_HELP = _("For “Month” or “Year”, pick any day in it: the day is ignored.")


def precision_field(label) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=DatePrecision.choices,
        initial=DatePrecision.DAY,
        required=False,
        help_text=PRECISION_HELP,
    )


def model_field(model: type[models.Model], name: str, **overrides) -> forms.Field:
    """The model field's own form field, so labels, help texts and limits stay the model's."""
    return model._meta.get_field(name).formfield(**overrides)


class EntryForm(forms.Form):
    # Errors are the server's, beside each field; the browser's own "required" bubbles would
    # also fire on the buttons that only add rows.
    use_required_attribute = False

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # labels sit above their fields: no colon
        super().__init__(*args, **kwargs)

    def record_errors(self, errors: ErrorMap) -> None:
        """Put the service's errors beside the fields they name (others at the top)."""
        for name, messages in errors.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)


class IncidentEntryForm(EntryForm):
    EXISTING, NEW = "existing", "new"

    mode = forms.ChoiceField(
        label=_("Incident"),
        choices=[
            (EXISTING, _("Add to an incident already recorded")),
            (NEW, _("Record a new incident")),
        ],
        initial=NEW,
        widget=forms.RadioSelect,
    )
    title = model_field(
        Incident,
        "title",
        required=False,
        help_text=_(
            "Public. Do not name a person whose identity is to be withheld: the title is "
            "shown to everyone once published."
        ),
    )
    kind = model_field(Incident, "kind", required=False)
    start_date = date_field(_("Date"))
    start_date_precision = precision_field(_("Date precision"))
    reported_detained_count = model_field(Incident, "reported_detained_count")
    summary = model_field(Incident, "summary", widget=forms.Textarea(attrs={"rows": 3}))
    new_place_name = forms.CharField(label=_("Name of the new place"), required=False)
    new_place_name_native = forms.CharField(label=_("Name in native script"), required=False)
    new_place_kind = model_field(Location, "kind", required=False)
    new_place_country = model_field(
        Location,
        "country",
        required=False,
        help_text=_("Empty: the country of the place it is inside."),
    )
    # The answers to a duplicate warning (templates/staff/_entry_duplicates.html): the
    # highest id of the records listed when the editor chose to create a new one anyway.
    create_anyway = forms.CharField(required=False, widget=forms.HiddenInput)
    create_place_anyway = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, choices: EntryChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicate_incidents: PossibleDuplicates | None = None
        self.duplicate_places: PossibleDuplicates | None = None
        # …or the record listed that they chose to use instead.
        self.fields["use_incident"] = RecordChoiceField(
            records=choices.incidents, required=False, widget=forms.HiddenInput
        )
        self.fields["use_place"] = RecordChoiceField(
            records=choices.locations, required=False, widget=forms.HiddenInput
        )
        self.fields["existing"] = RecordChoiceField(
            label=_("Incident already recorded"),
            records=choices.incidents,
            label_of=incident_label,
            required=False,
            help_text=_("Newest first; drafts are marked."),
        )
        self.fields["situation"] = RecordChoiceField(
            label=_("Situation"), records=choices.situations, required=False
        )
        self.fields["location"] = RecordChoiceField(
            label=_("Place"),
            records=choices.locations,
            label_of=place_label,
            required=False,
            help_text=_("The most precise place known. Not in the list? Add it below."),
        )
        self.fields["new_place_parent"] = RecordChoiceField(
            label=_("Inside"),
            records=choices.locations,
            label_of=place_label,
            required=False,
            help_text=_("The place the new one is in, e.g. its city or country."),
        )

    def clean_create_anyway(self) -> int | None:
        return checked_up_to(self.cleaned_data["create_anyway"])

    def clean_create_place_anyway(self) -> int | None:
        return checked_up_to(self.cleaned_data["create_place_anyway"])

    def clean(self):
        data = super().clean()
        if data.get("mode") == self.NEW and data.get("use_incident"):
            # "Use this incident" in the duplicate warning: as if it had been chosen above.
            data["mode"], data["existing"] = self.EXISTING, data["use_incident"]
            self._show_as_chosen(mode=self.EXISTING, existing=data["existing"].pk)
        if data.get("mode") == self.NEW and data.get("use_place"):
            data["location"] = data["use_place"]
            data["new_place_name"] = data["new_place_name_native"] = ""
            self._show_as_chosen(location=data["location"].pk, new_place_name="")
        if data.get("mode") == self.EXISTING:
            if not data.get("existing"):
                self.add_error("existing", _("Choose the incident."))
            # The new incident's fields are not used: their errors would only confuse.
            for name in list(self.errors):
                if name not in ("mode", "existing", NON_FIELD_ERRORS):
                    del self.errors[name]
            return data
        if not data.get("title"):
            self.add_error("title", _("Give the incident a title."))
        if not data.get("kind"):
            self.add_error("kind", _("Choose the kind of incident."))
        has_place, new_place = data.get("location"), data.get("new_place_name")
        if not has_place and not new_place:
            self.add_error("location", _("Choose the place, or add a new one below."))
        if has_place and new_place:
            self.add_error(
                "new_place_name",
                _("Either choose a place from the list or add a new one, not both."),
            )
        if new_place:
            if not data.get("new_place_kind"):
                self.add_error("new_place_kind", _("Choose what kind of place it is."))
            if not data.get("new_place_country") and not data.get("new_place_parent"):
                self.add_error(
                    "new_place_country",
                    _("Give the country, or the place the new one is inside."),
                )
        if not self.errors:
            self._warn_of_duplicates(self._new_incident(data))
        return data

    def _warn_of_duplicates(self, new: NewIncident) -> None:
        if new.new_place is not None:
            self.duplicate_places = duplicate_places(new.new_place) or None
            if self.duplicate_places:
                self.add_error("new_place_name", PLACE_DUPLICATE_MESSAGE)
        self.duplicate_incidents = duplicate_incidents(new) or None
        if self.duplicate_incidents:
            self.add_error("title", INCIDENT_DUPLICATE_MESSAGE)

    def _show_as_chosen(self, **values) -> None:
        # The page sent back (with another error) shows the record chosen in the warning
        # in the field it stands for, so the choice is not lost.
        self.data = self.data.copy()
        for name, value in values.items():
            self.data[self.add_prefix(name)] = str(value)

    def to_arguments(self) -> dict:
        data = self.cleaned_data
        if data["mode"] == self.EXISTING:
            return {"incident": data["existing"]}
        return {"new_incident": self._new_incident(data)}

    def _new_incident(self, data: dict) -> NewIncident:
        new_place = None
        if data["new_place_name"]:
            new_place = NewPlace(
                name=data["new_place_name"],
                name_native=data["new_place_name_native"],
                kind=data["new_place_kind"],
                parent=data["new_place_parent"],
                country=data["new_place_country"],
                checked_up_to=data["create_place_anyway"],
            )
        return NewIncident(
            title=data["title"],
            kind=data["kind"],
            location=data["location"],
            new_place=new_place,
            situation=data["situation"],
            start_date=data["start_date"],
            start_date_precision=data["start_date_precision"],
            reported_detained_count=data["reported_detained_count"],
            summary=data["summary"],
            checked_up_to=data["create_anyway"],
        )


# An id, as sent back by a duplicate warning; larger is no id the database could hold.
MAX_ID = 2**62


def checked_up_to(value: str) -> int | None:
    """The highest id an answer to a duplicate warning covers, or None if there is none (or
    it is not an id: the warning is then shown again)."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit() and int(value) <= MAX_ID:
        return int(value)
    return None


class PersonRowForm(EntryForm):
    """One person and their detention. The person is either linked (an existing record,
    by slug; the duplicate warning and the as-you-type search fill it in) or new."""

    existing_person = forms.CharField(
        label=_("Person already recorded"),
        required=False,
        help_text=_(
            "The person's slug or page address. Or type the name below and pick from the "
            "people found. A linked person wins over the new-person fields."
        ),
    )
    name = model_field(Person, "name", required=False)
    name_native = model_field(Person, "name_native")
    citizenship = model_field(Person, "citizenship")
    birth_year = model_field(Person, "birth_year", min_value=1900, max_value=2100)
    occupation = model_field(Person, "occupation")
    identity_withheld = model_field(Person, "identity_withheld")
    is_different_person = forms.BooleanField(
        label=_("This is a different person from those found"),
        required=False,
    )
    # The highest id of the people listed when "different person" was ticked (sent with
    # the warning, templates/staff/_entry_candidates.html): people recorded since are
    # still checked. Without it (ticked as the list found while typing showed) the tick
    # covers everyone found.
    different_up_to = forms.CharField(required=False, widget=forms.HiddenInput)
    role = model_field(Detention, "role")
    detained_on = date_field(_("Detained on"))
    detained_on_precision = precision_field(_("Precision of the detention date"))
    released_on = date_field(_("Released on"), help_text=_("Empty if not released."))
    released_on_precision = precision_field(_("Precision of the release date"))
    outcome = model_field(Detention, "outcome")
    allegation_kinds = forms.MultipleChoiceField(
        label=_("Allegations"),
        choices=AllegationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    allegation_description = forms.CharField(
        label=_("Alleged by, and what exactly"),
        required=False,
        help_text=_(
            "e.g. “beaten during interrogation, according to his relatives”. Kept with "
            "every allegation ticked."
        ),
    )
    details = model_field(Detention, "details", widget=forms.Textarea(attrs={"rows": 3}))
    staff_notes = model_field(
        Detention,
        "staff_notes",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Never shown to the public, in the API or in exports."),
    )

    def __init__(self, *args, choices: EntryChoices, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.linked_person: Person | None = None
        self.duplicate_candidates: list[Candidate] = []
        self.fields["custody_location"] = RecordChoiceField(
            label=_("Place of custody"),
            records=choices.locations,
            label_of=place_label,
            required=False,
        )
        self.fields["alleged_by_organization"] = RecordChoiceField(
            label=_("Alleged by (organization)"), records=choices.organizations, required=False
        )

    def clean(self):
        data = super().clean()
        reference = (data.get("existing_person") or "").strip().rstrip("/")
        if reference:
            slug = reference.rsplit("/", 1)[-1]
            self.linked_person = Person.objects.not_archived().filter(slug=slug).first()
            if self.linked_person is None:
                self.add_error(
                    "existing_person", _("No person with this slug is recorded (or archived).")
                )
            return data
        name = data.get("name")
        if not name:
            self.add_error("name", _("Enter the person's name, or link a person already recorded."))
            return data
        up_to = checked_up_to(data.get("different_up_to"))
        if not data.get("is_different_person") or up_to is not None:
            self._find_candidates(data, newer_than=up_to)
            if self.duplicate_candidates:
                self.add_error("name", _("Probably already recorded: see below."))
        if detect_script(name) != Script.LATIN:
            # The canonical name is the Latin one; the spelling typed belongs in the native
            # field (search finds the person by either).
            self.add_error(
                "name",
                _(
                    "Write this name in Latin letters, e.g. “%(latin)s”; put the spelling "
                    "typed here in “Name (native script)”."
                )
                % {"latin": transliterate(name)},
            )
        return data

    def _find_candidates(self, data: dict, *, newer_than: int | None = None) -> None:
        found = find_person_candidates(
            data["name"],
            citizenship=data.get("citizenship") or None,
            birth_year=data.get("birth_year"),
            user=self.user,
        )
        self.duplicate_candidates = [
            c for c in found if c.is_close and c.person.pk > (newer_than or 0)
        ]

    @property
    def candidates_up_to(self) -> int:
        return max((c.person.pk for c in self.duplicate_candidates), default=0)

    def record_errors(self, errors: ErrorMap) -> None:
        errors = dict(errors)
        if messages := errors.pop("duplicate_person", None):
            # Found by the service in the incident: list them as the form's own check does.
            errors.setdefault("name", []).extend(messages)
            data = self.cleaned_data
            self._find_candidates(data, newer_than=checked_up_to(data.get("different_up_to")))
        super().record_errors(errors)

    def to_entry(self) -> PersonEntry:
        data = self.cleaned_data
        new_person = None
        if self.linked_person is None:
            new_person = NewPerson(
                name=data["name"],
                name_native=data["name_native"],
                citizenship=data["citizenship"],
                birth_year=data["birth_year"],
                occupation=data["occupation"],
                identity_withheld=data["identity_withheld"],
                checked_up_to=checked_up_to(data.get("different_up_to")),
            )
        return PersonEntry(
            person=self.linked_person,
            new_person=new_person,
            role=data["role"],
            custody_location=data["custody_location"],
            detained_on=data["detained_on"],
            detained_on_precision=data["detained_on_precision"],
            released_on=data["released_on"],
            released_on_precision=data["released_on_precision"],
            outcome=data["outcome"],
            details=data["details"],
            staff_notes=data["staff_notes"],
            allegation_kinds=data["allegation_kinds"],
            alleged_by_organization=data["alleged_by_organization"],
            allegation_description=data["allegation_description"],
        )


class SourceRowForm(EntryForm):
    url = model_field(
        Source,
        "url",
        assume_scheme="https",
        help_text=_(
            "If a source with this URL is already recorded, that record is cited: the "
            "other fields of this row are then not needed, and not used."
        ),
    )
    title = model_field(Source, "title", required=False)
    publisher = model_field(Source, "publisher")
    published_on = date_field(_("Published on"))
    published_on_precision = precision_field(_("Precision of the publication date"))
    kind = model_field(Source, "kind")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_source: Source | None = None

    def clean(self):
        data = super().clean()
        if data.get("url"):
            recorded = Source.objects.not_archived().with_url(data["url"])
            self.known_source = recorded[0] if recorded else None
        if not data.get("title") and not self.has_error("url") and self.known_source is None:
            self.add_error("title", _("Give the source a title."))
        return data

    def to_entry(self) -> SourceEntry:
        data = self.cleaned_data
        return SourceEntry(
            title=data["title"],
            url=data["url"],
            publisher=data["publisher"],
            published_on=data["published_on"],
            published_on_precision=data["published_on_precision"],
            kind=data["kind"],
        )


class RowFormSet(forms.BaseFormSet):
    """Rows left empty are skipped; at least one row must be filled in."""

    at_least_one_message = ""

    def filled_forms(self) -> list[forms.Form]:
        return [form for form in self.forms if form.has_changed()]

    def clean(self):
        if not any(self.errors) and not self.filled_forms():
            raise ValidationError(self.at_least_one_message)


class PersonRowFormSet(RowFormSet):
    at_least_one_message = _("Add at least one person.")

    def clean(self):
        super().clean()
        seen_people, seen_names = set(), set()
        for form in self.filled_forms():
            if form.linked_person is not None:
                if form.linked_person.pk in seen_people:
                    form.add_error("existing_person", _("This person is already in another row."))
                seen_people.add(form.linked_person.pk)
            elif name := form.cleaned_data.get("name"):
                if name_key(name) in seen_names:
                    form.add_error("name", _("Another row has the same name."))
                seen_names.add(name_key(name))


class SourceRowFormSet(RowFormSet):
    at_least_one_message = _(
        "Add at least one source: every fact needs a source, and a reviewer cannot publish "
        "a record without one."
    )

    def clean(self):
        super().clean()
        seen = set()
        for form in self.filled_forms():
            url = normalized_url(form.cleaned_data.get("url") or "")
            if url and url in seen:
                form.add_error("url", _("Another row has the same URL."))
            seen.add(url)


PERSON_ROWS, SOURCE_ROWS = 3, 2

PersonRows = forms.formset_factory(PersonRowForm, formset=PersonRowFormSet, extra=PERSON_ROWS)
SourceRows = forms.formset_factory(SourceRowForm, formset=SourceRowFormSet, extra=SOURCE_ROWS)


@dataclass(frozen=True)
class ErrorLink:
    """One line of the error summary at the top of the page, linking to its field."""

    where: str
    message: str
    anchor: str


class EntryPage:
    """The forms of the "New detention" page: the incident, the person rows, the source
    rows. The view only builds it, asks `is_valid()`, and passes `arguments()` on."""

    def __init__(
        self, data=None, *, user, choices: EntryChoices, initial_incident: Incident | None = None
    ):
        initial = {}
        if initial_incident is not None:
            initial = {"mode": IncidentEntryForm.EXISTING, "existing": str(initial_incident.pk)}
        self.incident_form = IncidentEntryForm(
            data, prefix="incident", choices=choices, initial=initial
        )
        self.people = PersonRows(
            data, prefix="people", form_kwargs={"choices": choices, "user": user}
        )
        self.sources = SourceRows(data, prefix="sources")

    @classmethod
    def with_more_rows(
        cls, data, *, rows: str, user, choices: EntryChoices, count: int = 2
    ) -> EntryPage:
        """The page as submitted, with `count` more empty rows of `rows` ("people" or
        "sources"), for editors without JavaScript; nothing is checked or saved yet."""
        data = data.copy()
        total = f"{rows}-TOTAL_FORMS"
        with contextlib.suppress(ValueError):  # a tampered count: leave it to the formset
            data[total] = str(min(int(data.get(total, 0)) + count, 50))
        page = cls(data, user=user, choices=choices)
        page._skip_checks()
        return page

    def _skip_checks(self) -> None:
        # Adding rows is not a save: showing "this field is required" all over the page would
        # be noise. An empty error dict makes Django treat each form as checked and fine.
        for form in [self.incident_form, *self.people.forms, *self.sources.forms]:
            form._errors = ErrorDict()
        for formset in (self.people, self.sources):
            formset._errors = [ErrorDict() for _form in formset.forms]
            formset._non_form_errors = formset.error_class()

    def is_valid(self) -> bool:
        # Check every part, not just up to the first invalid one: all errors show at once.
        results = [self.incident_form.is_valid(), self.people.is_valid(), self.sources.is_valid()]
        return all(results)

    def arguments(self) -> dict:
        """Keyword arguments for `enter_detention()` (besides `user`)."""
        return {
            **self.incident_form.to_arguments(),
            "people": [form.to_entry() for form in self.people.filled_forms()],
            "sources": [form.to_entry() for form in self.sources.filled_forms()],
        }

    def known_sources(self) -> list[Source]:
        """The sources already recorded that the source rows cite by their address."""
        return [form.known_source for form in self.sources.filled_forms() if form.known_source]

    def record_errors(self, errors: EntryErrors) -> None:
        """Put the service's errors back beside the fields, in the rows they came from."""
        self.incident_form.record_errors(errors.incident)
        self.incident_form.duplicate_incidents = errors.incident_duplicates
        self.incident_form.duplicate_places = errors.place_duplicates
        for rows, found in ((self.people, errors.people), (self.sources, errors.sources)):
            filled = rows.filled_forms()
            for index, row_errors in found.items():
                filled[index].record_errors(row_errors)
        for message in errors.general:
            self.incident_form.add_error(None, message)

    def error_summary(self) -> list[ErrorLink]:
        links = _form_error_links(self.incident_form, gettext("Incident"))
        for rows, label, anchor in (
            (self.people, gettext("Person %(number)s"), "people"),
            (self.sources, gettext("Source %(number)s"), "sources"),
        ):
            for message in rows.non_form_errors():
                links.append(ErrorLink(gettext("All rows"), message, f"{anchor}-rows"))
            for number, form in enumerate(rows.forms, start=1):
                links.extend(_form_error_links(form, label % {"number": number}))
        return links


def _form_error_links(form: forms.Form, where: str) -> list[ErrorLink]:
    links = []
    for name, messages in form.errors.items():
        if name == NON_FIELD_ERRORS:
            anchor = form.prefix or "top"
            label = where
        else:
            bound = form[name]
            anchor = bound.auto_id
            label = f"{where} · {bound.label}"
        links.extend(ErrorLink(label, message, anchor) for message in messages)
    return links
