"""Representations of persons, organizations and posts.

A person whose identity is withheld is shown to the public as on their page: the neutral
`display_name` label, citizenship, public notes, detentions and sources, and nothing that
names or singles them out. Those keys (`IDENTITY_FIELDS`) are absent, not null.
"""

from __future__ import annotations

from rest_framework import serializers

from cabar_tracker.api.fields import (
    PUBLICATION_FIELDS,
    ApiUrlField,
    CountryCodeField,
    LinkField,
    PageUrlField,
    PartialDateField,
    ReadSerializer,
    StaffFieldsMixin,
    country_input,
    for_staff,
)
from cabar_tracker.api.summaries import (
    IncidentSummarySerializer,
    LocationSummarySerializer,
    OrganizationSummarySerializer,
    PersonSummarySerializer,
    PositionSummarySerializer,
    SourceSummarySerializer,
)
from cabar_tracker.api.writes import RecordWriteSerializer, record_link
from cabar_tracker.publishing import name_shown_to
from incidents.models import Detention, Source
from people.models import Organization, Person, PersonName, Position

# What names or singles out a person: absent from a withheld identity's public
# representation. The slug is made from the name, so the page link goes with it.
IDENTITY_FIELDS = (
    "name",
    "name_native",
    "slug",
    "html_url",
    "sex",
    "birth_year",
    "occupation",
    "name_variants",
    "positions",
)


def _user(context: dict):
    request = context.get("request")
    return getattr(request, "user", None)


class PersonListSerializer(StaffFieldsMixin, ReadSerializer):
    url = ApiUrlField("person")
    html_url = PageUrlField(read_only=False, required=False)
    display_name = serializers.SerializerMethodField(
        help_text="The name, or for a withheld identity a neutral label such as 'Person "
        "withheld, citizen of Kyrgyzstan'."
    )
    citizenship = CountryCodeField()

    class Meta:
        model = Person
        staff_only_fields = PUBLICATION_FIELDS
        fields = [
            "id",
            "url",
            "display_name",
            "name",
            "name_native",
            "slug",
            "html_url",
            "citizenship",
            "occupation",
            "identity_withheld",
            "updated_at",
            *PUBLICATION_FIELDS,
        ]
        # Identity fields are optional in the schema: a withheld identity has none of them.
        read_only_fields = ["id", "identity_withheld", "updated_at"]
        extra_kwargs = {
            name: {"required": False}
            for name in ("name", "name_native", "slug", "occupation", *PUBLICATION_FIELDS)
        }

    def get_display_name(self, person: Person) -> str:
        if name_shown_to(person, _user(self.context)):
            return person.display_name(for_staff=for_staff(self.context))
        return str(person.public_label)

    def to_representation(self, person: Person) -> dict:
        data = super().to_representation(person)
        if not name_shown_to(person, _user(self.context)):
            for name in IDENTITY_FIELDS:
                data.pop(name, None)
        return data


class PersonNameSerializer(ReadSerializer):
    name = serializers.CharField(
        required=False,
        help_text="Absent for a 'misidentified as' name that is another person's withheld name.",
    )
    other_person = PersonSummarySerializer(
        read_only=True,
        allow_null=True,
        help_text="For 'misidentified as': the real bearer of the name, if recorded.",
    )

    class Meta:
        model = PersonName
        fields = ["id", "name", "kind", "script", "other_person", "note"]
        read_only_fields = ["id", "kind", "script", "note"]

    def to_representation(self, variant: PersonName) -> dict:
        data = super().to_representation(variant)
        other = variant.other_person
        if other is not None and not name_shown_to(other, _user(self.context)):
            # The wrong name is the other person's real name: withheld with them.
            data.pop("name", None)
        return data


class PersonDetentionSerializer(ReadSerializer):
    url = ApiUrlField("detention")
    incident = IncidentSummarySerializer(read_only=True)
    detained_on = PartialDateField(read_only=True)
    released_on = PartialDateField(read_only=True)
    custody_location = LocationSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Detention
        fields = [
            "id",
            "url",
            "incident",
            "role",
            "detained_on",
            "custody_location",
            "released_on",
            "outcome",
        ]
        read_only_fields = fields


class PersonDetailSerializer(PersonListSerializer):
    # Not read-only, only so the schema marks them optional: a withheld identity has neither.
    name_variants = PersonNameSerializer(many=True, required=False)
    positions = PositionSummarySerializer(many=True, required=False)
    detentions = PersonDetentionSerializer(source="visible_detentions", many=True, read_only=True)
    sources = SourceSummarySerializer(source="visible_sources", many=True, read_only=True)

    class Meta(PersonListSerializer.Meta):
        staff_only_fields = ("staff_notes", *PUBLICATION_FIELDS)
        fields = [
            *PersonListSerializer.Meta.fields,
            "sex",
            "birth_year",
            "public_notes",
            "name_variants",
            "positions",
            "detentions",
            "sources",
            "staff_notes",
        ]
        read_only_fields = [*PersonListSerializer.Meta.read_only_fields, "public_notes"]
        extra_kwargs = {
            **PersonListSerializer.Meta.extra_kwargs,
            "sex": {"required": False},
            "birth_year": {"required": False},
            "staff_notes": {"required": False},
        }


class PersonWriteSerializer(RecordWriteSerializer):
    citizenship = country_input(required=False, allow_blank=True)
    sources = record_link(Source, many=True)

    class Meta:
        model = Person
        fields = [
            "name",
            "name_native",
            "slug",
            "sex",
            "birth_year",
            "citizenship",
            "occupation",
            "public_notes",
            "staff_notes",
            "identity_withheld",
            "publication_state",
            "sources",
        ]


class OrganizationListSerializer(ReadSerializer):
    url = ApiUrlField("organization")
    html_url = PageUrlField()
    country = CountryCodeField()
    parent = OrganizationSummarySerializer(read_only=True, allow_null=True)
    website = LinkField()

    class Meta:
        model = Organization
        fields = [
            "id",
            "url",
            "html_url",
            "slug",
            "name",
            "name_native",
            "abbreviation",
            "kind",
            "country",
            "parent",
            "website",
            "updated_at",
        ]
        read_only_fields = fields


class OrganizationPositionSerializer(ReadSerializer):
    url = ApiUrlField("position")
    person = PersonSummarySerializer(read_only=True)

    class Meta:
        model = Position
        fields = ["id", "url", "title", "person", "start_date", "end_date"]
        read_only_fields = fields


class OrganizationDetailSerializer(OrganizationListSerializer):
    children = OrganizationSummarySerializer(many=True, read_only=True)
    positions = OrganizationPositionSerializer(
        source="visible_positions", many=True, read_only=True
    )
    sources = SourceSummarySerializer(source="visible_sources", many=True, read_only=True)

    class Meta(OrganizationListSerializer.Meta):
        fields = [
            *OrganizationListSerializer.Meta.fields,
            "description",
            "children",
            "positions",
            "sources",
        ]
        read_only_fields = fields


class OrganizationWriteSerializer(RecordWriteSerializer):
    country = country_input(required=False, allow_blank=True)
    parent = record_link(Organization, optional=True)
    sources = record_link(Source, many=True)

    class Meta:
        model = Organization
        fields = [
            "name",
            "name_native",
            "abbreviation",
            "slug",
            "kind",
            "country",
            "parent",
            "website",
            "description",
            "sources",
        ]


class PositionListSerializer(ReadSerializer):
    url = ApiUrlField("position")
    person = PersonSummarySerializer(read_only=True)
    organization = OrganizationSummarySerializer(read_only=True)

    class Meta:
        model = Position
        fields = ["id", "url", "title", "person", "organization", "start_date", "end_date"]
        read_only_fields = fields


class PositionDetailSerializer(PositionListSerializer):
    sources = SourceSummarySerializer(source="visible_sources", many=True, read_only=True)

    class Meta(PositionListSerializer.Meta):
        fields = [*PositionListSerializer.Meta.fields, "sources"]
        read_only_fields = fields


class PositionWriteSerializer(RecordWriteSerializer):
    person = record_link(Person)
    organization = record_link(Organization)
    sources = record_link(Source, many=True)

    class Meta:
        model = Position
        fields = ["person", "organization", "title", "start_date", "end_date", "sources"]
