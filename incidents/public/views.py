"""Public pages of the incidents app: the list of cases and the detail pages.

Views stay thin. Each detail page calls one `get_<kind>_for(user, key)` helper that fetches the
record together with everything the page lists (select_related / prefetch_related, each
related list filtered with `visible_to(user)`) and raises 404 when the user may not see it, so
the visibility rule is applied in one place per kind and the page's query count does not grow
with the number of rows.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import F, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from cabar_tracker.parameters import PAGE, takes_parameters
from cabar_tracker.publishing import can_see_unpublished
from evidence.models import Attachment, Capture
from incidents.accounts import attach_accounts
from incidents.counting import case_people, summarize
from incidents.models import (
    NEWEST_FIRST,
    Allegation,
    CoordinatePrecision,
    Detention,
    FollowUpAction,
    Incident,
    IncidentEvent,
    Location,
    ReportedGroup,
    Situation,
    Source,
    Statement,
    visible_sources,
)
from incidents.partial_dates import PartialDate
from incidents.permalinks import redirect_or_404
from people.models import Person

INCIDENTS_PER_PAGE = 50


# --- helpers shared by the pages -----------------------------------------------------------


def attach_place_labels(locations: Iterable[Location | None]) -> None:
    """Set `place_label` ("Shymkent, Turkestan Region, Kazakhstan") on each location, and
    `mapped_place`: the nearest of the place and its ancestors that has coordinates (or None),
    which `map_point` shows.

    One query for all of them, whatever their number: the ancestors' ids are read from each
    location's `path`, so a list page does not issue a query per row to name the country.
    """
    locations = [location for location in locations if location is not None]
    ancestor_ids = {pk: _ancestor_ids(location) for pk, location in enumerate(locations)}
    wanted = {pk for ids in ancestor_ids.values() for pk in ids}
    ancestors = (
        Location.objects.filter(pk__in=wanted)
        .only("name", "latitude", "longitude", "coordinate_precision")
        .in_bulk()
        if wanted
        else {}
    )
    for index, location in enumerate(locations):
        # Most precise first, as a postal address reads.
        parents = [ancestors[pk] for pk in reversed(ancestor_ids[index]) if pk in ancestors]
        location.place_label = ", ".join([location.name, *(parent.name for parent in parents)])
        location.mapped_place = next(
            (place for place in [location, *parents] if place.has_coordinates), None
        )


def _ancestor_ids(location: Location) -> list[int]:
    return [int(part) for part in location.path.strip("/").split("/")[:-1] if part]


def incident_page(request: HttpRequest, incidents: QuerySet[Incident]) -> Page:
    """One page of an incident list, with what the list shows, in a fixed number of queries
    (count, page, place names)."""
    incidents = incidents.select_related("location").order_by(*NEWEST_FIRST)
    page = Paginator(incidents, INCIDENTS_PER_PAGE).get_page(request.GET.get("page"))
    attach_place_labels(incident.location for incident in page.object_list)
    return page


def _visible_statements(user) -> QuerySet[Statement]:
    """Statements with the speaker and the post they held, ready for a list."""
    return Statement.objects.visible_to(user).select_related(
        "speaker_person", "speaker_organization", "position__organization"
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a case's timeline. `kind` chooses how the template words it."""

    date: PartialDate | None
    kind: str  # "detained", "released", "statement" or "event"
    record: Detention | Statement | IncidentEvent


def build_timeline(
    detentions: Iterable[Detention],
    statements: Iterable[Statement],
    events: Iterable[IncidentEvent],
) -> list[TimelineEntry]:
    """The case as one time-ordered story, from rows the page has already fetched.

    Order (issue 13): by the earliest day each date may be, then, among dates that may
    begin on the same day, the finer first: day, around a day, month, year
    (`PartialDate.sort_key`). So "1 January 2022", "January 2022", "2 January 2022" in
    that order: a month is told where it may begin, and after the days it is no coarser
    than, but before any later day it may precede. Entries that still tie keep the order
    they are gathered in below (detentions, releases, statements, events; each kind in
    its own order, which ends with the id), as Python's sort is stable. Undated timeline
    events come last, shown as "date not given". Undated detentions and statements are not
    repeated here: their own sections list them.
    """
    entries: list[TimelineEntry] = []
    for detention in detentions:
        if detention.detained:
            entries.append(TimelineEntry(detention.detained, "detained", detention))
        if detention.released:
            entries.append(TimelineEntry(detention.released, "released", detention))
    entries.extend(TimelineEntry(s.said, "statement", s) for s in statements if s.said)
    entries.extend(TimelineEntry(e.occurred, "event", e) for e in events)

    def sort_key(entry: TimelineEntry) -> tuple:
        if entry.date is None:
            return (True, datetime.date.max, 0, entry.record.pk)
        return (False, *entry.date.sort_key(), 0)

    return sorted(entries, key=sort_key)


# How far the case map zooms in, by how precise the place's coordinates are.
MAP_ZOOM = {
    CoordinatePrecision.EXACT: 14,
    CoordinatePrecision.APPROXIMATE: 11,
    CoordinatePrecision.CITY: 10,
    CoordinatePrecision.REGION: 7,
    CoordinatePrecision.COUNTRY: 4,
}


def map_point(location: Location) -> dict | None:
    """What the case map shows: the place, or else the nearest place it is inside that has
    coordinates (a checkpoint without coordinates shows its country), or None.

    No query when `attach_place_labels` has run on the location (it finds the place on its
    way); else one, and only when the place itself has no coordinates.
    """
    if hasattr(location, "mapped_place"):
        mapped = location.mapped_place
    elif location.has_coordinates:
        mapped = location
    else:
        ancestors = reversed(list(location.ancestors()))
        mapped = next((place for place in ancestors if place.has_coordinates), None)
    if mapped is None:
        return None
    return {
        "latitude": float(mapped.latitude),
        "longitude": float(mapped.longitude),
        "zoom": MAP_ZOOM.get(mapped.coordinate_precision, 8),
        "name": mapped.name,
        "precision": str(mapped.get_coordinate_precision_display() or ""),
        "is_exact_place": mapped.pk == location.pk,
    }


# --- object helpers: fetch for a user, or 404 ----------------------------------------------


def get_incident_for(user, slug: str) -> Incident:
    """The incident with everything its page shows, or 404 if the user may not see it."""
    detentions = (
        Detention.objects.visible_to(user)
        .select_related(
            "person",
            "custody_location",
            "release_location",
            "arrest_location",
            "detaining_organization",
        )
        .order_by(F("detained_on").asc(nulls_last=True), "pk")
    )
    allegations = Allegation.objects.select_related(
        "alleged_by_person", "alleged_by_organization", "statement"
    ).order_by("kind", "pk")
    incidents = (
        Incident.objects.visible_to(user)
        .select_related("location", "situation")
        .prefetch_related(
            Prefetch("detentions", queryset=detentions, to_attr="visible_detentions"),
            Prefetch("visible_detentions__allegations", queryset=allegations),
            Prefetch(
                "events",
                queryset=IncidentEvent.objects.select_related("location").order_by(
                    F("occurred_on").asc(nulls_last=True), "pk"
                ),
            ),
            Prefetch(
                "statements",
                queryset=_visible_statements(user).order_by(
                    F("said_on").asc(nulls_last=True), "pk"
                ),
                to_attr="visible_statements",
            ),
            visible_sources(user),
            # The reported numbers by citizenship, each with its sources (two queries).
            Prefetch(
                "reported_groups",
                queryset=ReportedGroup.objects.order_by("pk").prefetch_related(
                    visible_sources(user)
                ),
            ),
        )
    )
    if can_see_unpublished(user):
        # Staff see each person's follow-up actions: one query for all of them.
        incidents = incidents.prefetch_related(
            Prefetch(
                "visible_detentions__follow_up_actions",
                queryset=FollowUpAction.objects.select_related("created_by"),
            )
        )
    return get_object_or_404(incidents, slug=slug)


def get_situation_for(user, slug: str) -> Situation:
    situations = Situation.objects.visible_to(user).prefetch_related(
        Prefetch(
            "statements",
            queryset=_visible_statements(user).order_by(F("said_on").asc(nulls_last=True), "pk"),
            to_attr="visible_statements",
        ),
        visible_sources(user),
    )
    return get_object_or_404(situations, slug=slug)


def get_location_for(user, slug: str) -> Location:
    """A place the user may see (`LocationQuerySet.visible_to`: a draft case's place is not
    public until something published uses it), with the places inside it they may see."""
    places = Location.objects.visible_to(user)
    children = Prefetch("children", queryset=Location.objects.visible_to(user).order_by("name"))
    return get_object_or_404(places.prefetch_related(children), slug=slug)


def get_statement_for(user, pk: int) -> Statement:
    statements = (
        _visible_statements(user)
        .select_related("situation")
        .prefetch_related(
            Prefetch(
                "incidents",
                queryset=Incident.objects.visible_to(user).order_by(*NEWEST_FIRST),
                to_attr="visible_incidents",
            ),
            Prefetch("people", queryset=Person.objects.visible_to(user), to_attr="visible_people"),
            visible_sources(user),
        )
    )
    return get_object_or_404(statements, pk=pk)


def get_source_for(user, pk: int) -> Source:
    sources = Source.objects.visible_to(user).prefetch_related(
        Prefetch(
            "incidents",
            queryset=Incident.objects.visible_to(user)
            .select_related("location")
            .order_by(*NEWEST_FIRST),
            to_attr="visible_incidents",
        ),
        Prefetch(
            "statements",
            queryset=_visible_statements(user).order_by(F("said_on").desc(nulls_last=True), "-pk"),
            to_attr="visible_statements",
        ),
        # Its captures and attached files (evidence.models decides who sees which).
        Prefetch(
            "captures",
            queryset=Capture.objects.visible_to(user).order_by("-created_at", "-pk"),
            to_attr="visible_captures",
        ),
        Prefetch(
            "attachments",
            queryset=Attachment.objects.visible_to(user),
            to_attr="visible_attachments",
        ),
    )
    return get_object_or_404(sources, pk=pk)


# --- views ----------------------------------------------------------------------------------


@takes_parameters(PAGE)
def home(request: HttpRequest) -> HttpResponse:
    """The cases: published incidents (and drafts for staff), newest first."""
    page = incident_page(request, Incident.objects.visible_to(request.user))
    return render(request, "incidents/home.html", {"page": page})


@takes_parameters()
def incident_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        incident = get_incident_for(request.user, slug)
    except Http404:
        return redirect_or_404(request, Incident, slug)
    detentions = incident.visible_detentions
    allegations = [a for detention in detentions for a in detention.allegations.all()]
    # The accounts of the case's facts, with their sources: two queries for all of them.
    attach_accounts([incident, *detentions, *allegations], request.user)
    accounts = [
        account
        for record in (incident, *detentions, *allegations)
        for told in record.fact_accounts.values()
        for account in told
    ]
    attach_place_labels(
        [
            incident.location,
            *(event.location for event in incident.events.all()),
            *(d.custody_location for d in detentions),
            *(d.release_location for d in detentions),
            *(d.arrest_location for d in detentions),
            *(account.value_location for account in accounts),
        ]
    )
    timeline = build_timeline(
        incident.visible_detentions, incident.visible_statements, incident.events.all()
    )
    context = {
        "incident": incident,
        "people": case_people(incident.reported_groups.all(), incident.visible_detentions),
        "timeline": timeline,
        "for_staff": can_see_unpublished(request.user),
        "permalink": request.build_absolute_uri(incident.get_absolute_url()),
        "map_point": map_point(incident.location),
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "incidents/incident_detail.html", context)


@takes_parameters(PAGE)
def situation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        situation = get_situation_for(request.user, slug)
    except Http404:
        return redirect_or_404(request, Situation, slug)
    incidents = Incident.objects.visible_to(request.user).filter(situation=situation)
    page = incident_page(request, incidents)
    context = {
        "situation": situation,
        "page": page,
        # The case list's counting rule (incidents.public.facets): reported or named, the larger.
        "counts": summarize(incidents, request.user),
    }
    return render(request, "incidents/situation_detail.html", context)


@takes_parameters(PAGE)
def location_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        location = get_location_for(request.user, slug)
    except Http404:
        return redirect_or_404(request, Location, slug)
    # The place's own incidents and those in every place inside it (a country lists its
    # cities' and checkpoints' incidents).
    incidents = Incident.objects.visible_to(request.user).in_location(location)
    page = incident_page(request, incidents)
    context = {
        "location": location,
        "ancestors": location.ancestors(),
        "page": page,
        # The case list's counting rule (incidents.public.facets): reported or named, the larger.
        "counts": summarize(incidents, request.user),
    }
    return render(request, "incidents/location_detail.html", context)


@takes_parameters()
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_statement_for(request.user, pk)
    return render(request, "incidents/statement_detail.html", {"statement": statement})


@takes_parameters()
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for(request.user, pk)
    attach_place_labels(incident.location for incident in source.visible_incidents)
    return render(request, "incidents/source_detail.html", {"source": source})
