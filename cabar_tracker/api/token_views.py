"""The staff page for one's own API token: /account/api-token/.

A token carries its user's permissions (DESIGN.md). The page shows the key once, in the
answer to the POST that created it, and never again: afterwards it only says since when a
token exists and offers to revoke it. A lost key is revoked and a new one created.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from cabar_tracker.publishing import can_see_unpublished


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_token(request: HttpRequest) -> HttpResponse:
    if not can_see_unpublished(request.user):
        # API tokens are for staff; a reader needs none to read the public API.
        raise PermissionDenied
    token = Token.objects.filter(user=request.user).first()
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create" and token is None:
            token = Token.objects.create(user=request.user)
            new_key = token.key
        elif action == "revoke" and token is not None:
            token.delete()
            messages.success(
                request, _("Your API token was revoked. Scripts using it stop working.")
            )
            return redirect("api_token")
        else:
            return redirect("api_token")
    return render(request, "api/token.html", {"token": token, "new_key": new_key})
