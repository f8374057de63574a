"""API viewsets of the incidents app: incidents, detentions, places, situations, statements,
sources, and the removals feed for mirrors.

Each viewset names its model (whose `visible_to(user)` is its visibility unless it states
another `visible_queryset`), what its lists and details fetch in a fixed number of queries,
its FilterSet (the one its page uses), its list order and formats; `viewsets.RecordViewSet`
does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from django.db.models import F, Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from cabar_tracker.api.permissions import RecordAccess
from cabar_tracker.api.renderers import CSVRenderer
from cabar_tracker.api.viewsets import (
    JSON_CSV_AND_GEOJSON,
    ArchiveMixin,
    JsonErrorsMixin,
    RecordViewSet,
    refuse_unknown_parameters,
)
from incidents import columns, exports
from incidents.accounts import attach_accounts
from incidents.api import serializers as s
from incidents.api.places import attach_ancestors
from incidents.filters import (
    DetentionFilter,
    IncidentApiFilter,
    LocationFilter,
    SituationFilter,
    SourceFilter,
    StatementApiFilter,
)
from incidents.mirror import REMOVABLE_TYPES, RemovalReason, removed_since
from incidents.models import (
    NEWEST_FIRST,
    Allegation,
    Detention,
    Incident,
    IncidentEvent,
    Location,
    PublicUseKind,
    ReportedGroup,
    Situation,
    Source,
    Statement,
    visible_sources,
)
from people.models import Person


def visible_statements(user) -> QuerySet[Statement]:
    """Statements with their speaker and the post held, ready for a summary."""
    return Statement.objects.visible_to(user).select_related(
        "speaker_person", "speaker_organization", "position__organization"
    )


def visible_detentions(user) -> QuerySet[Detention]:
    """Detentions the user may see, of persons the user may see (as on the pages: a person
    whose own record is a draft is not shown through a published detention either; the
    rule is `DetentionQuerySet.visible_to`'s own, so this adds no `person IN (every
    visible person)` list, which cost 0.7 s per case at 300,000 people)."""
    return Detention.objects.visible_to(user)


# What a detention's representation names besides its person and incident.
DETENTION_PLACES = (
    "custody_location",
    "release_location",
    "arrest_location",
    "detaining_organization",
)


def allegations_with_authors() -> QuerySet[Allegation]:
    return Allegation.objects.select_related(
        "alleged_by_person", "alleged_by_organization"
    ).order_by("kind", "pk")


def _accounts_of(records) -> list:
    """The accounts `attach_accounts` set on the records (for the ETag of what embeds them)."""
    return [
        account
        for record in records
        for told in getattr(record, "fact_accounts", {}).values()
        for account in told
    ]


def _point_of(item: dict, key: str | None = None) -> tuple[float, float] | None:
    point = item.get(key) if key else item
    if not point or point.get("latitude") is None or point.get("longitude") is None:
        return None
    return point["latitude"], point["longitude"]


class ExportTableMixin:
    """A list whose CSV is an export table of `incidents.columns` (`csv_table`), with the
    same columns as the page's download of it, whatever filter selected the rows: a file
    from the case list and one from the API can be stacked. The rows are read through
    `csv_export_queryset` (the exports' prefetches, visibility rules included)."""

    csv_table: str
    csv_export_queryset: Callable
    csv_prepare: Callable  # what each chunk needs besides its queryset (exports.prepare_*)

    @classmethod
    def csv_columns_for(cls, *, for_staff: bool) -> list[str]:
        table = columns.TABLES[cls.csv_table]
        return [column.name for column in columns.columns_for(table, for_staff=for_staff)]

    def export_context(self) -> exports.ExportContext:
        site_url = self.request.build_absolute_uri("/").rstrip("/")
        return exports.ExportContext(user=self.request.user, site_url=site_url)

    def csv_queryset(self, queryset: QuerySet) -> QuerySet:
        # The export's prefetches replace the list's (the same relations, other querysets).
        queryset = queryset.prefetch_related(None)
        return type(self).csv_export_queryset(queryset, self.export_context())

    def csv_lines(self, chunks_of_rows: Iterable[list], *, bom: bool) -> Iterator[str]:
        context = self.export_context()
        records = (row for rows in self._prepared(chunks_of_rows, context) for row in rows)
        table = columns.TABLES[self.csv_table]
        return exports.csv_lines(table, records, context, bom=bom)

    def _prepared(self, chunks_of_rows: Iterable[list], context) -> Iterator[list]:
        for rows in chunks_of_rows:
            type(self).csv_prepare(rows, context)
            yield rows


def _incidents_for_export(queryset: QuerySet, context: exports.ExportContext) -> QuerySet:
    return exports.export_queryset(queryset, context, with_detentions=False)


class IncidentViewSet(ExportTableMixin, ArchiveMixin, RecordViewSet):
    """Incidents: events of detention or abuse at a place and a (partial) date.

    Filters are those of the case list page (incidents.filters.IncidentFilter); `search` is
    an alias of `q`. Ordered newest first (date, then id); `ordering=` changes the order and
    paging still works."""

    model = Incident
    filterset_class = IncidentApiFilter
    renderer_classes = JSON_CSV_AND_GEOJSON
    csv_table = "incidents"
    csv_export_queryset = staticmethod(_incidents_for_export)
    csv_prepare = staticmethod(exports.prepare_incidents)
    ordering = ("-start_date", "-id")
    list_serializer_class = s.IncidentListSerializer
    detail_serializer_class = s.IncidentDetailSerializer
    write_serializer_class = s.IncidentWriteSerializer

    def list_queryset(self, queryset: QuerySet) -> QuerySet:
        # The reported numbers by citizenship: one query for the page's incidents.
        groups = ReportedGroup.objects.order_by("citizenship", "pk")
        return queryset.select_related("location", "situation").prefetch_related(
            Prefetch("reported_groups", queryset=groups)
        )

    def detail_queryset(self, queryset: QuerySet) -> QuerySet:
        user = self.request.user
        detentions = (
            visible_detentions(user)
            .select_related("person", *DETENTION_PLACES)
            .order_by(F("detained_on").asc(nulls_last=True), "pk")
        )
        return self.list_queryset(queryset).prefetch_related(
            Prefetch("detentions", queryset=detentions, to_attr="visible_detentions"),
            Prefetch("visible_detentions__allegations", queryset=allegations_with_authors()),
            Prefetch(
                "reported_groups__sources",
                queryset=Source.objects.visible_to(user).order_by("title", "pk"),
                to_attr="visible_sources",
            ),
            Prefetch(
                "events",
                queryset=IncidentEvent.objects.select_related("location").order_by(
                    F("occurred_on").asc(nulls_last=True), "pk"
                ),
            ),
            Prefetch(
                "statements",
                queryset=visible_statements(user).order_by(F("said_on").asc(nulls_last=True), "pk"),
                to_attr="visible_statements",
            ),
            visible_sources(user),
        )

    def prepare(self, records: list, *, detail: bool) -> None:
        attach_ancestors(incident.location for incident in records)
        if detail:
            # The accounts of the case's facts: two queries for the incident, its
            # detentions and their allegations.
            detentions = [d for incident in records for d in incident.visible_detentions]
            allegations = [a for d in detentions for a in d.allegations.all()]
            attach_accounts([*records, *detentions, *allegations], self.request.user)

    def embedded(self, incident: Incident) -> list:
        detentions = incident.visible_detentions
        statements = incident.visible_statements
        return [
            *_accounts_of([incident, *detentions]),
            *_accounts_of(a for d in detentions for a in d.allegations.all()),
            incident.location,
            *incident.location.ancestor_list,
            self.shown(incident.situation),
            *detentions,
            *(detention.person for detention in detentions),
            *(a for detention in detentions for a in detention.allegations.all()),
            *(a.alleged_by_person for d in detentions for a in d.allegations.all()),
            *incident.events.all(),
            *incident.reported_groups.all(),
            *(
                source
                for group in incident.reported_groups.all()
                for source in group.visible_sources
            ),
            *statements,
            *(statement.speaker_person for statement in statements),
            *incident.visible_sources,
        ]

    def geojson_point(self, item: dict) -> tuple[float, float] | None:
        return _point_of(item, "map_point")


class DetentionViewSet(ExportTableMixin, ArchiveMixin, RecordViewSet):
    """Detentions: one person's involvement in one incident, with custody and release.

    Only detentions of persons the reader may see are listed; a withheld identity appears
    as its neutral label. Ordered by date detained, newest first."""

    model = Detention
    filterset_class = DetentionFilter
    csv_table = "detentions"
    csv_export_queryset = staticmethod(exports.detention_export_queryset)
    csv_prepare = staticmethod(exports.prepare_detentions)
    ordering = ("-detained_on", "-id")
    list_serializer_class = s.DetentionListSerializer
    detail_serializer_class = s.DetentionDetailSerializer
    write_serializer_class = s.DetentionWriteSerializer

    def visible_queryset(self) -> QuerySet:
        return visible_detentions(self.request.user)

    def list_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("incident", "person", *DETENTION_PLACES).prefetch_related(
            Prefetch("allegations", queryset=Allegation.objects.only("id", "kind", "detention_id"))
        )

    def detail_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("incident", "person", *DETENTION_PLACES).prefetch_related(
            Prefetch("allegations", queryset=allegations_with_authors()),
            visible_sources(self.request.user),
        )

    def prepare(self, records: list, *, detail: bool) -> None:
        if detail:
            allegations = [a for detention in records for a in detention.allegations.all()]
            attach_accounts([*records, *allegations], self.request.user)

    def embedded(self, detention: Detention) -> list:
        allegations = list(detention.allegations.all())
        return [
            *_accounts_of([detention, *allegations]),
            detention.incident,
            detention.person,
            detention.custody_location,
            detention.release_location,
            *allegations,
            *(allegation.alleged_by_person for allegation in allegations),
            *detention.visible_sources,
        ]


class LocationViewSet(RecordViewSet):
    """Places: a tree of countries, regions, cities and sites (checkpoints, police stations).

    Places have no publication state: a place is public once something published uses it
    (it, or a place inside it); until then only staff see it. Ordered as the tree (each
    place after the place it is inside)."""

    model = Location
    public_use_kind = PublicUseKind.LOCATION
    filterset_class = LocationFilter
    renderer_classes = JSON_CSV_AND_GEOJSON
    ordering = ("path", "id")
    list_serializer_class = s.LocationListSerializer
    detail_serializer_class = s.LocationDetailSerializer
    write_serializer_class = s.LocationWriteSerializer

    def list_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("parent")

    def detail_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("parent").prefetch_related(
            Prefetch(
                "children",
                queryset=Location.objects.visible_to(self.request.user).order_by("name", "pk"),
            )
        )

    def prepare(self, records: list, *, detail: bool) -> None:
        if detail:
            attach_ancestors(records)

    def embedded(self, location: Location) -> list:
        return [location.parent, *location.ancestor_list, *location.children.all()]

    def geojson_point(self, item: dict) -> tuple[float, float] | None:
        return _point_of(item)


class SituationViewSet(ArchiveMixin, RecordViewSet):
    """Situations: the wider contexts that group incidents ("January 2022 unrest in
    Kazakhstan"). Their incidents: /api/v1/incidents/?situation=<slug>."""

    model = Situation
    filterset_class = SituationFilter
    ordering = ("-start_date", "-id")
    list_serializer_class = s.SituationListSerializer
    detail_serializer_class = s.SituationDetailSerializer
    write_serializer_class = s.SituationWriteSerializer

    def detail_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related(visible_sources(self.request.user))

    def embedded(self, situation: Situation) -> list:
        return list(situation.visible_sources)


class StatementViewSet(ExportTableMixin, ArchiveMixin, RecordViewSet):
    """Statements: what officials, bodies and people said, with the post the speaker held.

    Filters are those of the statement pages (incidents.filters.StatementFilter); `search`
    is an alias of `q`. Ordered newest first."""

    model = Statement
    filterset_class = StatementApiFilter
    csv_table = "statements"
    csv_export_queryset = staticmethod(exports.statement_export_queryset)
    csv_prepare = staticmethod(exports.prepare_statements)
    ordering = ("-said_on", "-id")
    list_serializer_class = s.StatementListSerializer
    detail_serializer_class = s.StatementDetailSerializer
    write_serializer_class = s.StatementWriteSerializer

    def list_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related(
            "speaker_person", "speaker_organization", "position__organization", "situation"
        )

    def detail_queryset(self, queryset: QuerySet) -> QuerySet:
        user = self.request.user
        return self.list_queryset(queryset).prefetch_related(
            Prefetch(
                "incidents",
                queryset=Incident.objects.visible_to(user).order_by(*NEWEST_FIRST),
                to_attr="visible_incidents",
            ),
            Prefetch(
                "people",
                queryset=Person.objects.visible_to(user).order_by("pk"),
                to_attr="visible_people",
            ),
            visible_sources(user),
        )

    def embedded(self, statement: Statement) -> list:
        return [
            statement.speaker_person,
            statement.speaker_organization,
            statement.position,
            self.shown(statement.situation),
            *statement.visible_incidents,
            *statement.visible_people,
            *statement.visible_sources,
        ]


class SourceViewSet(ArchiveMixin, RecordViewSet):
    """Sources: where each fact comes from. `web_url` is the source's own address; `url`,
    as on every record, its address in this API. Ordered by title."""

    model = Source
    filterset_class = SourceFilter
    ordering = ("title", "id")
    list_serializer_class = s.SourceListSerializer
    detail_serializer_class = s.SourceDetailSerializer
    write_serializer_class = s.SourceWriteSerializer

    def detail_queryset(self, queryset: QuerySet) -> QuerySet:
        user = self.request.user
        return queryset.prefetch_related(
            Prefetch(
                "incidents",
                queryset=Incident.objects.visible_to(user).order_by(*NEWEST_FIRST),
                to_attr="visible_incidents",
            ),
            Prefetch(
                "statements",
                queryset=visible_statements(user).order_by(
                    F("said_on").desc(nulls_last=True), "-pk"
                ),
                to_attr="visible_statements",
            ),
        )

    def embedded(self, source: Source) -> list:
        statements = source.visible_statements
        return [
            *source.visible_incidents,
            *statements,
            *(statement.speaker_person for statement in statements),
        ]


# --- removals -------------------------------------------------------------------------------


class RemovalsQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(
        help_text="ISO 8601 date and time, e.g. 2024-05-01T00:00:00Z."
    )


class RemovalSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=REMOVABLE_TYPES)
    id = serializers.IntegerField()
    reason = serializers.ChoiceField(
        choices=RemovalReason.CHOICES,
        help_text=(
            "archived: archived since then. unpublished: no longer published and changed "
            "since then (it was, or may have been, unpublished). incident_removed / "
            "person_removed: a detention whose incident or person went. identity_withheld: "
            "a person whose identity is withheld (now or since then): drop their name "
            "wherever you stored it (the person's neutral label is in updated_since). "
            "no_longer_used: a place, organization or post that nothing public uses any "
            "more (a post also when its holder is no longer public by name)."
        ),
    )


class RemovalsSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    results = RemovalSerializer(many=True)


class RemovalsView(JsonErrorsMixin, APIView):
    """GET /api/v1/removals/?since=…: what a mirror must drop."""

    permission_classes = [RecordAccess]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    http_method_names = ["get", "head", "options"]
    basename = "removals"

    @extend_schema(
        operation_id="removals_list",
        summary="Records a mirror must drop",
        description=(
            "Records that were public once and, since the given time, left the public: "
            "archived or unpublished, detentions whose incident or person went, persons "
            "whose identity is withheld, and places, organizations and posts that nothing "
            "public uses any more. Without a change history, 'unpublished since' is "
            "computed as 'not published now and changed since then': such records were, or "
            "may have been, unpublished in that time. Records never public are not listed, "
            "nor anything public now (but a person whose identity became withheld: drop "
            "their name, then take their neutral label from updated_since). A mirror "
            "applies this feed first, then each list's updated_since from the same time. "
            "Not paged. CSV columns: type, id, reason."
        ),
        parameters=[
            OpenApiParameter(
                "since",
                OpenApiTypes.DATETIME,
                required=True,
                description="ISO 8601 date and time, e.g. 2024-05-01T00:00:00Z.",
            )
        ],
        responses=RemovalsSerializer,
    )
    def get(self, request) -> Response:
        refuse_unknown_parameters(request, {"since", "format"})
        query = RemovalsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = query.validated_data["since"]
        return Response({"since": since, "results": removed_since(since)})

    def get_csv_columns(self, request) -> list[str]:
        return ["type", "id", "reason"]
