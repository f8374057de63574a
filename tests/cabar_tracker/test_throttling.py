"""Rate limits of the pages and exports (cabar_tracker/throttling.py), and the count shared
by every worker through Redis, for the pages and the API alike."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.api_personas import API

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379"


@pytest.fixture
def tight_rates(settings):
    settings.THROTTLE_PAGES = "3/minute"
    settings.THROTTLE_EXPORTS = "2/hour"
    cache.clear()


def test_it_answers_429_with_retry_after_and_a_page_past_the_page_limit(client, tight_rates):
    about = reverse("incidents:about")
    statuses = [client.get(about).status_code for _ in range(3)]
    refused = client.get(about)

    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert "Too many requests" in page and "Try again in" in page


def test_it_counts_each_address_on_its_own(client, tight_rates):
    about = reverse("incidents:about")
    for _ in range(3):
        client.get(about, REMOTE_ADDR="192.0.2.1")
    assert client.get(about, REMOTE_ADDR="192.0.2.1").status_code == 429
    assert client.get(about, REMOTE_ADDR="192.0.2.2").status_code == 200


def test_exports_have_their_own_tighter_limit(client, tight_rates):
    export = reverse("incidents:incidents_csv")
    statuses = [client.get(export).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    refused = client.get(export)
    assert 3000 < int(refused["Retry-After"]) <= 3600
    assert "exports" in refused.content.decode()
    # The pages' count is apart: the reader may still browse.
    assert client.get(reverse("incidents:about")).status_code == 200


def test_staff_are_not_limited(editor_client, tight_rates):
    about, export = reverse("incidents:about"), reverse("incidents:detentions_csv")
    assert {editor_client.get(about).status_code for _ in range(6)} == {200}
    assert {editor_client.get(export).status_code for _ in range(4)} == {200}


def test_the_api_keeps_its_own_limit(api, client, tight_rates):
    # The API's requests do not count against the pages' limit (it has API_THROTTLE_*).
    for _ in range(5):
        assert api.get(f"{API}/incidents/").status_code == 200
    assert client.get(reverse("incidents:about")).status_code == 200


def test_a_bad_rate_stops_the_start(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from cabar_tracker.settings import env_rate

    monkeypatch.setenv("THROTTLE_PAGES", "lots")
    with pytest.raises(ImproperlyConfigured, match="THROTTLE_PAGES"):
        env_rate("THROTTLE_PAGES", "300/minute")


# --- shared by every worker through Redis -----------------------------------------------------

# A separate process, as a second gunicorn worker is: the same request through the API's
# throttle and the pages' middleware, counting in the cache the settings give it.
WORKER = """
import django, json, sys
django.setup()
from django.test import RequestFactory
from django.contrib.auth.models import AnonymousUser
from django.urls import resolve
from rest_framework.request import Request
from cabar_tracker.api.throttling import AnonRateThrottle
from cabar_tracker.throttling import PageThrottleMiddleware

factory, results = RequestFactory(), {"api": [], "pages": []}
for _ in range(int(sys.argv[1])):
    request = Request(factory.get("/api/v1/incidents/", REMOTE_ADDR="198.51.100.7"))
    results["api"].append(AnonRateThrottle().allow_request(request, None))
    page = factory.get("/about/", REMOTE_ADDR="198.51.100.7")
    page.user, page.resolver_match = AnonymousUser(), resolve("/about/")
    refused = PageThrottleMiddleware(lambda r: None).process_view(page, None, (), {})
    results["pages"].append(refused is None)
print(json.dumps(results))
"""


def _worker(requests: int, redis_url: str | None, prefix: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cabar_tracker.settings",
        "SECRET_KEY": "test-only",
        "DEBUG": "0",
        "API_THROTTLE_ANON": "5/minute",
        "THROTTLE_PAGES": "5/minute",
        "CACHE_KEY_PREFIX": prefix,
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(requests)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    import json

    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def redis_url():
    redis = pytest.importorskip("redis")
    url = f"{REDIS}/9"  # a database of its own; keys under a prefix of this test's own
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis server at {REDIS}")
    return url


def test_with_redis_every_worker_counts_against_one_limit(redis_url):
    prefix = f"test-{uuid.uuid4().hex}"
    first = _worker(3, redis_url, prefix)
    second = _worker(3, redis_url, prefix)

    # 5 a minute in all: the second worker is refused its third request, of the API and of
    # the pages alike.
    assert first == {"api": [True] * 3, "pages": [True] * 3}
    assert second == {"api": [True, True, False], "pages": [True, True, False]}


def test_without_redis_each_worker_counts_alone(redis_url):
    # What the finding saw (226 requests through a limit of 120 with two workers): the
    # local memory cache is each process's own. README says to set REDIS_URL.
    prefix = f"test-{uuid.uuid4().hex}"
    assert (
        _worker(3, None, prefix)
        == _worker(3, None, prefix)
        == {
            "api": [True] * 3,
            "pages": [True] * 3,
        }
    )


def test_the_about_page_states_the_limits(client, settings):
    settings.THROTTLE_EXPORTS, settings.THROTTLE_PAGES = "20/hour", "300/minute"
    page = client.get(reverse("incidents:about")).content.decode()
    assert "may download 20 exports or feeds per hour and open 300 pages per minute" in page
