"""Session limits and the logging of refusals, for every request.

**Sessions** end after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after
the login however busy they were (a stolen cookie stops working, a forgotten open laptop
logs out). The times are kept in the session itself: the login time is set when logging in,
the time of the last request at most once a minute (SESSION_ACTIVITY_INTERVAL), so a page
view does not write the session every time. A session that has neither (made before these
limits existed) is ended too.

**Refusals**: every 403 answer, from a page, the admin or the API, is a `permission.denied`
line in the security log with who asked for what.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import security_log

LOGIN_AT = "_security_login_at"
SEEN_AT = "_security_seen_at"
# The session is written at most this often (seconds) to note activity.
SESSION_ACTIVITY_INTERVAL = 60


@receiver(user_logged_in, dispatch_uid="session_limits_start")
def _start_session_clock(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[LOGIN_AT] = now
        session[SEEN_AT] = now


def _expired_because(session, now: int) -> str | None:
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return "no session start"
    if now - login_at >= settings.SESSION_MAX_HOURS * 3600:
        return "absolute"
    if now - seen_at >= settings.SESSION_IDLE_MINUTES * 60:
        return "idle"
    return None


class SessionLimitsMiddleware:
    """After AuthenticationMiddleware: ends a session that has been idle or alive too long,
    and notes the activity of the others."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        # `request.user` is lazy; the session key says whether anyone is logged in
        # without loading them.
        if user is not None and request.session.get("_auth_user_id") is not None:
            now = int(time.time())
            reason = _expired_because(request.session, now)
            if reason is not None:
                expired_user = request.user
                request.session_expired = True
                security_log.record(
                    "session.expired", user=expired_user, request=request, reason=reason
                )
                logout(request)
                if reason in ("idle", "absolute"):
                    messages.info(request, _("Your session ended; please log in again."))
            elif now - request.session[SEEN_AT] >= SESSION_ACTIVITY_INTERVAL:
                request.session[SEEN_AT] = now
        return self.get_response(request)


class SecurityLogMiddleware:
    """Logs every 403 answer with the user and what was asked. After
    AuthenticationMiddleware; the API's token user is known once the view ran, which is when
    this reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 403:
            security_log.record("permission.denied", request=request, status=403)
        return response


# --- the second factor ----------------------------------------------------------------------

# Where a logged-in user who has not passed a second factor may still go as themselves: the
# pages that enrol or check one, the passkey ceremony, logging out.
SECOND_FACTOR_PATHS = ("/accounts/second-factor/", "/accounts/passkeys/", "/accounts/logout/")
# Private areas: a user without a second factor is sent to pass (or enrol) one. Everything
# else (public pages, the API) answers them as the anonymous reader.
PRIVATE_PATHS = ("/staff/", "/admin/", "/account/", "/accounts/", "/exports/")


class SecondFactorMiddleware:
    """After django-otp's OTPMiddleware: nobody sees non-public data on a password alone
    (accounts/mfa.py). A logged-in user whose session has not passed a second factor is sent
    from a private page to verify one (or to enrol one, if they have none), and is the
    anonymous reader everywhere else. Also turns a `ReauthenticationRequired` raised by a
    sensitive write into the confirmation page (accounts/reauth.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.MFA_REQUIRED and request.session.get("_auth_user_id") is not None:
            user = request.user
            if user.is_authenticated and not user.is_verified():
                response = self._without_second_factor(request)
                if response is not None:
                    return response
        return self.get_response(request)

    def _without_second_factor(self, request: HttpRequest) -> HttpResponse | None:
        from accounts import mfa

        path = request.path
        if path.startswith(SECOND_FACTOR_PATHS):
            return None
        if path.startswith(PRIVATE_PATHS):
            target = "second_factor_verify" if mfa.is_enrolled(request.user) else "second_factor"
            return redirect_to_login(request.get_full_path(), login_url=reverse(target))
        request.second_factor_pending = True
        request.user = AnonymousUser()

        async def anonymous():
            return AnonymousUser()

        request.auser = anonymous
        return None

    def process_exception(self, request: HttpRequest, exception: Exception):
        from accounts.reauth import ReauthenticationRequired, redirect_to_confirmation

        if isinstance(exception, ReauthenticationRequired) and not request.path.startswith("/api/"):
            # Nothing the refused request wrote may stay: the idempotency middleware, which
            # runs keyed forms in one transaction, rolls it back and keeps no answer.
            request.roll_back_writes = True
            return redirect_to_confirmation(request)
        return None
