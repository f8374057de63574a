"""A date filter finds every incident whose span may overlap the range, at the precision its
dates are known to: "January 2022 – 10 January 2022" is found from 5 January, an incident
known only to the month by any day of that month, an undated one by any range (it may fall
in it; issue 13). Pages, exports, the feed and the API share the filter."""

import datetime

import pytest
from django.core.management import call_command

from incidents.models import Incident
from tests.api_personas import API
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def slugs(client, **params) -> set[str]:
    response = client.get(f"{API}/incidents/", params)
    assert response.status_code == 200, response.content
    return {item["slug"] for item in response.json()["results"]}


@pytest.fixture
def cases():
    IncidentFactory(
        slug="month-to-day",
        start_date=datetime.date(2022, 1, 1),
        start_date_precision="month",
        end_date=datetime.date(2022, 1, 10),
        end_date_precision="day",
    )
    IncidentFactory(
        slug="month-only", start_date=datetime.date(2022, 1, 1), start_date_precision="month"
    )
    IncidentFactory(slug="day", start_date=datetime.date(2022, 1, 3), start_date_precision="day")
    IncidentFactory(slug="year", start_date=datetime.date(2021, 1, 1), start_date_precision="year")
    IncidentFactory(slug="undated", start_date=None, start_date_precision="")


def test_a_span_known_to_the_month_overlaps_a_later_day(api, cases):
    assert slugs(api, date_after="2022-01-05") == {"month-to-day", "month-only", "undated"}


def test_a_range_inside_a_month_finds_the_month(api, cases):
    found = slugs(api, date_after="2022-01-20", date_before="2022-01-25")
    assert found == {"month-only", "undated"}


def test_a_year_is_found_by_its_last_day(api, cases):
    assert "year" in slugs(api, date_after="2021-12-31")
    assert "year" not in slugs(api, date_after="2022-01-01")


def test_the_page_and_its_exports_agree(client, cases):
    page = client.get("/incidents/", {"date_after": "2022-01-05"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "/incidents/month-to-day/" in body and "/incidents/day/" not in body
    export = b"".join(
        client.get("/incidents/export.csv", {"date_after": "2022-01-05"}).streaming_content
    ).decode()
    assert "month-to-day" in export and "\r\nday," not in export


def test_every_save_path_keeps_the_latest_date(cases):
    incident = Incident.objects.get(slug="day")
    assert incident.latest_date == datetime.date(2022, 1, 3)
    incident.end_date, incident.end_date_precision = datetime.date(2022, 2, 1), "month"
    incident.save()
    incident.refresh_from_db()
    assert incident.latest_date == datetime.date(2022, 2, 28)


def test_generated_rows_have_it_too(db):
    call_command("generate_synthetic", "--incidents", "20", "--seed", "3", verbosity=0)
    assert not Incident.objects.filter(start_date__isnull=False, latest_date__isnull=True)


def test_ruzakhunovs_detention_is_found_from_5_january(api, demo):
    found = slugs(api, place="almaty", date_after="2022-01-05")
    assert any("ruzakhunov" in slug for slug in found), found
