"""Error views: the API answers every error in JSON, the pages in HTML.

DRF answers the errors it raises itself in JSON; these cover the rest, which Django handles
before or after DRF: an unhandled exception (500), a body over DATA_UPLOAD_MAX_MEMORY_SIZE
or too many fields (Django's SuspiciousOperation: 400, or 413 for a body too big), a 403 or
404 raised outside a viewset. Nothing of the exception is shown.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

from cabar_tracker.parameters import BadParameter

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _wants_json(request: HttpRequest) -> bool:
    # The staff pages' own JSON endpoints (the duplicate-person search) end in .json.
    return _is_api(request) or request.path.endswith(".json")


def bad_parameter(request: HttpRequest, error: BadParameter) -> HttpResponse:
    """A parameter a view could not use (cabar_tracker/parameters.py): 400, naming it."""
    if _wants_json(request):
        return JsonResponse({error.name: [error.message]}, status=400)
    context = {"parameter": error.name, "message": error.message}
    return render(request, "400.html", context, status=400)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        if _is_api(request):
            return JsonResponse({"detail": "The request body is too large."}, status=413)
        return HttpResponse("The request body is too large.", status=413, content_type="text/plain")
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "You do not have permission to do this."}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Server error. It has been logged."}, status=500)
    return defaults.server_error(request)
