"""Rate limits per client, counted in the default cache, for the pages, exports and the API.

One counter per client and window (the rate's period from the client's first request),
incremented atomically (`cache.incr`): with REDIS_URL every worker on every machine counts in
the same Redis key, so a limit of 120/minute lets 120 requests through however many
processes serve them. Without REDIS_URL the cache is each process's memory and so is the
count (README).
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cabar_tracker import request_context

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}

# The views that stream many rows, or past EXPORT_JOB_ROWS queue a job that writes them: a
# tighter limit (THROTTLE_EXPORTS) on top of the pages'.
EXPORT_VIEWS = {
    "incidents:incidents_csv",
    "incidents:detentions_csv",
    "incidents:incidents_json",
    "incidents:statements_csv",
    "incidents:incident_feed",
}
# Namespaces the page limit leaves alone: the API has its own (REST_FRAMEWORK), the staff
# side and the admin are for staff (logged in, so exempt, or sent to the login page).
UNTHROTTLED_NAMESPACES = {"api", "staff", "admin"}


def parse_rate(rate: str) -> tuple[int, int]:
    """`120/minute` as (120, 60)."""
    count, _slash, period = rate.partition("/")
    return int(count), PERIODS[period]


def hit(key: str, rate: str) -> int | None:
    """Count one request under `key`: None while within `rate`, else the seconds until the
    window ends (for Retry-After). A window opens at a client's first request and lasts the
    rate's period."""
    limit, period = parse_rate(rate)
    now = time.time()
    # Hashed: an IPv6 address or a user id alike make a short key any cache accepts.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    counter, opened = f"throttle:{digest}:{period}", f"throttle:{digest}:{period}:opened"
    # add() creates a key only if it is missing; incr() is atomic in Redis and in the local
    # memory cache, so concurrent requests are each counted once.
    if cache.add(counter, 0, timeout=period):
        cache.set(opened, now, timeout=period)
    try:
        count = cache.incr(counter)
    except ValueError:  # the window closed between add() and incr()
        cache.add(counter, 1, timeout=period)
        cache.set(opened, now, timeout=period)
        count = 1
    if count <= limit:
        return None
    started = cache.get(opened, now)
    return max(1, math.ceil(started + period - now))


def client_address(request: HttpRequest) -> str:
    """The address a limit counts against: the client's, read behind TRUSTED_PROXY_COUNT
    proxies as the login guard and the security log read it (README, "Rate limits")."""
    return request_context.client_address(request) or ""


class PageThrottleMiddleware:
    """THROTTLE_PAGES for every page, THROTTLE_EXPORTS for the exports and the feed, per
    client address; staff are not limited. Past a limit: 429 with Retry-After and a page
    that says when to try again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or set(match.namespaces) & UNTHROTTLED_NAMESPACES:
            return None
        if getattr(request, "user", None) is not None and request.user.is_staff:
            return None
        address = client_address(request)
        if match.view_name in EXPORT_VIEWS:
            scope, rate = "exports", settings.THROTTLE_EXPORTS
        else:
            scope, rate = "pages", settings.THROTTLE_PAGES
        wait = hit(f"{scope}:{address}", rate)
        if wait is None:
            return None
        response = render(
            request,
            "429.html",
            {"retry_after": wait, "minutes": math.ceil(wait / 60), "export": scope == "exports"},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
