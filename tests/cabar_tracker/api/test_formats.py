"""CSV and GeoJSON hold what the JSON holds, flattened or as map features."""

import csv
import datetime
import io
from decimal import Decimal

import pytest

from cabar_tracker.api.renderers import flatten
from tests.api_personas import API
from tests.factories import (
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
    PositionFactory,
    SituationFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(db):
    kazakhstan = CountryFactory(latitude=Decimal("48.0196"), longitude=Decimal("66.9237"))
    kazakhstan.coordinate_precision = "country"
    kazakhstan.save()
    almaty = LocationFactory(
        parent=kazakhstan,
        latitude=Decimal("43.2389"),
        longitude=Decimal("76.8897"),
        coordinate_precision="city",
    )
    unmapped = LocationFactory(parent=None, country="KG")
    IncidentFactory(location=almaty, title='Quoted "title", with a comma')
    IncidentFactory(
        location=LocationFactory(parent=kazakhstan), start_date=None, start_date_precision=""
    )
    IncidentFactory(
        location=unmapped,
        start_date=datetime.date(2022, 1, 1),
        start_date_precision="month",
        summary='=HYPERLINK("http://evil")',
    )
    DetentionFactory()
    PositionFactory(organization=OrganizationFactory())
    StatementFactory()
    SourceFactory()
    SituationFactory()
    PersonFactory()


def csv_rows(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(content.decode())))


def as_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# The lists whose CSV is an export table of incidents.columns (tests/incidents/
# test_csv_everywhere.py compares them with the page's downloads); the others flatten JSON.
EXPORT_TABLES = ["incidents", "detentions", "statements"]


@pytest.mark.parametrize(
    "resource", ["people", "organizations", "positions", "locations", "situations", "sources"]
)
def test_csv_matches_json(api, records, resource):
    items = api.get(f"{API}/{resource}/").json()["results"]

    rows = csv_rows(api.get(f"{API}/{resource}/", {"format": "csv"}))

    assert len(rows) == len(items) > 0
    for item, row in zip(items, rows, strict=True):
        flat = flatten(item)
        for column, value in flat.items():
            if column not in row:
                # A null nested object (no situation): its columns are empty.
                assert value is None, (resource, column)
                assert all(v == "" for k, v in row.items() if k.startswith(f"{column}_"))
                continue
            cell = as_cell(value)
            assert row[column] in (cell, "'" + cell), (resource, column)


@pytest.mark.parametrize("resource", EXPORT_TABLES)
def test_an_export_table_holds_the_rows_of_the_json_list(api, records, resource):
    items = api.get(f"{API}/{resource}/").json()["results"]

    rows = csv_rows(api.get(f"{API}/{resource}/", {"format": "csv"}))

    assert len(rows) == len(items) > 0
    if resource == "incidents":
        assert [row["incident_slug"] for row in rows] == [item["slug"] for item in items]
    if resource == "statements":
        assert [row["statement_id"] for row in rows] == [str(item["id"]) for item in items]


def test_csv_flattens_places_and_partial_dates(api, records):
    rows = csv_rows(api.get(f"{API}/locations/", {"format": "csv"}))
    assert {"parent_slug", "latitude", "coordinate_precision"} <= set(rows[0])
    sources = csv_rows(api.get(f"{API}/sources/", {"format": "csv"}))
    assert {"published_on", "published_on_precision"} <= set(sources[0])

    incidents = csv_rows(api.get(f"{API}/incidents/", {"format": "csv"}))
    month = next(row for row in incidents if row["incident_start_date_precision"] == "month")
    assert month["incident_start_date"] == "2022-01"
    assert month["place_slug"]


def test_csv_defuses_spreadsheet_formulas(api, records):
    rows = csv_rows(api.get(f"{API}/incidents/", {"format": "csv"}))

    assert '\'=HYPERLINK("http://evil")' in [row["summary"] for row in rows]


@pytest.mark.parametrize("resource", ["incidents", "detentions", "statements", "sources"])
def test_csv_has_no_staff_columns_for_the_public_but_has_them_for_staff(
    api, staff_api, records, resource
):
    public = csv_rows(api.get(f"{API}/{resource}/", {"format": "csv"}))
    staff = csv_rows(staff_api.get(f"{API}/{resource}/", {"format": "csv"}))

    assert "publication_state" not in public[0]
    assert staff[0]["publication_state"] == "published"


def test_geojson_matches_json(api, records):
    items = api.get(f"{API}/incidents/").json()["results"]

    response = api.get(f"{API}/incidents/", {"format": "geojson"})

    assert response["Content-Type"] == "application/geo+json"
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert [feature["properties"] for feature in collection["features"]] == items
    for feature, item in zip(collection["features"], items, strict=True):
        assert feature["type"] == "Feature"
        assert feature["id"] == item["id"]
        point = item["map_point"]
        if point is None:
            assert feature["geometry"] is None
        else:
            assert feature["geometry"] == {
                "type": "Point",
                "coordinates": [point["longitude"], point["latitude"]],
            }


def test_an_incident_without_coordinates_takes_its_nearest_mapped_place(api, records):
    collection = api.get(f"{API}/incidents/", {"format": "geojson"}).json()
    by_title = {f["properties"]["title"]: f for f in collection["features"]}

    in_almaty = by_title['Quoted "title", with a comma']
    assert in_almaty["geometry"]["coordinates"] == [76.8897, 43.2389]
    # A town with no coordinates of its own: on the country's centre.
    undated = next(f for f in collection["features"] if f["properties"]["start_date"] is None)
    assert undated["geometry"]["coordinates"] == [66.9237, 48.0196]
    assert undated["properties"]["map_point"]["coordinate_precision"] == "country"
    # Nowhere on the map: geometry null.
    unmapped = next(
        f for f in collection["features"] if f["properties"]["location"]["country"] == "KG"
    )
    assert unmapped["geometry"] is None


def test_geojson_of_places_and_of_one_record(api, records):
    places = api.get(f"{API}/locations/", {"format": "geojson"}).json()
    mapped = [f for f in places["features"] if f["geometry"] is not None]
    incident_id = api.get(f"{API}/incidents/").json()["results"][0]["id"]

    feature = api.get(f"{API}/incidents/{incident_id}/", {"format": "geojson"}).json()

    assert {f["properties"]["slug"] for f in mapped} >= {"kazakhstan"}
    assert all(f["properties"]["latitude"] is None for f in places["features"] if not f["geometry"])
    assert feature["type"] == "Feature"
    assert feature["properties"]["id"] == incident_id


def test_geojson_is_not_offered_for_records_without_a_place(api, records):
    assert api.get(f"{API}/people/", {"format": "geojson"}).status_code == 404
