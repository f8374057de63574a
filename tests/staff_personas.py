"""Personas of the staff side: an editor and a reviewer, in the groups the roles migration
creates, each with a logged-in client."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.factories import StaffUserFactory


def _member_of(role: str, username: str):
    user = StaffUserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def editor(db):
    return _member_of("editor", "erkin_editor")


@pytest.fixture
def reviewer(db):
    return _member_of("reviewer", "rahat_reviewer")


@pytest.fixture
def editor_client(editor):
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def reviewer_client(reviewer):
    client = Client()
    client.force_login(reviewer)
    return client


@pytest.fixture
def admin_role(db):
    """A member of the admin role: staff accounts and the Django admin, not a superuser."""
    return _member_of("admin", "aida_admin")


@pytest.fixture
def admin_role_client(admin_role):
    client = Client()
    client.force_login(admin_role)
    return client
