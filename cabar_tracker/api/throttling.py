"""Rate limits of the API, counted like the pages' (cabar_tracker.throttling).

They read their rate when a request comes, not when Python imports the class: DRF's own
throttles copy DEFAULT_THROTTLE_RATES into a class attribute at import time, so a changed
setting (a test's override, a reloaded configuration) would be ignored. And they count with
one atomic increment in the default cache instead of DRF's read-then-write list of times,
which two workers sharing Redis could both read before either wrote: with REDIS_URL every
worker on every machine counts against the same limit (settings.py).
"""

from __future__ import annotations

from rest_framework import throttling
from rest_framework.settings import api_settings

from cabar_tracker.throttling import hit


class _SharedCounterMixin:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        self.wait_seconds = None
        rate = self.get_rate()
        key = self.get_cache_key(request, view) if rate else None
        if key is None:
            return True
        self.wait_seconds = hit(key, rate)
        return self.wait_seconds is None

    def wait(self) -> float | None:
        return self.wait_seconds


class AnonRateThrottle(_SharedCounterMixin, throttling.AnonRateThrottle):
    """Anonymous clients, counted per IP address."""


class UserRateThrottle(_SharedCounterMixin, throttling.UserRateThrottle):
    """Authenticated clients (token or session), counted per user."""
