"""The second-factor pages every staff account goes through (accounts/mfa.py has the rules).

- /accounts/second-factor/: enrol (an authenticator app or a passkey), see one's factors,
  remove one, replace the recovery codes. An account that has a factor but has not passed it
  in this session is sent to the verification page instead: a password alone must not be
  enough to add a factor of the attacker's own.
- /accounts/second-factor/app/: the authenticator app's QR code and key, confirmed by a code.
- /accounts/second-factor/verify/: the second step of the login (a code, a recovery code, or
  a passkey).
- /accounts/reauthenticate/: confirming who one is before a sensitive action
  (accounts/reauth.py): the password and a code, or a passkey.
"""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts import mfa, reauth, security_log
from accounts.reauth import reauthentication_required

# The unconfirmed app device being set up, kept in the session between the QR code and the
# first code.
SETUP_DEVICE = "_second_factor_setup_device"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text=gettext_lazy(
            "The six digits your authenticator app shows, or one of your recovery codes."
        ),
    )


class ConfirmForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = CodeForm.base_fields["code"]


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _has_passkey(user) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


@never_cache
@login_required
@require_http_methods(["GET"])
def overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    enrolled = mfa.is_enrolled(user)
    if enrolled and not user.is_verified():
        return redirect(f"{reverse('second_factor_verify')}?next={request.path}")
    new_codes = None
    if enrolled and not StaticDevice.objects.filter(user=user).exists():
        # The first factor has just been added: the way back in if it is lost, shown once.
        new_codes = mfa.new_recovery_codes(user, request=request)
    return render(
        request,
        "accounts/second_factor.html",
        {
            "enrolled": enrolled,
            "factors": mfa.factors(user),
            "recovery_codes_left": mfa.recovery_codes_left(user),
            "new_codes": new_codes,
            "reauth_minutes": settings.REAUTH_MINUTES,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def totp_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if mfa.is_enrolled(user) and not user.is_verified():
        return redirect(f"{reverse('second_factor_verify')}?next={request.path}")
    if mfa.is_enrolled(user) and not reauth.is_recent(request):
        # Adding another factor to an account is a change to how it is protected.
        return reauth.redirect_to_confirmation(request)
    device = None
    device_id = request.session.get(SETUP_DEVICE)
    if device_id is not None:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if device is None:
            messages.error(request, _("The setup expired; scan the new code."))
            return redirect("second_factor_totp")
        if form.is_valid() and mfa.confirm_totp(request, device, form.cleaned_data["code"]):
            del request.session[SETUP_DEVICE]
            messages.success(request, _("Your authenticator app is set up."))
            return redirect("second_factor")
        form.add_error("code", _("That code is not the one the app shows now. Try again."))
        status = 400
    if device is None:
        device = mfa.start_totp(user)
        request.session[SETUP_DEVICE] = device.pk
    svg = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return render(
        request,
        "accounts/second_factor_totp.html",
        {
            "form": form,
            "qr_svg": svg.to_string(encoding="unicode"),
            "key": _grouped(device.bin_key),
        },
        status=status,
    )


def _grouped(key: bytes) -> str:
    from base64 import b32encode

    text = b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    default = reverse("staff:dashboard")
    if user.is_verified():
        return HttpResponseRedirect(_next_url(request, default))
    if not mfa.is_enrolled(user):
        return redirect("second_factor")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and mfa.verify(request, form.cleaned_data["code"]) is not None:
            if mfa.recovery_codes_left(user) <= 3:
                messages.warning(
                    request,
                    _("%(count)s recovery codes left: make new ones on your second-factor page.")
                    % {"count": mfa.recovery_codes_left(user)},
                )
            return HttpResponseRedirect(_next_url(request, default))
        form.add_error("code", _("That code was not accepted."))
        status = 400
    return render(
        request,
        "accounts/second_factor_verify.html",
        {
            "form": form,
            "has_passkey": _has_passkey(user),
            "next": _next_url(request, ""),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reauthenticate(request: HttpRequest) -> HttpResponse:
    user = request.user
    default = reverse("staff:dashboard")
    form = ConfirmForm(request.POST or None)
    status = 200
    if request.method == "POST":
        confirmed = False
        if form.is_valid():
            # Through the guarded authentication (django-axes and the per-address limit):
            # a stolen session cannot be used to guess the password either.
            checked = authenticate(
                request, username=user.get_username(), password=form.cleaned_data["password"]
            )
            if checked is not None and checked.pk == user.pk:
                confirmed = mfa.verify(request, form.cleaned_data["code"]) is not None
        if confirmed:
            security_log.record("reauth.succeeded", user=user, request=request)
            return HttpResponseRedirect(_next_url(request, default))
        security_log.record("reauth.failed", user=user, request=request)
        if form.is_valid():
            form.add_error(None, _("The password or the code was not accepted."))
        status = 400
    return render(
        request,
        "accounts/reauthenticate.html",
        {
            "form": form,
            "has_passkey": _has_passkey(user),
            "next": _next_url(request, ""),
            "reauth_minutes": settings.REAUTH_MINUTES,
        },
        status=status,
    )


@never_cache
@login_required
@require_POST
@reauthentication_required
def new_recovery_codes(request: HttpRequest) -> HttpResponse:
    codes = mfa.new_recovery_codes(request.user, request=request)
    return render(
        request,
        "accounts/second_factor.html",
        {
            "enrolled": mfa.is_enrolled(request.user),
            "factors": mfa.factors(request.user),
            "recovery_codes_left": len(codes),
            "new_codes": codes,
            "reauth_minutes": settings.REAUTH_MINUTES,
        },
    )


FACTOR_MODELS = {"app": TOTPDevice, "passkey": WebAuthnCredential}


@never_cache
@login_required
@require_POST
@reauthentication_required
def remove_factor(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = FACTOR_MODELS.get(kind)
    if model is None or pk > 2**31:
        raise Http404
    device = model.objects.filter(pk=pk, user=request.user).first()
    if device is None:
        raise Http404  # another user's device is not found, rather than refused
    mfa.remove_factor(request.user, device, request=request)
    messages.success(request, _("The second factor was removed."))
    return redirect("second_factor")
