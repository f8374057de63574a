"""The second factor for staff (accounts/mfa.py) and re-authentication for sensitive actions
(accounts/reauth.py), as staff meet them: real TOTP codes, recovery codes, the pages a
password-only session may and may not see, and every sensitive action asking again.

Passkeys are exercised in a real browser with a virtual authenticator
(tests/browser/test_second_factor_journey.py)."""

from __future__ import annotations

import io
import re
import time

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, SecurityEvent
from accounts.reauth import REAUTH_AT
from incidents.models import PublicationState
from people.models import Person
from tests.factories import IncidentFactory, PersonFactory
from tests.otp import code_for
from tests.test_one_door import person_form

PASSWORD = "correct horse battery staple"
DRAFT_MARKER = "Draftcase Secretmarker"


def events(name: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(event=name).order_by("pk"))


@pytest.fixture
def draft_case(db):
    return IncidentFactory(title=DRAFT_MARKER, publication_state=PublicationState.DRAFT)


@pytest.fixture
def password_only(editor):
    """The editor after typing the right password, before any second factor."""
    editor.set_password(PASSWORD)
    editor.save()
    client = Client()
    response = client.post(reverse("login"), {"username": editor.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def enrol_app(client: Client, user) -> TOTPDevice:
    page = client.get(reverse("second_factor_totp"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("second_factor_totp"), {"code": code_for(device)})
    assert response.status_code == 302, response.content
    return TOTPDevice.objects.get(pk=device.pk)


# --- a password alone shows nothing private ---------------------------------------------


def test_a_password_alone_sends_every_private_page_to_enrolment(password_only):
    for url in (
        reverse("staff:dashboard"),
        reverse("staff:review_queue"),
        reverse("api_token"),
        "/admin/",
        reverse("password_change"),
    ):
        response = password_only.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("second_factor")), url


def test_a_password_alone_reads_the_site_as_the_public_does(password_only, draft_case):
    response = password_only.get(reverse("incidents:incident_list"))
    page = response.content.decode()
    assert DRAFT_MARKER not in page
    assert "Finish logging in (second step)" in page
    assert response["Cache-Control"] == "private, no-store"
    api = password_only.get("/api/v1/incidents/").content.decode()
    assert DRAFT_MARKER not in api
    # The same user with a second factor sees the draft: the refusal above is the factor's.
    client = Client()
    client.force_login(
        Person._meta.apps.get_model("auth", "User").objects.get(username="erkin_editor")
    )
    assert DRAFT_MARKER in client.get("/api/v1/incidents/").content.decode()


def test_an_enrolled_user_is_asked_for_the_code_not_a_new_factor(editor, password_only):
    TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)
    response = password_only.get(reverse("staff:dashboard"))
    assert response["Location"].startswith(reverse("second_factor_verify"))
    # A stolen password cannot add the thief's own app to the account.
    for url in (reverse("second_factor_totp"), reverse("second_factor")):
        response = password_only.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("second_factor_verify"))
    assert TOTPDevice.objects.filter(user=editor).count() == 1


# --- enrolment and verification with real codes -----------------------------------------


def test_enrolling_an_app_shows_the_qr_code_then_the_recovery_codes_once(editor, password_only):
    page = password_only.get(reverse("second_factor_totp")).content.decode()
    assert "<svg" in page and "<path" in page
    key = re.search(r'class="totp-key">([A-Z2-7 ]+)<', page).group(1)
    device = TOTPDevice.objects.get(user=editor, confirmed=False)
    assert key.replace(" ", "") in __import__("base64").b32encode(device.bin_key).decode()

    wrong = password_only.post(reverse("second_factor_totp"), {"code": "000000"})
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    # django-otp throttles a device after a failure; its delay has to pass first.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)

    response = password_only.post(reverse("second_factor_totp"), {"code": code_for(device)})
    assert response["Location"] == reverse("second_factor")
    overview = password_only.get(reverse("second_factor")).content.decode()
    shown = re.findall(r"<li><code>([a-z0-9]+)</code></li>", overview)
    assert len(shown) == 10
    assert sorted(shown) == sorted(
        StaticToken.objects.filter(device__user=editor).values_list("token", flat=True)
    )
    # Shown once: the next visit lists how many are left, not the codes.
    again = password_only.get(reverse("second_factor")).content.decode()
    assert not any(code in again for code in shown)
    assert "10 recovery codes left" in again
    # The session passed the factor by proving it holds the app: the desk opens.
    assert password_only.get(reverse("staff:dashboard")).status_code == 200
    assert [e.details["kind"] for e in events("mfa.enrolled")] == ["totp"]
    assert len(events("mfa.recovery_codes_created")) == 1


def test_the_second_step_takes_the_app_s_code(editor, password_only, draft_case):
    device = TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)
    verify = reverse("second_factor_verify")
    wrong = password_only.post(verify, {"code": "123456", "next": "/staff/"})
    assert wrong.status_code == 400
    assert password_only.get(reverse("staff:dashboard")).status_code == 302
    # django-otp throttles a device after a failure; its delay has to pass first.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    response = password_only.post(verify, {"code": code_for(device), "next": "/staff/"})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert password_only.get(reverse("staff:dashboard")).status_code == 200
    assert DRAFT_MARKER in password_only.get("/api/v1/incidents/").content.decode()
    assert [e.details["kind"] for e in events("mfa.failed")] == ["totp"]
    assert [e.details["kind"] for e in events("mfa.verified")] == ["totp"]


def test_a_used_code_is_not_accepted_twice(editor, password_only):
    device = TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)
    code = code_for(device)
    assert password_only.post(reverse("second_factor_verify"), {"code": code}).status_code == 302
    other = Client()
    other.post(reverse("login"), {"username": editor.username, "password": PASSWORD})
    assert other.post(reverse("second_factor_verify"), {"code": code}).status_code == 400


def test_a_recovery_code_works_once_and_the_next_is_counted(editor, password_only):
    from accounts import mfa

    TOTPDevice.objects.create(user=editor, name="lost phone", confirmed=True)
    codes = mfa.new_recovery_codes(editor)
    spaced = f"{codes[0][:4]} {codes[0][4:]}"  # as read aloud from paper
    response = password_only.post(reverse("second_factor_verify"), {"code": spaced})
    assert response.status_code == 302
    assert mfa.recovery_codes_left(editor) == 9
    assert events("mfa.recovery_code_used")[0].details["left"] == 9

    again = Client()
    again.post(reverse("login"), {"username": editor.username, "password": PASSWORD})
    assert again.post(reverse("second_factor_verify"), {"code": codes[0]}).status_code == 400


@pytest.mark.parametrize("code", ["", "a\x00b", "١٢٣٤٥٦", "9" * 70, "'; drop table"])
def test_bad_codes_are_a_clear_refusal(editor, password_only, code):
    TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)
    response = password_only.post(reverse("second_factor_verify"), {"code": code})
    assert response.status_code == 400


# --- losing a factor, and the admin's reset ---------------------------------------------


def test_removing_a_factor_asks_again_and_is_logged(editor, editor_client):
    from accounts import mfa

    extra = TOTPDevice.objects.create(user=editor, name="old phone", confirmed=True)
    session = editor_client.session
    session[REAUTH_AT] = int(time.time()) - 3600
    session.save()
    url = reverse("second_factor_remove", args=["app", extra.pk])
    response = editor_client.post(url)
    assert response["Location"].startswith(reverse("reauthenticate"))
    assert TOTPDevice.objects.filter(pk=extra.pk).exists()

    session = editor_client.session
    session[REAUTH_AT] = int(time.time())
    session.save()
    assert editor_client.post(url).status_code == 302
    assert not TOTPDevice.objects.filter(pk=extra.pk).exists()
    assert mfa.is_enrolled(editor)  # the test's own app is still there
    assert events("mfa.device_removed")[0].details["device_id"] == extra.pk


def test_another_user_s_factor_is_not_found(editor_client, reviewer):
    theirs = TOTPDevice.objects.create(user=reviewer, name="phone", confirmed=True)
    response = editor_client.post(reverse("second_factor_remove", args=["app", theirs.pk]))
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(pk=theirs.pk).exists()


def test_the_admin_role_resets_a_colleague_who_lost_everything(
    admin_role_client, editor, editor_client
):
    page = admin_role_client.get(reverse("staff:accounts")).content.decode()
    assert editor.username in page
    response = admin_role_client.post(reverse("staff:reset_second_factor", args=[editor.pk]))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=editor).exists()
    (reset,) = events("mfa.reset")
    assert reset.username == "aida_admin"
    assert reset.details["target"] == {"model": "auth.user", "id": editor.pk}
    # The editor's open session lost its factor: the desk now asks them to enrol again.
    response = editor_client.get(reverse("staff:dashboard"))
    assert response["Location"].startswith(reverse("second_factor"))


def test_only_the_admin_role_resets(editor_client, reviewer):
    TOTPDevice.objects.create(user=reviewer, name="phone", confirmed=True)
    assert editor_client.get(reverse("staff:accounts")).status_code == 403
    response = editor_client.post(reverse("staff:reset_second_factor", args=[reviewer.pk]))
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=reviewer).exists()


def test_the_operator_resets_from_the_command_line(editor):
    TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)
    out = io.StringIO()
    call_command("reset_second_factor", editor.username, stdout=out)
    assert "Removed" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=editor).exists()
    assert events("mfa.reset")[0].details["via"] == "command"


# --- re-authentication for sensitive actions --------------------------------------------


def stale(client: Client) -> None:
    session = client.session
    session[REAUTH_AT] = int(time.time()) - 3600
    session.save()


def test_an_api_token_needs_a_fresh_confirmation(editor, editor_client):
    editor.set_password(PASSWORD)
    editor.save()
    editor_client.force_login(editor)  # a new password ends the old sessions
    stale(editor_client)
    response = editor_client.post(
        reverse("api_token"),
        {"name": "nightly", "days": 30},
        HTTP_REFERER="http://testserver/account/api-token/",
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("reauthenticate"))
    assert not ApiToken.objects.exists()

    device = TOTPDevice.objects.get(user=editor)
    confirm = reverse("reauthenticate")
    wrong = editor_client.post(
        confirm,
        {"password": "wrong password!", "code": code_for(device), "next": "/account/api-token/"},
    )
    assert wrong.status_code == 400
    assert events("reauth.failed")
    right = editor_client.post(
        confirm, {"password": PASSWORD, "code": code_for(device), "next": "/account/api-token/"}
    )
    assert right.status_code == 302 and right["Location"] == "/account/api-token/"
    assert events("reauth.succeeded")
    assert (
        editor_client.post(reverse("api_token"), {"name": "nightly", "days": 30}).status_code == 200
    )
    assert ApiToken.objects.filter(user=editor, name="nightly").exists()


def test_a_merge_needs_a_fresh_confirmation(reviewer_client):
    keep, merge = PersonFactory(name="Kanat Bekov"), PersonFactory(name="Kanat Bekow")
    stale(reviewer_client)
    response = reviewer_client.post(
        reverse("staff:person_merge", args=[keep.pk]),
        {"merge": merge.pk, "keep_version": keep.version, "merge_version": merge.version},
    )
    assert response["Location"].startswith(reverse("reauthenticate"))
    assert Person._base_manager.get(pk=merge.pk).archived_at is None


def test_showing_a_withheld_identity_needs_a_fresh_confirmation_and_saves_nothing(
    reviewer_client,
):
    person = PersonFactory(name="Withheld Personov", identity_withheld=True)
    stale(reviewer_client)
    edit = reverse("staff:person_edit", args=[person.pk])
    data = person_form(person, identity_withheld=None)
    response = reviewer_client.post(edit, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("reauthenticate"))
    assert Person.objects.get(pk=person.pk).identity_withheld
    assert not events("identity.shown")


def test_a_role_change_asks_again_whatever_the_door(editor, admin_role):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from accounts.reauth import ReauthenticationRequired
    from cabar_tracker.request_context import RequestIdMiddleware

    reviewers = Group.objects.get_or_create(name="reviewer")[0]

    def change_roles(request):
        # In a transaction, as a form with its idempotency key runs (the refused change
        # marks it for rollback).
        with transaction.atomic():
            editor.groups.add(reviewers)
        return HttpResponse()

    request = RequestFactory().post("/admin/auth/user/")
    request.user = admin_role
    request.session = {REAUTH_AT: int(time.time()) - 3600}
    with pytest.raises(ReauthenticationRequired):
        RequestIdMiddleware(change_roles)(request)
    assert not editor.groups.filter(pk=reviewers.pk).exists()
    request.session = {REAUTH_AT: int(time.time())}
    RequestIdMiddleware(change_roles)(request)
    assert editor.groups.filter(pk=reviewers.pk).exists()
    assert events("role.changed")[-1].username == "aida_admin"


def test_role_changes_are_logged_with_who_and_what(editor):
    reviewers = Group.objects.get_or_create(name="reviewer")[0]
    SecurityEvent.objects.filter(event="role.changed").delete()
    editor.groups.add(reviewers)
    editor.is_superuser = True
    editor.save()
    editor.groups.remove(reviewers)
    lines = events("role.changed")
    assert [
        line.details.get("added") or line.details.get("removed") or line.details.get("set")
        for line in lines
    ] == [
        ["reviewer"],
        {"is_superuser": True},
        ["reviewer"],
    ]
    assert all(line.details["target"]["id"] == editor.pk for line in lines)
