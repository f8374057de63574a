"""Error pages: styled, helpful, and never repeating the address that was asked for."""

import pytest
from django.template.loader import render_to_string

from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_the_404_page_has_the_site_layout_and_does_not_echo_the_address(client):
    PersonFactory(slug="withheld-secretname", identity_withheld=True, publication_state="draft")
    response = client.get("/people/withheld-secretname/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert "Detention case tracker" in page
    assert "secretname" not in page


def test_a_logged_in_reader_who_is_not_staff_gets_the_403_page(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("reader"))
    response = client.get("/staff/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_the_500_page_renders_without_a_request():
    assert "Something went wrong" in render_to_string("500.html")
