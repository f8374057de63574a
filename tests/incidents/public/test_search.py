"""Site search (`/search/?q=`): names in any script and spelling, texts of incidents and
statements, places and organizations, grouped by kind, best first, and never anything the
reader may not see. The anonymous reader is pytest-django's `client`."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents.public import search
from people.models import NameKind
from tests.factories import (
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
    PersonNameFactory,
    PublicOrganizationFactory,
    PublicPlaceFactory,
    StaffUserFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationState.DRAFT
SEARCH = reverse("incidents:search")


def results_page(client, query: str) -> str:
    response = client.get(SEARCH, {"q": query})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def ruzakhunov(db):
    person = PersonFactory(
        name="Vikram Ruzakhunov", slug="vikram-ruzakhunov", occupation="Jazz pianist"
    )
    incident = IncidentFactory(
        title="Detention of Vikram Ruzakhunov in Almaty",
        summary="A jazz pianist was detained during the clashes.",
    )
    DetentionFactory(incident=incident, person=person)
    return person


# --- names across scripts ---------------------------------------------------------------------


@pytest.mark.parametrize("query", ["Рузахунов", "Ruzakhunov", "Ruzahunov", "RUZAKHUNOV"])
def test_it_finds_a_person_by_any_spelling(client, ruzakhunov, query):
    page = results_page(client, query)

    assert f'<a href="{ruzakhunov.get_absolute_url()}">Vikram Ruzakhunov</a>' in page


def test_it_finds_a_misspelt_name(client, ruzakhunov):
    # "Ruzakunov" drops a letter the key folding cannot restore: trigram similarity on
    # PostgreSQL, the bounded letter-triple pass scored by name_similarity on SQLite.
    PersonFactory(name="Baialy Torogeldiev")

    people = search.search_people(None, "Ruzakunov")

    assert list(people) == [ruzakhunov]
    assert ruzakhunov.get_absolute_url() in results_page(client, "Ruzakunov")


def test_the_misspelling_pass_finds_keys_by_their_rarest_letter_triples(db):
    # Many keys share the common triples of "Ruzakunov" ("nov", "uno"); the one sharing
    # the rare ones is found through the index whichever triples are looked up first.
    for number in range(6):
        PersonFactory(name=f"Aibek Unov{'a' * number}")
    wanted = PersonFactory(name="Vikram Ruzakhunov")

    with CaptureQueriesContext(connection) as captured:
        people = search.search_people(None, "Ruzakunov")

    assert list(people) == [wanted]
    if connection.vendor == "sqlite":
        (near_misses,) = [q["sql"] for q in captured.captured_queries if "CASE WHEN" in q["sql"]]
        assert "people_person_key MATCH" in near_misses


def test_a_misspelt_name_finds_the_persons_incidents_too(ruzakhunov):
    results = search.search(None, "Ruzakunov")

    assert [i.title for i in results.incidents] == ["Detention of Vikram Ruzakhunov in Almaty"]


def test_it_does_not_take_other_names_for_misspellings(ruzakhunov):
    PersonFactory(name="Baialy Torogeldiev")

    assert list(search.search_people(None, "Torogeldiev")) != [ruzakhunov]
    assert ruzakhunov not in search.search_people(None, "Ruslan Tokhtarov").records


def test_it_finds_a_person_by_a_name_variant(client):
    person = PersonFactory(name="Emil Dzhuraev")
    PersonNameFactory(person=person, name="Эмиль Джураев", kind=NameKind.NATIVE_SCRIPT)

    assert list(search.search_people(None, "Джураев")) == [person]
    assert list(search.search_people(None, "Djuraev")) == [person]


def test_a_name_someone_was_mistaken_for_does_not_find_them(ruzakhunov):
    yuburov = PersonFactory(name="Zakir Yuburov")
    PersonNameFactory(
        person=ruzakhunov,
        name="Zakir Yuburov",
        kind=NameKind.MISIDENTIFIED_AS,
        other_person=yuburov,
    )

    assert list(search.search_people(None, "Yuburov")) == [yuburov]


def test_it_ranks_the_closest_name_first(db):
    near = PersonFactory(name="Ruzakhunova Aigul")
    exact = PersonFactory(name="Ruzakhunov")

    assert list(search.search_people(None, "Ruzakhunov")) == [exact, near]


# --- texts, places, organizations ---------------------------------------------------------


def test_it_searches_incident_texts_and_statements(client):
    IncidentFactory(title="Checks in Shymkent", summary="38 were released after checks.")
    IncidentFactory(title="Other case", description="Relatives protested at the embassy.")
    IncidentFactory(title="Unrelated case")
    StatementFactory(text="The ministry said the checks were routine.")
    StatementFactory(text="Nothing relevant.")

    results = search.search(None, "checks")

    assert [i.title for i in results.incidents] == ["Checks in Shymkent"]
    assert [s.text for s in results.statements] == ["The ministry said the checks were routine."]
    assert [i.title for i in search.search(None, "embassy").incidents] == ["Other case"]


def test_it_finds_latin_texts_from_a_cyrillic_query(db):
    IncidentFactory(title="Detention of four citizens in Almaty")
    StatementFactory(text="All those detained in Almaty will be released.")

    results = search.search(None, "Алматы")

    assert [i.title for i in results.incidents] == ["Detention of four citizens in Almaty"]
    assert len(results.statements) == 1


def test_it_ranks_title_matches_before_summary_matches(db):
    IncidentFactory(title="A case", summary="Mentions Shymkent in passing.")
    IncidentFactory(title="Shymkent detentions", summary="Nothing else.")

    titles = [i.title for i in search.search_incidents(None, "Shymkent")]

    assert titles == ["Shymkent detentions", "A case"]


def test_it_finds_statements_by_and_about_a_person(ruzakhunov):
    StatementFactory(speaker_person=ruzakhunov, text="I perjured myself.")
    about = StatementFactory(text="The ministry demanded his release.")
    about.people.add(ruzakhunov)
    StatementFactory(text="Something else entirely.")

    texts = {s.text for s in search.search(None, "Рузахунов").statements}

    assert texts == {"I perjured myself.", "The ministry demanded his release."}


def test_it_finds_places_and_organizations_in_either_script(db):
    almaty = PublicPlaceFactory(name="Almaty", name_native="Алматы", parent=CountryFactory())
    ministry = PublicOrganizationFactory(name="Ministry of Foreign Affairs", abbreviation="MFA")

    assert list(search.search_places(None, "Алматы")) == [almaty]
    assert list(search.search_places(None, "almaty")) == [almaty]
    assert list(search.search_organizations(None, "MFA")) == [ministry]
    assert list(search.search_organizations(None, "foreign affairs")) == [ministry]


def test_it_finds_a_draft_s_place_and_organization_for_staff_only(db):
    """A place or organization entered with a draft case is not public until something
    published uses it: the public search does not find it, staff do."""
    draft = PublicationState.DRAFT
    samsy = LocationFactory(name="Samsy", parent=CountryFactory())
    IncidentFactory(location=samsy, publication_state=draft)
    unit = OrganizationFactory(name="Samsy garrison")
    StatementFactory(speaker_organization=unit, publication_state=draft)
    staff = StaffUserFactory()

    assert list(search.search_places(None, "samsy")) == []
    assert list(search.search_organizations(None, "samsy")) == []
    assert list(search.search_places(staff, "samsy")) == [samsy]
    assert list(search.search_organizations(staff, "samsy")) == [unit]


def test_it_groups_the_results_by_kind(client, ruzakhunov):
    PublicPlaceFactory(name="Ruzakhunov Street", parent=CountryFactory())
    PublicOrganizationFactory(name="Friends of Ruzakhunov")
    StatementFactory(text="Ruzakhunov was freed.")

    page = results_page(client, "Ruzakhunov")

    headings = ["<h2>People</h2>", "<h2>Incidents</h2>", "<h2>Statements</h2>"]
    headings += ["<h2>Places</h2>", "<h2>Organizations</h2>"]
    positions = [page.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert "Ruzakhunov Street" in page
    assert "Friends of Ruzakhunov" in page


def test_it_bounds_each_group_and_links_to_more(client):
    for number in range(search.GROUP_SIZE + 2):
        IncidentFactory(title=f"Border case {number}")
        StatementFactory(text=f"Border statement {number}")

    results = search.search(None, "Border")
    page = results_page(client, "Border")

    assert len(results.incidents) == search.GROUP_SIZE
    assert results.incidents.has_more
    assert len(results.statements) == search.GROUP_SIZE
    assert f"{reverse('incidents:incident_list')}?q=Border" in page
    assert f"{reverse('incidents:statement_list')}?q=Border" in page


def test_it_shows_a_hint_for_an_empty_query(client):
    page = results_page(client, "   ")

    assert "in any spelling" in page
    assert "Nothing matches" not in page


def test_it_says_when_nothing_matches(client):
    assert "Nothing matches “Zzyzx”" in results_page(client, "Zzyzx")


def test_the_header_has_a_search_box_on_every_page(client):
    page = client.get(reverse("home")).content.decode()

    assert f'action="{SEARCH}"' in page
    assert 'name="q"' in page


# --- what anonymous readers never find ----------------------------------------------------


@pytest.fixture
def hidden(db):
    withheld = PersonFactory(
        name="Hiddenname Markerov",
        name_native="Маркеров",
        identity_withheld=True,
        occupation="Secret occupation",
    )
    PersonNameFactory(person=withheld, name="Markerova Variant")
    incident = IncidentFactory(title="A public case")
    DetentionFactory(incident=incident, person=withheld)
    PersonFactory(name="Draftperson Markerov", publication_state=DRAFT)
    IncidentFactory(title="Draftincident Markerov", publication_state=DRAFT)
    StatementFactory(text="Draftstatement Markerov", publication_state=DRAFT)
    return withheld


HIDDEN_MARKERS = ["Hiddenname", "Markerov", "Маркеров", "Markerova", "Draft", "Secret occupation"]


@pytest.mark.parametrize("query", ["Markerov", "Маркеров", "Markerova", "Markerof", "Hiddenname"])
def test_it_never_shows_a_withheld_name_or_a_draft_anonymously(client, hidden, query):
    page = results_page(client, query)

    # The page repeats the query itself; nothing else may carry a marker.
    assert f"Nothing matches “{query}”" in page
    for marker in HIDDEN_MARKERS:
        if marker.lower() not in query.lower():
            assert marker not in page, marker
    # Nor does a withheld name find the case it appears in: that would tie the name to it.
    assert "A public case" not in page


def test_staff_find_withheld_identities_and_drafts(staff_client, hidden):
    page = results_page(staff_client, "Markerov")

    assert "Hiddenname Markerov" in page
    assert "identity withheld" in page
    assert "Draftperson Markerov" in page
    assert "Draftincident Markerov" in page
    assert "Draftstatement Markerov" in page


# --- query count ----------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [2, 12])
def test_search_query_count_does_not_grow_with_results(client, django_assert_max_num_queries, rows):
    country = CountryFactory()
    for number in range(rows):
        person = PersonFactory(name=f"Aibek Ruzakhunov{'a' * number}")
        PersonNameFactory(person=person, name=f"Рузахунов {number}")
        incident = IncidentFactory(title=f"Ruzakhunov case {number}")
        DetentionFactory(incident=incident, person=person)
        StatementFactory(text=f"Ruzakhunov statement {number}", speaker_person=person)
        LocationFactory(name=f"Ruzakhunov street {number}", parent=country)
        OrganizationFactory(name=f"Ruzakhunov fund {number}")

    # Guards against N+1: people 1 matched by key, 2 their name variants, 3 near misses,
    # 4 their variants; incidents 5 of the persons found, 6 by the text index (7 by the
    # full-text index on PostgreSQL), then their rows and the names of their places'
    # ancestors; statements about, by, and by text (and full text), then their rows;
    # places; organizations. PostgreSQL sets the trigram threshold for the near misses in
    # a transaction of their own (begin or savepoint, SET LOCAL, commit).
    budget = 20 if connection.vendor == "postgresql" else 15
    with django_assert_max_num_queries(budget):
        page = results_page(client, "Ruzakhunov")
    assert page.count("Ruzakhunov case") == rows


def test_it_uses_full_text_and_trigram_search_on_postgresql(ruzakhunov):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    IncidentFactory(title="Detention in Shymkent", summary="")

    # Stemmed words in any order, which a substring match cannot find.
    titles = [i.title for i in search.search_incidents(None, "Shymkent detentions")]

    assert titles == ["Detention in Shymkent"]
    assert list(search.search_people(None, "Ruzakunov")) == [ruzakhunov]


# --- many matches -----------------------------------------------------------------------------


def test_a_common_word_shows_the_newest_visible_matches(db, monkeypatch):
    # More matches than are ranked: the newest, by date, each tested as it comes.
    monkeypatch.setattr(search, "RANK_CANDIDATES", 3)
    for day in range(1, 7):
        IncidentFactory(title=f"Protest day {day}", start_date=f"2022-01-{day:02}")
    IncidentFactory(title="Protest draft", start_date="2022-01-09", publication_state=DRAFT)
    IncidentFactory(title="Checks at the border", start_date="2022-01-08")
    named = PersonFactory(name="Aibek Protestov")
    DetentionFactory(
        incident=IncidentFactory(title="Arrest", start_date="2022-01-07"), person=named
    )
    for number in range(5):
        StatementFactory(text=f"We protest, {number}", said_on=f"2022-02-{number + 1:02}")

    incidents = search.search_incidents(None, "protest", limit=4)
    statements = search.search_statements(None, "PROTEST", limit=2)

    assert [i.title for i in incidents] == [
        "Arrest",
        "Protest day 6",
        "Protest day 5",
        "Protest day 4",
    ]
    assert incidents.has_more
    assert [s.text for s in statements] == ["We protest, 4", "We protest, 3"]
    assert statements.has_more


def test_many_matches_that_are_all_drafts_show_nothing(db, monkeypatch):
    monkeypatch.setattr(search, "RANK_CANDIDATES", 1)
    for _ in range(3):
        IncidentFactory(title="Protest", publication_state=DRAFT)

    group = search.search_incidents(None, "protest")

    assert list(group) == []
    assert not group.has_more
