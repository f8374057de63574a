"""API tokens (accounts/tokens.py): hashed at rest, named, expiring, last-used noted,
revocable; the API accepts only a valid, unexpired token, and answers anything else 401 in
JSON."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import authenticate_key, create_token, digest_of, revoke_token
from tests.api_personas import API
from tests.factories import IncidentFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def aigul(db):
    return StaffUserFactory(username="aigul")


def get(key, path="/incidents/", scheme="Token"):
    return Client(HTTP_AUTHORIZATION=f"{scheme} {key}").get(f"{API}{path}")


def test_the_database_never_holds_the_key(aigul):
    token, key = create_token(user=aigul, name="export")
    assert key.startswith("ct_") and len(key) >= 40
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert key not in stored
    assert token.digest == digest_of(key) and token.digest in stored
    assert token.prefix in stored and token.prefix == key[: len(token.prefix)]
    # Two keys never share a digest, and a key made alike does not match.
    _other, other_key = create_token(user=aigul, name="export")
    assert other_key != key


def test_every_token_expires(aigul, settings):
    token, _key = create_token(user=aigul, name="export")
    assert token.expires_at - token.created_at == timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)
    with pytest.raises(ValueError):
        create_token(user=aigul, name="forever", days=settings.API_TOKEN_MAX_DAYS + 1)


def test_an_expired_token_is_a_401(aigul):
    draft = IncidentFactory(publication_state="draft")
    token, key = create_token(user=aigul, name="export", days=1)
    assert get(key, f"/incidents/{draft.pk}/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - timedelta(days=1, seconds=1),
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    response = get(key, f"/incidents/{draft.pk}/")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Token expired."}
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize(
    "key", ["ct_wrong", "0123456789abcdef0123456789abcdef01234567", "ct_" + "a" * 43]
)
def test_a_wrong_token_is_a_401_in_json(db, key):
    response = get(key)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_a_bearer_key_works_like_a_token(aigul):
    _token, key = create_token(user=aigul, name="generated client")
    assert get(key, scheme="Bearer").status_code == 200


def test_the_last_use_is_noted_at_most_once_a_minute(aigul):
    token, key = create_token(user=aigul, name="export")
    assert token.last_used_at is None
    get(key)
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    get(key)
    token.refresh_from_db()
    assert token.last_used_at == first_use
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    get(key)
    token.refresh_from_db()
    assert token.last_used_at > first_use


def test_a_revoked_token_stops_working_and_is_kept(aigul):
    token, key = create_token(user=aigul, name="export")
    revoke_token(token=token, user=aigul)
    assert get(key).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_token_of_an_inactive_user_stops_working(aigul):
    _token, key = create_token(user=aigul, name="export")
    aigul.is_active = False
    aigul.save()
    assert get(key).status_code == 401


def test_only_staff_get_tokens_and_only_owners_revoke(aigul):
    with pytest.raises(PermissionDenied):
        create_token(user=UserFactory(username="reader"), name="x")
    token, _key = create_token(user=aigul, name="export")
    with pytest.raises(PermissionDenied):
        revoke_token(token=token, user=StaffUserFactory(username="colleague"))


def test_the_authentication_query_reads_one_row_by_digest(aigul, django_assert_num_queries):
    _token, key = create_token(user=aigul, name="export")
    authenticate_key(key)  # the first use notes the time
    with django_assert_num_queries(1):
        user, token = authenticate_key(key)
    assert user == aigul and token.name == "export"


def test_the_command_prints_the_key_once(aigul, capsys):
    call_command("create_api_token", "aigul", "--name", "nightly export", "--days", "30")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    token = ApiToken.objects.get(user=aigul)
    assert token.digest == digest_of(key) and token.name == "nightly export"
    assert get(key).status_code == 200


def test_the_drf_tokens_in_clear_were_invalidated(db):
    """Migration accounts 0002 deleted them (their keys were readable in every copy of the
    database) and logged each: DRF's table is empty and nothing reads it."""
    from rest_framework.authtoken.models import Token

    staff = StaffUserFactory(username="old-script")
    old = Token.objects.create(user=staff)
    assert get(old.key).status_code == 401


def test_the_admin_lists_tokens_read_only_without_their_digest(admin_client, aigul):
    token, key = create_token(user=aigul, name="export")
    page = admin_client.get("/admin/accounts/apitoken/")
    assert page.status_code == 200
    assert "export" in page.content.decode() and token.prefix in page.content.decode()
    detail = admin_client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    assert token.digest not in detail and key not in detail
    assert admin_client.get("/admin/accounts/apitoken/add/").status_code == 403
    # DRF's clear-text tokens are no longer offered.
    assert admin_client.get("/admin/authtoken/tokenproxy/").status_code == 404
