"""A page given a parameter it does not know still renders, and says which one it ignored;
an export or the feed, saved without being looked at, refuses it. The links the pages make
themselves (facets, sorting, pagination, exports, feed) never carry one."""

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

NOTE = 'class="message message-warning ignored-parameters"'


def note_of(response) -> str | None:
    page = response.content.decode()
    match = re.search(NOTE + r"[^>]*>([^<]*)<", page)
    return unescape(match.group(1)) if match else None


def test_the_case_list_renders_with_a_note_naming_the_ignored_parameter(client):
    IncidentFactory(title="Almaty case")
    IncidentFactory(title="Shymkent case")

    response = client.get(reverse("incidents:incident_list"), {"palce": "almaty"})

    assert response.status_code == 200
    assert "“palce”" in note_of(response)
    page = response.content.decode()
    assert "Almaty case" in page and "Shymkent case" in page
    # The page's own links leave the unknown parameter out.
    assert "palce" not in page.replace(note_of(response), "")


def test_the_note_names_every_ignored_parameter_in_russian_too(client):
    response = client.get(
        reverse("incidents:incident_list"),
        {"palce": "almaty", "utm_source": "mail"},
        HTTP_ACCEPT_LANGUAGE="ru",
    )

    note = note_of(response)
    assert "“palce”" in note and "“utm_source”" in note
    assert "параметр" in note


@pytest.mark.parametrize(
    "page",
    [
        lambda: reverse("incidents:statement_list"),
        lambda: reverse("incidents:search"),
        lambda: IncidentFactory().get_absolute_url(),
        lambda: PersonFactory().get_absolute_url(),
        lambda: StatementFactory().get_absolute_url(),
        lambda: IncidentFactory().location.get_absolute_url(),
        lambda: reverse("incidents:about"),
    ],
)
def test_every_public_page_notes_an_ignored_parameter(client, page):
    response = client.get(page(), {"palce": "almaty"})

    assert response.status_code == 200
    assert "“palce”" in note_of(response)


def test_a_known_parameter_brings_no_note(client):
    IncidentFactory(location=LocationFactory(slug="almaty"))

    for url, query in (
        (reverse("incidents:incident_list"), {"place": "almaty", "page": "1"}),
        (reverse("incidents:statement_list"), {"kind": "claim", "speaker": ""}),
        (reverse("incidents:search"), {"q": "almaty"}),
    ):
        assert note_of(client.get(url, query)) is None, url


@pytest.mark.parametrize(
    "name", ["incidents:incidents_csv", "incidents:detentions_csv", "incidents:incidents_json"]
)
def test_an_export_refuses_an_unknown_parameter_naming_it(client, name):
    IncidentFactory()

    response = client.get(reverse(name), {"palce": "almaty"})

    assert response.status_code == 400
    assert "palce" in response.content.decode()


def test_the_feed_refuses_an_unknown_parameter_naming_it(client):
    response = client.get(reverse("incidents:incident_feed"), {"palce": "almaty"})

    assert response.status_code == 400
    assert "palce" in response.content.decode()


def test_every_link_of_the_case_list_is_known_where_it_leads(client):
    """Facets, sorting, pagination, exports and the feed: each link the list makes (with
    several filters chosen) answers 200 with no note."""
    almaty = LocationFactory(name="Almaty", slug="almaty")
    for number in range(30):
        DetentionFactory(incident=IncidentFactory(location=almaty, title=f"Case {number}"))
    list_url = reverse("incidents:incident_list")
    response = client.get(
        list_url, {"place": "almaty", "kind": "detention", "citizenship": "KG", "q": "Case"}
    )
    links = {
        unescape(href)
        for href in re.findall(r'href="([^"]+)"', response.content.decode())
        if href.startswith(("?", "/incidents/?", "/incidents/export", "/incidents/detentions"))
        or href.startswith("/incidents/feed")
    }
    assert len(links) > 10

    for link in sorted(links):
        url = list_url + link if link.startswith("?") else link
        followed = client.get(url)
        assert followed.status_code == 200, (url, followed.content[:300])
        if followed["Content-Type"].startswith("text/html"):
            assert note_of(followed) is None, url
