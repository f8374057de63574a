"""Passkeys and security keys (django-otp-webauthn), fitted to this site.

- The relying party is the host the site is served on (WEBAUTHN_RP_ID overrides it), and
  the accepted origins are settings.OTP_WEBAUTHN_ALLOWED_ORIGINS (WEBAUTHN_ORIGINS), so a
  passkey made on the real site works only there.
- Passkeys are a second factor only (OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False): the
  password is still checked by the guarded login (accounts/login_guard.py) first.
- Registering and answering with a passkey are written to the security log, and answering
  counts as a fresh confirmation of identity (accounts/reauth.py), through accounts/mfa.py.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest
from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import views as package_views
from django_otp_webauthn.models import WebAuthnCredential

from accounts import mfa


def relying_party_id(request: HttpRequest) -> str:
    """OTP_WEBAUTHN_RP_ID_CALLABLE: WEBAUTHN_RP_ID if set, else the host of the request
    (already checked against ALLOWED_HOSTS), without its port."""
    if settings.WEBAUTHN_RP_ID:
        return settings.WEBAUTHN_RP_ID
    host = request.get_host()
    if host.startswith("["):  # an IPv6 literal; WebAuthn refuses addresses anyway
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


class CompleteRegistration(package_views.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            credential = WebAuthnCredential.objects.get(pk=json.loads(response.content)["id"])
            mfa.passkey_enrolled(self.request, credential)
        return response


class CompleteAuthentication(package_views.CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        super().complete_auth(device)
        mfa.passkey_verified(self.request, device)


app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/",
        package_views.BeginCredentialRegistrationView.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        CompleteRegistration.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        package_views.BeginCredentialAuthenticationView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        CompleteAuthentication.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
