"""The OpenAPI schema and its interactive documentation."""

import json
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

from tests.api_personas import API

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api):
    response = api.get(f"{API}/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_is_valid_openapi(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_the_schema_generates_without_a_warning(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (an untyped field or filter, an
    # enum naming clash) into an error.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


def test_every_parameter_is_described(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{method.upper()} {path} ?{parameter['name']}"
                assert parameter.get("description"), where
                enum = parameter["schema"].get("enum") or parameter["schema"].get("items", {}).get(
                    "enum"
                )
                if enum:
                    assert len(enum) == len(set(enum)), where


def test_every_list_documents_its_filters_and_formats(schema):
    incidents = schema["paths"][f"{API}/incidents/"]["get"]
    names = {parameter["name"] for parameter in incidents["parameters"]}

    assert {
        "q",
        "search",
        "date_after",
        "date_before",
        "kind",
        "place",
        "citizenship",
        "allegation",
        "outcome",
        "verification",
        "situation",
        "updated_since",
        "ordering",
        "cursor",
        "page_size",
        "count",
        "format",
        "stream",
        "bom",
    } <= names
    content = incidents["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv", "application/geo+json"}
    # The CSV's columns are the page export's (incidents/columns.py), listed in full.
    assert "`place_slug`" in incidents["description"]
    assert "`incident_start_date_precision`" in incidents["description"]
    assert "`source_titles`" in incidents["description"]
    assert "for staff also `publication_state`" in incidents["description"]
    people = schema["paths"][f"{API}/people/"]["get"]
    assert "`start_date_precision`" in people["description"]
    assert "400" in incidents["responses"]


def test_partial_dates_are_one_documented_object(schema):
    partial = schema["components"]["schemas"]["PartialDate"]

    assert set(partial["properties"]) == {"value", "precision"}
    start = schema["components"]["schemas"]["IncidentList"]["properties"]["start_date"]
    assert start.get("nullable") is True


def test_the_docs_page_loads_nothing_from_another_host(api):
    page = api.get(f"{API}/docs/")
    script = api.get(f"{API}/docs/", {"script": ""})

    html = page.content.decode()
    assert page.status_code == 200
    assert "<script>" not in html, "an inline script would be blocked by the CSP"
    addresses = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert addresses
    assert all(address.startswith("/") for address in addresses), addresses
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert not re.search(r"https?://", script.content.decode())
    # Swagger UI's files come from the sidecar package, served by the app (WhiteNoise).
    for address in addresses:
        if address.startswith(settings.STATIC_URL):
            assert finders.find(address.removeprefix(settings.STATIC_URL)), address
