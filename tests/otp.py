"""What a staff member's authenticator app shows, for tests that log in for real."""

from __future__ import annotations

import time

from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice


def app_of(user) -> TOTPDevice:
    """The user's authenticator app (made on first use, as if they had enrolled)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    """The code the app shows now, or the next one if this one was already used (django-otp
    accepts one step ahead and refuses a step it has seen)."""
    device.refresh_from_db()
    step = max(int(time.time() - device.t0) // device.step, device.last_t + 1)
    return f"{hotp(device.bin_key, step, digits=device.digits):0{device.digits}d}"
