"""Staff edit forms for incidents, detentions, statements, sources and places, and for the
timeline events and reported groups of an incident and the allegations of a detention.

Every form carries the version of the record it was opened at (a hidden field) and saves
through `save_checked()`, which refuses to write over a change made since
(`cabar_tracker.history.StaleVersionError`); the view then shows the conflict. Forms are
ModelForms: the model's `clean()` and constraints decide what is valid, the form only adds
widgets, labels and the layout (`fieldsets`).
"""

from __future__ import annotations

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from cabar_tracker.staff.forms import (
    DATE_HELP,
    PRECISION_HELP,
    STAFF_ONLY,
    LocationChoiceField,
    PersonChoiceField,
    PersonMultipleChoiceField,
    PositionChoiceField,
    SourceMultipleChoiceField,
    VersionedModelForm,
    date_widgets,
    initial_ids,
    with_current,
)
from incidents.models import (
    SUBJECTS,
    Account,
    Allegation,
    AllegationStatus,
    Detention,
    Fact,
    Incident,
    IncidentEvent,
    Location,
    Outcome,
    ReportedGroup,
    Situation,
    Source,
    Statement,
    facts_of,
)
from incidents.staff.entry import unique_slug
from people.models import Organization, Person, Position


class IncidentForm(VersionedModelForm):
    location = LocationChoiceField(
        label=_("Place"),
        help_text=_("The most precise place known; a country or city if nothing finer."),
    )
    sources = SourceMultipleChoiceField(
        label=_("Sources"), queryset=Source.objects.none(), required=False
    )

    fieldsets = (
        (_("What happened"), ["title", "slug", "kind", "situation", "verification"]),
        (
            _("Where and when"),
            [
                "location",
                ("start_date", "start_date_precision"),
                ("end_date", "end_date_precision"),
            ],
        ),
        (
            _("Numbers reported"),
            [("reported_detained_count", "reported_released_count"), "reported_count_note"],
        ),
        (_("Text"), ["summary", "description"]),
        (_("Sources"), ["sources"]),
        (STAFF_ONLY, ["staff_notes"]),
    )

    class Meta:
        model = Incident
        fields = [
            "title",
            "slug",
            "kind",
            "situation",
            "verification",
            "location",
            "start_date",
            "start_date_precision",
            "end_date",
            "end_date_precision",
            "reported_detained_count",
            "reported_released_count",
            "reported_count_note",
            "summary",
            "description",
            "sources",
            "staff_notes",
        ]
        widgets = {
            **date_widgets("start_date", "end_date"),
            "summary": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"start_date": DATE_HELP, "start_date_precision": PRECISION_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["situation"].queryset = with_current(
            Situation.objects.not_archived(), self.instance.situation_id
        )
        self.fields["sources"].queryset = with_current(
            Source.objects.not_archived(), *initial_ids(self, "sources")
        )


class DetentionForm(VersionedModelForm):
    person = PersonChoiceField(label=_("Person"), queryset=Person.objects.none())
    arrest_location = LocationChoiceField(label=_("Place of arrest"), required=False)
    custody_location = LocationChoiceField(label=_("Place of custody"), required=False)
    release_location = LocationChoiceField(label=_("Place of release or handover"), required=False)
    sources = SourceMultipleChoiceField(
        label=_("Sources"), queryset=Source.objects.none(), required=False
    )

    fieldsets = (
        (_("Who and where"), ["incident", "person", "role"]),
        (
            _("Custody"),
            [
                ("detained_on", "detained_on_precision"),
                "arrest_location",
                ("detaining_organization", "detaining_authority_text"),
                "custody_location",
                "reported_age",
            ],
        ),
        (
            _("Release"),
            [("released_on", "released_on_precision"), "release_location", "outcome"],
        ),
        (_("Details"), ["charges", "details"]),
        (_("Sources"), ["sources"]),
        (STAFF_ONLY, ["staff_notes"]),
    )

    class Meta:
        model = Detention
        fields = [
            "incident",
            "person",
            "role",
            "detained_on",
            "detained_on_precision",
            "arrest_location",
            "detaining_organization",
            "detaining_authority_text",
            "custody_location",
            "reported_age",
            "released_on",
            "released_on_precision",
            "release_location",
            "outcome",
            "charges",
            "details",
            "sources",
            "staff_notes",
        ]
        widgets = date_widgets("detained_on", "released_on")
        help_texts = {"detained_on": DATE_HELP, "detained_on_precision": PRECISION_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        self.fields["incident"].queryset = with_current(
            Incident.objects.not_archived(), instance.incident_id
        )
        self.fields["person"].queryset = with_current(
            Person.objects.not_archived(), instance.person_id
        )
        self.fields["sources"].queryset = with_current(
            Source.objects.not_archived(), *initial_ids(self, "sources")
        )


class StatementForm(VersionedModelForm):
    speaker_person = PersonChoiceField(
        label=_("Speaker"), queryset=Person.objects.none(), required=False
    )
    position = PositionChoiceField(
        label=_("Post held at the time"),
        queryset=Position.objects.none(),
        required=False,
        help_text=_("Only the speaker's posts are offered."),
    )
    people = PersonMultipleChoiceField(
        label=_("About people"), queryset=Person.objects.none(), required=False
    )
    sources = SourceMultipleChoiceField(
        label=_("Sources"), queryset=Source.objects.none(), required=False
    )

    fieldsets = (
        (
            _("Who said it"),
            ["speaker_person", "speaker_organization", "position"],
        ),
        (
            _("What and when"),
            [
                ("said_on", "said_on_precision"),
                ("kind", "medium"),
                "text",
                ("is_direct_quote", "language"),
            ],
        ),
        (_("About"), ["situation", "incidents", "people"]),
        (_("Later disputed?"), ["dispute_status", "dispute_note"]),
        (_("Sources"), ["sources"]),
    )

    class Meta:
        model = Statement
        fields = [
            "speaker_person",
            "speaker_organization",
            "position",
            "said_on",
            "said_on_precision",
            "kind",
            "medium",
            "text",
            "is_direct_quote",
            "language",
            "situation",
            "incidents",
            "people",
            "dispute_status",
            "dispute_note",
            "sources",
        ]
        widgets = {
            **date_widgets("said_on"),
            "text": forms.Textarea(attrs={"rows": 5}),
            "dispute_note": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "said_on": DATE_HELP,
            "said_on_precision": PRECISION_HELP,
            "speaker_person": _("A person, an organization, or both."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        people_ids = initial_ids(self, "people")
        incident_ids = initial_ids(self, "incidents")
        source_ids = initial_ids(self, "sources")
        persons = Person.objects.not_archived()
        self.fields["speaker_person"].queryset = with_current(persons, instance.speaker_person_id)
        self.fields["speaker_organization"].queryset = Organization.objects.all()
        # Every post is listed, each with its holder; the page's script narrows the list to
        # the chosen speaker and the model's clean() refuses someone else's post.
        self.fields["position"].queryset = Position.objects.select_related(
            "person", "organization"
        ).order_by("person__name", "organization__name", "title")
        self.fields["people"].queryset = with_current(persons, *people_ids)
        self.fields["incidents"].queryset = with_current(
            Incident.objects.not_archived(), *incident_ids
        )
        self.fields["situation"].queryset = with_current(
            Situation.objects.not_archived(), instance.situation_id
        )
        self.fields["sources"].queryset = with_current(Source.objects.not_archived(), *source_ids)

    def clean(self):
        cleaned = super().clean()
        position = cleaned.get("position")
        # Choosing the post says who spoke (the model's clean() then finds a speaker).
        if position and not cleaned.get("speaker_person"):
            cleaned["speaker_person"] = position.person
        return cleaned


def https_urls(model_field: models.Field, **kwargs) -> forms.Field | None:
    """Form fields as Django makes them, except that an address typed without a scheme
    ("cabar.asia/…") is taken as https://, as Django 6 will."""
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return model_field.formfield(**kwargs)


class SourceForm(VersionedModelForm):
    fieldsets = (
        (_("The source"), ["title", "kind", ("publisher", "language")]),
        (_("Where to find it"), ["url", "archived_url", "accessed_on"]),
        (_("Published"), [("published_on", "published_on_precision")]),
        (_("Notes"), ["notes"]),
    )

    class Meta:
        model = Source
        formfield_callback = https_urls
        fields = [
            "title",
            "kind",
            "publisher",
            "language",
            "url",
            "archived_url",
            "accessed_on",
            "published_on",
            "published_on_precision",
            "notes",
        ]
        widgets = {
            **date_widgets("published_on", "accessed_on"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"published_on": DATE_HELP, "published_on_precision": PRECISION_HELP}


class LocationForm(VersionedModelForm):
    parent = LocationChoiceField(label=_("Inside"), required=False)

    SLUG_FALLBACK = "place"

    fieldsets = (
        (_("The place"), [("name", "name_native"), "slug", "kind", "parent", "country"]),
        (_("On the map"), [("latitude", "longitude"), "coordinate_precision"]),
        (_("Description"), ["description"]),
    )

    class Meta:
        model = Location
        fields = [
            "name",
            "name_native",
            "slug",
            "kind",
            "parent",
            "country",
            "latitude",
            "longitude",
            "coordinate_precision",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A place cannot be inside itself or inside a place within it.
            self.fields["parent"].queryset = Location.objects.exclude(
                path__startswith=self.instance.path
            ).order_by("path")
        else:
            # A new place may leave the slug to us: it is made from the name (clean()).
            # static/js/staff_forms.js fills it in as the name is typed, so it can be seen
            # and changed before saving. An existing place keeps its slug unless changed on
            # purpose: it is in the address of the place's page.
            slug = self.fields["slug"]
            slug.required = False
            slug.help_text = _("Left empty, it is made from the name.")
            slug.widget.attrs["data-slug-from"] = self["name"].auto_id

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("slug") and cleaned.get("name"):
            cleaned["slug"] = unique_slug(Location, cleaned["name"], fallback=self.SLUG_FALLBACK)
        return cleaned


class StatementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Statement) -> str:
        said = f" ({obj.said})" if obj.said else ""
        return f"{obj.speaker}{said}: {obj.text[:60]}"


class IncidentEventForm(VersionedModelForm):
    """A dated event of one incident. The incident is the page's (the view sets it): an
    event is not moved to another case from here."""

    location = LocationChoiceField(label=_("Place"), required=False)
    sources = SourceMultipleChoiceField(
        label=_("Sources"), queryset=Source.objects.none(), required=False
    )

    fieldsets = (
        (_("What happened"), ["title", "kind", "description"]),
        (_("Where and when"), [("occurred_on", "occurred_on_precision"), "location"]),
        (_("Sources"), ["sources"]),
    )

    class Meta:
        model = IncidentEvent
        fields = [
            "title",
            "kind",
            "description",
            "occurred_on",
            "occurred_on_precision",
            "location",
            "sources",
        ]
        widgets = {
            **date_widgets("occurred_on"),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"occurred_on": DATE_HELP, "occurred_on_precision": PRECISION_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sources"].queryset = with_current(
            Source.objects.not_archived(), *initial_ids(self, "sources")
        )


class ReportedGroupForm(VersionedModelForm):
    """People of one citizenship an incident's sources report in numbers ("38 of
    Kyrgyzstan"). The incident is the page's (the view sets it)."""

    sources = SourceMultipleChoiceField(
        label=_("Sources"), queryset=Source.objects.none(), required=False
    )

    fieldsets = (
        (_("Who"), ["citizenship"]),
        (_("How many, as reported"), [("detained_count", "released_count"), "note"]),
        (_("Sources"), ["sources"]),
    )

    class Meta:
        model = ReportedGroup
        fields = ["citizenship", "detained_count", "released_count", "note", "sources"]
        help_texts = {
            "citizenship": _(
                "Their citizenship. The people named in the case are entered as detentions; "
                "this is for those the sources count without naming them."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sources"].queryset = with_current(
            Source.objects.not_archived(), *initial_ids(self, "sources")
        )


class AllegationForm(VersionedModelForm):
    """What was alleged about one detention. The detention is the page's (the view sets
    it)."""

    alleged_by_person = PersonChoiceField(
        label=_("Alleged by (person)"), queryset=Person.objects.none(), required=False
    )
    statement = StatementChoiceField(
        label=_("Made in statement"), queryset=Statement.objects.none(), required=False
    )
    sources = SourceMultipleChoiceField(
        label=_("Sources"), queryset=Source.objects.none(), required=False
    )

    fieldsets = (
        (_("What was alleged"), ["kind", "description", "status"]),
        (_("Who alleged it"), ["alleged_by_person", "alleged_by_organization", "statement"]),
        (_("Sources"), ["sources"]),
    )

    class Meta:
        model = Allegation
        fields = [
            "kind",
            "description",
            "status",
            "alleged_by_person",
            "alleged_by_organization",
            "statement",
            "sources",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"alleged_by_person": _("A person, an organization, or both.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        self.fields["alleged_by_person"].queryset = with_current(
            Person.objects.not_archived(), instance.alleged_by_person_id
        )
        self.fields["alleged_by_organization"].queryset = Organization.objects.all()
        # Each statement is named by its speaker: loaded with them, not one query a row.
        self.fields["statement"].queryset = with_current(
            Statement.objects.not_archived(), instance.statement_id
        ).select_related("speaker_person", "speaker_organization")
        self.fields["sources"].queryset = with_current(
            Source.objects.not_archived(), *initial_ids(self, "sources")
        )


class AccountForm(VersionedModelForm):
    """One account of one fact of a record (the view sets the record): its value in the
    field of the fact's kind, who asserts it, its sources and its rank. Making it preferred
    makes its value the record's (incidents.accounts)."""

    value_location = LocationChoiceField(label=_("Place"), required=False)
    value_choice = forms.ChoiceField(
        label=_("Outcome or status"),
        required=False,
        choices=[
            ("", "---------"),
            (_("Outcome"), Outcome.choices),
            (_("Status of the allegation"), AllegationStatus.choices),
        ],
    )
    asserted_by_person = PersonChoiceField(
        label=_("Asserted by (person)"), queryset=Person.objects.none(), required=False
    )
    sources = SourceMultipleChoiceField(
        label=_("Sources"), queryset=Source.objects.none(), required=False
    )

    fieldsets = (
        (_("Which fact"), ["fact", "rank"]),
        (
            _("What this account says"),
            [
                ("value_date", "value_date_precision"),
                "value_location",
                ("value_organization", "value_text"),
                "value_number",
                "value_choice",
            ],
        ),
        (
            _("Who says it"),
            ["asserted_by_person", "asserted_by_organization", "asserted_by_text"],
        ),
        (_("Sources"), ["sources", "note"]),
    )

    class Meta:
        model = Account
        fields = [
            "fact",
            "rank",
            "value_date",
            "value_date_precision",
            "value_location",
            "value_organization",
            "value_text",
            "value_number",
            "value_choice",
            "asserted_by_person",
            "asserted_by_organization",
            "asserted_by_text",
            "sources",
            "note",
        ]
        widgets = {
            **date_widgets("value_date"),
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "value_date": DATE_HELP,
            "value_date_precision": PRECISION_HELP,
            "rank": _(
                "The preferred account's value is the record's: making this one preferred "
                "makes the one preferred before another account."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        subject = next(name for name in SUBJECTS if getattr(instance, f"{name}_id"))
        labels = dict(Fact.choices)
        self.fields["fact"].choices = [(fact, labels[fact]) for fact in facts_of(subject)]
        if instance.pk:
            # An account tells one fact: another fact is another account (and the preferred
            # account of the first would leave its record's value without one).
            self.fields["fact"].disabled = True
        self.fields["value_organization"].queryset = Organization.objects.all()
        self.fields["asserted_by_organization"].queryset = Organization.objects.all()
        self.fields["asserted_by_person"].queryset = with_current(
            Person.objects.not_archived(), instance.asserted_by_person_id
        )
        self.fields["sources"].queryset = with_current(
            Source.objects.not_archived(), *initial_ids(self, "sources")
        )
