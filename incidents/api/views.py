"""API viewsets of the incidents app: incidents, detentions, places, situations, statements,
sources, and the removals feed for mirrors.

Each viewset names its model (whose `visible_to(user)` is its visibility unless it states
another `visible_queryset`), what its lists and details fetch in a fixed number of queries,
its FilterSet (the one its page uses), its list order and formats; `viewsets.RecordViewSet`
does the rest.
"""

from __future__ import annotations

from django.db.models import F, Prefetch, Q, QuerySet
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
)
from cabar_tracker.publishing import PublicationState
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
from incidents.models import (
    NEWEST_FIRST,
    Allegation,
    Detention,
    Incident,
    IncidentEvent,
    Location,
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


class IncidentViewSet(ArchiveMixin, RecordViewSet):
    """Incidents: events of detention or abuse at a place and a (partial) date.

    Filters are those of the case list page (incidents.filters.IncidentFilter); `search` is
    an alias of `q`. Ordered newest first (date, then id); `ordering=` changes the order and
    paging still works."""

    model = Incident
    filterset_class = IncidentApiFilter
    renderer_classes = JSON_CSV_AND_GEOJSON
    ordering = ("-start_date", "-id")
    list_serializer_class = s.IncidentListSerializer
    detail_serializer_class = s.IncidentDetailSerializer
    write_serializer_class = s.IncidentWriteSerializer

    def list_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("location", "situation")

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
            *statements,
            *(statement.speaker_person for statement in statements),
            *incident.visible_sources,
        ]

    def geojson_point(self, item: dict) -> tuple[float, float] | None:
        return _point_of(item, "map_point")


class DetentionViewSet(ArchiveMixin, RecordViewSet):
    """Detentions: one person's involvement in one incident, with custody and release.

    Only detentions of persons the reader may see are listed; a withheld identity appears
    as its neutral label. Ordered by date detained, newest first."""

    model = Detention
    filterset_class = DetentionFilter
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


class StatementViewSet(ArchiveMixin, RecordViewSet):
    """Statements: what officials, bodies and people said, with the post the speaker held.

    Filters are those of the statement pages (incidents.filters.StatementFilter); `search`
    is an alias of `q`. Ordered newest first."""

    model = Statement
    filterset_class = StatementApiFilter
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


class RemovalReason:
    ARCHIVED = "archived"
    UNPUBLISHED = "unpublished"
    INCIDENT_REMOVED = "incident_removed"
    PERSON_REMOVED = "person_removed"
    IDENTITY_WITHHELD = "identity_withheld"
    CHOICES = [ARCHIVED, UNPUBLISHED, INCIDENT_REMOVED, PERSON_REMOVED, IDENTITY_WITHHELD]


REMOVABLE = [
    ("incident", Incident),
    ("detention", Detention),
    ("person", Person),
    ("situation", Situation),
    ("statement", Statement),
    ("source", Source),
]


class RemovalsQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(
        help_text="ISO 8601 date and time, e.g. 2024-05-01T00:00:00Z."
    )


class RemovalSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[name for name, _model in REMOVABLE])
    id = serializers.IntegerField()
    reason = serializers.ChoiceField(
        choices=RemovalReason.CHOICES,
        help_text=(
            "archived: archived since then. unpublished: no longer published and changed "
            "since then (it was, or may have been, unpublished). incident_removed / "
            "person_removed: a detention whose incident or person went. identity_withheld: "
            "a person whose identity is withheld (now or since then): drop their name "
            "wherever you stored it."
        ),
    )


class RemovalsSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    results = RemovalSerializer(many=True)


def removed_since(since) -> list[dict]:
    """Records a mirror may hold (they were published once: `published_at` is set) that
    left the public since `since`, or changed in a way that must remove a name.

    There is no history table yet, so "unpublished since" is approximated by "not published
    now and changed since": a record edited after it was unpublished is listed again, which
    only makes a mirror drop what it had already dropped.
    """
    ever_published = Q(published_at__isnull=False)
    # A detention was public only if its incident and its person were published too: a
    # detention published inside a case that never was has never been on the site.
    detention_ever_public = (
        ever_published
        & Q(incident__published_at__isnull=False)
        & Q(person__published_at__isnull=False)
    )
    archived = Q(archived_at__gte=since)
    unpublished = ~Q(publication_state=PublicationState.PUBLISHED) & Q(updated_at__gte=since)
    gone = ever_published & (archived | unpublished)

    results: list[dict] = []

    def add(type_name: str, reason: str, ids) -> None:
        results.extend({"type": type_name, "id": pk, "reason": reason} for pk in ids)

    for type_name, model in REMOVABLE:
        once_public = detention_ever_public if model is Detention else ever_published
        rows = model.objects.filter(once_public & (archived | unpublished)).values_list(
            "pk", "archived_at"
        )
        for pk, archived_at in rows:
            archived_now = archived_at is not None and archived_at >= since
            add(
                type_name,
                RemovalReason.ARCHIVED if archived_now else RemovalReason.UNPUBLISHED,
                [pk],
            )

    listed = {(row["type"], row["id"]) for row in results}
    removed_incidents = Incident.objects.filter(gone).values("pk")
    removed_persons = Person.objects.filter(gone).values("pk")
    for reason, condition in (
        (RemovalReason.INCIDENT_REMOVED, Q(incident__in=removed_incidents)),
        (RemovalReason.PERSON_REMOVED, Q(person__in=removed_persons)),
    ):
        ids = Detention.objects.filter(detention_ever_public & condition).values_list(
            "pk", flat=True
        )
        add("detention", reason, [pk for pk in ids if ("detention", pk) not in listed])
        listed |= {("detention", pk) for pk in ids}

    withheld = Person.objects.filter(
        ever_published, identity_withheld=True, updated_at__gte=since, archived_at__isnull=True
    ).exclude(pk__in=[pk for kind, pk in listed if kind == "person"])
    add("person", RemovalReason.IDENTITY_WITHHELD, withheld.values_list("pk", flat=True))
    return sorted(results, key=lambda row: (row["type"], row["id"]))


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
            "Records that were published once and, since the given time, were archived or "
            "unpublished, plus detentions whose incident or person went, and persons whose "
            "identity is withheld. Without a change history, 'unpublished since' is computed "
            "as 'not published now and changed since then': such records were, or may have "
            "been, unpublished in that time. Records never published are not listed. Not "
            "paged. CSV columns: type, id, reason."
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
        query = RemovalsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = query.validated_data["since"]
        return Response({"since": since, "results": removed_since(since)})

    def get_csv_columns(self, request) -> list[str]:
        return ["type", "id", "reason"]
