"""Representations of the incidents app's records, and their write serializers.

Lists get compact items, details embed what their page shows. Staff-only fields
(`Meta.staff_only_fields`) are absent from public representations, and every person appears
through `PersonSummarySerializer`, which applies the naming rule for withheld identities.
Embedded lists hold only what the reader may see: the views prefetch them through
`visible_to(user)` querysets into the attributes these serializers read.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cabar_tracker.api.fields import (
    PUBLICATION_FIELDS,
    ApiUrlField,
    CoordinateField,
    CountryCodeField,
    LinkField,
    PageUrlField,
    PartialDateField,
    ReadSerializer,
    StaffFieldsMixin,
    country_input,
)
from cabar_tracker.api.summaries import (
    IncidentSummarySerializer,
    LocationSummarySerializer,
    LocationWithAncestorsSerializer,
    OrganizationSummarySerializer,
    PersonSummarySerializer,
    PositionSummarySerializer,
    SituationSummarySerializer,
    SourceSummarySerializer,
    StatementSummarySerializer,
)
from cabar_tracker.api.writes import RecordWriteSerializer, record_link
from cabar_tracker.publishing import name_shown_to
from incidents.accounts import value_code
from incidents.api.places import map_point
from incidents.models import (
    Account,
    Allegation,
    CoordinatePrecision,
    Detention,
    Incident,
    IncidentEvent,
    Location,
    ReportedGroup,
    Situation,
    Source,
    Statement,
)
from people.models import Organization, Person, Position


def _read_only(fields: list[str], staff_only: tuple[str, ...]) -> list[str]:
    """Every field read-only (so required in the response schema) except the staff-only
    ones, which are optional there because the public never gets them."""
    return [name for name in fields if name not in staff_only]


STAFF_EXTRA = {name: {"required": False} for name in (*PUBLICATION_FIELDS, "staff_notes")}


class MapPointSerializer(serializers.Serializer):
    """Where the record goes on a map; null when neither its place nor any place it is
    inside has coordinates."""

    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    coordinate_precision = serializers.ChoiceField(
        choices=CoordinatePrecision.choices, allow_null=True
    )
    location_id = serializers.IntegerField(
        help_text="The place the coordinates are of: the record's own, or one it is inside."
    )

    def to_representation(self, record) -> dict | None:
        place = map_point(record.location)
        if place is None:
            return None
        return {
            "latitude": float(place.latitude),
            "longitude": float(place.longitude),
            "coordinate_precision": place.coordinate_precision or None,
            "location_id": place.pk,
        }


# --- incidents ----------------------------------------------------------------------------


class IncidentListSerializer(StaffFieldsMixin, ReadSerializer):
    url = ApiUrlField("incident")
    html_url = PageUrlField()
    situation = SituationSummarySerializer(read_only=True, allow_null=True)
    location = LocationSummarySerializer(read_only=True)
    start_date = PartialDateField(read_only=True)
    end_date = PartialDateField(read_only=True)
    reported_by_citizenship = serializers.SerializerMethodField(
        help_text="The numbers of people reported by citizenship, as the CSV exports write "
        'them: ["KG:38"]; "?" for a number the source does not give (see reported_groups '
        "in the detail)."
    )
    map_point = MapPointSerializer(source="*", read_only=True, allow_null=True)

    def get_reported_by_citizenship(self, incident: Incident) -> list[str]:
        return [group.compact for group in incident.reported_groups.all()]

    class Meta:
        model = Incident
        staff_only_fields = PUBLICATION_FIELDS
        fields = [
            "id",
            "url",
            "html_url",
            "slug",
            "title",
            "kind",
            "situation",
            "location",
            "start_date",
            "end_date",
            "summary",
            "reported_detained_count",
            "reported_released_count",
            "reported_count_note",
            "reported_by_citizenship",
            "verification",
            "map_point",
            "updated_at",
            *PUBLICATION_FIELDS,
        ]
        read_only_fields = _read_only(fields, staff_only_fields)
        extra_kwargs = STAFF_EXTRA


class AssertedBySerializer(serializers.Serializer):
    """Who asserts an account: a person (a withheld identity as its neutral label), an
    organization, and/or words ("speaking to Viory")."""

    person = PersonSummarySerializer(source="asserted_by_person", allow_null=True)
    organization = OrganizationSummarySerializer(source="asserted_by_organization", allow_null=True)
    text = serializers.CharField(source="asserted_by_text")


class AccountSerializer(ReadSerializer):
    """One account of one fact of the record: its value, how sure its date is, its rank
    (the preferred one is the record's value), who asserts it and its sources."""

    value = serializers.SerializerMethodField(
        help_text="The value in machine form, as the exports write it: a date at its "
        "precision (2022-01-07, 2022-01, 2022), a place's slug, an organization's slug or the "
        "source's words, a number, or a code (an outcome, an allegation status)."
    )
    precision = serializers.SerializerMethodField(
        help_text="For a date: day, month, year or approximate; else null."
    )
    location = LocationSummarySerializer(source="value_location", read_only=True, allow_null=True)
    organization = OrganizationSummarySerializer(
        source="value_organization", read_only=True, allow_null=True
    )
    asserted_by = AssertedBySerializer(source="*", read_only=True)
    sources = SourceSummarySerializer(source="visible_sources", many=True, read_only=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "fact",
            "rank",
            "value",
            "precision",
            "location",
            "organization",
            "asserted_by",
            "note",
            "sources",
        ]
        read_only_fields = fields

    def get_value(self, account: Account) -> str:
        return value_code(account)

    def get_precision(self, account: Account) -> str | None:
        return account.date.precision if account.date else None


class AccountsField(serializers.Field):
    """The record's accounts of its facts (attached by the view: `attach_accounts`),
    preferred first within each fact."""

    def __init__(self, **kwargs):
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, record) -> list:
        accounts = [a for told in getattr(record, "fact_accounts", {}).values() for a in told]
        return AccountSerializer(accounts, many=True, context=self.context).data


ACCOUNTS_HELP = (
    "Every account of the record's facts that sources tell differently (Wikidata's "
    "statements with references and ranks): the preferred one holds the value the record's "
    "fields show; the others, who asserts them and their sources beside it."
)


@extend_schema_field(AccountSerializer(many=True))
class AccountListField(AccountsField):
    pass


class AllegationSerializer(ReadSerializer):
    alleged_by_person = PersonSummarySerializer(read_only=True, allow_null=True)
    alleged_by_organization = OrganizationSummarySerializer(read_only=True, allow_null=True)
    accounts = AccountListField(help_text=ACCOUNTS_HELP)

    class Meta:
        model = Allegation
        fields = [
            "id",
            "kind",
            "status",
            "description",
            "alleged_by_person",
            "alleged_by_organization",
            "accounts",
        ]
        read_only_fields = fields


class CustodyDaysMixin(serializers.Serializer):
    """Time in custody, in the words of the CSV exports (incidents/columns.py): the exact
    number of days when both dates are known to the day, else null; and the fewest and the
    most days the dates allow (null when a date is unknown)."""

    days_in_custody = serializers.IntegerField(read_only=True, allow_null=True)
    days_in_custody_min = serializers.SerializerMethodField()
    days_in_custody_max = serializers.SerializerMethodField()

    def get_days_in_custody_min(self, detention: Detention) -> int | None:
        bounds = detention.custody_bounds
        return bounds[0] if bounds else None

    def get_days_in_custody_max(self, detention: Detention) -> int | None:
        bounds = detention.custody_bounds
        return bounds[1] if bounds else None


CUSTODY_DAYS_FIELDS = ["days_in_custody", "days_in_custody_min", "days_in_custody_max"]
# Where, by whom and at what age (as reported) the person was detained.
DETENTION_FACT_FIELDS = [
    "arrest_location",
    "detaining_organization",
    "detaining_authority_text",
    "reported_age",
]


class IncidentDetentionSerializer(CustodyDaysMixin, StaffFieldsMixin, ReadSerializer):
    """A detention inside its incident's detail."""

    url = ApiUrlField("detention")
    person = PersonSummarySerializer(read_only=True)
    detained_on = PartialDateField(read_only=True)
    released_on = PartialDateField(read_only=True)
    custody_location = LocationSummarySerializer(read_only=True, allow_null=True)
    release_location = LocationSummarySerializer(read_only=True, allow_null=True)
    arrest_location = LocationSummarySerializer(read_only=True, allow_null=True)
    detaining_organization = OrganizationSummarySerializer(read_only=True, allow_null=True)
    allegations = AllegationSerializer(many=True, read_only=True)
    accounts = AccountListField(help_text=ACCOUNTS_HELP)

    class Meta:
        model = Detention
        staff_only_fields = ("staff_notes", *PUBLICATION_FIELDS)
        fields = [
            "id",
            "url",
            "person",
            "role",
            "detained_on",
            *DETENTION_FACT_FIELDS,
            "custody_location",
            "released_on",
            "release_location",
            *CUSTODY_DAYS_FIELDS,
            "outcome",
            "charges",
            "details",
            "allegations",
            "accounts",
            "updated_at",
            *staff_only_fields,
        ]
        read_only_fields = _read_only(fields, staff_only_fields)
        extra_kwargs = STAFF_EXTRA


class IncidentEventSerializer(ReadSerializer):
    occurred_on = PartialDateField(read_only=True)
    location = LocationSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = IncidentEvent
        fields = ["id", "kind", "occurred_on", "title", "description", "location"]
        read_only_fields = fields


class ReportedGroupSerializer(ReadSerializer):
    """People of one citizenship the incident's sources report in numbers, not by name."""

    citizenship = CountryCodeField(read_only=True)
    sources = SourceSummarySerializer(source="visible_sources", many=True, read_only=True)

    class Meta:
        model = ReportedGroup
        fields = ["id", "citizenship", "detained_count", "released_count", "note", "sources"]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentListSerializer):
    location = LocationWithAncestorsSerializer(read_only=True)
    reported_groups = ReportedGroupSerializer(many=True, read_only=True)
    detentions = IncidentDetentionSerializer(source="visible_detentions", many=True, read_only=True)
    events = IncidentEventSerializer(many=True, read_only=True)
    statements = StatementSummarySerializer(source="visible_statements", many=True, read_only=True)
    sources = SourceSummarySerializer(source="visible_sources", many=True, read_only=True)
    accounts = AccountListField(help_text=ACCOUNTS_HELP)

    class Meta(IncidentListSerializer.Meta):
        staff_only_fields = ("staff_notes", *PUBLICATION_FIELDS)
        fields = [
            *IncidentListSerializer.Meta.fields,
            "description",
            "reported_groups",
            "accounts",
            "detentions",
            "events",
            "statements",
            "sources",
            "staff_notes",
        ]
        read_only_fields = _read_only(fields, staff_only_fields)


class IncidentWriteSerializer(RecordWriteSerializer):
    start_date = PartialDateField()
    end_date = PartialDateField()
    situation = record_link(Situation, optional=True)
    location = record_link(Location)
    sources = record_link(Source, many=True)

    class Meta:
        model = Incident
        fields = [
            "title",
            "slug",
            "kind",
            "situation",
            "location",
            "start_date",
            "end_date",
            "summary",
            "description",
            "reported_detained_count",
            "reported_released_count",
            "reported_count_note",
            "verification",
            "staff_notes",
            "publication_state",
            "sources",
        ]


# --- detentions -----------------------------------------------------------------------------


class DetentionListSerializer(CustodyDaysMixin, StaffFieldsMixin, ReadSerializer):
    url = ApiUrlField("detention")
    html_url = PageUrlField()
    incident = IncidentSummarySerializer(read_only=True)
    person = PersonSummarySerializer(read_only=True)
    detained_on = PartialDateField(read_only=True)
    released_on = PartialDateField(read_only=True)
    custody_location = LocationSummarySerializer(read_only=True, allow_null=True)
    release_location = LocationSummarySerializer(read_only=True, allow_null=True)
    arrest_location = LocationSummarySerializer(read_only=True, allow_null=True)
    detaining_organization = OrganizationSummarySerializer(read_only=True, allow_null=True)
    allegation_kinds = serializers.SerializerMethodField()

    class Meta:
        model = Detention
        staff_only_fields = PUBLICATION_FIELDS
        fields = [
            "id",
            "url",
            "html_url",
            "incident",
            "person",
            "role",
            "detained_on",
            *DETENTION_FACT_FIELDS,
            "custody_location",
            "released_on",
            "release_location",
            *CUSTODY_DAYS_FIELDS,
            "outcome",
            "allegation_kinds",
            "updated_at",
            *PUBLICATION_FIELDS,
        ]
        read_only_fields = _read_only(fields, staff_only_fields)
        extra_kwargs = STAFF_EXTRA

    def get_allegation_kinds(self, detention: Detention) -> list[str]:
        return sorted({allegation.kind for allegation in detention.allegations.all()})


class DetentionDetailSerializer(DetentionListSerializer):
    allegations = AllegationSerializer(many=True, read_only=True)
    sources = SourceSummarySerializer(source="visible_sources", many=True, read_only=True)
    accounts = AccountListField(help_text=ACCOUNTS_HELP)

    class Meta(DetentionListSerializer.Meta):
        staff_only_fields = ("staff_notes", *PUBLICATION_FIELDS)
        fields = [
            *DetentionListSerializer.Meta.fields,
            "charges",
            "details",
            "allegations",
            "accounts",
            "sources",
            "staff_notes",
        ]
        read_only_fields = _read_only(fields, staff_only_fields)


class DetentionWriteSerializer(RecordWriteSerializer):
    incident = record_link(Incident)
    person = record_link(Person)
    detained_on = PartialDateField()
    released_on = PartialDateField()
    custody_location = record_link(Location, optional=True)
    release_location = record_link(Location, optional=True)
    arrest_location = record_link(Location, optional=True)
    detaining_organization = record_link(Organization, optional=True)
    sources = record_link(Source, many=True)

    class Meta:
        model = Detention
        fields = [
            "incident",
            "person",
            "role",
            "detained_on",
            *DETENTION_FACT_FIELDS,
            "custody_location",
            "released_on",
            "release_location",
            "outcome",
            "charges",
            "details",
            "staff_notes",
            "publication_state",
            "sources",
        ]


# --- places ---------------------------------------------------------------------------------


class LocationListSerializer(ReadSerializer):
    url = ApiUrlField("location")
    html_url = PageUrlField()
    country = CountryCodeField()
    parent = LocationSummarySerializer(read_only=True, allow_null=True)
    latitude = CoordinateField(allow_null=True)
    longitude = CoordinateField(allow_null=True)

    class Meta:
        model = Location
        fields = [
            "id",
            "url",
            "html_url",
            "slug",
            "name",
            "name_native",
            "kind",
            "country",
            "parent",
            "latitude",
            "longitude",
            "coordinate_precision",
        ]
        read_only_fields = fields


class LocationDetailSerializer(LocationListSerializer):
    ancestors = LocationSummarySerializer(source="ancestor_list", many=True, read_only=True)
    children = LocationSummarySerializer(many=True, read_only=True)

    class Meta(LocationListSerializer.Meta):
        fields = [*LocationListSerializer.Meta.fields, "description", "ancestors", "children"]
        read_only_fields = fields


class LocationWriteSerializer(RecordWriteSerializer):
    country = country_input()
    parent = record_link(Location, optional=True)

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


# --- situations -----------------------------------------------------------------------------


class SituationListSerializer(StaffFieldsMixin, ReadSerializer):
    url = ApiUrlField("situation")
    html_url = PageUrlField()
    start_date = PartialDateField(read_only=True)
    end_date = PartialDateField(read_only=True)

    class Meta:
        model = Situation
        staff_only_fields = PUBLICATION_FIELDS
        fields = [
            "id",
            "url",
            "html_url",
            "slug",
            "title",
            "summary",
            "start_date",
            "end_date",
            "updated_at",
            *PUBLICATION_FIELDS,
        ]
        read_only_fields = _read_only(fields, staff_only_fields)
        extra_kwargs = STAFF_EXTRA


class SituationDetailSerializer(SituationListSerializer):
    sources = SourceSummarySerializer(source="visible_sources", many=True, read_only=True)

    class Meta(SituationListSerializer.Meta):
        fields = [*SituationListSerializer.Meta.fields, "description", "sources"]
        read_only_fields = _read_only(fields, SituationListSerializer.Meta.staff_only_fields)


class SituationWriteSerializer(RecordWriteSerializer):
    start_date = PartialDateField()
    end_date = PartialDateField()
    sources = record_link(Source, many=True)

    class Meta:
        model = Situation
        fields = [
            "title",
            "slug",
            "summary",
            "description",
            "start_date",
            "end_date",
            "publication_state",
            "sources",
        ]


# --- statements -----------------------------------------------------------------------------


class StatementListSerializer(StaffFieldsMixin, ReadSerializer):
    url = ApiUrlField("statement")
    html_url = PageUrlField()
    said_on = PartialDateField(read_only=True)
    speaker_person = PersonSummarySerializer(read_only=True, allow_null=True)
    speaker_organization = OrganizationSummarySerializer(read_only=True, allow_null=True)
    position = PositionSummarySerializer(
        read_only=True,
        allow_null=True,
        help_text="The post the speaker held then; null when not recorded or when the "
        "speaker's identity is withheld (a post would name them).",
    )
    situation = SituationSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Statement
        staff_only_fields = PUBLICATION_FIELDS
        fields = [
            "id",
            "url",
            "html_url",
            "said_on",
            "kind",
            "medium",
            "text",
            "is_direct_quote",
            "language",
            "speaker_person",
            "speaker_organization",
            "position",
            "situation",
            "dispute_status",
            "updated_at",
            *PUBLICATION_FIELDS,
        ]
        read_only_fields = _read_only(fields, staff_only_fields)
        extra_kwargs = STAFF_EXTRA

    def to_representation(self, statement: Statement) -> dict:
        data = super().to_representation(statement)
        speaker = statement.speaker_person
        request = self.context.get("request")
        if speaker is not None and not name_shown_to(speaker, getattr(request, "user", None)):
            data["position"] = None
        return data


class StatementDetailSerializer(StatementListSerializer):
    incidents = IncidentSummarySerializer(source="visible_incidents", many=True, read_only=True)
    people = PersonSummarySerializer(source="visible_people", many=True, read_only=True)
    sources = SourceSummarySerializer(source="visible_sources", many=True, read_only=True)

    class Meta(StatementListSerializer.Meta):
        fields = [
            *StatementListSerializer.Meta.fields,
            "dispute_note",
            "incidents",
            "people",
            "sources",
        ]
        read_only_fields = _read_only(fields, StatementListSerializer.Meta.staff_only_fields)


class StatementWriteSerializer(RecordWriteSerializer):
    said_on = PartialDateField()
    speaker_person = record_link(Person, optional=True)
    speaker_organization = record_link(Organization, optional=True)
    position = record_link(Position, optional=True)
    situation = record_link(Situation, optional=True)
    incidents = record_link(Incident, many=True)
    people = record_link(Person, many=True)
    sources = record_link(Source, many=True)

    class Meta:
        model = Statement
        fields = [
            "said_on",
            "speaker_person",
            "speaker_organization",
            "position",
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
            "publication_state",
            "sources",
        ]


# --- sources --------------------------------------------------------------------------------


class SourceListSerializer(StaffFieldsMixin, ReadSerializer):
    url = ApiUrlField("source")
    html_url = PageUrlField()
    web_url = LinkField(source="url", help_text="Where the source was published.")
    archived_url = LinkField(help_text="An archived copy, e.g. in the Wayback Machine.")
    published_on = PartialDateField(read_only=True)

    class Meta:
        model = Source
        staff_only_fields = PUBLICATION_FIELDS
        fields = [
            "id",
            "url",
            "html_url",
            "title",
            "kind",
            "web_url",
            "publisher",
            "published_on",
            "language",
            "archived_url",
            "accessed_on",
            "updated_at",
            *PUBLICATION_FIELDS,
        ]
        read_only_fields = _read_only(fields, staff_only_fields)
        extra_kwargs = STAFF_EXTRA


class SourceDetailSerializer(SourceListSerializer):
    incidents = IncidentSummarySerializer(source="visible_incidents", many=True, read_only=True)
    statements = StatementSummarySerializer(source="visible_statements", many=True, read_only=True)

    class Meta(SourceListSerializer.Meta):
        fields = [*SourceListSerializer.Meta.fields, "notes", "incidents", "statements"]
        read_only_fields = _read_only(fields, SourceListSerializer.Meta.staff_only_fields)


class SourceWriteSerializer(RecordWriteSerializer):
    web_url = serializers.URLField(source="url", max_length=1000, required=False, allow_blank=True)
    published_on = PartialDateField()

    class Meta:
        model = Source
        fields = [
            "title",
            "kind",
            "web_url",
            "publisher",
            "published_on",
            "language",
            "archived_url",
            "accessed_on",
            "notes",
            "publication_state",
        ]
