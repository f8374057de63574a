"""Counts for the filterable case list (`/incidents/`): the summary line, the number beside
each filter value (facets) and the words that describe the active filters.

A facet counts the incidents that match every active filter except its own: the "Kind" list
shows how many incidents of each kind there are among those the other filters select, so a
reader sees what ticking one more kind would add. Each facet is one GROUP BY query.

The filters themselves are `IncidentFilter` (incidents/filters.py), applied here value by
value from the validated form, so a facet means exactly what the filter means. Everything
that looks through to detentions uses `Detention.objects.visible_to(user)`, as the filters
do: a draft detention must neither make an incident match nor add to a count.

The counting rule for people (the summary, list rows, map and chart) is `counting.py`.

The citizenship facet counts an incident by its named detainees and by its reported groups
(`ReportedGroup`: "38 of Kyrgyzstan"), as the filter selects it, and says beside each
country how many people of it are reported in numbers and how many are named: "Kyrgyzstan
3 · 42 reported, 2 named".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from incidents.counting import Summary, people_detained, people_released, summarize
from incidents.filters import IncidentFilter, SlugsFilter
from incidents.models import (
    AllegationKind,
    Detention,
    DetentionRole,
    Incident,
    IncidentKind,
    Location,
    LocationKind,
    Outcome,
    ReportedGroup,
    Situation,
    Verification,
    person_shown,
)
from incidents.partial_dates import DateMatch, DatePrecision, PartialDate
from incidents.public_counts import CitizenshipNumbers

__all__ = ["Summary", "people_detained", "people_released", "summarize"]  # the counting rule

# Up to this many incidents, a detention facet counts through a list of their ids.
ID_LIST_LIMIT = 10_000
# Query-string parameters that are not filters but travel with every link of the list.
ORDERING_PARAM = "ordering"


# --- applying the shared filters -----------------------------------------------------------


def filtered_incidents(filterset: IncidentFilter, *, leave_out: Iterable[str] = ()) -> QuerySet:
    """The incidents the valid filters select, leaving out the filters named in `leave_out`
    (a facet leaves out its own). Ordering is left to the caller.

    Filters are applied as django-filter's `filter_queryset()` does, from the validated
    values (so no filter is validated twice); a parameter that failed validation is absent
    from `cleaned_data` and so ignored.

    IncidentFilter's filters never add DISTINCT (see its comment), so the set can be
    aggregated and annotated directly, without wrapping it as `pk IN (…)`, which made both
    databases collect and sort every match before the first page.
    """
    leave_out = {*leave_out, ORDERING_PARAM}
    selected = filterset.queryset.all()
    for name, value in filterset.form.cleaned_data.items():
        if name not in leave_out:
            selected = filterset.filters[name].filter(selected, value)
    return selected.order_by()


def is_active(filterset: IncidentFilter, name: str) -> bool:
    """Whether the filter `name` narrows the list: given a value that passed validation.
    (Read from the request, not from `cleaned_data`, whose chosen situations are a
    queryset that would cost a query to test.)"""
    if name in filterset.form.errors:
        return False
    return any(value.strip() for value in filterset.data.getlist(name))


def clean_query(data: QueryDict, filterset: IncidentFilter) -> QueryDict:
    """The request's filter parameters without empty values, invalid filters and anything
    that is not a filter (such as `page`): the base of every link the list page makes, so
    a link never carries a rejected parameter along."""
    query = QueryDict(mutable=True)
    cleaned = getattr(filterset.form, "cleaned_data", {})
    for name, flt in filterset.filters.items():
        if name in filterset.form.errors:
            continue
        values = [value for value in data.getlist(name) if value.strip()]
        if values and isinstance(flt, SlugsFilter) and cleaned.get(name):
            # Each record by its current slug: an old one (a link made before the slug was
            # corrected) found the record, and the links made from here use its new one.
            values = [record.slug for record in cleaned[name]]
        if values:
            query.setlist(name, values)
    return query


def query_string(query: QueryDict) -> str:
    """ "?kind=detention&…", or "" for no parameters (a link to the bare list)."""
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else ""


def toggled(query: QueryDict, name: str, value: str) -> str:
    """The query string with `value` added to `name`, or removed if it was there."""
    changed = query.copy()
    values = changed.getlist(name)
    changed.setlist(
        name, [v for v in values if v != value] if value in values else [*values, value]
    )
    return query_string(changed)


def replaced(query: QueryDict, name: str, value: str | None) -> str:
    """The query string with `name` set to `value` alone, or removed when None."""
    changed = query.copy()
    changed.setlist(name, [] if value is None else [value])
    return query_string(changed)


# --- facets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int | None  # None: not counted (a set too large to count live)
    selected: bool
    url: str  # query string that toggles this value
    depth: int = 0  # places: 0 a country, 1 a city inside it
    detail: str = ""  # citizenships: "42 reported, 2 named"


@dataclass(frozen=True)
class Facet:
    name: str  # the query-string parameter
    label: str
    values: list[FacetValue] = field(default_factory=list)


def build_facets(
    filterset: IncidentFilter, query: QueryDict, user, counts=None, selected=None
) -> list[Facet]:
    """Every facet of the list page, in the order the sidebar shows them. With `counts`
    (`public_counts.for_filters()`, when it can answer these filters) the numbers come
    from the maintained counts, else from GROUP BY queries over the incidents; both give
    the same numbers (tests/incidents/test_public_counts.py). `selected`, when given, is
    the filtered set already narrowed to its ids: a facet whose own filter is not active
    counts over it rather than applying every filter again."""
    chosen = filterset.form.cleaned_data
    if counts is UNCOUNTED:
        return uncounted_facets(filterset, query, user)

    def base(name: str) -> QuerySet[Incident]:
        if selected is not None and not is_active(filterset, name):
            return selected
        return filtered_incidents(filterset, leave_out=[name])

    def label(name: str) -> str:
        return str(filterset.filters[name].label)

    if counts is not None:
        per_situation = counts.by("situation_id", leave_out="situation")
        per_kind = counts.by("kind", leave_out="kind")
        per_path = _paths_of(counts.by("location_id", leave_out="place"))
        per_citizenship = counts.by_citizenship()
        per_allegation = counts.by_value("allegation")
        per_outcome = counts.by_value("outcome")
        per_verification = counts.by_value("verification")
    else:
        per_situation = _incident_counts(base("situation"), "situation_id")
        per_kind = _incident_counts(base("kind"), "kind")
        per_path = _incident_counts(base("place"), "location__path")
        # Detention rows by incident ids, and the ids of each set counted (`_listed_ids`).
        read: dict[tuple, list] = {}
        per_citizenship = _citizenship_numbers(base("citizenship"), user, read)
        per_allegation = _detention_counts(base("allegation"), user, "allegation", read)
        per_outcome = _detention_counts(base("outcome"), user, "outcome", read)
        per_verification = _incident_counts(base("verification"), "verification")

    return [
        _situation_facet(label("situation"), per_situation, user, chosen, query),
        _choice_facet("kind", label("kind"), IncidentKind.choices, per_kind, chosen, query),
        _place_facet(label("place"), per_path, chosen.get("place") or [], query),
        _citizenship_facet(label("citizenship"), per_citizenship, chosen, query),
        _choice_facet(
            "allegation", label("allegation"), AllegationKind.choices, per_allegation, chosen, query
        ),
        _choice_facet("outcome", label("outcome"), Outcome.choices, per_outcome, chosen, query),
        _choice_facet(
            "verification",
            label("verification"),
            Verification.choices,
            per_verification,
            chosen,
            query,
        ),
    ]


class _Uncounted:
    """`build_facets(counts=UNCOUNTED)`: the filter values without their numbers."""


UNCOUNTED = _Uncounted()


def uncounted_facets(filterset: IncidentFilter, query: QueryDict, user) -> list[Facet]:
    """The facets without numbers, for a set too large to count live (the case list's
    capped mode): every value of the fixed lists, the situations, and the countries (and
    the chosen place and citizenships), so the reader can still narrow the list."""
    chosen = filterset.form.cleaned_data

    def label(name: str) -> str:
        return str(filterset.filters[name].label)

    def plain(name: str, choices, picked: set[str] | None = None) -> Facet:
        if picked is None:
            picked = {str(value) for value in chosen.get(name) or []}
        values = [
            FacetValue(
                str(value), str(text), None, str(value) in picked, toggled(query, name, str(value))
            )
            for value, text in choices
        ]
        return Facet(name, label(name), values)

    situations = Situation.objects.visible_to(user).order_by("title").values_list("slug", "title")
    picked_situations = [s.slug for s in chosen.get("situation") or []]
    picked_places = {place.pk for place in chosen.get("place") or []}
    shown = Q(kind=LocationKind.COUNTRY) | Q(pk__in=picked_places)
    places = [
        FacetValue(
            location.slug,
            location.name,
            None,
            location.pk in picked_places,
            toggled(query, "place", location.slug),
        )
        for location in Location.objects.filter(shown).order_by("name").only("slug", "name")
    ]
    citizenships = [
        (code, countries.name(code) or code) for code in chosen.get("citizenship") or []
    ]
    return [
        plain("situation", situations, set(picked_situations)),
        plain("kind", IncidentKind.choices),
        Facet("place", label("place"), places),
        plain("citizenship", citizenships),
        plain("allegation", AllegationKind.choices),
        plain("outcome", Outcome.choices),
        plain("verification", Verification.choices),
    ]


def _paths_of(per_location: dict[int, int]) -> dict[str, int]:
    """Counts per location id, keyed by the locations' paths instead (one query)."""
    paths = dict(Location.objects.filter(pk__in=per_location).values_list("pk", "path"))
    return {paths[pk]: n for pk, n in per_location.items() if pk in paths}


def _situation_facet(label: str, per_situation: dict, user, chosen, query) -> Facet:
    """Situations by title; only those this user may see (a draft situation's title is
    not public even when published incidents belong to it)."""
    situations = (
        Situation.objects.visible_to(user)
        .filter(pk__in=[pk for pk in per_situation if pk])
        .order_by("title")
        .values_list("pk", "slug", "title")
    )
    counts, choices = {}, []
    for pk, slug, title in situations:
        counts[slug] = per_situation[pk]
        choices.append((slug, title))
    chosen_situations = list(chosen.get("situation") or [])
    choices += [(s.slug, s.title) for s in chosen_situations if s.slug not in counts]
    chosen = {**chosen, "situation": [s.slug for s in chosen_situations]}
    return _choice_facet("situation", label, choices, counts, chosen, query)


def _incident_counts(incidents: QuerySet[Incident], field_name: str) -> dict:
    """Incidents per value of one of their own columns (each incident counts once)."""
    rows = incidents.values(field_name).annotate(n=Count("pk")).order_by()
    return {row[field_name]: row["n"] for row in rows}


# The detention facets: the field each counts, and its place in a `_detention_rows` row.
DETENTION_FACET_FIELDS = {
    "citizenship": "person__citizenship",
    "allegation": "allegations__kind",
    "outcome": "outcome",
}
_ROW_POSITION = {"citizenship": 1, "allegation": 2, "outcome": 3}


def _detention_rows(ids: list[int], user) -> list[tuple]:
    """(incident id, citizenship, allegation kind, outcome, detention id, role) of every
    detention of those incidents this user may see, one row per allegation (or one
    without).

    The person's visibility is tested here, on values read with the row: with it in the SQL,
    SQLite (by its statistics at 10,000 incidents) read the persons first and looked up each
    one's detentions among the incidents, a second a facet for 3,000 incidents. Without a
    condition on the persons it starts from the detentions of the listed incidents.
    """
    rows = (
        Detention.objects.visible_apart_from_person(user)
        .filter(incident_id__in=ids)
        .values_list(
            "incident_id",
            "person__publication_state",
            "person__archived_at",
            "person__citizenship",
            "allegations__kind",
            "outcome",
            "pk",
            "role",
        )
        .order_by()
    )
    return [
        (incident_id, citizenship, allegation, outcome, pk, role)
        for incident_id, state, archived_at, citizenship, allegation, outcome, pk, role in rows
        if person_shown(user, state, archived_at)
    ]


def _listed_ids(incidents: QuerySet[Incident], read: dict) -> list[int]:
    """The ids of `incidents` (at most ID_LIST_LIMIT + 1), read once per queryset: the
    detention facets whose own filter is not active all count over the same filtered set
    (`build_facets`' `selected`), so its ids are read for the first and kept for the rest."""
    key = ("ids", id(incidents))
    if key not in read:
        read[key] = (incidents, list(incidents.values_list("pk", flat=True)[: ID_LIST_LIMIT + 1]))
    return read[key][1]


def _detention_counts(
    incidents: QuerySet[Incident], user, facet: str, read: dict[tuple[int, ...], list[tuple]]
) -> dict[str, int]:
    """Incidents per value of a detention's field, counting each incident once and only
    through detentions this user may see. `read` keeps the rows read for a list of incident
    ids: the three detention facets share them unless a detention filter sets them apart."""
    # Through the incidents' ids when there are few: the planners otherwise tend to read
    # every detention and test its incident against the filters (3 s at two million).
    ids = _listed_ids(incidents, read)
    if len(ids) > ID_LIST_LIMIT:
        field_name = DETENTION_FACET_FIELDS[facet]
        detentions = Detention.objects.visible_to(user).filter(incident__in=incidents)
        rows = detentions.values(field_name).annotate(n=Count("incident", distinct=True))
        return {row[field_name]: row["n"] for row in rows.order_by() if row[field_name]}
    key = tuple(sorted(ids))
    if key not in read:
        read[key] = _detention_rows(ids, user)
    position = _ROW_POSITION[facet]
    incidents_with: dict[str, set[int]] = defaultdict(set)
    for row in read[key]:
        if row[position]:
            incidents_with[row[position]].add(row[0])
    return {value: len(incident_ids) for value, incident_ids in incidents_with.items()}


def _citizenship_numbers(
    incidents: QuerySet[Incident], user, read: dict[tuple[int, ...], list[tuple]]
) -> dict[str, CitizenshipNumbers]:
    """Per citizenship: the incidents with a visible detention of a person of it or a
    reported group of it, and the people of it reported (the groups' numbers) and named
    (visible detentions of detained people; witnesses are not). Through the incidents'
    ids when there are few, sharing the detention rows of the other detention facets, and
    one more query for the groups."""
    ids = _listed_ids(incidents, read)
    if len(ids) > ID_LIST_LIMIT:
        return _citizenship_numbers_grouped(incidents, user)
    key = tuple(sorted(ids))
    if key not in read:
        read[key] = _detention_rows(ids, user)
    incidents_with: dict[str, set[int]] = defaultdict(set)
    named: dict[str, set[int]] = defaultdict(set)
    reported: dict[str, int] = defaultdict(int)
    for incident_id, citizenship, _allegation, _outcome, detention_id, role in read[key]:
        if citizenship:
            incidents_with[citizenship].add(incident_id)
            if role != DetentionRole.WITNESS:
                named[citizenship].add(detention_id)
    if ids:
        groups = ReportedGroup._base_manager.filter(incident_id__in=ids).order_by()
        for incident_id, citizenship, number in groups.values_list(
            "incident_id", "citizenship", "detained_count"
        ):
            incidents_with[citizenship].add(incident_id)
            reported[citizenship] += number or 0
    return {
        code: CitizenshipNumbers(len(incident_ids), reported[code], len(named[code]))
        for code, incident_ids in incidents_with.items()
    }


def _citizenship_numbers_grouped(
    incidents: QuerySet[Incident], user
) -> dict[str, CitizenshipNumbers]:
    """`_citizenship_numbers` for a large set, in two GROUP BY queries: the detentions
    per citizenship, then the groups, counting an incident by its group only where no
    named detainee of that citizenship already counted it."""
    visible = Detention.objects.visible_to(user)
    detentions = visible.filter(incident__in=incidents).order_by()
    by_detentions = detentions.values_list("person__citizenship").annotate(
        n=Count("incident", distinct=True),
        named=Count("pk", filter=~Q(role=DetentionRole.WITNESS)),
    )
    numbers = {code: CitizenshipNumbers(n, 0, named) for code, n, named in by_detentions if code}
    named_there = visible.filter(
        incident=OuterRef("incident"), person__citizenship=OuterRef("citizenship")
    )
    groups = ReportedGroup._base_manager.filter(incident__in=incidents).order_by()
    by_groups = groups.values_list("citizenship").annotate(
        only_reported=Count("pk", filter=Q(~Exists(named_there))),
        reported=Sum("detained_count"),
    )
    for code, only_reported, reported in by_groups:
        before = numbers.get(code, CitizenshipNumbers(0, 0, 0))
        numbers[code] = CitizenshipNumbers(
            before.incidents + only_reported, reported or 0, before.named
        )
    return numbers


def people_numbers_text(reported: int, named: int) -> str:
    """ "42 reported, 2 named": the people of a citizenship, reported in numbers and named
    (either part left out when none)."""
    parts = []
    if reported:
        parts.append(
            ngettext("%(count)s reported", "%(count)s reported", reported) % {"count": reported}
        )
    if named:
        parts.append(ngettext("%(count)s named", "%(count)s named", named) % {"count": named})
    return ", ".join(parts)


def _citizenship_facet(label: str, numbers: dict[str, CitizenshipNumbers], chosen, query) -> Facet:
    """Only the citizenships present (and any chosen one), most frequent first: the list
    of every country is too long for a sidebar. Each says how many people of it are
    reported and named."""
    counts = {code: n.incidents for code, n in numbers.items()}
    codes = set(counts) | set(chosen.get("citizenship") or [])
    ordered = sorted(codes, key=lambda code: (-counts.get(code, 0), countries.name(code)))
    choices = [(code, countries.name(code) or code) for code in ordered]
    facet = _choice_facet("citizenship", label, choices, counts, chosen, query)
    values = [
        replace(
            value,
            detail=people_numbers_text(numbers[value.value].reported, numbers[value.value].named)
            if value.value in numbers
            else "",
        )
        for value in facet.values
    ]
    return Facet(facet.name, facet.label, values)


def _choice_facet(name, label, choices, counts: dict[str, int], chosen, query) -> Facet:
    chosen_values = set(chosen.get(name) or [])
    values = []
    for value, value_label in choices:
        count = counts.get(value, 0)
        selected = value in chosen_values
        # A value nobody could pick is noise, unless it is selected: it must stay visible
        # so the reader can take it off again.
        if count or selected:
            values.append(
                FacetValue(value, str(value_label), count, selected, toggled(query, name, value))
            )
    return Facet(name, label, values)


def _place_facet(label: str, per_path: dict[str, int], chosen: list[Location], query) -> Facet:
    """Incidents inside each country and each city (a country counts its cities' and
    sites' incidents), and the chosen places whatever their kind; choosing one more place
    adds its incidents (`?place=almaty&place=shymkent`).

    `per_path` counts incidents per exact location, by path; the counts roll up to the
    ancestors in Python through each location's `path` (every incident has one location,
    so nothing is counted twice), and one more query names the countries and cities.
    """
    ids = {int(part) for path in per_path for part in path.strip("/").split("/") if part}
    chosen_ids = {place.pk for place in chosen}
    shown = Q(pk__in=ids, kind__in=[LocationKind.COUNTRY, LocationKind.CITY])
    if chosen_ids:
        shown |= Q(pk__in=chosen_ids)
    places = list(Location.objects.filter(shown).only("name", "slug", "kind", "path"))
    by_id = {place.pk: place for place in places}

    def shown_ancestors(place: Location) -> list[Location]:
        ids = [int(part) for part in place.path.strip("/").split("/")[:-1] if part]
        return [by_id[pk] for pk in ids if pk in by_id]

    entries = []
    for place in places:
        count = sum(n for path, n in per_path.items() if path.startswith(place.path))
        selected = place.pk in chosen_ids
        if not (count or selected):
            continue
        ancestors = shown_ancestors(place)
        sort_key = [ancestor.name.casefold() for ancestor in ancestors] + [place.name.casefold()]
        value = FacetValue(
            place.slug,
            place.name,
            count,
            selected,
            toggled(query, "place", place.slug),
            depth=len(ancestors),
        )
        entries.append((sort_key, value))
    return Facet("place", label, [value for _, value in sorted(entries, key=lambda e: e[0])])


# --- describing the active filters ---------------------------------------------------------


@dataclass(frozen=True)
class ActiveFilter:
    name: str
    label: str  # the filter's name, e.g. "Kind"
    value: str  # the chosen value in words, e.g. "Detention"
    phrase: str  # compact words for a title, e.g. "citizenship KG"
    remove_url: str  # query string without this value


def describe_filters(filterset: IncidentFilter, query: QueryDict) -> list[ActiveFilter]:
    """The valid active filters in words, one entry per chosen value, in filter order."""
    chosen = filterset.form.cleaned_data
    described: list[ActiveFilter] = []
    for name, flt in filterset.filters.items():
        value = chosen.get(name)
        if name == ORDERING_PARAM or value in (None, "", [], ()):
            continue
        label = str(flt.label or name)
        if name == "date_match":
            # Said only where it narrows a range: "possible" is the default.
            ranged = chosen.get("date_after") or chosen.get("date_before")
            if ranged and value == DateMatch.CERTAIN:
                words = str(DateMatch(value).label)
                described.append(
                    ActiveFilter(name, label, words, words, replaced(query, name, None))
                )
        elif name == "situation":
            for situation in value:
                described.append(
                    ActiveFilter(
                        name,
                        label,
                        situation.title,
                        situation.title,
                        toggled(query, name, situation.slug),
                    )
                )
        elif name == "place":
            for place in value:
                described.append(
                    ActiveFilter(
                        name,
                        label,
                        place.name,
                        _("in %(place)s") % {"place": place.name},
                        toggled(query, name, place.slug),
                    )
                )
        elif name == "citizenship":
            for code in value:
                described.append(
                    ActiveFilter(
                        name,
                        label,
                        str(countries.name(code) or code),
                        _("citizenship %(code)s") % {"code": code},
                        toggled(query, name, code),
                    )
                )
        elif isinstance(value, list | tuple):
            display = dict(flt.extra.get("choices") or [])
            for item in value:
                words = str(display.get(item, item))
                described.append(
                    ActiveFilter(name, label, words, words, toggled(query, name, item))
                )
        else:
            described.append(
                ActiveFilter(
                    name,
                    label,
                    _describe_scalar(value),
                    _scalar_phrase(name, label, value),
                    replaced(query, name, None),
                )
            )
    return described


def _describe_scalar(value) -> str:
    if hasattr(value, "hour"):  # a datetime (updated_since)
        return value.strftime("%Y-%m-%d %H:%M")
    if hasattr(value, "isoformat"):
        return str(PartialDate(value, DatePrecision.DAY))
    return str(value)


def _scalar_phrase(name: str, label: str, value) -> str:
    words = _describe_scalar(value)
    if name == "q":
        return f"“{words}”"
    if name == "date_after":
        return _("from %(date)s") % {"date": words}
    if name == "date_before":
        return _("until %(date)s") % {"date": words}
    if name == "updated_since":
        return _("updated since %(date)s") % {"date": words}
    return f"{label.lower()} {words}"


def title_for(active: list[ActiveFilter]) -> str:
    """ "Cases", or "Cases: Detention · citizenship KG" for a filtered view."""
    if not active:
        return _("Cases")
    return _("Cases: %(filters)s") % {"filters": " · ".join(a.phrase for a in active)}
