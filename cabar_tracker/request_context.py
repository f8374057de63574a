"""Who is asking: the client's real address behind trusted proxies, and one id per request.

**The client's address.** Behind a TLS proxy every connection comes from the proxy, so
`REMOTE_ADDR` names the proxy and a lockout keyed on it locks everybody out at once. Each proxy
appends the address it received the connection from to `X-Forwarded-For`; the client can
write anything it likes to the left of those entries. So with `TRUSTED_PROXY_COUNT = n`
proxies in front of the app, the client is the n-th address from the right, and everything
further left is ignored. With 0 (the default) no forwarding header is trusted at all: a
client that sends `X-Forwarded-For` to an app without a proxy cannot choose its address.
The same rule is DRF's `NUM_PROXIES` (set to the same value in settings), so the API's
throttles count the same address as the login lockout and the security log.

**The request id.** `RequestIdMiddleware` gives every request an id (or takes the trusted
proxy's `X-Request-ID` when it is a plain token), answers it in the `X-Request-ID` header and
keeps the request in a context variable, so code far from the view (a service function
writing to the security log) can say which request it ran in without being passed it.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# What a request id from a proxy may look like: nothing that could forge a log line.
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


def _valid_address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The address of the client, trusting `X-Forwarded-For` only as far as
    `TRUSTED_PROXY_COUNT` proxies wrote it. None when there is no valid address (a test's
    request without one)."""
    cached = getattr(request, "_client_address", False)
    if cached is not False:
        return cached
    remote = _valid_address(request.META.get("REMOTE_ADDR", "") or "")
    address = remote
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop for hop in forwarded.split(",") if hop.strip()]
        if hops:
            # Fewer hops than proxies: the request skipped an outer proxy; the left-most hop
            # is then the one the first proxy it met wrote, as DRF's NUM_PROXIES reads it.
            address = _valid_address(hops[-min(proxies, len(hops))]) or remote
    request._client_address = address
    return address


def current_request() -> HttpRequest | None:
    """The request being answered in this thread or task, if any (None in a command)."""
    return _current_request.get()


def request_id(request: HttpRequest | None) -> str | None:
    return getattr(request, "request_id", None) if request is not None else None


class RequestIdMiddleware:
    """Give the request an id, answer it in `X-Request-ID`, and make the request reachable
    through `current_request()` while it is answered. First in MIDDLEWARE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        # Only a trusted proxy's id is taken: a client's own could be chosen to collide.
        if settings.TRUSTED_PROXY_COUNT > 0 and _PLAIN_ID.match(given):
            request.request_id = given
        else:
            request.request_id = uuid.uuid4().hex
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        response[REQUEST_ID_HEADER] = request.request_id
        return response
