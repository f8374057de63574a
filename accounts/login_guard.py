"""The login guard: what stops password guessing, and what it writes to the security log.

Two limits, neither of which a stranger can turn against a chosen colleague:

1. **A username from one address** (django-axes): after AXES_FAILURE_LIMIT failures for one
   username from one client address, that pair is refused for AXES_COOLOFF_TIME hours. The
   address is the real client's behind TRUSTED_PROXY_COUNT proxies
   (`AXES_CLIENT_IP_CALLABLE`), so a proxy's address does not lock everyone out, and the
   owner of the account still logs in from anywhere else.
2. **One address, any usernames** (`AddressThrottleBackend`, counted in the shared cache):
   after LOGIN_ADDRESS_FAILURE_LIMIT failed logins from one address within
   LOGIN_ADDRESS_WINDOW_MINUTES, every login from that address is refused until the window
   ends, before any password is checked. This is what stops password spraying (one password
   tried on many accounts), which the per-username count never sees.

Both answer 429 with the lockout page (`lockout_response`, axes' AXES_LOCKOUT_CALLABLE).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import security_log
from cabar_tracker.request_context import client_address

try:  # axes' signal; axes is installed, but the guard must not break a settings without it.
    from axes.signals import user_locked_out
except ImportError:  # pragma: no cover
    user_locked_out = None

LOCKOUT_TEMPLATE = "registration/locked_out.html"


# --- the per-address limit -----------------------------------------------------------------


def _window_key(address: str) -> str:
    return f"login-failures:{address}"


def address_failures(address: str | None) -> int:
    if not address:
        return 0
    return cache.get(_window_key(address), (0, 0))[0]


def address_is_throttled(address: str | None) -> bool:
    return address_failures(address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


def seconds_until_unthrottled(address: str | None) -> int:
    if not address:
        return 0
    _count, started = cache.get(_window_key(address), (0, 0))
    return max(0, int(started + settings.LOGIN_ADDRESS_WINDOW_MINUTES * 60 - time.time()))


def count_address_failure(address: str | None) -> None:
    """One more failed login from `address` in its window. The window starts at the first
    failure and lasts LOGIN_ADDRESS_WINDOW_MINUTES; the entry expires with it. (The count is
    read and written back: two simultaneous failures may count once, which a limit of tens
    does not notice; an atomic increment would not carry the window's start.)"""
    if not address:
        return
    key = _window_key(address)
    window = settings.LOGIN_ADDRESS_WINDOW_MINUTES * 60
    count, started = cache.get(key, (0, 0))
    now = time.time()
    if not count or now - started >= window:
        count, started = 0, now
    remaining = max(1, int(started + window - now))
    cache.set(key, (count + 1, started), timeout=remaining)


class AddressThrottleBackend:
    """First in AUTHENTICATION_BACKENDS: refuses every login from an address that has failed
    too often, whatever the username, before any password is checked (so a throttled
    guesser learns nothing, not even from a right guess)."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:
            return None  # axes' backend, next, refuses logins without a request
        address = client_address(request)
        if address_is_throttled(address):
            request.login_address_throttled = True
            # AxesMiddleware turns a flagged request into `lockout_response`.
            request.axes_locked_out = True
            raise PermissionDenied
        return None

    # No get_user: this backend logs nobody in, and Django's test client logs a user in
    # through the first backend that has one.


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """The 429 page for both limits (axes' AXES_LOCKOUT_CALLABLE)."""
    from axes.helpers import get_cool_off, get_failure_limit

    if getattr(request, "login_address_throttled", False):
        seconds = seconds_until_unthrottled(client_address(request))
        context = {
            "address_throttled": True,
            "failure_limit": settings.LOGIN_ADDRESS_FAILURE_LIMIT,
            "minutes": max(1, -(-seconds // 60)),
        }
        response = render(request, LOCKOUT_TEMPLATE, context, status=429)
        response["Retry-After"] = str(max(1, seconds))
        return response
    context = {"failure_limit": get_failure_limit(request, credentials)}
    cool_off = get_cool_off(request)
    if cool_off:
        context["cooloff_timedelta"] = cool_off
    response = render(request, LOCKOUT_TEMPLATE, context, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


# --- what the security log hears -----------------------------------------------------------


def _known_username(username: str | None) -> tuple[object | None, dict]:
    """The account a typed username names, and how to log the name: as it is when it names
    an account, as a fingerprint when it does not (it may be a password in the wrong box)."""
    if not username:
        return None, {}
    user = get_user_model()._default_manager.filter(username=username[:150]).first()
    if user is not None:
        return user, {}
    return None, {"unknown_username": security_log.username_fingerprint(username)}


@receiver(user_logged_in, dispatch_uid="security_log_login")
def _logged_in(sender, request, user, **kwargs):
    security_log.record("login.succeeded", user=user, request=request)


@receiver(user_logged_out, dispatch_uid="security_log_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None and not getattr(request, "session_expired", False):
        security_log.record("logout", user=user, request=request)


@receiver(user_login_failed, dispatch_uid="security_log_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # Django passes the credentials with the password already masked; only the username
    # is read here.
    username = credentials.get("username") or ""
    known, extra = _known_username(username)
    if request is None:
        security_log.record("login.failed", user=known, **extra)
        return
    address = client_address(request)
    if getattr(request, "login_address_throttled", False):
        security_log.record(
            "login.throttled",
            user=known,
            request=request,
            failures=address_failures(address),
            **extra,
        )
        return
    count_address_failure(address)
    security_log.record("login.failed", user=known, request=request, **extra)


if user_locked_out is not None:

    @receiver(user_locked_out, dispatch_uid="security_log_locked_out")
    def _locked_out(sender, request, username, ip_address, **kwargs):
        known, extra = _known_username(username)
        security_log.record("login.locked_out", user=known, request=request, **extra)
