"""Personas shared by the tests. The anonymous reader is pytest-django's `client`; the
superuser is its `admin_user` / `admin_client`. The API's personas (token clients) and the
staff side's (an editor and a reviewer in their groups) are in the two modules below, shared by
every app's tests."""

import pytest
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


@pytest.fixture(autouse=True)
def evidence_storage(settings, tmp_path):
    # Stored files (captures, attachments) go to a folder of the test's own, and a new
    # source is not captured: that would fetch its address (tests/evidence/ turn it on).
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CAPTURE_ON_CREATE = False
