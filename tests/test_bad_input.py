"""Bad input gets a clear 4xx, never a 500, and one implausible date cannot take a page down.

Each case here was a 500 (or a page of megabytes) once: a NUL byte or a word of 89 letters
in the site search, JSON nested a thousand deep, an incident dated 9999-12-31 or 1022.
"""

import datetime
import io
import random
import string

import pytest
from django.urls import reverse

from incidents.importer import import_detentions
from incidents.models import FollowUpAction, Incident, Source
from incidents.public.charts import MAX_BARS
from tests.api_personas import API
from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
)
from tests.incidents.staff.test_edit_pages import incident_data
from tests.incidents.staff.test_import import csv_text, new_case_row

pytestmark = pytest.mark.django_db


# --- the site search ------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["a\x00b", "a\x07b", "x" * 201, " ".join(["word"] * 13)])
def test_the_search_refuses_what_it_cannot_use_with_a_400(client, query):
    response = client.get(reverse("incidents:search"), {"q": query})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_the_search_takes_a_long_word_without_recursing(client):
    IncidentFactory()
    word = "".join(random.Random(7).choice(string.ascii_lowercase) for _ in range(89))
    response = client.get(reverse("incidents:search"), {"q": word})
    assert response.status_code == 200


# --- the API --------------------------------------------------------------------------------


def test_json_nested_too_deep_is_a_json_400(editor_api):
    response = editor_api.post(
        f"{API}/incidents/", data="[" * 990 + "]" * 990, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_brackets_inside_strings_do_not_count_as_nesting(editor_api):
    payload = (
        '{"title": "' + "[" * 100 + '", "slug": "brackets", "kind": "detention", '
        f'"location": {LocationFactory().pk}}}'
    )
    response = editor_api.post(f"{API}/incidents/", data=payload, content_type="application/json")
    assert response.status_code == 201, response.content


# --- plausible dates, on every write path ---------------------------------------------------


@pytest.mark.parametrize("value", ["9999-12-31", "1022-01-07"])
def test_the_api_refuses_an_implausible_year(editor_api, value):
    response = editor_api.post(
        f"{API}/incidents/",
        {
            "title": "Typo",
            "slug": "typo",
            "kind": "detention",
            "location": LocationFactory().pk,
            "start_date": {"value": value, "precision": "day"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "1900" in str(response.json()["start_date"])
    assert not Incident.objects.filter(slug="typo").exists()


def test_the_staff_form_refuses_an_implausible_year(editor_client):
    incident = IncidentFactory()
    response = editor_client.post(
        reverse("staff:incident_edit", kwargs={"pk": incident.pk}),
        incident_data(incident, start_date="9999-12-31"),
    )
    assert response.status_code == 400
    assert "Enter a year from 1900" in response.content.decode()
    incident.refresh_from_db()
    assert incident.start_date == datetime.date(2022, 1, 7)


def test_the_importer_refuses_an_implausible_year(db):
    LocationFactory(slug="shymkent")
    rows = [new_case_row(incident_start_date="9999-12-31", incident_start_date_precision="day")]
    report = import_detentions(lines=io.StringIO(csv_text(rows)))
    assert not report.ok
    assert not Incident.objects.exists()


def test_a_year_ahead_is_still_plausible(editor_api):
    next_year = datetime.date.today().year + 1
    response = editor_api.post(
        f"{API}/incidents/",
        {
            "title": "Trial set",
            "slug": "trial-set",
            "kind": "detention",
            "location": LocationFactory().pk,
            "start_date": {"value": f"{next_year}-03-01", "precision": "day"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content


def test_a_posts_term_is_checked_too(editor_api):
    position = {
        "person": PersonFactory().pk,
        "organization": OrganizationFactory().pk,
        "title": "Head",
        "start_date": "1022-01-01",
    }
    response = editor_api.post(f"{API}/positions/", position, format="json")
    assert response.status_code == 400
    assert "Enter a year from 1900" in str(response.json()["start_date"])


def test_a_sources_access_date_is_checked_too(editor_api):
    response = editor_api.post(
        f"{API}/sources/", {"title": "Typo", "accessed_on": "9999-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert "Enter a year from 1900" in str(response.json()["accessed_on"])
    assert not Source.objects.filter(title="Typo").exists()


def test_a_follow_ups_date_is_checked_too(editor_client):
    detention = DetentionFactory()
    response = editor_client.post(
        reverse("staff:followup_add", args=[detention.pk]),
        {"taken_on": "9999-12-31", "kind": "letter", "outcome": "Typo."},
    )
    assert response.status_code == 400
    assert "Enter a year from 1900" in response.content.decode()
    assert not FollowUpAction.objects.exists()


def test_the_range_comes_from_the_settings(editor_api, settings):
    settings.PLAUSIBLE_FIRST_YEAR = 2000
    response = editor_api.post(
        f"{API}/sources/",
        {"title": "Old", "published_on": {"value": "1995", "precision": "year"}},
        format="json",
    )
    assert response.status_code == 400
    assert "Enter a year from 2000" in str(response.json()["published_on"])


# --- one stored implausible date does not take the list down --------------------------------


@pytest.mark.parametrize(
    "outlier",
    [
        datetime.date(9999, 12, 31),
        datetime.date(9999, 1, 1),
        datetime.date(1022, 1, 7),
        datetime.date(1, 1, 1),
    ],
)
def test_the_case_list_survives_an_implausible_stored_date(client, outlier):
    for day in (3, 7, 10):
        DetentionFactory(incident=IncidentFactory(start_date=datetime.date(2022, 1, day)))
    typo = IncidentFactory(title="Typo case")
    DetentionFactory(incident=typo)
    # Stored before the check existed, or by a direct database write.
    Incident.objects.filter(pk=typo.pk).update(start_date=outlier)

    response = client.get(reverse("incidents:incident_list"))

    assert response.status_code == 200
    chart = response.context["chart"]
    assert 0 < len(chart.bars) <= MAX_BARS
    assert [note.precision for note in chart.coarse] == ["outside"]
    assert "Far outside the other dates" in response.content.decode()
    assert len(response.content) < 500_000


def test_the_importer_refuses_a_nul_byte_in_a_cell_naming_it(db):
    LocationFactory(slug="shymkent")
    rows = [new_case_row(person_name="Nul\x00Byte")]
    report = import_detentions(lines=io.StringIO(csv_text(rows)))
    assert not report.ok
    assert [error.column for error in report.errors] == ["person_name"]
    assert not Incident.objects.exists()


# --- every API error is JSON ----------------------------------------------------------------


def test_an_api_server_error_is_json(client, monkeypatch):
    from incidents.api import views

    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.IncidentViewSet, "visible_queryset", broken)
    client.raise_request_exception = False
    response = client.get(f"{API}/incidents/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "boom" not in response.content.decode()


def test_an_api_body_too_large_is_a_json_413(editor_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = editor_api.post(
        f"{API}/sources/",
        data='{"title": "' + "x" * 5000 + '"}',
        content_type="application/json",
    )
    assert response.status_code == 413, response.content
    assert response["Content-Type"] == "application/json"


def test_an_unknown_api_path_is_a_json_404(client, db):
    response = client.get(f"{API}/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "url",
    [
        f"/staff/review/cases/{'9' * 25}/publish/",
        f"/staff/history/incidents/incident/{'9' * 25}/undo/{'9' * 25}/title/",
        f"/staff/history/incidents/incident/1/undo/{'9' * 25}/title/",
    ],
)
def test_keys_too_large_for_the_database_in_the_review_paths_are_404(reviewer_client, url):
    """Publishing a whole case and undoing one field take keys from the address."""
    assert reviewer_client.post(url, {"version": "1"}).status_code == 404
    assert reviewer_client.get(url).status_code in (404, 405)


# --- numbers read by hand on the staff pages ------------------------------------------------


@pytest.mark.parametrize("value", ["²", "٣", str(2**63), "9" * 400, "-1"])
def test_a_record_number_the_database_cannot_hold_is_a_400_naming_it(reviewer_client, value):
    response = reviewer_client.get(reverse("staff:statement_add"), {"incident": value})
    assert response.status_code == 400
    content = response.content.decode()
    assert "The parameter “incident” cannot be used" in content
    assert 'role="alert"' in content


def test_a_record_number_still_preselects_the_case(reviewer_client):
    incident = IncidentFactory()
    response = reviewer_client.get(reverse("staff:statement_add"), {"incident": incident.pk})
    assert response.status_code == 200
    assert response.context["form"].initial["incidents"] == [incident.pk]


@pytest.mark.parametrize("value", ["²", str(2**64)])
def test_a_merge_candidate_that_is_no_number_is_a_400(admin_client, value):
    person = DetentionFactory().person
    response = admin_client.get(reverse("staff:person_merge", args=[person.pk]), {"merge": value})
    assert response.status_code == 400
    assert "“merge”" in response.content.decode()


@pytest.mark.parametrize("value", ["9" * 20, str(2**63), "²", "0", "x"])
def test_a_history_page_number_out_of_range_is_a_400(reviewer_client, value):
    incident = IncidentFactory()
    url = reverse(
        "staff:history",
        kwargs={"app_label": "incidents", "model_name": "incident", "pk": incident.pk},
    )
    response = reviewer_client.get(url, {"page": value})
    assert response.status_code == 400
    assert "“page”" in response.content.decode()
    assert reviewer_client.get(url, {"page": "1"}).status_code == 200


def test_a_birth_year_hint_in_other_digits_is_no_hint(editor_client):
    response = editor_client.get(
        reverse("staff:person_candidates"), {"name": "Ruzakhunov", "birth_year": "١٩٨٥"}
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Ruzakhunov"


@pytest.mark.parametrize("version", ["²", "9" * 30])
def test_a_revert_from_a_version_no_record_has_is_a_400(reviewer_client, version):
    incident = IncidentFactory()
    entry = incident.history.first()
    url = reverse(
        "staff:history_revert",
        kwargs={
            "app_label": "incidents",
            "model_name": "incident",
            "pk": incident.pk,
            "history_id": entry.history_id,
        },
    )
    assert reviewer_client.post(url, {"version": version}).status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("get", "/incidents/?q=a%00b", {}, 400),
        ("get", "/incidents/", {"HTTP_AUTHORIZATION": "Basic c2VjcmV0"}, 401),
        ("post", "/incidents/", {}, 401),
        ("get", "/no-such-thing/", {}, 404),
        ("get", "/docs/?format=yaml", {}, 404),
        ("delete", "/", {}, 405),
        ("post", "/schema/", {}, 405),
        ("post", "/docs/", {}, 405),
    ],
)
def test_every_api_error_is_json(client, method, path, headers, status):
    response = getattr(client, method)(f"{API}{path}", **headers)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()  # {"detail": …}, or the parameters with their messages


def test_an_api_write_without_the_permission_is_a_json_403(staff_api):
    response = staff_api.post(f"{API}/sources/", {"title": "x"}, format="json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


def test_a_wrong_method_keeps_its_allow_header_as_json(client):
    response = client.post(f"{API}/schema/")
    assert response.status_code == 405
    assert "GET" in response["Allow"]


# --- every text search takes what a search box needs -----------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/incidents/",
        "/statements/",
        "/incidents/export.csv",
        f"{API}/incidents/",
        f"{API}/people/",
        f"{API}/statements/",
        f"{API}/sources/",
        f"{API}/organizations/",
    ],
)
@pytest.mark.parametrize("query", ["x" * 201, " ".join(["word"] * 13), "a\x00b"])
def test_every_text_filter_refuses_what_it_cannot_use_with_a_400(client, path, query):
    response = client.get(path, {"q": query})
    assert response.status_code == 400
    if path.startswith(API):
        assert list(response.json()) == ["q"]
    else:  # the filter's label on the pages, its name in the export's message
        content = response.content.decode()
        assert "Search" in content or "q: " in content


def test_a_text_filter_of_twelve_words_still_searches(client):
    IncidentFactory(title="Detention of twelve words")
    response = client.get("/incidents/", {"q": " ".join(["detention"] * 12)})
    assert response.status_code == 200
