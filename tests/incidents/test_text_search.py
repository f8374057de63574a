"""The `q` filter's text part (incidents/text_search.py): a case-insensitive substring of
the title, summary or description, answered by an index on both databases."""

import pytest

from cabar_tracker.publishing import PublicationState
from cabar_tracker.text_index import fts_phrase
from incidents.models import Incident, Statement
from incidents.text_search import incident_text_contains, statement_text_contains
from tests.factories import IncidentFactory, StatementFactory

pytestmark = pytest.mark.django_db


def matching(value: str) -> set[str]:
    return set(
        Incident.objects.filter(incident_text_contains(value)).values_list("slug", flat=True)
    )


@pytest.fixture
def cases():
    IncidentFactory(slug="almaty", title="Pianist detained in Almaty", summary="")
    IncidentFactory(slug="shymkent", title="Checks in Shymkent", summary="Протестующие задержаны")
    IncidentFactory(
        slug="border", title="Border post", summary="", description='He said "no comment".'
    )


def test_it_finds_a_substring_in_any_text_field_ignoring_case(cases):
    assert matching("DETAIN") == {"almaty"}
    assert matching("pianist detained") == {"almaty"}
    assert matching("shym") == {"shymkent"}
    assert matching("comment") == {"border"}


def test_it_folds_case_in_cyrillic(cases):
    assert matching("ПРОТЕСТ") == {"shymkent"}
    assert matching("задержаны") == {"shymkent"}


def test_short_queries_and_quotes_and_operators_are_plain_text(cases):
    assert matching("in") == {"almaty", "shymkent"}  # too short for the index: LIKE
    assert matching('"no comment"') == {"border"}
    assert matching("Pianist OR Border") == set()
    assert matching("title:Border") == set()
    assert fts_phrase('a "b"') == '"a ""b"""'


def test_the_index_follows_edits_and_deletions(cases):
    incident = Incident.objects.get(slug="almaty")
    incident.title = "Musician held at a checkpoint"
    incident.save()
    assert matching("pianist") == set()
    assert matching("musician") == {"almaty"}

    Incident.objects.filter(slug="border").update(summary="Released after questioning")
    assert matching("questioning") == {"border"}

    IncidentFactory(
        slug="draft", title="Questioning continues", publication_state=PublicationState.DRAFT
    )
    assert matching("questioning") == {"border", "draft"}  # visibility is the caller's filter


def test_the_case_list_and_api_search_with_it(client, cases):
    page = client.get("/incidents/", {"q": "протест"})
    assert [incident.slug for incident in page.context["page"].object_list] == ["shymkent"]

    api = client.get("/api/v1/incidents/", {"q": "PIANIST"}).json()
    assert [row["slug"] for row in api["results"]] == ["almaty"]


def test_statement_texts_are_indexed_and_follow_edits(db):
    statement = StatementFactory(text="Он был задержан в Алматы")
    other = StatementFactory(text="No comment")

    def found(value):
        return set(Statement.objects.filter(statement_text_contains(value)))

    assert found("ЗАДЕРЖАН") == {statement}
    statement.text = "He was released"
    statement.save()
    assert found("задержан") == set()
    assert found("RELEASED") == {statement}
    Statement.objects.filter(pk=other.pk).update(text="Released too")
    assert found("released") == {statement, other}
    statement.delete()
    assert found("released") == {other}
