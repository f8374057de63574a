"""The second factor for staff: what every door calls to enrol, verify, replace and reset it.

**Package.** django-otp is the device framework (TOTP apps, single-use recovery codes, the
`otp_device_id` a verified session carries, throttling of wrong codes), with
django-otp-webauthn for security keys and passkeys on top of it. That pair was chosen over
django-allauth's MFA because allauth's second factor needs allauth's own login flow, which
would replace the login view that django-axes, the per-address limit and the security log
already guard (accounts/login_guard.py); django-otp adds a factor *after* that login without
touching it. django-two-factor-auth was not used for the same reason (its login wizard
replaces the login view) and because its WebAuthn plugin does not do passkeys.

**The rule** (accounts/middleware.SecondFactorMiddleware): a logged-in user whose session has
not passed a second factor sees only what the public sees; every private page sends them to
verify one, or to enrol one if they have none. So nobody reads non-public data with a password
alone, and a stolen password gives nothing the anonymous reader does not already have.

A *factor* is a confirmed TOTP device or a passkey. Recovery codes are a way back in when
the factor is lost, not a factor: a user with only recovery codes must enrol again.

Recovery codes are django-otp's static tokens, stored as they are (the package's model); a
database reader who has them still needs the password, and each works once.
"""

from __future__ import annotations

from django.db import transaction
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts import security_log

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "recovery codes"
# Recovery codes are printed in groups for reading aloud; the separators are ignored.
_CODE_SEPARATORS = str.maketrans("", "", " -\t")


def factors(user) -> list:
    """The user's confirmed second factors: TOTP apps and passkeys, oldest first."""
    apps = list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"))
    keys = list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk"))
    return apps + keys


def is_enrolled(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- enrolment -----------------------------------------------------------------------------


def start_totp(user) -> TOTPDevice:
    """A new, unconfirmed authenticator-app device for `user` (its key goes into the QR
    code); earlier unconfirmed ones are dropped, so an abandoned setup leaves nothing."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)


def confirm_totp(request, device: TOTPDevice, code: str) -> bool:
    """Confirms a new authenticator app with the first code it shows. The session counts as
    verified with it: the user has just proved they hold it."""
    code = (code or "").strip()
    if not code.isascii() or not code.isdigit():
        return False
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not device.verify_token(code):
            security_log.record("mfa.failed", user=device.user, request=request, kind="totp")
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    security_log.record(
        "mfa.enrolled", user=device.user, request=request, kind="totp", device_id=device.pk
    )
    _verified(request, device)
    return True


def new_recovery_codes(user, *, request=None) -> list[str]:
    """Replaces the user's recovery codes with RECOVERY_CODE_COUNT new ones and returns them
    (shown once; the old ones stop working)."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    security_log.record("mfa.recovery_codes_created", user=user, request=request)
    return codes


def passkey_enrolled(request, credential: WebAuthnCredential) -> None:
    """Called once a passkey is registered (accounts/webauthn.py)."""
    security_log.record(
        "mfa.enrolled",
        user=credential.user,
        request=request,
        kind="passkey",
        device_id=credential.pk,
    )


# --- verification --------------------------------------------------------------------------


def verify(request, code: str):
    """Checks a code typed by the logged-in user: six digits against their authenticator
    apps, anything else against their recovery codes (each works once). On success the
    session is verified with that device, which is returned; otherwise None. Wrong codes are
    throttled per device by django-otp (a growing delay) and logged."""
    user = request.user
    code = (code or "").translate(_CODE_SEPARATORS).lower()
    if not code or len(code) > 32 or not code.isascii() or not code.isalnum():
        security_log.record("mfa.failed", user=user, request=request, kind="malformed")
        return None
    if code.isdigit():
        candidates = TOTPDevice.objects.filter(user=user, confirmed=True)
        kind = "totp"
    else:
        candidates = StaticDevice.objects.filter(user=user, confirmed=True)
        kind = "recovery_code"
    for device in candidates.order_by("pk"):
        verified = verify_token(user, device.persistent_id, code)
        if verified is not None:
            if kind == "recovery_code":
                security_log.record(
                    "mfa.recovery_code_used",
                    user=user,
                    request=request,
                    left=recovery_codes_left(user),
                )
            else:
                security_log.record("mfa.verified", user=user, request=request, kind=kind)
            _verified(request, verified)
            return verified
    security_log.record("mfa.failed", user=user, request=request, kind=kind)
    return None


def passkey_verified(request, credential: WebAuthnCredential) -> None:
    """Called once a passkey has answered (accounts/webauthn.py); django-otp-webauthn has
    already marked the session verified."""
    security_log.record("mfa.verified", user=credential.user, request=request, kind="passkey")
    _verified(request, credential)


def _verified(request, device) -> None:
    from accounts import reauth

    if request is None:
        return
    if getattr(request.user, "otp_device", None) != device:
        otp_login(request, device)
    # Proving the second factor is also a fresh authentication (accounts/reauth.py).
    reauth.mark(request)


# --- loss and reset ------------------------------------------------------------------------


def remove_factor(user, device, *, request=None) -> None:
    """Removes one of the user's own factors (a lost phone, an old key). Removing the last
    one sends them back to enrolment on their next private page."""
    kind = "passkey" if isinstance(device, WebAuthnCredential) else "totp"
    device_id = device.pk
    device.delete()
    security_log.record(
        "mfa.device_removed", user=user, request=request, kind=kind, device_id=device_id
    )


def reset(user, *, by=None, request=None) -> int:
    """Removes every second factor and recovery code of `user` (they lost all of them): their
    next private page asks them to enrol again, with their password. The admin role's page
    and `manage.py reset_second_factor` call this; it is logged with who did it."""
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, WebAuthnCredential, StaticDevice):
            removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    security_log.record(
        "mfa.reset",
        user=by,
        request=request,
        target={"model": user._meta.label_lower, "id": user.pk},
        removed=removed,
    )
    return removed
