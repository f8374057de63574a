"""Staff roles: the groups the migration creates and the command that makes staff users."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from cabar_tracker.publishing import can_see_unpublished
from cabar_tracker.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual passphrase 42"


def create(username, role, monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    call_command(
        "create_staff_user", username, "--role", role, "--password-from-env", "STAFF_PASSWORD"
    )
    return get_user_model().objects.get(username=username)


def test_the_migration_creates_each_role_with_exactly_its_permissions():
    for role, expected in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        assert granted == set(expected), role


def test_an_editor_edits_but_does_not_publish(monkeypatch):
    editor = create("erkin", "editor", monkeypatch)
    assert editor.is_staff and not editor.is_superuser
    assert editor.has_perm("incidents.change_incident")
    assert editor.has_perm("people.add_person")
    assert not editor.has_perm("incidents.publish_record")
    assert not editor.has_perm("people.merge_person")
    assert not editor.has_perm("incidents.delete_incident")
    assert editor.check_password(PASSWORD)
    assert can_see_unpublished(editor)


def test_a_reviewer_publishes_reverts_and_merges(monkeypatch):
    reviewer = create("rahat", "reviewer", monkeypatch)
    assert reviewer.has_perm("incidents.publish_record")
    assert reviewer.has_perm("incidents.revert_record")
    assert reviewer.has_perm("people.merge_person")
    assert not reviewer.has_perm("auth.add_user")


def test_an_admin_also_manages_staff_accounts(monkeypatch):
    admin = create("aida", "admin", monkeypatch)
    assert admin.has_perm("auth.add_user")
    assert admin.has_perm("incidents.publish_record")


def test_it_refuses_an_existing_username_and_a_weak_password(monkeypatch):
    create("erkin", "editor", monkeypatch)
    with pytest.raises(CommandError, match="already exists"):
        create("erkin", "reviewer", monkeypatch)
    monkeypatch.setenv("WEAK", "123")
    with pytest.raises(CommandError):
        call_command("create_staff_user", "weak", "--role", "editor", "--password-from-env", "WEAK")
    assert not get_user_model().objects.filter(username="weak").exists()


def test_dry_run_creates_nothing(monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", PASSWORD)
    call_command(
        "create_staff_user",
        "nobody",
        "--role",
        "editor",
        "--password-from-env",
        "STAFF_PASSWORD",
        "--dry-run",
    )
    assert not get_user_model().objects.filter(username="nobody").exists()
