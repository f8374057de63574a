"""Keyset paging: stable while rows are added, bounded, with opt-in counts."""

import datetime

import pytest

from tests.api_personas import API
from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    PersonFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

DAY = datetime.date(2022, 1, 7)


def walk(client, url: str, params: dict) -> list[list[int]]:
    """Every page from `url`, following the next links; ids per page."""
    pages = []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        pages.append([item["id"] for item in body["results"]])
        if not body["next"]:
            return pages
        response = client.get(body["next"])


# For each paged resource: how to make a row "now", and how to make one that sorts before
# every existing row (newer) or among them (the same date, a higher id).
ROWS = {
    "incidents": lambda day: IncidentFactory(start_date=day),
    "detentions": lambda day: DetentionFactory(detained_on=day),
    "statements": lambda day: StatementFactory(said_on=day),
    "people": lambda day: PersonFactory(),
}


@pytest.mark.parametrize("resource", list(ROWS))
def test_paging_is_stable_while_rows_are_added(api, resource):
    make = ROWS[resource]
    original = [make(DAY) for _ in range(5)] + [make(DAY - datetime.timedelta(days=3))]
    first = api.get(f"{API}/{resource}/", {"page_size": 2}).json()

    # Rows added between pages: newer ones, ones on the same day as the page boundary
    # (which sort among the rows already seen), and older ones.
    for day in (DAY + datetime.timedelta(days=5), DAY, DAY, DAY - datetime.timedelta(days=9)):
        make(day)
    rest = []
    url = first["next"]
    while url:
        page = api.get(url).json()
        rest += [item["id"] for item in page["results"]]
        url = page["next"]

    seen = [item["id"] for item in first["results"]] + rest
    assert len(seen) == len(set(seen)), "a row was shown twice"
    assert {row.pk for row in original} <= set(seen), "a row was skipped"


def test_it_pages_back_with_the_previous_link(api):
    rows = [IncidentFactory(start_date=DAY) for _ in range(5)]
    first = api.get(f"{API}/incidents/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    back = api.get(second["previous"]).json()

    assert first["previous"] is None
    assert [item["id"] for item in back["results"]] == [item["id"] for item in first["results"]]
    assert len({r.pk for r in rows}) == 5


def test_it_pages_through_undated_rows_too(api):
    dated = [IncidentFactory(start_date=DAY) for _ in range(2)]
    undated = [IncidentFactory(start_date=None, start_date_precision="") for _ in range(3)]

    pages = walk(api, f"{API}/incidents/", {"page_size": 2})

    seen = [pk for page in pages for pk in page]
    # Undated last, newest record first among equals.
    assert seen == [r.pk for r in reversed(dated)] + [r.pk for r in reversed(undated)]


@pytest.mark.parametrize("ordering", ["date", "-date", "updated", "-detained"])
def test_paging_works_with_any_ordering(api, ordering):
    for index in range(7):
        IncidentFactory(
            start_date=None if index == 3 else DAY + datetime.timedelta(days=index % 3),
            start_date_precision="" if index == 3 else "day",
            reported_detained_count=None if index % 2 else index,
        )
    one_page = api.get(f"{API}/incidents/", {"ordering": ordering, "page_size": 50}).json()

    pages = walk(api, f"{API}/incidents/", {"ordering": ordering, "page_size": 2})

    assert [pk for page in pages for pk in page] == [i["id"] for i in one_page["results"]]


def test_it_refuses_a_cursor_made_under_another_ordering(api):
    for _ in range(3):
        IncidentFactory()
    by_date = api.get(f"{API}/incidents/", {"page_size": 1}).json()
    cursor = by_date["next"].split("cursor=")[1].split("&")[0]

    response = api.get(f"{API}/incidents/", {"cursor": cursor, "ordering": "updated"})

    assert response.status_code == 400
    assert "cursor" in response.json()


def test_it_bounds_the_page_size(api):
    for _ in range(3):
        IncidentFactory()

    assert len(api.get(f"{API}/incidents/", {"page_size": 2}).json()["results"]) == 2
    assert api.get(f"{API}/incidents/", {"page_size": 200}).status_code == 200
    assert api.get(f"{API}/incidents/", {"page_size": 201}).status_code == 400


def test_it_counts_only_on_request(api):
    for _ in range(3):
        IncidentFactory()

    assert "count" not in api.get(f"{API}/incidents/").json()
    assert api.get(f"{API}/incidents/", {"count": "true", "page_size": 1}).json()["count"] == 3


def test_it_links_the_next_page_in_a_header_for_csv(api):
    for _ in range(3):
        IncidentFactory()

    response = api.get(f"{API}/incidents/", {"page_size": 2, "format": "csv"})

    assert 'rel="next"' in response["Link"]
    assert "format=csv" in response["Link"]
