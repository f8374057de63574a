"""Short representations of records embedded in others (a detention's person, an incident's
place). Both apps' serializers use them, so they live in one module without circular imports.

Every summary has the record's `id` and its API `url`. A person summary applies the naming
rule of `incidents.templatetags.cases` (the one place that decides how a person's name shows):
a withheld identity appears to the public only as its neutral label, and a person whose own
record the reader may not see has no id or url.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cabar_tracker.api.fields import (
    ApiUrlField,
    CoordinateField,
    CountryCodeField,
    LinkField,
    PartialDateField,
    ReadSerializer,
    api_url,
)
from cabar_tracker.publishing import shown_to
from incidents.models import Incident, Location, Situation, Source, Statement
from people.models import Organization, Person, Position


class LocationSummarySerializer(ReadSerializer):
    url = ApiUrlField("location")
    country = CountryCodeField()

    class Meta:
        model = Location
        fields = ["id", "url", "slug", "name", "kind", "country"]
        read_only_fields = fields


class LocationWithAncestorsSerializer(LocationSummarySerializer):
    latitude = CoordinateField()
    longitude = CoordinateField()
    ancestors = serializers.SerializerMethodField(
        help_text="The places this one is inside, the country first."
    )

    class Meta(LocationSummarySerializer.Meta):
        fields = [
            *LocationSummarySerializer.Meta.fields,
            "latitude",
            "longitude",
            "coordinate_precision",
            "ancestors",
        ]
        read_only_fields = fields

    @extend_schema_field(LocationSummarySerializer(many=True))
    def get_ancestors(self, location: Location) -> list[dict]:
        # Attached by the view in one query for every place it shows (`attach_ancestors`).
        ancestors = getattr(location, "ancestor_list", [])
        return LocationSummarySerializer(ancestors, many=True, context=self.context).data


class ShownOrNullMixin:
    """A publishable record reached through a relation (an incident's situation) is null
    to a reader who may not see it, by the rule of `cases.shown_to`, as on the pages."""

    def to_representation(self, record):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        visible = shown_to(record, user) if user is not None else record.is_published
        return super().to_representation(record) if visible else None


class SituationSummarySerializer(ShownOrNullMixin, ReadSerializer):
    url = ApiUrlField("situation")

    class Meta:
        model = Situation
        fields = ["id", "url", "slug", "title"]
        read_only_fields = fields


class IncidentSummarySerializer(ReadSerializer):
    url = ApiUrlField("incident")
    start_date = PartialDateField()

    class Meta:
        model = Incident
        fields = ["id", "url", "slug", "title", "kind", "start_date"]
        read_only_fields = fields


class SourceSummarySerializer(ReadSerializer):
    url = ApiUrlField("source")
    web_url = LinkField(source="url", help_text="Where the source was published.")
    published_on = PartialDateField()

    class Meta:
        model = Source
        fields = ["id", "url", "title", "publisher", "web_url", "published_on"]
        read_only_fields = fields


class OrganizationSummarySerializer(ReadSerializer):
    url = ApiUrlField("organization")

    class Meta:
        model = Organization
        fields = ["id", "url", "slug", "name", "abbreviation"]
        read_only_fields = fields


class PersonSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True, help_text="Null when the person's own record is not public."
    )
    url = serializers.URLField(
        allow_null=True, help_text="Null when the person's own record is not public."
    )
    display_name = serializers.CharField(
        help_text="The name, or a neutral label such as 'Person withheld, citizen of "
        "Kyrgyzstan' when the identity is withheld from the public."
    )
    citizenship = CountryCodeField()
    identity_withheld = serializers.BooleanField(
        allow_null=True, help_text="Null when the person's own record is not public."
    )

    def to_representation(self, person: Person) -> dict:
        user = self.context["request"].user if "request" in self.context else None
        visible = shown_to(person, user) if user is not None else person.is_published
        # A person whose own record is not public is only "A person not yet published":
        # no citizenship, and no telling whether the identity will be withheld.
        return {
            "id": person.pk if visible else None,
            "url": api_url(self.context, "person", person.pk) if visible else None,
            "display_name": person.name_for(user),
            "citizenship": (person.citizenship.code or None) if visible else None,
            "identity_withheld": person.identity_withheld if visible else None,
        }


class PositionSummarySerializer(ReadSerializer):
    url = ApiUrlField("position")
    organization = OrganizationSummarySerializer(read_only=True)

    class Meta:
        model = Position
        fields = ["id", "url", "title", "organization", "start_date", "end_date"]
        read_only_fields = fields


class StatementSummarySerializer(ReadSerializer):
    url = ApiUrlField("statement")
    said_on = PartialDateField()
    speaker_person = PersonSummarySerializer(read_only=True, allow_null=True)
    speaker_organization = OrganizationSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Statement
        fields = [
            "id",
            "url",
            "said_on",
            "kind",
            "text",
            "speaker_person",
            "speaker_organization",
            "dispute_status",
        ]
        read_only_fields = fields
