"""The staff page for one's own API tokens: /account/api-token/.

A token carries its user's permissions (DESIGN.md). The page lists one's tokens (name,
prefix, created, last used, expires) and makes new ones: the key is shown once, in the answer
to the POST that created it, and never again (only its digest is stored). A lost key is
revoked and a new token made. The tokens themselves are `accounts.tokens`.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import ApiToken
from accounts.tokens import create_token, lifetimes, revoke_token
from cabar_tracker.publishing import can_see_unpublished
from cabar_tracker.staff.forms import MAX_PK


class NewTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. the script that will use it."),
    )
    days = forms.TypedChoiceField(label=gettext_lazy("Valid for"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].choices = [
            (days, ngettext("%(days)d day", "%(days)d days", days) % {"days": days})
            for days in lifetimes()
        ]
        self.fields["days"].initial = settings.API_TOKEN_DEFAULT_DAYS

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if any(ord(char) < 32 for char in name):
            raise forms.ValidationError(_("The name contains control characters; remove them."))
        if not name:
            raise forms.ValidationError(_("Give the token a name."))
        return name


def _staff_only(request: HttpRequest) -> None:
    if not can_see_unpublished(request.user):
        # API tokens are for staff; a reader needs none to read the public API.
        raise PermissionDenied


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_token(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    new_key = None
    new_token = None
    form = NewTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        new_token, new_key = create_token(
            user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
        )
        form = NewTokenForm()
    # One query: the user's tokens, newest first (index apitoken_user_created).
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-pk")
    status = 400 if request.method == "POST" and new_key is None else 200
    return render(
        request,
        "api/token.html",
        {"tokens": tokens, "form": form, "new_key": new_key, "new_token": new_token},
        status=status,
    )


@never_cache
@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    if pk > MAX_PK:
        raise Http404
    # Another user's token is not found, rather than refused: its existence is not shown.
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if token.revoked_at is None:
        revoke_token(token=token, user=request.user)
        messages.success(
            request,
            _("The token “%(name)s” was revoked. Scripts using it stop working.")
            % {"name": token.name},
        )
    return redirect("api_token")
