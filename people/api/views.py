"""API viewsets of the people app: persons, organizations and posts (see incidents.api.views
for the pattern)."""

from __future__ import annotations

from django.db.models import F, Prefetch, QuerySet

from cabar_tracker.api.viewsets import ArchiveMixin, RecordViewSet
from incidents.models import Detention, PublicUseKind, visible_sources
from people.api import serializers as s
from people.filters import OrganizationFilter, PersonFilter, PositionFilter
from people.models import Organization, Person, PersonName, Position, visible_positions


class PersonViewSet(ArchiveMixin, RecordViewSet):
    """Persons: the people detained and the officials who spoke.

    `q` (or `search`) finds a person by any spelling of any of their names, in Latin or
    Cyrillic script. A withheld identity is never found by name and appears only as a
    neutral label. Ordered by id: an order by name would place a withheld identity among the
    names (and put its name into the paging cursor)."""

    model = Person
    filterset_class = PersonFilter
    ordering = ("id",)
    list_serializer_class = s.PersonListSerializer
    detail_serializer_class = s.PersonDetailSerializer
    write_serializer_class = s.PersonWriteSerializer

    def detail_queryset(self, queryset: QuerySet) -> QuerySet:
        user = self.request.user
        detentions = (
            Detention.objects.visible_to(user)
            .select_related("incident", "custody_location")
            .order_by(F("detained_on").desc(nulls_last=True), "-pk")
        )
        return queryset.prefetch_related(
            Prefetch(
                "name_variants",
                queryset=PersonName.objects.select_related("other_person").order_by(
                    "kind", "name", "pk"
                ),
            ),
            Prefetch(
                "positions",
                queryset=Position.objects.select_related("organization").order_by(
                    F("start_date").desc(nulls_last=True), "pk"
                ),
            ),
            Prefetch("detentions", queryset=detentions, to_attr="visible_detentions"),
            visible_sources(user),
        )

    def embedded(self, person: Person) -> list:
        variants = list(person.name_variants.all())
        positions = list(person.positions.all())
        return [
            *variants,
            *(variant.other_person for variant in variants),
            *positions,
            *(position.organization for position in positions),
            *person.visible_detentions,
            *(detention.incident for detention in person.visible_detentions),
            *person.visible_sources,
        ]


class OrganizationViewSet(RecordViewSet):
    """Organizations: ministries, security services, embassies, the ombudsman, media.
    Not publishable records: every organization is public. Ordered by name."""

    model = Organization
    public_use_kind = PublicUseKind.ORGANIZATION
    filterset_class = OrganizationFilter
    ordering = ("name", "id")
    list_serializer_class = s.OrganizationListSerializer
    detail_serializer_class = s.OrganizationDetailSerializer
    write_serializer_class = s.OrganizationWriteSerializer

    def list_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("parent")

    def detail_queryset(self, queryset: QuerySet) -> QuerySet:
        user = self.request.user
        positions = (
            visible_positions(user)
            .select_related("person")
            .order_by("title", F("start_date").desc(nulls_last=True), "pk")
        )
        return queryset.select_related("parent").prefetch_related(
            Prefetch(
                "children", queryset=Organization.objects.visible_to(user).order_by("name", "pk")
            ),
            Prefetch("positions", queryset=positions, to_attr="visible_positions"),
            visible_sources(user),
        )

    def embedded(self, organization: Organization) -> list:
        positions = organization.visible_positions
        return [
            organization.parent,
            *organization.children.all(),
            *positions,
            *(position.person for position in positions),
            *organization.visible_sources,
        ]


class PositionViewSet(RecordViewSet):
    """Posts: who held which office in which organization, and when. Posts of a withheld
    identity are not public. Ordered by id."""

    model = Position
    public_use_kind = PublicUseKind.POSITION
    filterset_class = PositionFilter
    ordering = ("id",)
    list_serializer_class = s.PositionListSerializer
    detail_serializer_class = s.PositionDetailSerializer
    write_serializer_class = s.PositionWriteSerializer

    def visible_queryset(self) -> QuerySet:
        return visible_positions(self.request.user)

    def list_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("person", "organization")

    def detail_queryset(self, queryset: QuerySet) -> QuerySet:
        return self.list_queryset(queryset).prefetch_related(visible_sources(self.request.user))

    def embedded(self, position: Position) -> list:
        return [position.person, position.organization, *position.visible_sources]
