"""Login lockout (django-axes): repeated failed logins lock a username from one address."""

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from tests.factories import StaffUserFactory

PASSWORD = "correct horse battery staple"  # the factories' password


@pytest.fixture
def erkin(db):
    return StaffUserFactory(username="erkin")


def log_in(client, password: str, username: str = "erkin", address: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail(client, times: int, **kwargs) -> list[int]:
    """Fail to log in `times` times; the status codes of the answers."""
    return [log_in(client, "wrong password", **kwargs).status_code for _ in range(times)]


def test_it_is_configured_from_the_environment_defaults():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == 1
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_it_locks_the_account_for_that_address_after_too_many_failures(client, erkin):
    # The login form says "wrong password" until the limit is reached.
    assert fail(client, settings.AXES_FAILURE_LIMIT - 1) == [200] * 4
    response = log_in(client, "wrong password")
    assert response.status_code == 429
    # Even the right password is refused now, with the lockout page.
    response = log_in(client, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Login locked for now" in page
    assert "Try again in 1 hour" in page
    assert "_auth_user_id" not in client.session


def test_it_does_not_lock_the_same_user_out_from_another_address(client, erkin):
    fail(client, settings.AXES_FAILURE_LIMIT)
    response = log_in(client, PASSWORD, address="10.0.0.2")
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:dashboard")


def test_it_does_not_lock_other_users_at_the_same_address(client, erkin):
    StaffUserFactory(username="rahat")
    fail(client, settings.AXES_FAILURE_LIMIT)
    assert log_in(client, PASSWORD, username="rahat").status_code == 302


def test_a_successful_login_resets_the_count(client, erkin):
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()
    # Without the reset, the first of these would reach the limit.
    assert fail(client, settings.AXES_FAILURE_LIMIT - 1) == [200] * 4
    assert log_in(client, PASSWORD).status_code == 302


def test_it_honours_a_lower_limit_and_a_shorter_cool_off(client, erkin, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = 0.5
    assert fail(client, 1) == [200]
    response = log_in(client, "wrong password")
    assert response.status_code == 429
    assert "Try again in 30 minutes" in response.content.decode()


def test_force_login_still_works_for_tests(client, erkin):
    client.force_login(erkin)
    assert client.get(reverse("staff:dashboard")).status_code == 200


def test_migrate_creates_the_axes_tables(db):
    tables = connection.introspection.table_names()
    assert {"axes_accessattempt", "axes_accesslog", "axes_accessfailurelog"} <= set(tables)
