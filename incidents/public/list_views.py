"""The filterable case list at `/incidents/`: filters, facets, summary, map, chart, pages.

Every view of the list is a link: the filters are the query string, read by the shared
`IncidentFilter`. The page works without JavaScript (the map is the only enhancement).
A parameter that fails validation is named in a message and ignored, and the page answers
400 so scripts notice; everything else still renders.

The counting and faceting live in `facets.py`, the chart in `charts.py`; this module glues
them into one page with a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import F, OrderBy, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cabar_tracker.parameters import PAGE, note_ignored_parameters
from incidents import public_counts
from incidents.filters import IncidentFilter
from incidents.models import Incident, Location
from incidents.partial_dates import DateMatch, PartialDate, certainly_within
from incidents.public.charts import Chart, build_chart, detentions_chart
from incidents.public.facets import (
    ORDERING_PARAM,
    UNCOUNTED,
    build_facets,
    clean_query,
    describe_filters,
    filtered_incidents,
    people_detained,
    query_string,
    summarize,
    title_for,
)
from incidents.public.views import attach_place_labels

INCIDENTS_PER_PAGE = 25
# Above this many incidents, a filter the maintained counts cannot answer (a text search,
# a detainee's citizenship…) is not counted: the page says "more than 10,000", lists the
# filter values without numbers, leaves out the chart and pages through the first 10,000.
# Counting live costs a scan per number, seconds at a million incidents.
COUNT_CAP = 10_000
# The map draws at most this many incidents (the first of the current sort order); beyond
# it a browser slows down and the points say little that the place counts do not.
MAP_POINT_LIMIT = 1000

# Each sort the page offers, as ordering expressions. NULLS LAST keeps undated incidents at
# the end on both databases, and the final `pk` makes the order total, so pages do not
# overlap or skip rows when many incidents share a date.
ORDERINGS: dict[str, tuple[OrderBy, ...]] = {
    "-date": (F("start_date").desc(nulls_last=True), F("pk").desc()),
    "date": (F("start_date").asc(nulls_last=True), F("pk").asc()),
    "-updated": (F("updated_at").desc(), F("pk").desc()),
    "updated": (F("updated_at").asc(), F("pk").asc()),
    # "Number detained" sorts by the number the list shows (reported or named, whichever
    # is larger), so the order matches what the reader sees.
    "-detained": (
        F("people_detained").desc(),
        F("start_date").desc(nulls_last=True),
        F("pk").desc(),
    ),
    "detained": (
        F("people_detained").asc(),
        F("start_date").desc(nulls_last=True),
        F("pk").desc(),
    ),
}
DEFAULT_ORDERING = "-date"
SORT_LABELS = {
    "-date": gettext_lazy("Newest first"),
    "date": gettext_lazy("Oldest first"),
    "-updated": gettext_lazy("Recently updated"),
    "updated": gettext_lazy("Least recently updated"),
    "-detained": gettext_lazy("Most people detained"),
    "detained": gettext_lazy("Fewest people detained"),
}

# Export endpoints that take the list's query string (plus the options given here); they
# may not exist yet. `bom=1` starts a CSV with the byte order mark Excel needs for UTF-8.
EXPORTS = (
    ("incidents:incidents_csv", gettext_lazy("Incidents (CSV)"), {}),
    ("incidents:incidents_json", gettext_lazy("Incidents (JSON)"), {}),
    ("incidents:detentions_csv", gettext_lazy("People detained (CSV)"), {}),
    ("incidents:detentions_csv", gettext_lazy("People detained (CSV for Excel)"), {"bom": "1"}),
)


def export_query(query: QueryDict, options: dict[str, str]) -> str:
    with_options = query.copy()
    for name, value in options.items():
        with_options[name] = value
    return query_string(with_options)


def incident_filterset(request: HttpRequest) -> IncidentFilter:
    """The shared filters over what this user may see, validated."""
    filterset = IncidentFilter(
        request.GET, queryset=Incident.objects.visible_to(request.user), request=request
    )
    filterset.is_valid()
    return filterset


def filter_errors(filterset: IncidentFilter) -> list[str]:
    """One message per rejected parameter, naming the filter as the form labels it."""
    messages = []
    for name, errors in filterset.form.errors.items():
        label = filterset.filters[name].label if name in filterset.filters else name
        messages.append(
            _("The filter “%(filter)s” was ignored: %(error)s")
            % {"filter": label, "error": " ".join(str(error) for error in errors)}
        )
    return messages


def sort_keys(filterset: IncidentFilter) -> list[str]:
    """The chosen sorts (`?ordering=-date`, or several comma-separated), default newest."""
    chosen = filterset.form.cleaned_data.get(ORDERING_PARAM) or []
    return [key for key in chosen if key in ORDERINGS] or [DEFAULT_ORDERING]


def order_expressions(keys: list[str]) -> list[OrderBy]:
    expressions: list[OrderBy] = []
    for key in keys:
        expressions.extend(ORDERINGS[key][:-1])
    # One tie-breaker, the last sort's, at the very end.
    expressions.append(ORDERINGS[keys[-1]][-1])
    return expressions


def feed_query_string(query: QueryDict) -> str:
    """The list's query string for its feed: the feed has its own order (latest update
    first), so the sort is left out."""
    without_sort = query.copy()
    without_sort.pop(ORDERING_PARAM, None)
    return query_string(without_sort)


def optional_url(name: str, query: str = "") -> str | None:
    """The URL of a view that may not be installed (exports are built separately)."""
    try:
        return reverse(name) + query
    except NoReverseMatch:
        return None


@dataclass(frozen=True)
class MapPoints:
    points: list[dict]
    mapped: int  # incidents on the map
    considered: int  # incidents the map looked at (at most MAP_POINT_LIMIT)
    total: int | None  # incidents in the filter; None when not counted (over COUNT_CAP)
    limit: int

    @property
    def capped(self) -> bool:
        return self.total is None or self.total > self.considered

    @property
    def unplaced(self) -> int:
        """Incidents looked at whose place (and every place around it) has no coordinates."""
        return self.considered - self.mapped


def map_points(incidents: QuerySet[Incident], user, ordering, total: int | None) -> MapPoints:
    """Points for the map: each incident at its place's coordinates, or those of the
    nearest place around it that has some (a checkpoint without coordinates is shown at
    its city). Two queries whatever the number: the incidents, then the coordinates of
    the places around those that have none."""
    rows = list(
        incidents.annotate(people_detained=people_detained(user))
        .order_by(*ordering)
        .values(
            "slug",
            "title",
            "start_date",
            "start_date_precision",
            "people_detained",
            "location__latitude",
            "location__longitude",
            "location__path",
        )[:MAP_POINT_LIMIT]
    )
    wanted = {
        int(part)
        for row in rows
        if row["location__latitude"] is None
        for part in row["location__path"].strip("/").split("/")[:-1]
        if part
    }
    coordinates = {}
    if wanted:
        coordinates = {
            pk: (latitude, longitude)
            for pk, latitude, longitude in Location.objects.filter(
                pk__in=wanted, latitude__isnull=False
            ).values_list("pk", "latitude", "longitude")
        }
    # Up to a thousand points share a few hundred dates and counts: word each once, and
    # build the case URLs from one reversed pattern (a slug needs no escaping in a path).
    dates: dict[tuple, str] = {}
    count_labels: dict[int, str] = {}
    url_pattern = reverse("incidents:incident_detail", kwargs={"slug": "SLUG"})
    url_prefix, url_suffix = url_pattern.split("SLUG")
    points = []
    for row in rows:
        position = None
        if row["location__latitude"] is not None:
            position = (row["location__latitude"], row["location__longitude"])
        else:
            ancestors = [int(p) for p in row["location__path"].strip("/").split("/")[:-1] if p]
            for pk in reversed(ancestors):  # nearest first
                if pk in coordinates:
                    position = coordinates[pk]
                    break
        if position is None:
            continue
        date_key = (row["start_date"], row["start_date_precision"])
        if date_key not in dates:
            date = PartialDate.of(*date_key)
            dates[date_key] = str(date) if date else ""
        count = row["people_detained"]
        if count not in count_labels:
            # Worded here, where the plural rules of the reader's language are known.
            count_labels[count] = ngettext(
                "%(count)s person detained", "%(count)s people detained", count
            ) % {"count": count}
        points.append(
            {
                "lat": float(position[0]),
                "lon": float(position[1]),
                "title": row["title"],
                "url": f"{url_prefix}{row['slug']}{url_suffix}",
                "date": dates[date_key],
                "count": count,
                "count_label": count_labels[count],
            }
        )
    return MapPoints(
        points=points,
        mapped=len(points),
        considered=len(rows),
        total=total,
        limit=MAP_POINT_LIMIT,
    )


def narrow_text_search(filterset: IncidentFilter) -> bool:
    """Read the ids a text search (`q`) matches once (`IncidentFilter.text_candidates`),
    so that every count and list of the page filters by that short list instead of
    searching again. False when it matches more than COUNT_CAP: too many to count live,
    and the page shows them uncounted."""
    value = (filterset.form.cleaned_data.get("q") or "").strip()
    if not value:
        return True
    candidates = filterset.text_candidates(value, COUNT_CAP)
    if candidates is None:
        return False
    visible = filterset.queryset.filter(pk__in=candidates)
    filterset.text_match_ids = list(visible.values_list("pk", flat=True))
    return True


def page_rows(
    incidents: QuerySet[Incident],
    user,
    keys,
    ordering,
    first: int,
    last: int,
    total: int | None = None,
) -> list[Incident]:
    """The incidents of one page (rows `first` to `last`, counted from 1), with their
    places and people detained, in two queries: the page's ids first, which the database
    reads from an index alone however deep the page (skipping rows costs no join and no
    count of detentions), then those rows. A page in the second half, when the `total` is
    known, is read from the other end in the reverse order: the last page skips nothing."""
    ids_query = incidents.order_by(*ordering)
    if any(key.endswith("detained") for key in keys):
        ids_query = ids_query.annotate(people_detained=people_detained(user))
    if total is not None and first > total / 2:
        backwards = ids_query.order_by(*(expression.copy() for expression in ordering))
        for expression in backwards.query.order_by:
            expression.reverse_ordering()
        ids = list(backwards.values_list("pk", flat=True)[total - last : total - first + 1])
        ids.reverse()
    else:
        ids = list(ids_query.values_list("pk", flat=True)[max(first - 1, 0) : last])
    rows = (
        Incident.objects.filter(pk__in=ids)
        .select_related("location")
        .annotate(people_detained=people_detained(user))
    )
    position = {pk: index for index, pk in enumerate(ids)}
    return sorted(rows, key=lambda incident: position[incident.pk])


def mark_uncertain_dates(incidents: list[Incident], filterset: IncidentFilter) -> None:
    """Mark (`incident.dates_uncertain`) the listed incidents whose dates only possibly fall
    in the filter's date range: known only to a period that reaches beyond it, or unknown.
    None are when no range is given, or when only incidents certainly within it are asked
    for."""
    after, before, match = filterset.date_range()
    ranged = (after is not None or before is not None) and match == DateMatch.POSSIBLE
    for incident in incidents:
        incident.dates_uncertain = ranged and not certainly_within(
            incident.earliest_date, incident.latest_date, after, before
        )


def chart(incidents: QuerySet[Incident], user, counts) -> Chart | None:
    """The chart of people detained over time, from the maintained counts when they can
    draw it (bars of months), else from the incidents."""
    rows = counts.date_rows() if counts else None
    return build_chart(rows) if rows is not None else detentions_chart(incidents, user)


def _hidden_fields(query: QueryDict, *leave_out: str) -> list[tuple[str, str]]:
    """(name, value) pairs that a form must carry so submitting it keeps the other filters."""
    return [
        (name, value) for name, values in query.lists() if name not in leave_out for value in values
    ]


def incident_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    filterset = incident_filterset(request)
    note_ignored_parameters(request, [*filterset.filters, PAGE])
    query = clean_query(request.GET, filterset)
    # The maintained counts answer the common filters at any size; the rest are counted
    # live, if they select at most COUNT_CAP incidents (else the page says "more than").
    counts = public_counts.for_filters(filterset, user)
    capped = False
    if counts is None:
        capped = not narrow_text_search(filterset)
    incidents = filtered_incidents(filterset)
    selected = None
    if counts is not None:
        summary = counts.summary()
    elif not capped:
        # Counted live: read the ids once, and count, list and map through them, which
        # the database answers by the primary key whatever the filters were.
        ids = list(incidents.values_list("pk", flat=True)[: COUNT_CAP + 1])
        capped = len(ids) > COUNT_CAP
        selected = incidents = Incident.objects.filter(pk__in=ids)
    if capped:
        counts, summary, selected = UNCOUNTED, None, None
        incidents = filtered_incidents(filterset)
    elif counts is None:
        summary = summarize(incidents, user)
    keys = sort_keys(filterset)
    ordering = order_expressions(keys)

    paginator = Paginator(incidents.order_by(*ordering), INCIDENTS_PER_PAGE)
    # The summary query has counted the rows already; spare the paginator its COUNT. A
    # capped list pages through its first COUNT_CAP incidents.
    paginator.count = COUNT_CAP if capped else summary.incidents
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = page_rows(
        incidents,
        user,
        keys,
        ordering,
        page.start_index(),
        page.end_index(),
        total=None if capped else summary.incidents,
    )
    attach_place_labels(incident.location for incident in page.object_list)
    mark_uncertain_dates(page.object_list, filterset)

    active = describe_filters(filterset, query)
    list_url = reverse("incidents:incident_list")
    feed_url = reverse("incidents:incident_feed") + feed_query_string(query)
    current_sort = keys[0] if len(keys) == 1 else None
    context = {
        "filterset": filterset,
        "errors": filter_errors(filterset),
        "summary": summary,
        "page": page,
        # Page links keep the filters and the sort: "?kind=detention&page=2".
        "page_prefix": f"{query_string(query)}&" if query else "?",
        "elided_pages": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "facets": build_facets(filterset, query, user, counts, selected),
        "active_filters": active,
        "title": title_for(active),
        "list_url": list_url,
        "feed_url": feed_url,
        "exports": [
            (label, url)
            for name, label, options in EXPORTS
            if (url := optional_url(name, export_query(query, options)))
        ],
        "form_hidden": _hidden_fields(query, "q", "date_after", "date_before", "date_match"),
        "date_match_choices": DateMatch.choices,
        "date_match": filterset.date_range()[2],
        "sort_hidden": _hidden_fields(query, ORDERING_PARAM),
        "sort_options": [(key, SORT_LABELS[key], key == current_sort) for key in ORDERINGS],
        "map": map_points(incidents, user, ordering, None if capped else summary.incidents),
        "capped": capped,
        "count_cap": COUNT_CAP,
        "map_tile_url": settings.MAP_TILE_URL,
        "map_attribution": settings.MAP_TILE_ATTRIBUTION,
        "chart": None if capped else chart(incidents, user, counts),
    }
    status = 400 if filterset.form.errors else 200
    return render(request, "incidents/incident_list.html", context, status=status)
