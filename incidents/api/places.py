"""Place trees for the API: ancestors for many places in one query, and map points."""

from __future__ import annotations

from collections.abc import Iterable

from incidents.models import Location


def attach_ancestors(locations: Iterable[Location | None]) -> None:
    """Set `ancestor_list` (root first) on each location, in one query for all of them.

    The ancestors' ids are read from each location's `path`, so a page of incidents costs one
    query for all their countries and regions, however many rows it has.
    """
    locations = [location for location in locations if location is not None]
    wanted = {pk for location in locations for pk in _ancestor_ids(location)}
    by_pk = {loc.pk: loc for loc in Location.objects.filter(pk__in=wanted)} if wanted else {}
    for location in locations:
        location.ancestor_list = [by_pk[pk] for pk in _ancestor_ids(location) if pk in by_pk]


def _ancestor_ids(location: Location) -> list[int]:
    return [int(part) for part in location.path.strip("/").split("/")[:-1] if part]


def map_point(location: Location | None) -> Location | None:
    """Where to put a record on a map: its own place if that has coordinates, otherwise the
    nearest place it is inside that has some (call `attach_ancestors` first)."""
    if location is None:
        return None
    for place in [location, *reversed(getattr(location, "ancestor_list", []))]:
        if place.has_coordinates:
            return place
    return None
