"""The staff page to create and revoke one's own API token: /account/api-token/."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.api_personas import API
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/account/api-token/"


def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_is_for_staff_only(client):
    client.force_login(UserFactory(username="reader", password=None))

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "create"}).status_code == 403
    assert not Token.objects.exists()


def test_it_shows_a_new_token_once(staff_client, staff_user):
    assert "no API token" in staff_client.get(URL).content.decode()

    created = staff_client.post(URL, {"action": "create"})
    token = Token.objects.get(user=staff_user)
    later = staff_client.get(URL)

    assert token.key in created.content.decode()
    assert "no-store" in created["Cache-Control"] or "max-age=0" in created["Cache-Control"]
    assert token.key not in later.content.decode()
    assert "Revoke" in later.content.decode()


def test_the_token_works_until_it_is_revoked(staff_client, staff_user):
    staff_client.post(URL, {"action": "create"})
    key = Token.objects.get(user=staff_user).key
    draft = IncidentFactory(publication_state="draft")
    script = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert script.get(f"{API}/incidents/{draft.pk}/").status_code == 200

    response = staff_client.post(URL, {"action": "revoke"})

    assert response.status_code == 302
    assert not Token.objects.filter(user=staff_user).exists()
    assert script.get(f"{API}/incidents/{draft.pk}/").status_code == 401


def test_it_needs_the_csrf_token(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)

    assert client.post(URL, {"action": "create"}).status_code == 403
    assert not Token.objects.exists()
