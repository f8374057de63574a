"""Access to the staff side: every staff page is behind `staff_required`.

Anonymous visitors are sent to the login page (302); a logged-in user who is not staff gets
403. Finer rules (only reviewers publish) are permissions checked by the views that need
them, through `permission_required(..., raise_exception=True)`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from cabar_tracker.publishing import can_see_unpublished


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_see_unpublished(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
