"""The security log page, /staff/security-log/: for the admin role only; searched by user,
kind of event, address and days; paged."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("staff:security_log")


def event(name="login.failed", username="aigul", address="203.0.113.7", days_ago=0, **details):
    return SecurityEvent.objects.create(
        event=name,
        username=username,
        address=address,
        request_id="r" * 32,
        created_at=timezone.now() - timedelta(days=days_ago),
        details=details,
    )


def rows(response) -> int:
    return response.content.decode().count("<tr>") - 1  # the header row


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["editor_client", "reviewer_client", "staff_client"])
def test_editors_and_reviewers_are_refused(request, persona):
    event()
    response = request.getfixturevalue(persona).get(URL)
    assert response.status_code == 403
    assert "203.0.113.7" not in response.content.decode()


def test_a_reader_without_staff_rights_is_refused(client):
    client.force_login(UserFactory(username="reader"))
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("persona", ["admin_role_client", "admin_client"])
def test_the_admin_role_and_superusers_read_it(request, persona):
    event(path="/accounts/login/")
    response = request.getfixturevalue(persona).get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Login failed" in page and "login.failed" in page
    assert "aigul" in page and "203.0.113.7" in page and "r" * 32 in page
    assert "/accounts/login/" in page


def test_the_admin_menu_offers_it_and_others_do_not_see_it(admin_role_client, editor_client):
    assert f'href="{URL}"' in admin_role_client.get(reverse("staff:dashboard")).content.decode()
    assert f'href="{URL}"' not in editor_client.get(reverse("staff:dashboard")).content.decode()


def test_it_searches_by_user_event_address_and_days(admin_role_client):
    event(username="aigul", address="203.0.113.7")
    event(username="bolot", address="198.51.100.1", name="login.succeeded")
    event(username="aigul", address="198.51.100.1", name="token.created", days_ago=3)
    event(username="", address="192.0.2.9", name="login.throttled", days_ago=10)
    today = timezone.now().date()

    def found(**query):
        response = admin_role_client.get(URL, query)
        assert response.status_code == 200, response.context["form"].errors
        return [(e.event, e.username) for e in response.context["page"].object_list]

    # And the admin's own login, and the roles their account and the personas were given.
    assert len([e for e in found() if e[0] != "role.changed"]) == 5
    assert found(user="aigul") == [("login.failed", "aigul"), ("token.created", "aigul")]
    assert found(event="login.throttled") == [("login.throttled", "")]
    assert found(address="198.51.100.1") == [
        ("login.succeeded", "bolot"),
        ("token.created", "aigul"),
    ]
    assert found(date_from=str(today - timedelta(days=4)), date_to=str(today - timedelta(days=2)))
    assert found(
        date_from=str(today - timedelta(days=4)), date_to=str(today - timedelta(days=2))
    ) == [("token.created", "aigul")]
    assert found(user="aigul", event="token.created", address="198.51.100.1") == [
        ("token.created", "aigul")
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"address": "not-an-address"}, "address"),
        ({"event": "made.up"}, "event"),
        ({"date_from": "2026-13-45"}, "date_from"),
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "__all__"),
        ({"user": "x" * 151}, "user"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(admin_role_client, query, field):
    response = admin_role_client.get(URL, query)
    assert response.status_code == 400
    assert field in response.context["form"].errors


def test_it_pages_fifty_events_newest_first_keeping_the_filters(admin_role_client):
    for number in range(120):
        event(username="aigul", n=number)
    first = admin_role_client.get(URL, {"user": "aigul"})
    assert [e.details["n"] for e in first.context["page"].object_list][:2] == [119, 118]
    assert "user=aigul&amp;page=2" in first.content.decode()
    last = admin_role_client.get(URL, {"user": "aigul", "page": 3})
    assert len(last.context["page"].object_list) == 20
    # A page past the end, or not a number, is the nearest page, not an error.
    assert admin_role_client.get(URL, {"page": 10**30}).status_code == 200
    assert admin_role_client.get(URL, {"page": "²"}).status_code == 200


@pytest.mark.parametrize("count", [1, 60])
def test_the_page_has_a_fixed_number_of_queries(
    admin_role_client, django_assert_max_num_queries, count
):
    for number in range(count):
        event(n=number)
    admin_role_client.get(URL)  # notes the session's activity, if due
    # 1 session, 2 user, 3 is the user in the admin role, 4 the count, 5 the page of
    # events, 6-7 the user's and their groups' permissions (the menu's perms.*), 8 the
    # groups named in the menu.
    with django_assert_max_num_queries(9):
        response = admin_role_client.get(URL, {"event": "login.failed"})
    assert response.status_code == 200


def test_it_stores_nothing_secret(admin_role_client, client):
    from accounts.tokens import create_token

    _token, key = create_token(user=admin_role_client.get(URL).wsgi_request.user, name="x")
    client.post(reverse("login"), {"username": "aida_admin", "password": "guess-secret-42"})
    page = admin_role_client.get(URL).content.decode()
    stored = str(list(SecurityEvent.objects.values()))
    for secret in (key, "guess-secret-42", admin_role_client.cookies["sessionid"].value):
        assert secret not in page and secret not in stored
