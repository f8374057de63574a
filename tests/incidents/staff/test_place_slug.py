"""A new place's slug is suggested from its name: left empty, it is made from the name, unique
and transliterated (incidents.staff.forms.LocationForm); static/js/staff_forms.js fills it in
as the name is typed (tests/browser/test_place_slug.py)."""

import pytest
from django.urls import reverse

from incidents.models import Location
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db


def new_place(**changes) -> dict:
    data = {"name": "Ak Zhol", "slug": "", "kind": "border_crossing", "country": "KZ"}
    data.update(changes)
    return data


def test_an_empty_slug_is_made_from_the_name(editor_client):
    response = editor_client.post(reverse("staff:location_add"), new_place())
    assert response.status_code == 302, response.content.decode()
    assert Location.objects.get(name="Ak Zhol").slug == "ak-zhol"


def test_the_slug_made_is_not_one_already_taken(editor_client):
    LocationFactory(name="Ak Zhol", slug="ak-zhol")
    response = editor_client.post(reverse("staff:location_add"), new_place())
    assert response.status_code == 302, response.content.decode()
    assert Location.objects.filter(name="Ak Zhol").order_by("pk").last().slug == "ak-zhol-2"


def test_a_name_in_cyrillic_gives_a_latin_slug(editor_client):
    response = editor_client.post(reverse("staff:location_add"), new_place(name="Ак Жол"))
    assert response.status_code == 302, response.content.decode()
    assert Location.objects.get(name="Ак Жол").slug == "ak-zhol"


def test_a_slug_typed_in_is_kept_and_a_taken_one_refused(editor_client):
    response = editor_client.post(reverse("staff:location_add"), new_place(slug="checkpoint"))
    assert response.status_code == 302
    assert Location.objects.get(name="Ak Zhol").slug == "checkpoint"
    response = editor_client.post(reverse("staff:location_add"), new_place(slug="checkpoint"))
    assert response.status_code == 400
    assert "slug" in response.context["form"].errors


def test_a_name_with_nothing_to_make_a_slug_of_gets_a_fallback(editor_client):
    response = editor_client.post(reverse("staff:location_add"), new_place(name="???"))
    assert response.status_code == 302, response.content.decode()
    assert Location.objects.get(name="???").slug == "place"


def test_without_a_name_the_form_names_the_name_not_the_slug(editor_client):
    response = editor_client.post(reverse("staff:location_add"), new_place(name=""))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name"}


def test_the_new_place_form_tells_the_script_where_the_name_is(editor_client):
    body = editor_client.get(reverse("staff:location_add")).text
    assert 'data-slug-from="id_name"' in body
    assert "Left empty, it is made from the name." in body
    assert "js/staff_forms" in body


def test_an_existing_place_keeps_its_slug_required(editor_client):
    place = LocationFactory(slug="shymkent")
    page = editor_client.get(reverse("staff:location_edit", kwargs={"pk": place.pk}))
    assert "data-slug-from" not in page.text
    assert page.context["form"].fields["slug"].required
