"""Response headers the whole site shares.

Responses that may hold what the public may not see are never stored by a cache.

A member of staff sees drafts, staff notes and withheld names on the same URLs the public
uses, and the staff and admin areas hold nothing else: a shared cache (a proxy, a CDN) or the
browser's disk must not keep any of it. Every response to staff, and every response under
the private areas, is marked `Cache-Control: private, no-store`, replacing whatever the view
said (an API detail's `private` with its ETag, for instance).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from cabar_tracker import idempotency
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
        # A session between its password and its second factor reads public pages, but they
        # say "finish logging in": not for a shared cache either.
        pending = getattr(request, "second_factor_pending", False)
        if _is_private_path(request.path) or pending or can_see_unpublished(user):
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


class IdempotencyMiddleware:
    """A write with an idempotency key is done once (cabar_tracker/idempotency.py).

    `__call__` opens the transaction the whole request runs in; `process_view`, which runs
    after the CSRF check, finds the user (the API's token too), inserts the key or answers
    with the stored answer. Requests without a key pass through untouched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in idempotency.WRITE_METHODS or not self._may_have_key(request):
            return self.get_response(request)
        idempotency.purge_expired()
        with transaction.atomic():
            response = self.get_response(request)
            claimed = getattr(request, "_idempotency_claim", None)
            if response.status_code >= 500 or getattr(request, "roll_back_writes", False):
                transaction.set_rollback(True)
            elif claimed is not None and not transaction.get_rollback():
                if response.status_code < 400:
                    idempotency.store(claimed, response)
                else:
                    claimed.delete()  # refused: the corrected request may use the key
        return response

    @staticmethod
    def _may_have_key(request: HttpRequest) -> bool:
        # A cheap look before the transaction: the header, or a form that may carry the field.
        return idempotency.HEADER in request.headers or (
            not idempotency.is_api(request)
            and request.content_type in idempotency.FORM_TYPES
            and idempotency.FORM_FIELD in request.POST
        )

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        try:
            key = idempotency.key_of(request)
        except idempotency.KeyRefused as refused:
            return idempotency.refusal(request, refused)
        if key is None:
            return None
        user = self._user(request)
        if user is None or not user.is_authenticated:
            return None  # the view refuses, or needs no key (a login)
        try:
            request._idempotency_claim = idempotency.claim(
                user=user, key=key, request=request, fingerprint=idempotency.request_hash(request)
            )
        except idempotency.AlreadyDone as done:
            return idempotency.replay(request, done.stored)
        except idempotency.KeyRefused as refused:
            return idempotency.refusal(request, refused)
        return None

    @staticmethod
    def _user(request: HttpRequest):
        """The user the view will see: the session's on the pages; under the API, the one
        its authentication classes find (a token), as DRF will."""
        if not idempotency.is_api(request):
            return getattr(request, "user", None)
        authenticators = [cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
        try:
            return Request(request, authenticators=authenticators).user
        except APIException:
            return None  # DRF answers 401 or 403 itself


# Headers an error answer keeps when it is rewritten as JSON.
KEPT_ERROR_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary", "Cache-Control")


class ApiErrorsAsJsonMiddleware:
    """Every error of the API is JSON, whoever answered it: DRF's own errors are, and the
    error handlers (cabar_tracker/errors.py) answer JSON under /api/; this catches the rest
    (the schema and docs views answer a wrong method or format in YAML or HTML)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(idempotency.API_PREFIX)
            or "json" in response.get("Content-Type", "")
        ):
            return response
        data = getattr(response, "data", None)
        if isinstance(data, dict) and "detail" in data:
            body = {"detail": str(data["detail"])}
        else:
            body = {"detail": response.reason_phrase}
        answer = JsonResponse(body, status=response.status_code)
        for header in KEPT_ERROR_HEADERS:
            if header in response:
                answer[header] = response[header]
        return answer
