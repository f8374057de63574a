"""Rate limits that read their rate when a request comes, not when Python imports the class.

DRF's own throttles copy DEFAULT_THROTTLE_RATES into a class attribute at import time, so a
changed setting (a test's override, a reloaded configuration) would be ignored. Counters live
in the default cache: set REDIS_URL so every app server shares them (settings.py).
"""

from __future__ import annotations

from rest_framework import throttling
from rest_framework.settings import api_settings


class _CurrentRateMixin:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(_CurrentRateMixin, throttling.AnonRateThrottle):
    """Anonymous clients, counted per IP address."""


class UserRateThrottle(_CurrentRateMixin, throttling.UserRateThrottle):
    """Authenticated clients (token or session), counted per user."""
