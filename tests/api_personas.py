"""Personas and helpers for the API tests.

Personas: the anonymous reader (`api`), a reader with an account but no staff rights
(`reader_api`), an editor (staff with the change permissions, `editor_api`), a staff member
without them (`staff_api`) and a superuser, the only publisher for now (`admin_api`). Each
authenticates with a token, as scripts do.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import digest_of
from tests.factories import StaffUserFactory, UserFactory

API = "/api/v1"


@pytest.fixture(autouse=True)
def fresh_throttle(settings):
    """Throttle counters live in the cache, which outlives a test: start each test from
    zero, with the rates high enough that no test but the throttling one meets them. (For
    every test, not only the API's: no test should see what another left in the cache.)"""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
    }
    settings.THROTTLE_PAGES = settings.THROTTLE_EXPORTS = "100000/minute"
    cache.clear()
    yield
    cache.clear()


def make_key(user, name: str = "tests") -> str:
    """A working API key for `user`, stored hashed as the token page stores it. Made
    directly rather than through `accounts.tokens.create_token`, which refuses non-staff
    users: the reader persona is a token of a user without staff rights."""
    key = f"ct_test-{user.username}-{ApiToken.objects.count()}-{'x' * 20}"
    now = timezone.now()
    ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:11],
        digest=digest_of(key),
        created_at=now,
        expires_at=now + timedelta(days=30),
    )
    return key


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {make_key(user)}")
    client.user = user
    return client


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def reader_api(db):
    return token_client(UserFactory(username="reader", password=None))


@pytest.fixture
def staff_api(db):
    """Staff without any model permission: reads like an editor, may not write."""
    return token_client(StaffUserFactory(username="staff-no-perms", password=None))


@pytest.fixture
def editor_api(db):
    editor = StaffUserFactory(username="api-editor", password=None)
    editor.user_permissions.set(Permission.objects.filter(codename__startswith="change_"))
    return token_client(editor)


@pytest.fixture
def admin_api(db):
    admin = StaffUserFactory(username="api-admin", password=None, is_superuser=True)
    return token_client(admin)


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
