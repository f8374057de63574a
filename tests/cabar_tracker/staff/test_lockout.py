"""The login guard: repeated failed logins lock a username from one address (django-axes),
and too many failures from one address, whatever the usernames, pause that address. The
address is the real client's behind TRUSTED_PROXY_COUNT proxies."""

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from tests.factories import StaffUserFactory

PASSWORD = "correct horse battery staple"  # the factories' password


@pytest.fixture
def erkin(db):
    return StaffUserFactory(username="erkin")


PROXY = "10.9.9.9"  # the TLS proxy every connection comes from, behind it


def log_in(
    client,
    password: str,
    username: str = "erkin",
    address: str = "10.0.0.1",
    forwarded_for: str | None = None,
):
    headers = {"REMOTE_ADDR": address}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


def fail(client, times: int, **kwargs) -> list[int]:
    """Fail to log in `times` times; the status codes of the answers."""
    return [log_in(client, "wrong password", **kwargs).status_code for _ in range(times)]


def test_it_is_configured_from_the_environment_defaults():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == 1
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.TRUSTED_PROXY_COUNT == 0
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 20
    assert settings.LOGIN_ADDRESS_WINDOW_MINUTES == 15


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


# --- behind a proxy -------------------------------------------------------------------------


def test_behind_a_trusted_proxy_the_lockout_is_per_client_not_per_proxy(client, erkin, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # An attacker behind the proxy locks the pair (erkin, their address) ...
    attacker = "203.0.113.66"
    codes = fail(client, settings.AXES_FAILURE_LIMIT, address=PROXY, forwarded_for=attacker)
    assert codes[-1] == 429
    # ... and erkin, through the same proxy from elsewhere, still logs in.
    response = log_in(client, PASSWORD, address=PROXY, forwarded_for="198.51.100.7")
    assert response.status_code == 302
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {attacker}


def test_the_client_address_is_the_one_the_trusted_proxy_appended(client, erkin, settings):
    """Whatever the client writes in X-Forwarded-For stays to the left of what the proxy
    appends: changing it on every attempt does not escape the lockout."""
    settings.TRUSTED_PROXY_COUNT = 1
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(
            client, "wrong password", address=PROXY, forwarded_for=f"1.2.3.{attempt}, 203.0.113.66"
        )
    response = log_in(client, PASSWORD, address=PROXY, forwarded_for="9.9.9.9, 203.0.113.66")
    assert response.status_code == 429


def test_with_two_proxies_the_client_is_second_from_the_right(client, erkin, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    hops = "6.6.6.6, 203.0.113.66, 10.8.8.8"  # spoofed, the client, the outer proxy
    fail(client, settings.AXES_FAILURE_LIMIT, address=PROXY, forwarded_for=hops)
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.66"}


def test_with_no_trusted_proxy_a_forwarding_header_is_ignored(client, erkin, settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    # An attacker connecting directly cannot escape the lockout by inventing addresses ...
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "wrong password", address="203.0.113.66", forwarded_for=f"1.2.3.{attempt}")
    assert (
        log_in(client, PASSWORD, address="203.0.113.66", forwarded_for="8.8.8.8").status_code == 429
    )
    # ... nor lock out the victim's address by naming it.
    assert log_in(client, PASSWORD, address="198.51.100.7").status_code == 302


def test_a_forwarded_value_that_is_no_address_falls_back_to_the_connection(rf, settings):
    from cabar_tracker.request_context import client_address

    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="<script>, ")
    assert client_address(request) == PROXY
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=" 2001:db8::1 ")
    assert client_address(request) == "2001:db8::1"


# --- a victim cannot be locked out from elsewhere ---------------------------------------------


def test_a_stranger_cannot_lock_a_chosen_user_out(client, erkin, settings):
    """Failing erkin's login from one address, even far past every limit, leaves erkin's
    own address free."""
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    codes = fail(client, 12, address="203.0.113.66")
    assert codes[settings.AXES_FAILURE_LIMIT - 1 :] == [429] * (
        12 - settings.AXES_FAILURE_LIMIT + 1
    )
    response = log_in(client, PASSWORD, address="198.51.100.7")
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:dashboard")


# --- password spraying: one address, many usernames ------------------------------------------


def test_one_address_trying_many_usernames_is_paused(client, db, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for number in range(8):
        StaffUserFactory(username=f"colleague{number}")
    # One password tried once on each account: no username reaches its own limit ...
    codes = [
        log_in(client, "Winter2026!", username=f"colleague{n}", address="203.0.113.66").status_code
        for n in range(8)
    ]
    assert codes[:6] == [200] * 6
    # ... but the address does, and is then refused whatever it tries.
    assert codes[6:] == [429, 429]
    refused = log_in(client, PASSWORD, username="colleague7", address="203.0.113.66")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    page = refused.content.decode()
    assert "failed logins from your address, for one or more accounts" in page
    assert "Try again in 15 minutes." in page
    assert 1 <= int(refused["Retry-After"]) <= 15 * 60
    # Everyone elsewhere logs in as usual.
    assert (
        log_in(client, PASSWORD, username="colleague7", address="198.51.100.7").status_code == 302
    )


def test_the_address_pause_ends_with_its_window(client, db, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    StaffUserFactory(username="aibek")
    for name in ("x1", "x2", "x3"):
        log_in(client, "guess", username=name, address="203.0.113.66")
    assert log_in(client, PASSWORD, username="aibek", address="203.0.113.66").status_code == 429
    # A window of zero minutes has ended.
    settings.LOGIN_ADDRESS_WINDOW_MINUTES = 0
    from accounts import login_guard

    login_guard.count_address_failure("203.0.113.66")  # starts a new window of its own
    settings.LOGIN_ADDRESS_WINDOW_MINUTES = 15
    assert login_guard.address_failures("203.0.113.66") == 1
    assert log_in(client, PASSWORD, username="aibek", address="203.0.113.66").status_code == 302


def test_the_spraying_limit_counts_behind_the_proxy_too(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    StaffUserFactory(username="aibek")
    for number in range(4):
        log_in(client, "guess", username=f"u{number}", address=PROXY, forwarded_for="203.0.113.66")
    refused = log_in(
        client, PASSWORD, username="aibek", address=PROXY, forwarded_for="203.0.113.66"
    )
    assert refused.status_code == 429
    # The proxy's other clients are not paused.
    allowed = log_in(
        client, PASSWORD, username="aibek", address=PROXY, forwarded_for="198.51.100.7"
    )
    assert allowed.status_code == 302
