"""Every page of the staff side is closed to anonymous visitors and to non-staff users.

The test walks `cabar_tracker.staff.urls.urlpatterns` itself, so a staff URL added later is
checked without anyone remembering to list it here. Arguments are made up from the URL's
converters: the access check runs before any lookup, so a record that does not exist must
still give 302/403, never 404.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, reverse
from django.urls.converters import (
    IntConverter,
    PathConverter,
    SlugConverter,
    StringConverter,
    UUIDConverter,
)

from cabar_tracker.staff import urls as staff_urls
from tests.factories import UserFactory

# Sample values for named arguments whose meaning the name gives away.
NAMED_ARGUMENTS = {"app_label": "incidents", "model_name": "incident"}


def _sample(name: str, converter) -> object:
    if name in NAMED_ARGUMENTS:
        return NAMED_ARGUMENTS[name]
    if isinstance(converter, IntConverter):
        return 1
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    if isinstance(converter, SlugConverter | StringConverter | PathConverter):
        return "sample"
    raise AssertionError(f"No sample value for <{name}> ({type(converter).__name__}).")


def _walk(patterns, namespace: str, converters: dict) -> list[tuple[str, dict]]:
    """(view name, kwargs) for every named URL, following includes."""
    found = []
    for entry in patterns:
        entry_converters = {**converters, **entry.pattern.converters}
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if entry.namespace else namespace
            found += _walk(entry.url_patterns, inner, entry_converters)
        elif isinstance(entry, URLPattern) and entry.name:
            kwargs = {name: _sample(name, conv) for name, conv in entry_converters.items()}
            found.append((f"{namespace}:{entry.name}", kwargs))
    return found


STAFF_URLS = _walk(staff_urls.urlpatterns, staff_urls.app_name, {})


def _url(name: str, kwargs: dict) -> str:
    return reverse(name, kwargs=kwargs)


def test_it_finds_the_staff_urls():
    names = {name for name, _ in STAFF_URLS}
    assert {"staff:dashboard", "staff:followups_due", "staff:import"} <= names


@pytest.mark.parametrize(("name", "kwargs"), STAFF_URLS, ids=[name for name, _ in STAFF_URLS])
def test_it_sends_anonymous_visitors_to_the_login_page(client, db, name, kwargs):
    url = _url(name, kwargs)
    login_url = reverse(settings.LOGIN_URL)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, (method.__name__, url)
        assert response["Location"].startswith(login_url), (method.__name__, url)


@pytest.mark.parametrize(("name", "kwargs"), STAFF_URLS, ids=[name for name, _ in STAFF_URLS])
def test_it_refuses_logged_in_users_who_are_not_staff(client, db, name, kwargs):
    client.force_login(UserFactory(username="reader", is_staff=False))
    url = _url(name, kwargs)
    assert client.get(url).status_code == 403, url
    assert client.post(url).status_code == 403, url
