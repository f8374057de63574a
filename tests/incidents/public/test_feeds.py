"""The Atom feed of the case list at /incidents/feed.atom: same filters as the list, newest
update first, published cases only, whoever asks."""

import datetime
import xml.etree.ElementTree as ET

import pytest

from cabar_tracker.publishing import PublicationState
from incidents.models import IncidentKind
from incidents.public import feeds
from tests.factories import DetentionFactory, IncidentFactory, PersonFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
FEED_URL = "/incidents/feed.atom"


def fetch(client, query: str = "") -> ET.Element:
    response = client.get(FEED_URL + (f"?{query}" if query else ""))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


def entry_titles(feed: ET.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title") for entry in feed.iter(f"{ATOM}entry")]


def test_it_lists_published_cases_newest_update_first(client):
    older = IncidentFactory(title="Updated first")
    newer = IncidentFactory(title="Updated last")
    IncidentFactory(title="DRAFT-MARKER", publication_state=PublicationState.DRAFT)
    older.save()
    newer.save()

    feed = fetch(client)

    assert feed.findtext(f"{ATOM}title") == "Cases"
    assert entry_titles(feed) == ["Updated last", "Updated first"]


def test_entries_carry_link_dates_and_summary(client):
    incident = IncidentFactory(title="A case", summary="Detained <at> the border & beaten.")

    (entry,) = fetch(client).iter(f"{ATOM}entry")

    assert entry.find(f"{ATOM}link").get("href") == f"http://testserver/incidents/{incident.slug}/"
    updated = datetime.datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
    published = datetime.datetime.fromisoformat(entry.findtext(f"{ATOM}published"))
    assert updated == incident.updated_at
    assert published == incident.published_at
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    # The plain-text summary is escaped once for HTML (and again for XML by the writer).
    assert summary.text == "Detained &lt;at&gt; the border &amp; beaten."


def test_it_applies_the_list_filters_and_names_them_in_the_title(client):
    match = IncidentFactory(title="Kyrgyz detained", kind=IncidentKind.DETENTION)
    DetentionFactory(incident=match, person=PersonFactory(citizenship="KG"))
    other = IncidentFactory(title="Uzbek detained", kind=IncidentKind.DETENTION)
    DetentionFactory(incident=other, person=PersonFactory(citizenship="UZ"))
    IncidentFactory(title="Mass detention", kind=IncidentKind.MASS_DETENTION)

    feed = fetch(client, "kind=detention&citizenship=KG")

    assert entry_titles(feed) == ["Kyrgyz detained"]
    assert feed.findtext(f"{ATOM}title") == "Cases: Detention · citizenship KG"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links["alternate"] == "http://testserver/incidents/?kind=detention&citizenship=KG"
    assert links["self"] == "http://testserver/incidents/feed.atom?kind=detention&citizenship=KG"


def test_it_never_shows_drafts_or_withheld_names_to_anonymous(client):
    IncidentFactory(title="DRAFT-INCIDENT", publication_state=PublicationState.DRAFT)
    published = IncidentFactory(title="Published", summary="Someone was detained.")
    DetentionFactory(
        incident=published, person=PersonFactory(name="WITHHELDNAME", identity_withheld=True)
    )

    response = client.get(FEED_URL)
    body = response.content.decode()

    assert "DRAFT-INCIDENT" not in body
    assert "WITHHELDNAME" not in body
    # The withheld name does not find the case either.
    assert entry_titles(fetch(client, "q=WITHHELDNAME")) == []


def test_it_is_public_even_for_staff(staff_client):
    # A feed is passed on and does not mark drafts: staff get the public feed too.
    IncidentFactory(title="Draft case", publication_state=PublicationState.DRAFT)
    published = IncidentFactory(title="Published case")
    DetentionFactory(
        incident=published,
        person=PersonFactory(citizenship="UZ"),
        publication_state=PublicationState.DRAFT,
    )

    assert entry_titles(fetch(staff_client)) == ["Published case"]
    # A draft detention does not make the case match a filter either.
    assert entry_titles(fetch(staff_client, "citizenship=UZ")) == []


def test_it_holds_at_most_fifty_entries(client, monkeypatch):
    assert feeds.FEED_LENGTH == 50
    monkeypatch.setattr(feeds, "FEED_LENGTH", 3)  # the same cut, with fewer rows to create
    IncidentFactory.create_batch(4)

    assert len(entry_titles(fetch(client))) == 3


def test_a_bad_parameter_is_a_400_naming_the_filter(client):
    response = client.get(FEED_URL + "?kind=bogus")

    assert response.status_code == 400
    assert "Kind" in response.content.decode()


def test_an_empty_filter_gives_a_valid_empty_feed(client):
    IncidentFactory(kind=IncidentKind.DETENTION)

    feed = fetch(client, "kind=disappearance")

    assert entry_titles(feed) == []
    assert feed.findtext(f"{ATOM}title") == "Cases: Enforced disappearance"
