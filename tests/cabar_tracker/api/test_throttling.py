"""Rate limits: configurable, answered with 429 and Retry-After."""

import pytest
from django.core.cache import cache

from tests.api_personas import API

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "3/minute"},
    }
    cache.clear()


def test_it_limits_anonymous_clients(api, tight_rates):
    statuses = [api.get(f"{API}/incidents/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    response = api.get(f"{API}/incidents/")
    assert 0 < int(response["Retry-After"]) <= 60
    assert "detail" in response.json()


def test_it_limits_each_token_on_its_own_rate(api, reader_api, tight_rates):
    for _ in range(2):
        api.get(f"{API}/incidents/")
    assert api.get(f"{API}/incidents/").status_code == 429

    statuses = [reader_api.get(f"{API}/incidents/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
