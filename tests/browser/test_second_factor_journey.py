"""A new staff member's first login in a real browser, with a virtual security key
(Chromium's WebAuthn test authenticator, driven over the DevTools protocol): the password
opens nothing private; they add a passkey and are shown their recovery codes once; the next
login asks for the key; adding an authenticator app asks them to confirm with the key first,
then takes a real code from the QR code's key.

Screenshots in test-artifacts/screenshots/ (names starting "mfa-")."""

from __future__ import annotations

import base64
import io
import re
import time

import pytest
from django.core.management import call_command
from django_otp.oath import hotp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from accounts.models import SecurityEvent
from cabar_tracker.roles import EDITOR
from tests.browser.test_staff_journey import ensure_role_group

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long passphrase for the key test"
USERNAME = "nazira_editor"


@pytest.fixture
def new_editor(monkeypatch, settings, live_server):
    # The passkey belongs to the test server's origin (accounts/webauthn.py).
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    monkeypatch.setenv("KEY_TEST_PASSWORD", PASSWORD)
    ensure_role_group(EDITOR)
    call_command(
        "create_staff_user",
        USERNAME,
        role=EDITOR,
        password_from_env="KEY_TEST_PASSWORD",
        stdout=io.StringIO(),
    )


def add_security_key(page) -> str:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    found = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return found["authenticatorId"]


def enter_password(visitor) -> None:
    page = visitor.page
    visitor.open("/accounts/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_new_editor_adds_a_security_key_and_logs_in_with_it(visitor, new_editor):
    page = visitor.page
    add_security_key(page)

    enter_password(visitor)
    # No second factor yet: the desk sends them to add one, and shows nothing private.
    expect(page.get_by_role("heading", name="Second factor", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/second-factor/"))
    visitor.screenshot("mfa-01-enrol")

    page.get_by_role("button", name="Add a passkey or security key").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".code-list code").all_inner_texts()
    assert len(codes) == 10
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert set(codes) == stored
    assert WebAuthnCredential.objects.filter(user__username=USERNAME, confirmed=True).count() == 1
    visitor.screenshot("mfa-02-recovery-codes")

    page.get_by_role("link", name="Staff desk").first.click()
    expect(page.get_by_role("navigation", name="Staff")).to_contain_text(f"Logged in as {USERNAME}")
    page.get_by_role("button", name="Log out").click()

    # The next login: password, then the key.
    enter_password(visitor)
    expect(page.get_by_role("heading", name="Second step")).to_be_visible()
    visitor.screenshot("mfa-03-second-step")
    page.get_by_role("button", name="Use my passkey or security key").click()
    expect(page.get_by_role("navigation", name="Staff")).to_contain_text(f"Logged in as {USERNAME}")

    # Adding an app to a protected account: confirm with the key first (a fresh login
    # counts, so make it old).
    from django.contrib.sessions.models import Session

    from accounts.reauth import REAUTH_AT

    for session in Session.objects.all():
        data = session.get_decoded()
        if REAUTH_AT in data:
            data[REAUTH_AT] = int(time.time()) - 3600
            session.session_data = Session.objects.encode(data)
            session.save()
    visitor.open("/accounts/second-factor/app/")
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    visitor.screenshot("mfa-04-confirm")
    page.get_by_role("button", name="Confirm with my passkey or security key").click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    expect(page.locator(".qr-code svg")).to_be_visible()
    visitor.screenshot("mfa-05-app")
    key = page.locator(".totp-key").inner_text().replace(" ", "")
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    code = f"{hotp(secret, int(time.time()) // 30, digits=6):06d}"
    page.get_by_role("textbox", name="Code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your authenticator app is set up.")).to_be_visible()
    expect(page.locator(".factor-list li")).to_have_count(2)

    logged = list(SecurityEvent.objects.order_by("pk").values_list("event", flat=True))
    for event in ("mfa.enrolled", "mfa.recovery_codes_created", "mfa.verified"):
        assert event in logged
    visitor.assert_clean()
