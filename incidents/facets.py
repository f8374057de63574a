"""Counts for the filterable case list (`/incidents/`): the summary line, the number beside
each filter value (facets) and the words that describe the active filters.

A facet counts the incidents that match every active filter except its own: the "Kind" list
shows how many incidents of each kind there are among those the other filters select, so a
reader sees what ticking one more kind would add. Each facet is one GROUP BY query.

The filters themselves are `IncidentFilter` (incidents/filters.py), applied here value by
value from the validated form, so a facet means exactly what the filter means. Everything
that looks through to detentions uses `Detention.objects.visible_to(user)`, as the filters
do: a draft detention must neither make an incident match nor add to a count.

The counting rule for people, used by the summary, the list rows, the map and the chart:
an incident's people detained is the larger of its reported number and the number of people
named in its visible detentions (witnesses are not detainees and are not counted); people
released likewise, from the reported number released and the named detentions that ended in
release or handover. A source saying "38 detained" while naming two gives 38, not 40.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.http import QueryDict
from django.utils.translation import gettext as _
from django_countries import countries

from .filters import IncidentFilter
from .models import (
    AllegationKind,
    Detention,
    DetentionRole,
    Incident,
    IncidentKind,
    Location,
    LocationKind,
    Outcome,
    Situation,
    Verification,
)
from .partial_dates import DatePrecision, PartialDate

# Query-string parameters that are not filters but travel with every link of the list.
ORDERING_PARAM = "ordering"
RELEASED_OUTCOMES = (Outcome.RELEASED, Outcome.HANDED_OVER)


# --- the counting rule --------------------------------------------------------------------


def named_detentions_count(user, **conditions) -> Coalesce:
    """Per incident (as a correlated subquery): its visible detentions of detained people."""
    detentions = (
        Detention.objects.visible_to(user)
        .filter(incident=OuterRef("pk"), **conditions)
        .exclude(role=DetentionRole.WITNESS)
        .order_by()
        .values("incident")
        .annotate(named=Count("pk"))
        .values("named")
    )
    return Coalesce(Subquery(detentions, output_field=IntegerField()), 0)


def people_detained(user) -> Greatest:
    """max(reported number detained, named detainees) of one incident, as an expression."""
    return Greatest(
        Coalesce("reported_detained_count", 0, output_field=IntegerField()),
        named_detentions_count(user),
        output_field=IntegerField(),
    )


def people_released(user) -> Greatest:
    """max(reported number released, named detainees released or handed over)."""
    return Greatest(
        Coalesce("reported_released_count", 0, output_field=IntegerField()),
        named_detentions_count(user, outcome__in=RELEASED_OUTCOMES),
        output_field=IntegerField(),
    )


@dataclass(frozen=True)
class Summary:
    incidents: int
    people_detained: int
    people_released: int


def summarize(incidents: QuerySet[Incident], user) -> Summary:
    """The summary line of a filtered set, in one aggregate query."""
    totals = incidents.order_by().aggregate(
        incidents=Count("pk"),
        detained=Sum(people_detained(user)),
        released=Sum(people_released(user)),
    )
    return Summary(totals["incidents"], totals["detained"] or 0, totals["released"] or 0)


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


def clean_query(data: QueryDict, filterset: IncidentFilter) -> QueryDict:
    """The request's filter parameters without empty values, invalid filters and anything
    that is not a filter (such as `page`): the base of every link the list page makes, so
    a link never carries a rejected parameter along."""
    query = QueryDict(mutable=True)
    for name in filterset.filters:
        if name in filterset.form.errors:
            continue
        values = [value for value in data.getlist(name) if value.strip()]
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
    count: int
    selected: bool
    url: str  # query string that toggles this value
    depth: int = 0  # places: 0 a country, 1 a city inside it


@dataclass(frozen=True)
class Facet:
    name: str  # the query-string parameter
    label: str
    values: list[FacetValue] = field(default_factory=list)


def build_facets(filterset: IncidentFilter, query: QueryDict, user) -> list[Facet]:
    """Every facet of the list page, in the order the sidebar shows them."""
    chosen = filterset.form.cleaned_data

    def base(name: str) -> QuerySet[Incident]:
        return filtered_incidents(filterset, leave_out=[name])

    def label(name: str) -> str:
        return str(filterset.filters[name].label)

    return [
        _situation_facet(label("situation"), base("situation"), user, chosen, query),
        _choice_facet(
            "kind",
            label("kind"),
            IncidentKind.choices,
            _incident_counts(base("kind"), "kind"),
            chosen,
            query,
        ),
        _place_facet(label("place"), base("place"), chosen.get("place"), query),
        _citizenship_facet(
            label("citizenship"),
            _detention_counts(base("citizenship"), user, "person__citizenship"),
            chosen,
            query,
        ),
        _choice_facet(
            "allegation",
            label("allegation"),
            AllegationKind.choices,
            _detention_counts(base("allegation"), user, "allegations__kind"),
            chosen,
            query,
        ),
        _choice_facet(
            "outcome",
            label("outcome"),
            Outcome.choices,
            _detention_counts(base("outcome"), user, "outcome"),
            chosen,
            query,
        ),
        _choice_facet(
            "verification",
            label("verification"),
            Verification.choices,
            _incident_counts(base("verification"), "verification"),
            chosen,
            query,
        ),
    ]


def _situation_facet(label: str, incidents: QuerySet[Incident], user, chosen, query) -> Facet:
    """Situations by title; only those this user may see (a draft situation's title is
    not public even when published incidents belong to it)."""
    rows = (
        incidents.filter(situation__in=Situation.objects.visible_to(user))
        .values("situation__slug", "situation__title")
        .annotate(n=Count("pk", distinct=True))
        .order_by("situation__title")
    )
    counts, choices = {}, []
    for row in rows:
        counts[row["situation__slug"]] = row["n"]
        choices.append((row["situation__slug"], row["situation__title"]))
    chosen_situations = list(chosen.get("situation") or [])
    choices += [(s.slug, s.title) for s in chosen_situations if s.slug not in counts]
    chosen = {**chosen, "situation": [s.slug for s in chosen_situations]}
    return _choice_facet("situation", label, choices, counts, chosen, query)


def _incident_counts(incidents: QuerySet[Incident], field_name: str) -> dict[str, int]:
    rows = incidents.values(field_name).annotate(n=Count("pk", distinct=True)).order_by()
    return {row[field_name]: row["n"] for row in rows}


def _detention_counts(incidents: QuerySet[Incident], user, field_name: str) -> dict[str, int]:
    """Incidents per value of a detention's field, counting each incident once and only
    through detentions this user may see."""
    rows = (
        Detention.objects.visible_to(user)
        .filter(incident__in=incidents)
        .values(field_name)
        .annotate(n=Count("incident", distinct=True))
        .order_by()
    )
    return {row[field_name]: row["n"] for row in rows if row[field_name]}


def _citizenship_facet(label: str, counts: dict[str, int], chosen, query) -> Facet:
    """Only the citizenships present (and any chosen one), most frequent first: the list
    of every country is too long for a sidebar."""
    codes = set(counts) | set(chosen.get("citizenship") or [])
    ordered = sorted(codes, key=lambda code: (-counts.get(code, 0), countries.name(code)))
    choices = [(code, countries.name(code) or code) for code in ordered]
    return _choice_facet("citizenship", label, choices, counts, chosen, query)


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


def _place_facet(label: str, incidents: QuerySet[Incident], chosen, query) -> Facet:
    """Incidents inside each country and each city (a country counts its cities' and
    sites' incidents), and the chosen place whatever its kind.

    One GROUP BY query counts incidents per exact location; the counts roll up to the
    ancestors in Python through each location's `path` (every incident has one location,
    so nothing is counted twice), and one more query names the countries and cities.
    """
    per_path = dict(
        incidents.values_list("location__path").annotate(n=Count("pk", distinct=True)).order_by()
    )
    ids = {int(part) for path in per_path for part in path.strip("/").split("/") if part}
    shown = Q(pk__in=ids, kind__in=[LocationKind.COUNTRY, LocationKind.CITY])
    if chosen is not None:
        shown |= Q(pk=chosen.pk)
    places = list(Location.objects.filter(shown).only("name", "slug", "kind", "path"))
    by_id = {place.pk: place for place in places}

    def shown_ancestors(place: Location) -> list[Location]:
        ids = [int(part) for part in place.path.strip("/").split("/")[:-1] if part]
        return [by_id[pk] for pk in ids if pk in by_id]

    entries = []
    for place in places:
        count = sum(n for path, n in per_path.items() if path.startswith(place.path))
        selected = chosen is not None and chosen.pk == place.pk
        if not (count or selected):
            continue
        ancestors = shown_ancestors(place)
        sort_key = [ancestor.name.casefold() for ancestor in ancestors] + [place.name.casefold()]
        value = FacetValue(
            place.slug,
            place.name,
            count,
            selected,
            replaced(query, "place", None if selected else place.slug),
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
        if name == "situation":
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
            described.append(
                ActiveFilter(
                    name,
                    label,
                    value.name,
                    _("in %(place)s") % {"place": value.name},
                    replaced(query, name, None),
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
