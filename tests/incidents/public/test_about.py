"""The "About the data" page: what the data is, where it comes from, how dates and withheld
identities appear, every export column and every code the exports use, with its meaning."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from incidents import glossary
from incidents.columns import DETENTION_ROW_COLUMNS, INCIDENT_COLUMNS, STATEMENT_COLUMNS
from incidents.models import AllegationKind, IncidentKind, Outcome, Verification
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

ABOUT = reverse("incidents:about")


@pytest.fixture
def page(client) -> str:
    response = client.get(ABOUT)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("choices", [IncidentKind, AllegationKind, Outcome, Verification])
def test_it_defines_every_code_with_its_label(page, choices):
    for choice in choices:
        assert f"<code>{choice.value}</code>" in page
        assert f"<td>{escape(str(choice.label))}</td>" in page


def test_every_code_has_a_one_sentence_definition():
    for vocabulary in glossary.vocabularies():
        for term in vocabulary.terms:
            assert str(term.definition).strip().endswith("."), term.code


def test_it_shows_the_definitions(page):
    definition = glossary.INCIDENT_KIND_DEFINITIONS[IncidentKind.MASS_DETENTION]
    assert escape(str(definition)) in page


def test_it_lists_every_export_column_with_its_description(page):
    for column in [*INCIDENT_COLUMNS, *DETENTION_ROW_COLUMNS, *STATEMENT_COLUMNS]:
        assert f"<code>{column.name}</code>" in page
        assert escape(str(column.description)) in page


def test_it_explains_dates_withheld_identities_and_numbers(page):
    assert "January 2022" in page
    assert "Person withheld, citizen of Kyrgyzstan" in page
    assert 'id="numbers"' in page
    assert 'id="withheld"' in page


def test_it_links_the_exports(page):
    for name in ("incidents_csv", "detentions_csv", "incidents_json", "statements_csv"):
        assert f'href="{reverse(f"incidents:{name}")}"' in page
    assert f'href="{reverse("incidents:detentions_csv")}?bom=1"' in page


def test_it_says_the_api_csv_is_the_same_table_with_every_row(page):
    assert "<code>/api/v1/detentions/?format=csv</code>" in page
    assert "<code>pandas.read_csv</code>" in page
    assert "<code>bom=1</code>" in page


def test_it_lists_published_sources_only(client):
    SourceFactory(title="Central Asian States in the Context of Clashes in Kazakhstan")
    SourceFactory(title="Draftsource title", publication_state="draft")

    page = client.get(ABOUT).content.decode()

    assert "Central Asian States in the Context of Clashes in Kazakhstan" in page
    assert "Draftsource" not in page


def test_the_header_links_the_about_page_and_statements(client):
    page = client.get(reverse("home")).content.decode()

    assert f'href="{ABOUT}"' in page
    assert f'href="{reverse("incidents:statement_list")}"' in page


def test_about_query_count(client, django_assert_max_num_queries):
    for _ in range(5):
        SourceFactory()

    # 1 the sources listed, 2 their number.
    with django_assert_max_num_queries(2):
        client.get(ABOUT)
