"""Staff sessions end after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS
after logging in, however busy (accounts/middleware.py)."""

import time

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.middleware import LOGIN_AT, SEEN_AT

pytestmark = pytest.mark.django_db

DASHBOARD = "/staff/"


def shift_session(client, **seconds_ago):
    """Move the session's clocks into the past, as if that much time had gone by."""
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[{"login": LOGIN_AT, "seen": SEEN_AT}[key]] = now - ago
    session.save()


def test_the_defaults_suit_staff_handling_sensitive_data():
    assert settings.SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_MAX_HOURS == 12
    assert settings.SESSION_COOKIE_AGE == 12 * 3600


def test_an_active_session_goes_on(staff_client):
    shift_session(staff_client, seen=29 * 60)
    assert staff_client.get(DASHBOARD).status_code == 200
    # The request counted as activity: the idle clock starts again.
    assert int(time.time()) - staff_client.session[SEEN_AT] < 5


def test_a_session_idle_too_long_is_logged_out(staff_client):
    shift_session(staff_client, seen=30 * 60 + 1)

    response = staff_client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in staff_client.session
    login_page = staff_client.get(response["Location"])
    assert "Your session ended; please log in again." in login_page.content.decode()


def test_a_shorter_idle_timeout_is_a_setting(staff_client, settings):
    settings.SESSION_IDLE_MINUTES = 5
    shift_session(staff_client, seen=5 * 60 + 1)
    assert staff_client.get(DASHBOARD).status_code == 302


def test_a_busy_session_ends_at_its_absolute_lifetime(staff_client):
    shift_session(staff_client, login=12 * 3600 + 1, seen=10)

    response = staff_client.get(DASHBOARD)

    assert response.status_code == 302
    assert "_auth_user_id" not in staff_client.session


def test_a_session_from_before_the_limits_is_ended(staff_client):
    session = staff_client.session
    del session[LOGIN_AT]
    session.save()
    assert staff_client.get(DASHBOARD).status_code == 302


def test_an_expired_session_cannot_use_the_api_either(staff_client):
    shift_session(staff_client, seen=31 * 60)
    from tests.factories import IncidentFactory

    draft = IncidentFactory(publication_state="draft")
    assert staff_client.get(f"/api/v1/incidents/{draft.pk}/").status_code == 404


def test_logging_in_again_starts_a_fresh_session(client, staff_user):
    client.force_login(staff_user)
    shift_session(client, seen=31 * 60)
    client.get(DASHBOARD)
    client.force_login(staff_user)
    assert client.get(DASHBOARD).status_code == 200


def _session_writes(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return sum(
        1 for query in queries if "django_session" in query["sql"] and "UPDATE" in query["sql"]
    )


def test_a_page_view_writes_the_session_at_most_once_a_minute(staff_client):
    staff_client.get(DASHBOARD)
    # Within the minute: the session is read, not written.
    assert _session_writes(staff_client, DASHBOARD) == 0
    # A minute later: the activity is noted, once.
    shift_session(staff_client, seen=61)
    assert _session_writes(staff_client, DASHBOARD) == 1
    assert _session_writes(staff_client, DASHBOARD) == 0
