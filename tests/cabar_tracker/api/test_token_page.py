"""The staff page to create, list and revoke one's own API tokens: /account/api-token/."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import create_token
from tests.api_personas import API
from tests.factories import IncidentFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/account/api-token/"
KEY = re.compile(r'<code id="api-token-key">(ct_[A-Za-z0-9_-]+)</code>')


def create(client, name="nightly export", days=30):
    return client.post(URL, {"name": name, "days": days})


def key_in(response) -> str:
    return KEY.search(response.content.decode()).group(1)


def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_is_for_staff_only(client):
    client.force_login(UserFactory(username="reader", password=None))

    assert client.get(URL).status_code == 403
    assert create(client).status_code == 403
    assert not ApiToken.objects.exists()


def test_it_shows_a_new_key_once_and_stores_only_its_digest(staff_client, staff_user):
    assert "no API token" in staff_client.get(URL).content.decode()

    created = create(staff_client)
    key = key_in(created)
    token = ApiToken.objects.get(user=staff_user)
    later = staff_client.get(URL).content.decode()

    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    assert key not in later
    # The list names the token by its name and the key's first characters, nothing more.
    assert "nightly export" in later
    assert f"{token.prefix}…" in later
    assert key.startswith(token.prefix)
    assert "never" in later  # not used yet
    # The database has no copy of the key, in any column.
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert key not in {str(value) for value in stored.values()}


def test_the_token_works_until_it_is_revoked(staff_client, staff_user):
    key = key_in(create(staff_client))
    token = ApiToken.objects.get(user=staff_user)
    draft = IncidentFactory(publication_state="draft")
    script = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert script.get(f"{API}/incidents/{draft.pk}/").status_code == 200
    assert "Revoke" in staff_client.get(URL).content.decode()

    response = staff_client.post(reverse("api_token_revoke", args=[token.pk]))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = script.get(f"{API}/incidents/{draft.pk}/")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid token."}
    assert "revoked" in staff_client.get(URL).content.decode()


def test_a_member_of_staff_has_several_tokens_and_revokes_one(staff_client, staff_user):
    first = key_in(create(staff_client, name="first script"))
    second = key_in(create(staff_client, name="second script"))
    revoked = ApiToken.objects.get(name="first script")

    staff_client.post(reverse("api_token_revoke", args=[revoked.pk]))

    assert Client(HTTP_AUTHORIZATION=f"Token {first}").get(f"{API}/incidents/").status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Token {second}").get(f"{API}/incidents/").status_code == 200


def test_the_page_shows_created_last_used_and_expiry(staff_client, staff_user):
    token, key = create_token(user=staff_user, name="dashboard feed", days=7)
    Client(HTTP_AUTHORIZATION=f"Token {key}").get(f"{API}/incidents/")
    token.refresh_from_db()

    page = staff_client.get(URL).content.decode()

    assert token.last_used_at is not None
    assert f'datetime="{token.created_at.isoformat()}"' in page
    assert f'datetime="{token.last_used_at.isoformat()}"' in page
    assert f'datetime="{token.expires_at.isoformat()}"' in page
    assert token.expires_at - token.created_at == timedelta(days=7)


def test_nobody_revokes_another_users_token(staff_client):
    other, key = create_token(user=StaffUserFactory(username="colleague"), name="theirs")

    response = staff_client.post(reverse("api_token_revoke", args=[other.pk]))

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get(f"{API}/incidents/").status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "days": 30}, "name"),
        ({"name": "   ", "days": 30}, "name"),
        ({"name": "script", "days": 10_000}, "days"),
        ({"name": "script", "days": "forever"}, "days"),
        ({"name": "a\x00b", "days": 30}, "name"),
    ],
)
def test_bad_input_is_a_400_and_makes_no_token(staff_client, data, field):
    response = staff_client.post(URL, data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_revoking_needs_a_post_and_an_existing_token(staff_client, staff_user):
    token, _key = create_token(user=staff_user, name="script")
    assert staff_client.get(reverse("api_token_revoke", args=[token.pk])).status_code == 405
    assert staff_client.post(f"{URL}{2**63}/revoke/").status_code == 404
    assert staff_client.post(reverse("api_token_revoke", args=[token.pk + 1])).status_code == 404


def test_an_expired_token_is_listed_as_expired_and_refused(staff_client, staff_user):
    token, key = create_token(user=staff_user, name="old script", days=1)
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - timedelta(days=2), expires_at=timezone.now() - timedelta(days=1)
    )

    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get(f"{API}/incidents/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Token expired."}
    assert "expired" in staff_client.get(URL).content.decode()


def test_it_needs_the_csrf_token(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)

    assert create(client).status_code == 403
    assert not ApiToken.objects.exists()


def test_the_list_has_a_fixed_number_of_queries(
    staff_client, staff_user, django_assert_num_queries
):
    for number in range(5):
        create_token(user=staff_user, name=f"script {number}")
    staff_client.get(URL)  # notes the session's activity, if due

    # 1 session, 2 user, 3 the user's tokens.
    with django_assert_num_queries(4):
        response = staff_client.get(URL)
    assert response.content.decode().count("script ") >= 5
