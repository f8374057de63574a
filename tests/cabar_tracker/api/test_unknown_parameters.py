"""A parameter the API does not know is a 400 naming it, never silently ignored: a misspelt
filter (`?palce=almaty`) would otherwise answer the whole list as if it were filtered."""

import pytest

from tests.api_personas import API
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

LISTS = (
    "incidents",
    "detentions",
    "people",
    "organizations",
    "positions",
    "locations",
    "situations",
    "statements",
    "sources",
)


@pytest.mark.parametrize("resource", LISTS)
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_every_list_refuses_an_unknown_parameter_naming_it(api, resource, fmt):
    response = api.get(f"{API}/{resource}/", {"palce": "almaty", "format": fmt})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["palce"]
    assert "updated_since" in body["palce"][0]  # it lists what the list takes


def test_every_unknown_parameter_is_named(api):
    body = api.get(f"{API}/incidents/", {"palce": "almaty", "kidn": "detention"}).json()

    assert sorted(body) == ["kidn", "palce"]


def test_the_removals_feed_refuses_an_unknown_parameter(api):
    response = api.get(f"{API}/removals/", {"since": "2024-01-01T00:00:00Z", "snice": "x"})

    assert response.status_code == 400
    assert list(response.json()) == ["snice"]


def test_a_detail_refuses_a_parameter_but_its_format(api):
    incident = IncidentFactory()

    refused = api.get(f"{API}/incidents/{incident.pk}/", {"fields": "title"})
    answered = api.get(f"{API}/incidents/{incident.pk}/", {"format": "json"})

    assert refused.status_code == 400
    assert list(refused.json()) == ["fields"]
    assert answered.status_code == 200


def test_every_parameter_the_schema_lists_is_known(api, schema_parameters):
    """The lists' known parameters are exactly those the schema documents, so nothing
    the schema offers is refused."""
    for resource, names in schema_parameters.items():
        response = api.get(f"{API}/{resource}/", dict.fromkeys(names, ""))
        assert "Unknown parameter" not in response.content.decode(), resource


@pytest.fixture
def schema_parameters(api) -> dict[str, set[str]]:
    schema = api.get(f"{API}/schema/", {"format": "json"}).json()
    return {
        resource: {p["name"] for p in schema["paths"][f"{API}/{resource}/"]["get"]["parameters"]}
        for resource in LISTS
    }
