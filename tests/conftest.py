"""Personas shared by the tests. The anonymous reader is pytest-django's `client`; the
superuser is its `admin_user` / `admin_client`. The API's personas (token clients) and the
staff side's (an editor and a reviewer in their groups) are in the two modules below, shared by
every app's tests."""

import time

import pytest
from django.test import Client
from django.utils import translation

from tests.factories import StaffUserFactory

pytest_plugins = ["tests.api_personas", "tests.staff_personas"]


@pytest.fixture
def staff_user(db):
    return StaffUserFactory(username="editor")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Hashing a password the production way takes ~0.2 s; tests only need it to work.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_by_default():
    # A test that switches to Russian must not leave it on for the next test.
    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def immediate_jobs(settings):
    # Background jobs run when queued, inside the test (tests/incidents/test_import_jobs.py
    # runs the real database worker too).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


_plain_force_login = Client.force_login


def force_login_with_second_factor(self, user, backend=None, *, second_factor=True):
    """`client.force_login` as a staff member really logs in: password, then a second factor
    (an authenticator app made for the test), which also counts as a fresh confirmation of
    identity (accounts/reauth.py). `second_factor=False` is a session that has passed the
    password only, as the second-factor tests need."""
    _plain_force_login(self, user, backend)
    if not second_factor:
        return
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.reauth import REAUTH_AT

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test app", confirmed=True)
    session = self.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[REAUTH_AT] = int(time.time())
    session.save()


@pytest.fixture(autouse=True)
def logins_pass_the_second_factor(monkeypatch):
    monkeypatch.setattr(Client, "force_login", force_login_with_second_factor)


@pytest.fixture(autouse=True)
def evidence_storage(settings, tmp_path):
    # Stored files (captures, attachments) go to a folder of the test's own, and a new
    # source is not captured: that would fetch its address (tests/evidence/ turn it on).
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CAPTURE_ON_CREATE = False
