"""Uncertain dates, answered honestly (issue 13, item 1).

Each incident stores the earliest and the latest day it may have taken place on; a date
range finds by default what MAY fall in it (`date_match=possible`), and with
`date_match=certain` only what certainly falls within it. The page, the API, the CSV export
and the counts give the same answer; the page marks the rows that only possibly match. Time
in custody is exact or bounded; timelines order by the earliest possible day, then the finer
precision.
"""

import csv
import datetime
import importlib
import io
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.http import QueryDict
from django.urls import reverse

from incidents import public_counts
from incidents.filters import IncidentFilter
from incidents.models import Incident
from incidents.partial_dates import PartialDate, custody_days, possible_span
from incidents.public import facets
from incidents.public.views import build_timeline
from tests.api_personas import API
from tests.factories import (
    CountryFactory,
    DetentionFactory,
    IncidentEventFactory,
    IncidentFactory,
    LocationFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
fill_possible_span = importlib.import_module(
    "incidents.migrations.0014_incident_earliest_date"
).fill_possible_span


# --- the earliest and latest possible day ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "precision", "not_before", "not_after"),
    [
        (D(2022, 1, 7), "day", D(2022, 1, 7), D(2022, 1, 7)),
        (D(2022, 1, 7), "month", D(2022, 1, 1), D(2022, 1, 31)),
        (D(2022, 2, 7), "month", D(2022, 2, 1), D(2022, 2, 28)),
        (D(2022, 5, 7), "year", D(2022, 1, 1), D(2022, 12, 31)),
        (D(2022, 1, 7), "approximate", D(2022, 1, 4), D(2022, 1, 10)),
    ],
)
def test_each_precision_has_its_possible_days(value, precision, not_before, not_after):
    date = PartialDate.of(value, precision)
    assert (date.not_before, date.not_after) == (not_before, not_after)


def test_a_span_runs_from_its_starts_first_to_its_ends_last_possible_day():
    month = PartialDate.of(D(2022, 1, 1), "month")
    assert possible_span(month, PartialDate.of(D(2022, 1, 10), "day")) == (
        D(2022, 1, 1),
        D(2022, 1, 10),
    )
    assert possible_span(month, None) == (D(2022, 1, 1), D(2022, 1, 31))
    assert possible_span(month, PartialDate.of(D(2022, 2, 1), "month")) == (
        D(2022, 1, 1),
        D(2022, 2, 28),
    )
    assert possible_span(None, None) == (None, None)


def test_the_migration_fills_rows_with_the_same_function():
    rows = [
        SimpleNamespace(
            start_date=D(2022, 1, 1),
            start_date_precision="month",
            end_date=D(2022, 1, 10),
            end_date_precision="day",
            earliest_date=None,
            latest_date=D(2022, 1, 10),
        ),
        SimpleNamespace(
            start_date=D(2022, 1, 7),
            start_date_precision="approximate",
            end_date=None,
            end_date_precision="",
            earliest_date=None,
            latest_date=D(2022, 1, 7),
        ),
        SimpleNamespace(
            start_date=None,
            start_date_precision="",
            end_date=None,
            end_date_precision="",
            earliest_date=None,
            latest_date=None,
        ),
    ]
    changed = fill_possible_span(rows)
    assert changed == rows[:2]  # the undated one had nothing to change
    assert (rows[0].earliest_date, rows[0].latest_date) == (D(2022, 1, 1), D(2022, 1, 10))
    assert (rows[1].earliest_date, rows[1].latest_date) == (D(2022, 1, 4), D(2022, 1, 10))
    assert (rows[2].earliest_date, rows[2].latest_date) == (None, None)


def test_save_and_bulk_create_store_them(db):
    saved = IncidentFactory(start_date=D(2021, 6, 1), start_date_precision="year")
    assert (saved.earliest_date, saved.latest_date) == (D(2021, 1, 1), D(2021, 12, 31))
    location = LocationFactory()
    [bulk] = Incident.objects.bulk_create(
        [
            Incident(
                title="Bulk",
                slug="bulk",
                kind="detention",
                location=location,
                start_date=D(2022, 3, 9),
                start_date_precision="approximate",
            )
        ],
        record_history=False,
    )
    bulk.refresh_from_db()
    assert (bulk.earliest_date, bulk.latest_date) == (D(2022, 3, 6), D(2022, 3, 12))


def test_generated_incidents_have_them(db):
    call_command("generate_synthetic", "--incidents", "20", "--seed", "5", verbosity=0)
    assert not Incident.objects.filter(start_date__isnull=False, earliest_date__isnull=True)
    assert not Incident.objects.filter(start_date__isnull=True, earliest_date__isnull=False)


# --- the range filter, on every surface -----------------------------------------------------


@pytest.fixture
def cases(db):
    """One incident at each precision, all in January 2022 or the year, and an undated one."""
    place = LocationFactory(slug="almaty", parent=CountryFactory())
    for slug, start, precision in [
        ("day", D(2022, 1, 7), "day"),
        ("month", D(2022, 1, 1), "month"),
        ("year", D(2022, 1, 1), "year"),
        ("approximate", D(2022, 1, 7), "approximate"),
        ("undated", None, ""),
    ]:
        IncidentFactory(slug=slug, location=place, start_date=start, start_date_precision=precision)


# (range, possible matches, certain matches) over `cases`.
RANGES = [
    # Contains them all (but the undated one, never certain).
    (
        ("2022-01-01", "2022-12-31"),
        {"day", "month", "year", "approximate", "undated"},
        {"day", "month", "year", "approximate"},
    ),
    # Contains the day, the approximate day and the month; overlaps the year.
    (
        ("2022-01-01", "2022-01-31"),
        {"day", "month", "year", "approximate", "undated"},
        {"day", "month", "approximate"},
    ),
    # Contains the day and its approximate span; overlaps the month and the year.
    (
        ("2022-01-04", "2022-01-10"),
        {"day", "month", "year", "approximate", "undated"},
        {"day", "approximate"},
    ),
    # Only the day itself: the approximate day overlaps it, but may be another day.
    (("2022-01-07", "2022-01-07"), {"day", "month", "year", "approximate", "undated"}, {"day"}),
    # Misses the day; overlaps the approximate day (10 January), the month and the year.
    (("2022-01-10", "2022-01-20"), {"month", "year", "approximate", "undated"}, set()),
    # Misses all but the year (and the undated, which may be any day).
    (("2022-03-01", None), {"year", "undated"}, set()),
    # Misses them all.
    ((None, "2021-12-31"), {"undated"}, set()),
    ((None, "2022-01-03"), {"month", "year", "undated"}, set()),
    ((None, "2022-01-04"), {"month", "year", "approximate", "undated"}, set()),
]


def _params(dates, match=None) -> dict:
    after, before = dates
    params = {}
    if after:
        params["date_after"] = after
    if before:
        params["date_before"] = before
    if match:
        params["date_match"] = match
    return params


def api_slugs(api, **params) -> set[str]:
    response = api.get(f"{API}/incidents/", params)
    assert response.status_code == 200, response.content
    return {item["slug"] for item in response.json()["results"]}


def csv_slugs(client, params) -> set[str]:
    response = client.get(reverse("incidents:incidents_csv"), params)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return {row["incident_slug"] for row in csv.DictReader(io.StringIO(body))}


def page_slugs(client, params) -> set[str]:
    response = client.get("/incidents/", params)
    assert response.status_code == 200
    return {incident.slug for incident in response.context["page"].object_list}


@pytest.mark.parametrize(("dates", "possible", "certain"), RANGES)
def test_the_api_finds_what_may_fall_in_the_range_or_certainly_does(
    api, cases, dates, possible, certain
):
    assert api_slugs(api, **_params(dates)) == possible
    assert api_slugs(api, **_params(dates, "possible")) == possible
    assert api_slugs(api, **_params(dates, "certain")) == certain


@pytest.mark.parametrize(("dates", "possible", "certain"), RANGES)
def test_the_page_and_its_csv_export_agree(client, cases, dates, possible, certain):
    assert page_slugs(client, _params(dates)) == possible
    assert page_slugs(client, _params(dates, "certain")) == certain
    assert csv_slugs(client, _params(dates)) == possible
    assert csv_slugs(client, _params(dates, "certain")) == certain


@pytest.mark.parametrize(("dates", "possible", "certain"), RANGES)
def test_the_counts_agree(client, cases, dates, possible, certain):
    for match, expected in (("possible", possible), ("certain", certain)):
        query = QueryDict(mutable=True)
        query.update(_params(dates, match))
        filterset = IncidentFilter(
            query, queryset=Incident.objects.visible_to(AnonymousUser()), request=None
        )
        assert filterset.is_valid(), filterset.errors
        # The maintained counts cannot tell a date's possible days: counted live.
        assert public_counts.for_filters(filterset, AnonymousUser()) is None
        summary = facets.summarize(facets.filtered_incidents(filterset), AnonymousUser())
        assert summary.incidents == len(expected)
        response = client.get("/incidents/", query)
        assert response.context["summary"].incidents == len(expected)


def test_the_page_marks_rows_that_only_possibly_match(client, cases):
    response = client.get("/incidents/", {"date_after": "2022-01-04", "date_before": "2022-01-10"})
    marked = {
        incident.slug
        for incident in response.context["page"].object_list
        if incident.dates_uncertain
    }
    assert marked == {"month", "year", "undated"}
    body = response.content.decode()
    assert body.count("dates uncertain: may fall in this range") == 2
    assert body.count("date unknown: may fall in this range") == 1

    # No range, or only what is certainly within it: nothing to mark.
    for params in ({}, {"date_after": "2022-01-04", "date_match": "certain"}):
        response = client.get("/incidents/", params)
        assert not any(i.dates_uncertain for i in response.context["page"].object_list)
        assert "may fall in this range" not in response.content.decode()


def test_the_page_offers_the_choice_and_keeps_it(client, cases):
    response = client.get("/incidents/", {"date_after": "2022-01-04", "date_match": "certain"})
    body = response.content.decode()
    assert 'name="date_match"' in body
    assert '<option value="certain" selected>' in body
    assert "certainly within the range" in response.context["title"]


def test_ruzakhunov_may_have_been_detained_from_5_january_but_not_certainly(api, client, db):
    almaty = LocationFactory(slug="almaty", parent=CountryFactory())
    IncidentFactory(
        slug="vikram-ruzakhunov-almaty",
        location=almaty,
        start_date=D(2022, 1, 1),
        start_date_precision="month",
        end_date=D(2022, 1, 10),
        end_date_precision="day",
    )
    params = {"place": "almaty", "date_after": "2022-01-05"}
    assert api_slugs(api, **params) == {"vikram-ruzakhunov-almaty"}
    assert api_slugs(api, **params, date_match="certain") == set()
    assert page_slugs(client, params) == {"vikram-ruzakhunov-almaty"}
    assert page_slugs(client, {**params, "date_match": "certain"}) == set()
    assert csv_slugs(client, params) == {"vikram-ruzakhunov-almaty"}


def test_the_feed_follows_the_same_choice(client, cases):
    feed = reverse("incidents:incident_feed")
    params = {"date_after": "2022-01-04", "date_before": "2022-01-10"}
    possible = client.get(feed, params).content.decode()
    certain = client.get(feed, {**params, "date_match": "certain"}).content.decode()
    assert "/incidents/month/" in possible and "/incidents/undated/" in possible
    assert "/incidents/month/" not in certain and "/incidents/undated/" not in certain
    assert "/incidents/day/" in certain and "/incidents/approximate/" in certain
    assert client.get(feed, {"date_match": "maybe"}).status_code == 400


def test_ruzakhunov_in_the_demo_data(api, demo):
    params = {"place": "almaty", "date_after": "2022-01-05"}
    assert "vikram-ruzakhunov-almaty" in api_slugs(api, **params)
    assert "vikram-ruzakhunov-almaty" not in api_slugs(api, **params, date_match="certain")


def test_an_unknown_date_match_is_refused_clearly(api, client, cases):
    response = api.get(f"{API}/incidents/", {"date_after": "2022-01-05", "date_match": "maybe"})
    assert response.status_code == 400
    [message] = response.json()["date_match"]
    assert "possible" in message and "certain" in message and "maybe" in message

    page = client.get("/incidents/", {"date_after": "2022-01-05", "date_match": "maybe"})
    assert page.status_code == 400
    assert "maybe is neither" in page.content.decode()

    export = client.get(reverse("incidents:incidents_csv"), {"date_match": "maybe"})
    assert export.status_code == 400


def test_the_schema_documents_date_match(api):
    schema = api.get(f"{API}/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/incidents/"]["get"]["parameters"]
    [date_match] = [p for p in parameters if p["name"] == "date_match"]
    assert date_match["schema"]["enum"] == ["certain", "possible"]


# --- time in custody ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("detained", "released", "expected"),
    [
        ((D(2022, 1, 7), "day"), (D(2022, 1, 10), "day"), (3, 3)),
        ((D(2022, 1, 1), "month"), (D(2022, 1, 10), "day"), (0, 9)),
        ((D(2022, 1, 7), "day"), (D(2022, 2, 1), "month"), (25, 52)),
        ((D(2022, 1, 7), "approximate"), (D(2022, 1, 20), "day"), (10, 16)),
        ((D(2022, 1, 7), "day"), None, None),
        (None, (D(2022, 1, 10), "day"), None),
    ],
)
def test_custody_days_are_exact_or_bounded(detained, released, expected):
    assert (
        custody_days(
            PartialDate.of(*detained) if detained else None,
            PartialDate.of(*released) if released else None,
        )
        == expected
    )


def _custody_case(detained, released):
    incident = IncidentFactory(slug="case")
    DetentionFactory(
        incident=incident,
        detained_on=detained[0],
        detained_on_precision=detained[1],
        released_on=released[0] if released else None,
        released_on_precision=released[1] if released else "",
        outcome="released" if released else "unknown",
    )
    return incident


@pytest.mark.parametrize(
    ("detained", "released", "shown", "row"),
    [
        ((D(2022, 1, 7), "day"), (D(2022, 1, 10), "day"), "3 days", ("3", "3", "3")),
        ((D(2022, 1, 1), "month"), (D(2022, 1, 10), "day"), "at most 9 days", ("", "0", "9")),
        (
            (D(2022, 1, 7), "approximate"),
            (D(2022, 1, 20), "day"),
            "between 10 and 16 days",
            ("", "10", "16"),
        ),
        ((D(2022, 1, 7), "day"), None, None, ("", "", "")),
    ],
)
def test_the_case_page_csv_and_api_show_time_in_custody(
    client, api, detained, released, shown, row
):
    incident = _custody_case(detained, released)
    body = client.get(incident.get_absolute_url()).content.decode()
    if shown:
        assert "Time in custody" in body and shown in body
    else:
        assert "Time in custody" not in body

    response = client.get(reverse("incidents:detentions_csv"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    [line] = csv.DictReader(io.StringIO(body))
    assert (
        line["days_in_custody"],
        line["days_in_custody_min"],
        line["days_in_custody_max"],
    ) == row

    [item] = api.get(f"{API}/detentions/").json()["results"]
    as_numbers = tuple(int(value) if value else None for value in row)
    assert (
        item["days_in_custody"],
        item["days_in_custody_min"],
        item["days_in_custody_max"],
    ) == as_numbers


# --- timelines ------------------------------------------------------------------------------


def test_a_timeline_orders_by_earliest_day_then_finer_precision_first(client):
    incident = IncidentFactory()

    def event(title, day, precision):
        return IncidentEventFactory(
            incident=incident,
            title=f"Event {title}",
            occurred_on=day,
            occurred_on_precision=precision,
        )

    second = event("on 2 January", D(2022, 1, 2), "day")
    month = event("in January", D(2022, 1, 1), "month")
    first = event("on 1 January", D(2022, 1, 1), "day")
    year = event("in 2022", D(2022, 1, 1), "year")
    undated = event("undated", None, "")

    timeline = build_timeline([], [], [second, month, undated, year, first])

    expected = [
        "Event on 1 January",
        "Event in January",
        "Event in 2022",
        "Event on 2 January",
        "Event undated",
    ]
    assert [entry.record.title for entry in timeline] == expected
    body = client.get(incident.get_absolute_url()).content.decode()
    positions = [body.index(title) for title in expected]
    assert positions == sorted(positions)
