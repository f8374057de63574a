"""Re-authentication for sensitive actions: a password and a second factor again, if the
last proof is older than REAUTH_MINUTES.

The actions (a stolen open session must not be enough for them): creating an API token,
merging persons, showing a withheld identity again, and changing anyone's roles or second
factors. Passing the second factor at login counts as a fresh proof, so a reviewer who has
just logged in is not asked twice.

Views use `@reauthentication_required`; a write that can arrive by any door (showing a
withheld identity: form, proposal, API, admin) calls `require_recent()` in the model, which
raises `ReauthenticationRequired` when a person at a browser has not confirmed recently
(SecondFactorMiddleware turns it into a redirect to the confirmation page). API tokens
cannot confirm: that write is refused through the API with a 403 saying so. Commands run by
the operator (no request) are not asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from cabar_tracker.request_context import current_request

REAUTH_AT = "_security_reauth_at"


class ReauthenticationRequired(PermissionDenied):
    """A sensitive write was attempted without a recent proof of identity."""


def mark(request: HttpRequest) -> None:
    request.session[REAUTH_AT] = int(time.time())


def is_recent(request: HttpRequest) -> bool:
    session = getattr(request, "session", None)
    if session is None:
        return False
    at = session.get(REAUTH_AT)
    return isinstance(at, int) and time.time() - at < settings.REAUTH_MINUTES * 60


def require_recent(action: str) -> None:
    """Raises ReauthenticationRequired if the request being answered (if any) has no recent
    proof. No request: a command, which the operator runs."""
    request = current_request()
    if request is None:
        return
    if getattr(request, "auth", None) is not None or getattr(request, "api_token", None):
        raise ReauthenticationRequired(
            _("%(action)s needs the staff pages, where you confirm who you are first.")
            % {"action": action}
        )
    if not is_recent(request):
        raise ReauthenticationRequired(_("Confirm who you are to %(action)s.") % {"action": action})


def confirmation_url(request: HttpRequest) -> str:
    """The confirmation page, coming back to this page (for a POST: the page the form was on,
    when it is ours, so the user can submit again)."""
    back = request.get_full_path()
    if request.method != "GET":
        referer = request.META.get("HTTP_REFERER", "")
        if referer and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = referer
    return f"{reverse('reauthenticate')}?{urlencode({'next': back})}"


def redirect_to_confirmation(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        messages.info(request, _("Confirm who you are, then send the form again."))
    return HttpResponseRedirect(confirmation_url(request))


def reauthentication_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_recent(request):
            return redirect_to_confirmation(request)
        return view(request, *args, **kwargs)

    return wrapped
