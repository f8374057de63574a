"""Passwords: at least 12 characters, checked by Django's validators on every door."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("password", ["ed3ed3ed3", "ed3ed3ed3ed", "Tr0ub4dor&3"])
def test_a_password_under_12_characters_is_refused(password):
    with pytest.raises(ValidationError) as error:
        validate_password(password)
    assert "at least 12 characters" in " ".join(error.value.messages)


def test_a_long_unusual_password_passes():
    validate_password("ed3ed3ed3-kettle-lantern")


def test_the_factories_password_passes():
    validate_password("correct horse battery staple")


def test_the_minimum_cannot_be_configured_below_12(monkeypatch):
    import importlib

    from cabar_tracker import settings as settings_module

    monkeypatch.setenv("PASSWORD_MIN_LENGTH", "8")
    try:
        reloaded = importlib.reload(settings_module)
        assert reloaded.PASSWORD_MIN_LENGTH == 12
        monkeypatch.setenv("PASSWORD_MIN_LENGTH", "16")
        assert importlib.reload(settings_module).PASSWORD_MIN_LENGTH == 16
    finally:
        monkeypatch.delenv("PASSWORD_MIN_LENGTH")
        importlib.reload(settings_module)


def test_the_staff_account_command_refuses_a_short_password(monkeypatch):
    monkeypatch.setenv("SHORT", "ed3ed3ed3")
    with pytest.raises(CommandError, match="at least 12 characters"):
        call_command(
            "create_staff_user", "aigul", "--role", "editor", "--password-from-env", "SHORT"
        )


def test_the_password_change_page_refuses_a_short_password(client):
    user = StaffUserFactory(username="aigul")
    client.force_login(user)
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "correct horse battery staple",
            "new_password1": "ed3ed3ed3",
            "new_password2": "ed3ed3ed3",
        },
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("correct horse battery staple")
