"""The filterable case list at /incidents/: filters, facets, summary, sort, pages, map, chart.

The anonymous reader is pytest-django's `client`; staff log in through `staff_client`.
"""

import datetime
import json
import re

import pytest
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from incidents.models import (
    AllegationKind,
    DetentionRole,
    IncidentKind,
    LocationKind,
    Outcome,
    Verification,
)
from incidents.partial_dates import DatePrecision
from incidents.public import charts, list_views
from incidents.public.charts import DateRow, build_chart, choose_unit
from people.models import Person
from tests.factories import (
    AllegationFactory,
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    ReportedGroupFactory,
    SituationFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationState.DRAFT
LIST_URL = "/incidents/"


def get(client, query: str = ""):
    return client.get(LIST_URL + (f"?{query}" if query else ""))


def listed(response) -> list[str]:
    """Titles of the incidents on the page, in order."""
    return [incident.title for incident in response.context["page"].object_list]


def facet(response, name: str) -> dict[str, int]:
    """{value: count} of one facet as the page shows it."""
    (found,) = [f for f in response.context["facets"] if f.name == name]
    return {value.value: value.count for value in found.values}


def selected(response, name: str) -> set[str]:
    (found,) = [f for f in response.context["facets"] if f.name == name]
    return {value.value for value in found.values if value.selected}


def text(response) -> str:
    return response.content.decode()


def map_points(response) -> list[dict]:
    match = re.search(
        r'<script id="list-map-points" type="application/json">(.*?)</script>', text(response)
    )
    return json.loads(match.group(1)) if match else []


# --- the list and its filters ---------------------------------------------------------------


def test_it_lists_published_incidents_newest_first(client):
    IncidentFactory(title="Older", start_date=datetime.date(2022, 1, 5))
    IncidentFactory(title="Undated", start_date=None, start_date_precision="")
    IncidentFactory(title="Newest", start_date=datetime.date(2022, 1, 11))
    IncidentFactory(title="Draft", publication_state=DRAFT)

    response = get(client)

    assert response.status_code == 200
    assert listed(response) == ["Newest", "Older", "Undated"]
    assert "Draft" not in text(response)


def test_it_searches_titles_and_names_in_any_script(client):
    IncidentFactory(title="Checks in Shymkent")
    named = IncidentFactory(title="A detention")
    DetentionFactory(incident=named, person=PersonFactory(name="Vikram Ruzakhunov"))
    IncidentFactory(title="Something else")

    assert listed(get(client, "q=shymkent")) == ["Checks in Shymkent"]
    assert listed(get(client, "q=Рузахунов")) == ["A detention"]


def test_it_filters_by_date_range(client):
    for day in (3, 7, 11):
        IncidentFactory(title=f"Day {day}", start_date=datetime.date(2022, 1, day))

    response = get(client, "date_after=2022-01-05&date_before=2022-01-10")

    assert listed(response) == ["Day 7"]


def test_it_filters_by_situation_and_kind(client):
    unrest = SituationFactory(slug="unrest")
    IncidentFactory(title="In unrest", situation=unrest, kind=IncidentKind.DETENTION)
    IncidentFactory(title="Mass in unrest", situation=unrest, kind=IncidentKind.MASS_DETENTION)
    IncidentFactory(title="Elsewhere", kind=IncidentKind.DETENTION)
    IncidentFactory(title="Beaten", situation=unrest, kind=IncidentKind.ILL_TREATMENT)

    assert set(listed(get(client, "situation=unrest"))) == {"In unrest", "Mass in unrest", "Beaten"}
    response = get(client, "situation=unrest&kind=detention&kind=mass_detention")
    assert set(listed(response)) == {"In unrest", "Mass in unrest"}


def test_it_filters_by_place_including_everything_inside(client):
    kazakhstan = CountryFactory()
    shymkent = LocationFactory(name="Shymkent", slug="shymkent", parent=kazakhstan)
    police = LocationFactory(
        name="Police station", parent=shymkent, kind=LocationKind.POLICE_STATION
    )
    kyrgyzstan = CountryFactory(name="Kyrgyzstan", country="KG")
    IncidentFactory(title="At the station", location=police)
    IncidentFactory(title="In the city", location=shymkent)
    IncidentFactory(title="In the country", location=kazakhstan)
    IncidentFactory(title="Other country", location=LocationFactory(parent=kyrgyzstan))

    assert set(listed(get(client, "place=kazakhstan"))) == {
        "At the station",
        "In the city",
        "In the country",
    }
    assert set(listed(get(client, "place=shymkent"))) == {"At the station", "In the city"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("citizenship=KG", {"Kyrgyz detained"}),
        ("allegation=forced_confession", {"Kyrgyz detained"}),
        ("outcome=released", {"Uzbek detained"}),
        ("verification=confirmed", {"Uzbek detained"}),
        ("citizenship=KG&citizenship=UZ", {"Kyrgyz detained", "Uzbek detained"}),
    ],
)
def test_it_filters_by_detainees_and_verification(client, query, expected):
    kyrgyz = IncidentFactory(title="Kyrgyz detained")
    detention = DetentionFactory(incident=kyrgyz, person=PersonFactory(citizenship="KG"))
    AllegationFactory(detention=detention, kind=AllegationKind.FORCED_CONFESSION)
    uzbek = IncidentFactory(title="Uzbek detained", verification=Verification.CONFIRMED)
    DetentionFactory(
        incident=uzbek, person=PersonFactory(citizenship="UZ"), outcome=Outcome.RELEASED
    )
    IncidentFactory(title="Nobody named")

    assert set(listed(get(client, query))) == expected


def test_it_combines_filters(client):
    almaty = LocationFactory(name="Almaty", slug="almaty")
    match = IncidentFactory(title="Match", location=almaty, kind=IncidentKind.DETENTION)
    DetentionFactory(incident=match, person=PersonFactory(citizenship="KG"))
    wrong_kind = IncidentFactory(title="Wrong kind", location=almaty, kind=IncidentKind.OTHER)
    DetentionFactory(incident=wrong_kind, person=PersonFactory(citizenship="KG"))
    wrong_place = IncidentFactory(title="Wrong place", kind=IncidentKind.DETENTION)
    DetentionFactory(incident=wrong_place, person=PersonFactory(citizenship="KG"))
    IncidentFactory(title="Nobody named", location=almaty, kind=IncidentKind.DETENTION)

    response = get(client, "place=almaty&kind=detention&citizenship=KG")

    assert listed(response) == ["Match"]
    assert response.context["title"] == "Cases: Detention · in Almaty · citizenship KG"


# --- facets -----------------------------------------------------------------------------


def test_a_facet_ignores_its_own_filter_and_respects_the_others(client):
    for kind, count in ((IncidentKind.DETENTION, 3), (IncidentKind.MASS_DETENTION, 2)):
        for _ in range(count):
            IncidentFactory(kind=kind, verification=Verification.CONFIRMED)
    IncidentFactory(kind=IncidentKind.DETENTION, verification=Verification.DISPUTED)

    response = get(client, "kind=detention&verification=confirmed")

    # Kind counts all kinds among the confirmed incidents (its own filter left out)…
    assert facet(response, "kind") == {"detention": 3, "mass_detention": 2}
    assert selected(response, "kind") == {"detention"}
    # …and verification counts every status among the detentions.
    assert facet(response, "verification") == {"confirmed": 3, "disputed": 1}
    assert len(listed(response)) == 3


def test_a_chosen_value_stays_listed_when_nothing_matches(client):
    SituationFactory(slug="unrest", title="Unrest")
    IncidentFactory(kind=IncidentKind.DETENTION)

    response = get(client, "situation=unrest&kind=disappearance")

    assert facet(response, "situation") == {"unrest": 0}
    assert selected(response, "situation") == {"unrest"}
    # No incident is in the situation, so no kind has any; the chosen one stays, to be removed.
    assert facet(response, "kind") == {"disappearance": 0}


def test_facet_links_toggle_their_value_and_keep_the_other_filters(client):
    IncidentFactory(kind=IncidentKind.DETENTION, verification=Verification.CONFIRMED)
    IncidentFactory(kind=IncidentKind.MASS_DETENTION, verification=Verification.CONFIRMED)

    response = get(client, "kind=detention&verification=confirmed&page=1")

    links = {
        value.value: value.url
        for found in response.context["facets"]
        if found.name == "kind"
        for value in found.values
    }
    assert links["detention"] == "?verification=confirmed"
    assert links["mass_detention"] == "?kind=detention&kind=mass_detention&verification=confirmed"
    assert 'href="/incidents/?verification=confirmed"' in text(response)


def test_detention_facets_count_each_incident_once_through_visible_detentions(client):
    incident = IncidentFactory()
    for _ in range(3):
        detention = DetentionFactory(incident=incident, person=PersonFactory(citizenship="KG"))
        AllegationFactory(detention=detention, kind=AllegationKind.ILL_TREATMENT)
    hidden = IncidentFactory()
    DetentionFactory(
        incident=hidden,
        person=PersonFactory(citizenship="UZ"),
        outcome=Outcome.CONVICTED,
        publication_state=DRAFT,
    )

    response = get(client)

    assert facet(response, "citizenship") == {"KG": 1}
    assert facet(response, "allegation") == {"ill_treatment": 1}
    assert facet(response, "outcome") == {"unknown": 1}


def test_facets_do_not_count_drafts_for_anonymous_but_do_for_staff(client, staff_user):
    IncidentFactory(kind=IncidentKind.DETENTION)
    IncidentFactory(kind=IncidentKind.DISAPPEARANCE, publication_state=DRAFT)
    published = IncidentFactory(kind=IncidentKind.DETENTION)
    DetentionFactory(
        incident=published, person=PersonFactory(citizenship="TJ"), publication_state=DRAFT
    )

    anonymous = get(client)
    assert facet(anonymous, "kind") == {"detention": 2}
    assert "TJ" not in facet(anonymous, "citizenship")
    assert "Tajikistan" not in text(anonymous)

    client.force_login(staff_user)
    staff = get(client)
    assert facet(staff, "kind") == {"detention": 2, "disappearance": 1}
    assert facet(staff, "citizenship") == {"TJ": 1}


def test_live_detention_facets_test_each_persons_visibility(client, staff_user):
    # A filter the maintained counts cannot answer (verification): counted live.
    incident = IncidentFactory(verification=Verification.REPORTED)
    DetentionFactory(incident=incident, person=PersonFactory(citizenship="KG"))
    DetentionFactory(
        incident=incident,
        person=PersonFactory(citizenship="TJ", publication_state=DRAFT),
        outcome=Outcome.CONVICTED,
    )
    archived = PersonFactory(citizenship="UZ")
    DetentionFactory(incident=incident, person=archived, outcome=Outcome.RELEASED)
    Person.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    other = IncidentFactory(verification=Verification.REPORTED)
    DetentionFactory(incident=other, person=PersonFactory(citizenship="KZ"))

    anonymous = get(client, "verification=reported")
    assert facet(anonymous, "citizenship") == {"KG": 1, "KZ": 1}
    assert facet(anonymous, "outcome") == {"unknown": 2}

    client.force_login(staff_user)
    staff = get(client, "verification=reported&citizenship=KG")
    # The citizenship facet leaves out its own filter; the others count the KG incident.
    assert facet(staff, "citizenship") == {"KG": 1, "KZ": 1, "TJ": 1}
    assert facet(staff, "outcome") == {"unknown": 1, "convicted": 1}


def test_place_facet_counts_countries_and_cities_with_everything_inside(client):
    kazakhstan = CountryFactory()
    shymkent = LocationFactory(name="Shymkent", slug="shymkent", parent=kazakhstan)
    almaty = LocationFactory(name="Almaty", slug="almaty", parent=kazakhstan)
    checkpoint = LocationFactory(
        name="Checkpoint", slug="checkpoint", parent=shymkent, kind=LocationKind.BORDER_CROSSING
    )
    IncidentFactory(location=shymkent)
    IncidentFactory(location=checkpoint)
    IncidentFactory(location=almaty, kind=IncidentKind.OTHER)
    IncidentFactory(location=kazakhstan)

    response = get(client, "place=checkpoint&kind=detention")

    # The place facet leaves out its own filter but keeps the kind filter.
    assert facet(response, "place") == {"kazakhstan": 3, "shymkent": 2, "checkpoint": 1}
    assert selected(response, "place") == {"checkpoint"}
    depths = {v.value: v.depth for f in response.context["facets"] for v in f.values}
    assert depths["kazakhstan"] == 0
    assert depths["shymkent"] == 1
    assert depths["checkpoint"] == 2


# --- summary line ------------------------------------------------------------------------


def test_the_summary_counts_the_larger_of_reported_and_named(client):
    reported = IncidentFactory(reported_detained_count=38, reported_released_count=38)
    DetentionFactory(incident=reported, outcome=Outcome.RELEASED)
    named = IncidentFactory(reported_detained_count=1)
    DetentionFactory(incident=named, outcome=Outcome.HANDED_OVER)
    DetentionFactory(incident=named, outcome=Outcome.STILL_HELD)
    DetentionFactory(incident=named, role=DetentionRole.WITNESS, outcome=Outcome.RELEASED)
    DetentionFactory(incident=named, publication_state=DRAFT, outcome=Outcome.RELEASED)
    IncidentFactory(reported_detained_count=None)

    response = get(client)

    summary = response.context["summary"]
    # 38 + max(1, 2 named detainees) + 0; released 38 + 1 (handed over).
    assert (summary.incidents, summary.people_detained, summary.people_released) == (3, 40, 39)
    page = text(response)
    assert "3 incidents" in page
    assert "40 people detained" in page
    assert "39 released" in page
    assert "the larger of the number the sources report" in page


def test_the_summary_follows_the_filter(client):
    IncidentFactory(kind=IncidentKind.MASS_DETENTION, reported_detained_count=38)
    IncidentFactory(kind=IncidentKind.DETENTION, reported_detained_count=1)

    summary = get(client, "kind=detention").context["summary"]

    assert (summary.incidents, summary.people_detained) == (1, 1)


# --- sort and pages ----------------------------------------------------------------------


@pytest.fixture
def three_incidents():
    a = IncidentFactory(title="A", start_date=datetime.date(2022, 1, 3), reported_detained_count=5)
    b = IncidentFactory(title="B", start_date=datetime.date(2022, 1, 9), reported_detained_count=1)
    c = IncidentFactory(title="C", start_date=None, start_date_precision="")
    DetentionFactory.create_batch(3, incident=c)  # three named, none reported
    # updated_at is set on a save that changes something: make the update order differ
    # from the date order.
    for incident in (b, c, a):
        incident.summary += " (corrected)"
        incident.save()
    return a, b, c


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("", ["B", "A", "C"]),
        ("-date", ["B", "A", "C"]),
        ("date", ["A", "B", "C"]),
        ("-updated", ["A", "C", "B"]),
        ("updated", ["B", "C", "A"]),
        ("-detained", ["A", "C", "B"]),
        ("detained", ["B", "C", "A"]),
    ],
)
def test_it_sorts(client, three_incidents, ordering, expected):
    response = get(client, f"ordering={ordering}" if ordering else "")

    assert listed(response) == expected


def test_pages_keep_the_filters_and_the_sort(client):
    for day in range(1, 31):
        IncidentFactory(title=f"Case {day:02d}", start_date=datetime.date(2022, 1, day))
    IncidentFactory(title="Other kind", kind=IncidentKind.OTHER)

    first = get(client, "kind=detention&ordering=date")
    assert len(listed(first)) == list_views.INCIDENTS_PER_PAGE
    assert listed(first)[0] == "Case 01"
    assert 'href="?kind=detention&amp;ordering=date&amp;page=2"' in text(first)

    second = get(client, "kind=detention&ordering=date&page=2")
    assert listed(second) == [f"Case {day}" for day in range(26, 31)]
    assert 'href="?kind=detention&amp;ordering=date&amp;page=1"' in text(second)


def test_it_says_when_nothing_matches_and_offers_to_clear(client):
    IncidentFactory(kind=IncidentKind.DETENTION)

    response = get(client, "kind=disappearance")

    assert response.status_code == 200
    assert listed(response) == []
    page = text(response)
    assert "No cases match these filters." in page
    assert 'href="/incidents/">Clear all filters' in page


# --- bad parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("date_after=notadate", "From"),
        ("date_before=2022-13-45", "Until"),
        ("kind=bogus", "Kind"),
        ("place=no-such-place", "Place"),
        ("situation=no-such-situation", "Situation"),
        ("citizenship=XX", "Detainee citizenship"),
        ("ordering=bogus", "Sort by"),
        ("updated_since=yesterday", "Updated since"),
    ],
)
def test_a_bad_parameter_is_named_and_ignored(client, query, label):
    IncidentFactory(title="Still listed", kind=IncidentKind.DETENTION)

    response = get(client, f"{query}&verification=reported")

    assert response.status_code == 400
    assert f"The filter “{label}” was ignored" in text(response)
    # The other filters still apply and the page is complete.
    assert listed(response) == ["Still listed"]
    assert response.context["facets"]
    # Links on the page do not carry the bad parameter along.
    bad_value = query.split("=")[1]
    assert all(bad_value not in value.url for f in response.context["facets"] for value in f.values)
    assert bad_value not in response.context["feed_url"]


def test_a_draft_situation_is_an_unknown_situation_to_anonymous(client):
    SituationFactory(slug="secret-situation", title="SECRET-SITUATION", publication_state=DRAFT)

    response = get(client, "situation=secret-situation")

    assert response.status_code == 400
    assert "SECRET-SITUATION" not in text(response)


def test_it_does_not_fail_on_a_page_out_of_range(client):
    IncidentFactory(title="Only one")

    for page in ("999", "abc", "-1"):
        response = get(client, f"page={page}")
        assert response.status_code == 200
        assert listed(response) == ["Only one"]


# --- links: feed and exports -------------------------------------------------------------


def test_it_links_the_feed_of_the_current_filter(client):
    IncidentFactory()

    page = text(get(client, "kind=detention&ordering=date&page=2"))

    assert (
        '<link rel="alternate" type="application/atom+xml" title="Cases: Detention" '
        'href="/incidents/feed.atom?kind=detention">'
    ) in page
    assert 'href="/incidents/feed.atom?kind=detention" type="application/atom+xml"' in page


def test_export_links_appear_only_when_their_views_exist(client):
    assert list_views.optional_url("incidents:no_such_export") is None
    assert list_views.optional_url("incidents:incident_list", "?kind=detention") == (
        "/incidents/?kind=detention"
    )
    IncidentFactory()

    exports = get(client, "kind=detention").context["exports"]

    for _, url in exports:
        assert url.endswith("?kind=detention") or url.endswith("?kind=detention&bom=1")
    assert sum(url.endswith("&bom=1") for _, url in exports) == 1  # the one for Excel


# --- query count ------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries, rows):
    country = CountryFactory()
    situation = SituationFactory(slug="unrest")
    for index in range(rows):
        incident = IncidentFactory(
            situation=situation,
            location=LocationFactory(parent=LocationFactory(parent=country)),
            start_date=datetime.date(2022, 1, 1) + datetime.timedelta(days=index),
        )
        detention = DetentionFactory(incident=incident)
        AllegationFactory(detention=detention)
        ReportedGroupFactory(incident=incident, citizenship="UZ")

    # Guards against N+1. Anonymous, so no session query; a citizenship filter, so counted
    # live (not from the maintained counts). The filters validate the place (1) and the
    # situation (2); 3 the ids of the filtered set (at most COUNT_CAP + 1); then 4 the
    # summary (count, people detained and released), 5 the ids of the page, 6 its
    # incidents with their places and counts, 7 the names of those places' ancestors,
    # facets: 8 situation counts, 9 situation names, 10 kind, 11 place counts, 12 place
    # names, 13–15 citizenship (the incidents' ids, their detentions, their reported
    # groups), 16 allegation and outcome (the filtered set's ids, read once for both; the
    # same incidents, so the same detention rows), 17 verification; 18 the map's
    # incidents, 19 the coordinates of the places around them, 20 the chart.
    with django_assert_max_num_queries(20):
        response = get(client, "place=kazakhstan&situation=unrest&citizenship=KG")
    assert response.status_code == 200
    assert len(listed(response)) == min(rows, list_views.INCIDENTS_PER_PAGE)


@pytest.mark.parametrize("rows", [3, 30])
def test_the_counted_list_query_count_does_not_grow_with_rows(
    client, django_assert_max_num_queries, rows
):
    country = CountryFactory()
    situation = SituationFactory(slug="unrest")
    for index in range(rows):
        incident = IncidentFactory(
            situation=situation,
            location=LocationFactory(parent=LocationFactory(parent=country)),
            start_date=datetime.date(2022, 1, 1) + datetime.timedelta(days=index * 9),
        )
        detention = DetentionFactory(incident=incident)
        AllegationFactory(detention=detention)
        ReportedGroupFactory(incident=incident, citizenship="UZ")

    # Filters the maintained counts answer (incidents/public_counts.py). The filters
    # validate the place (1) and the situation (2); 3 the summary, 4 the page's ids,
    # 5 its incidents, 6 their places' ancestors; facets: 7 situation counts, 8 situation
    # names, 9 kind, 10 place counts, 11 their paths, 12 place names, 13 citizenship,
    # 14 allegation, 15 outcome, 16 verification; 17 the map's incidents, 18 the
    # coordinates around them; the chart: 19 the span of exact dates, 20 people per month
    # (falling back to 20 the live counts per date when the span is short).
    with django_assert_max_num_queries(20):
        response = get(
            client,
            "place=kazakhstan&situation=unrest&kind=detention"
            "&date_after=2022-01-01&date_before=2022-12-31",
        )
    assert response.status_code == 200
    assert len(listed(response)) == min(rows, list_views.INCIDENTS_PER_PAGE)
    assert response.context["summary"].incidents == rows


# --- nothing hidden leaks ----------------------------------------------------------------


def test_drafts_and_withheld_identities_never_reach_anonymous_readers(client):
    kazakhstan = CountryFactory()
    city = LocationFactory(
        parent=kazakhstan, latitude=43.2, longitude=76.9, coordinate_precision="city"
    )
    draft_place = LocationFactory(
        name="DRAFTPLACE",
        slug="draft-place",
        parent=kazakhstan,
        latitude=50,
        longitude=60,
        coordinate_precision="city",
    )
    IncidentFactory(
        title="DRAFT-INCIDENT-MARKER",
        summary="DRAFT-SUMMARY-MARKER",
        location=draft_place,
        publication_state=DRAFT,
        reported_detained_count=500,
        start_date=datetime.date(2022, 3, 1),
    )
    published = IncidentFactory(
        title="Published case",
        location=city,
        situation=SituationFactory(title="DRAFT-SITUATION", publication_state=DRAFT),
    )
    DetentionFactory(
        incident=published,
        person=PersonFactory(name="WITHHELDNAME Marker", identity_withheld=True, citizenship="KG"),
    )
    DetentionFactory(
        incident=published,
        person=PersonFactory(name="DRAFTPERSON Marker", citizenship="UZ"),
        publication_state=DRAFT,
        outcome=Outcome.CONVICTED,
    )

    for query in ("", "q=WITHHELDNAME", "citizenship=KG", "place=kazakhstan"):
        response = get(client, query)
        page = text(response)
        for marker in (
            "DRAFT-INCIDENT-MARKER",
            "DRAFT-SUMMARY-MARKER",
            "DRAFTPERSON",
            "DRAFT-SITUATION",
            "Uzbekistan",
            "DRAFTPLACE",
            "Convicted",
        ):
            assert marker not in page, (query, marker)
        if "WITHHELDNAME" not in query:
            assert "WITHHELDNAME" not in page
        assert all(point["title"] != "DRAFT-INCIDENT-MARKER" for point in map_points(response))
        summary = response.context["summary"]
        assert summary.people_detained <= 1
        chart = response.context["chart"]
        if chart:
            assert sum(bar.people for bar in chart.bars) <= 1

    # The withheld person's name finds nothing for the public.
    assert listed(get(client, "q=WITHHELDNAME")) == []


# --- map ---------------------------------------------------------------------------------


def test_map_points_use_the_nearest_place_with_coordinates(client):
    kazakhstan = CountryFactory(latitude=48, longitude=67, coordinate_precision="country")
    almaty = LocationFactory(
        name="Almaty",
        parent=kazakhstan,
        latitude=43.2389,
        longitude=76.8897,
        coordinate_precision="city",
    )
    station = LocationFactory(parent=almaty, kind=LocationKind.POLICE_STATION)
    nowhere = LocationFactory(parent=None, country="KG")
    IncidentFactory(title="At the station", location=station, reported_detained_count=4)
    IncidentFactory(title="In the country", location=LocationFactory(parent=kazakhstan))
    IncidentFactory(title="Unplaced", location=nowhere)

    response = get(client)

    points = {point["title"]: point for point in map_points(response)}
    assert set(points) == {"At the station", "In the country"}
    station_point = points["At the station"]
    assert (station_point["lat"], station_point["lon"], station_point["count"]) == (
        43.2389,
        76.8897,
        4,
    )
    assert re.fullmatch(r"/incidents/detention-\d+/", station_point["url"])
    assert station_point["date"] == "7 January 2022"
    assert (points["In the country"]["lat"], points["In the country"]["lon"]) == (48.0, 67.0)
    assert response.context["map"].unplaced == 1
    page = text(response)
    assert "1 case has no known place coordinates" in page
    assert 'src="/static/leaflet/leaflet.js"' in page
    assert 'src="/static/js/map.js"' in page
    assert "<noscript>" in page


def test_the_map_is_capped_and_says_so(client, monkeypatch):
    monkeypatch.setattr(list_views, "MAP_POINT_LIMIT", 2)
    place = LocationFactory(latitude=43, longitude=76, coordinate_precision="city")
    for day in (1, 2, 3):
        IncidentFactory(location=place, start_date=datetime.date(2022, 1, day))

    response = get(client)

    assert len(map_points(response)) == 2
    assert "The map shows the first 2 of the 3 cases" in text(response)


# --- chart -------------------------------------------------------------------------------


def test_the_chart_is_inline_svg_with_a_table(client):
    IncidentFactory(start_date=datetime.date(2022, 1, 7), reported_detained_count=3)
    IncidentFactory(start_date=datetime.date(2022, 1, 9), reported_detained_count=2)
    IncidentFactory(
        start_date=datetime.date(2022, 1, 1),
        start_date_precision="month",
        reported_detained_count=38,
    )

    page = text(get(client))

    assert '<svg class="chart"' in page
    assert "style=" not in page.split('<svg class="chart"')[1].split("</svg>")[0]
    assert "<title>7 January 2022: 3 people detained, 1 incident</title>" in page
    assert "Date known only to the month" in page
    assert "<details" in page and "<table" in page


def _row(day, precision="day", people=1, incidents=1):
    return DateRow(day, precision, people, incidents)


def test_chart_unit_follows_the_range():
    jan = datetime.date(2022, 1, 1)
    assert choose_unit(jan, datetime.date(2022, 1, 31)) == charts.DAY
    assert choose_unit(jan, datetime.date(2022, 2, 1)) == charts.WEEK
    assert choose_unit(jan, datetime.date(2022, 7, 1)) == charts.WEEK
    assert choose_unit(jan, datetime.date(2022, 7, 2)) == charts.MONTH
    assert choose_unit(datetime.date(2022, 8, 31), datetime.date(2023, 2, 28)) == charts.WEEK


def test_chart_days_fill_gaps_and_keep_month_dates_apart():
    chart = build_chart(
        [
            _row(datetime.date(2022, 1, 7), people=3),
            _row(datetime.date(2022, 1, 10), DatePrecision.APPROXIMATE, people=2),
            _row(datetime.date(2022, 1, 1), DatePrecision.MONTH, people=38, incidents=2),
            _row(datetime.date(2022, 1, 1), DatePrecision.YEAR, people=1),
            _row(None, "", people=4, incidents=2),
        ]
    )

    assert chart.unit == charts.DAY
    assert [(bar.start.day, bar.people) for bar in chart.bars] == [(7, 3), (8, 0), (9, 0), (10, 2)]
    # The month-precision date is not put on 1 January.
    assert [(note.label, note.people, note.incidents) for note in chart.coarse] == [
        ("January 2022", 38, 2),
        ("2022", 1, 1),
    ]
    assert (chart.undated_incidents, chart.undated_people) == (2, 4)
    assert [bar.start.day for bar in chart.listed_bars] == [7, 10]


def test_chart_weeks_start_on_monday():
    chart = build_chart(
        [
            _row(datetime.date(2022, 1, 5), people=1),  # Wednesday
            _row(datetime.date(2022, 1, 9), people=2),  # Sunday, same week
            _row(datetime.date(2022, 3, 1), people=4),
            _row(datetime.date(2022, 2, 1), DatePrecision.MONTH, people=9),
        ]
    )

    assert chart.unit == charts.WEEK
    assert chart.bars[0].start == datetime.date(2022, 1, 3)
    assert chart.bars[0].people == 3
    assert chart.bars[-1].start == datetime.date(2022, 2, 28)
    assert chart.bars[-1].people == 4
    assert len(chart.bars) == 9
    assert [note.label for note in chart.coarse] == ["February 2022"]


def test_chart_months_take_month_precision_dates():
    chart = build_chart(
        [
            _row(datetime.date(2021, 12, 20), people=1),
            _row(datetime.date(2022, 1, 1), DatePrecision.MONTH, people=38),
            _row(datetime.date(2022, 9, 2), people=2),
            _row(datetime.date(2022, 1, 1), DatePrecision.YEAR, people=5),
        ]
    )

    assert chart.unit == charts.MONTH
    assert [(bar.start, bar.people) for bar in chart.bars][:2] == [
        (datetime.date(2021, 12, 1), 1),
        (datetime.date(2022, 1, 1), 38),
    ]
    assert len(chart.bars) == 10
    assert [note.label for note in chart.coarse] == ["2022"]


def test_chart_with_only_month_dates_uses_months():
    chart = build_chart([_row(datetime.date(2022, 1, 1), DatePrecision.MONTH, people=44)])

    assert chart.unit == charts.MONTH
    assert [(bar.label, bar.people) for bar in chart.bars] == [("January 2022", 44)]
    assert chart.coarse == []


def test_chart_geometry_scales_to_a_round_maximum():
    chart = build_chart(
        [_row(datetime.date(2022, 1, 7), people=38), _row(datetime.date(2022, 1, 8), people=19)]
    )

    assert [tick.value for tick in chart.ticks] == [0, 25, 50]
    tall, short = chart.bars
    assert tall.y + tall.height == short.y + short.height == chart.baseline
    assert tall.height == pytest.approx(2 * short.height, abs=0.2)


def test_chart_without_dates_is_none():
    assert build_chart([]) is None
    assert build_chart([_row(None, "", people=3)]) is None


def test_no_incident_filter_asks_for_distinct(rf):
    # A DISTINCT list is sorted in full before its first page; no filter needs one.
    from django.contrib.auth.models import AnonymousUser

    from incidents.filters import IncidentFilter
    from incidents.models import Incident

    request = rf.get(
        "/incidents/",
        {
            "kind": ["detention", "mass_detention"],
            "citizenship": "KG",
            "allegation": "ill_treatment",
            "outcome": "released",
            "verification": "reported",
        },
    )
    request.user = AnonymousUser()
    filterset = IncidentFilter(request.GET, queryset=Incident.objects.published(), request=request)
    assert filterset.is_valid(), filterset.errors
    assert not filterset.qs.query.distinct


# --- capped counts -------------------------------------------------------------------------


def test_a_search_too_broad_to_count_says_more_than_and_lists_the_values_uncounted(
    client, monkeypatch
):
    monkeypatch.setattr(list_views, "COUNT_CAP", 3)
    for _ in range(5):
        IncidentFactory(summary="Detained after the protest.")

    response = get(client, "q=protest")

    assert response.status_code == 200
    assert response.context["capped"] is True
    assert response.context["summary"] is None
    assert response.context["chart"] is None
    page = text(response)
    assert "More than 3 incidents" in page
    kinds = next(f for f in response.context["facets"] if f.name == "kind")
    assert {value.value for value in kinds.values} == set(IncidentKind.values)
    assert all(value.count is None for value in kinds.values)
    assert len(listed(response)) == 3  # the first COUNT_CAP, in pages


def test_a_search_under_the_cap_is_counted_through_its_ids(client, monkeypatch):
    monkeypatch.setattr(list_views, "COUNT_CAP", 3)
    for kind in (IncidentKind.DETENTION, IncidentKind.DEPORTATION):
        IncidentFactory(kind=kind, summary="Detained after the protest.")
    IncidentFactory(summary="Nothing to see.")
    IncidentFactory(summary="Another protest", publication_state=DRAFT)

    response = get(client, "q=protest&kind=detention")

    assert response.context["capped"] is False
    assert response.context["summary"].incidents == 1
    kinds = next(f for f in response.context["facets"] if f.name == "kind")
    # The kind facet leaves out its own filter: both published matches, by kind.
    assert {value.value: value.count for value in kinds.values} == {
        IncidentKind.DETENTION: 1,
        IncidentKind.DEPORTATION: 1,
    }


def test_a_filter_the_counts_cannot_answer_is_capped_above_the_limit(client, monkeypatch):
    monkeypatch.setattr(list_views, "COUNT_CAP", 2)
    for _ in range(3):
        IncidentFactory(verification=Verification.REPORTED)

    response = get(client, "verification=reported")

    assert response.context["capped"] is True
    assert "More than 2 incidents" in text(response)


@pytest.mark.parametrize("ordering", ["-date", "date", "-updated", "-detained", "detained"])
def test_pages_in_the_second_half_read_from_the_end_give_the_same_order(
    client, monkeypatch, ordering
):
    for index in range(11):
        IncidentFactory(
            start_date=None if index % 5 == 0 else datetime.date(2022, 1, 1 + index % 3),
            start_date_precision="" if index % 5 == 0 else "day",
            reported_detained_count=index % 4,
        )
    everything = listed(get(client, f"ordering={ordering}"))  # one page of 25

    monkeypatch.setattr(list_views, "INCIDENTS_PER_PAGE", 4)
    pages = [listed(get(client, f"ordering={ordering}&page={n}")) for n in (1, 2, 3)]

    assert [len(page) for page in pages] == [4, 4, 3]
    assert pages[0] + pages[1] + pages[2] == everything
