"""Public pages of the people app: a person and an organization.

As in incidents.public.views, one `get_<kind>_for(user, slug)` helper per page fetches the
record with every list the page shows, each filtered with `visible_to(user)`, and raises 404
when the user may not see the record.
"""

from __future__ import annotations

from django.db.models import F, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from cabar_tracker.parameters import takes_parameters
from cabar_tracker.publishing import can_see_unpublished
from incidents.models import Detention, Statement, visible_sources
from incidents.permalinks import redirect_or_404
from people.models import Organization, Person, PersonName, Position, visible_positions


def _visible_statements(user) -> QuerySet[Statement]:
    return (
        Statement.objects.visible_to(user)
        .select_related("speaker_person", "speaker_organization", "position__organization")
        .order_by(F("said_on").desc(nulls_last=True), "-pk")
    )


def get_person_for(user, slug: str) -> Person:
    """The person with their names, posts, detentions and statements, or 404."""
    detentions = (
        Detention.objects.visible_to(user)
        .select_related("incident__location", "custody_location")
        .order_by(F("detained_on").desc(nulls_last=True), "-pk")
    )
    persons = Person.objects.visible_to(user).prefetch_related(
        Prefetch("name_variants", queryset=PersonName.objects.select_related("other_person")),
        # Names other people were wrongly identified by, which are this person's names.
        Prefetch("names_misattributed", queryset=PersonName.objects.select_related("person")),
        Prefetch(
            "positions",
            queryset=Position.objects.select_related("organization").order_by(
                F("start_date").desc(nulls_last=True), "pk"
            ),
        ),
        Prefetch("detentions", queryset=detentions, to_attr="visible_detentions"),
        Prefetch(
            "statements_made", queryset=_visible_statements(user), to_attr="visible_statements_made"
        ),
        Prefetch(
            "statements_about",
            queryset=_visible_statements(user),
            to_attr="visible_statements_about",
        ),
        visible_sources(user),
    )
    return get_object_or_404(persons, slug=slug)


def get_organization_for(user, slug: str) -> Organization:
    """The organization with its posts (held by persons the user may see) and statements.

    Organizations have no publication state: one that nothing published names yet is
    visible to staff only (`OrganizationQuerySet.visible_to`).
    """
    positions = (
        visible_positions(user)
        .select_related("person")
        .order_by("title", F("start_date").desc(nulls_last=True), "pk")
    )
    children = Organization.objects.visible_to(user).order_by("name")
    organizations = (
        Organization.objects.visible_to(user)
        .select_related("parent")
        .prefetch_related(
            Prefetch("children", queryset=children),
            Prefetch("positions", queryset=positions, to_attr="visible_positions"),
            Prefetch(
                "statements", queryset=_visible_statements(user), to_attr="visible_statements"
            ),
        )
    )
    return get_object_or_404(organizations, slug=slug)


@takes_parameters()
def person_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        person = get_person_for(request.user, slug)
    except Http404:
        return redirect_or_404(request, Person, slug)
    for_staff = can_see_unpublished(request.user)
    context = {
        "person": person,
        "for_staff": for_staff,
        # The template shows names, variants and misattributions only when this is true.
        "identity_shown": for_staff or not person.identity_withheld,
    }
    return render(request, "people/person_detail.html", context)


@takes_parameters()
def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        organization = get_organization_for(request.user, slug)
    except Http404:
        return redirect_or_404(request, Organization, slug)
    return render(request, "people/organization_detail.html", {"organization": organization})
