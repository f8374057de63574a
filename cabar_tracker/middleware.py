"""Response headers the whole site shares.

Responses that may hold what the public may not see are never stored by a cache.

A member of staff sees drafts, staff notes and withheld names on the same URLs the public
uses, and the staff and admin areas hold nothing else: a shared cache (a proxy, a CDN) or the
browser's disk must not keep any of it. Every response to staff, and every response under
the private areas, is marked `Cache-Control: private, no-store`, replacing whatever the view
said (an API detail's `private` with its ETag, for instance).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from cabar_tracker.errors import bad_parameter
from cabar_tracker.parameters import BadParameter
from cabar_tracker.publishing import can_see_unpublished

PRIVATE_AREAS = ("/staff/", "/admin/", "/accounts/", "/account/")


def _is_private_path(path: str) -> bool:
    # Private areas are under the language-free root; the check is on the path as requested.
    return path.startswith(PRIVATE_AREAS)


class PrivateResponsesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Read the user after the view: an API token is authenticated inside the view, and
        # DRF then sets the user on this request.
        user = getattr(request, "user", None)
        if _is_private_path(request.path) or can_see_unpublished(user):
            response["Cache-Control"] = "private, no-store"
            if "Expires" in response:
                del response["Expires"]
        return response


# The site uses none of these browser features; a page injected with a script could not
# turn on the camera, the microphone or location either.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class BadParameterMiddleware:
    """A view that could not use a parameter raised `BadParameter`: a 400 naming it, an
    HTML page or, under the API, JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, BadParameter):
            return bad_parameter(request, exception)
        return None
