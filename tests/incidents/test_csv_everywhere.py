"""Every CSV the site hands out: one column vocabulary, every row, formulas neutralised.

A journalist downloads `/incidents/detentions.csv` from the case list; a script reads
`/api/v1/detentions/?format=csv` with `pandas.read_csv`. Both must be the same table (same
columns, same cells for the same rows), neither may stop silently after a page, and no cell
may run as a spreadsheet formula. Issue 13 item 6 and issue 14 ("one CSV writer").
"""

import csv
import datetime
import io
import re
from urllib.parse import unquote

import pytest
from django.urls import reverse

from cabar_tracker.api import viewsets
from cabar_tracker.publishing import PublicationState
from incidents.models import DisputeStatus
from tests.api_personas import API
from tests.factories import (
    AllegationFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
    PositionFactory,
    SituationFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationState.DRAFT
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)"]


def body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8")


def table(response) -> tuple[list[str], list[dict]]:
    assert response.status_code == 200, body(response)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    reader = csv.DictReader(io.StringIO(body(response)))
    return list(reader.fieldnames or []), list(reader)


@pytest.fixture
def world():
    """Published cases with formula-like text in every kind of field a person types, a
    withheld detainee, sources with and without an address, a draft case and statement."""
    formula, plus, minus, at = FORMULAS
    place = LocationFactory(name=formula, slug="evil-town")
    situation = SituationFactory(title=plus)
    cited = SourceFactory(title=at, url="https://news.example.org/a")
    printed = SourceFactory(title="Printed report", url="")
    incident = IncidentFactory(
        slug="almaty-case",
        title=formula,
        summary=minus,
        description=at,
        reported_count_note=plus,
        location=place,
        situation=situation,
        start_date=datetime.date(2022, 1, 1),
        start_date_precision="month",
    )
    incident.sources.add(printed, cited)
    named = DetentionFactory(
        incident=incident,
        person=PersonFactory(name=formula, name_native=minus, slug="named-person"),
        charges=plus,
        details=at,
    )
    named.sources.add(cited, printed)
    AllegationFactory(detention=named)
    DetentionFactory(
        incident=incident,
        person=PersonFactory(name="Withheldname Markerov", identity_withheld=True),
    )
    other = IncidentFactory(slug="shymkent-case", title="Shymkent")
    DetentionFactory(incident=other)
    draft = IncidentFactory(slug="draft-case", publication_state=DRAFT)
    DetentionFactory(incident=draft)

    speaker = PersonFactory(name="Official Speaker", slug="official-speaker")
    post = PositionFactory(person=speaker, title=formula)
    statement = StatementFactory(
        text=formula,
        speaker_person=speaker,
        position=post,
        speaker_organization=OrganizationFactory(name=at),
        dispute_status=DisputeStatus.DISPUTED,
        dispute_note=minus,
    )
    statement.incidents.add(incident, other, draft)
    statement.people.add(named.person)
    statement.sources.add(cited)
    StatementFactory(text="A draft statement.", publication_state=DRAFT)
    return {"incident": incident, "statement": statement}


# Each table as the page downloads it and as the API lists it.
PAGE_AND_API = {
    "incidents": (reverse("incidents:incidents_csv"), f"{API}/incidents/"),
    "detentions": (reverse("incidents:detentions_csv"), f"{API}/detentions/"),
    "statements": (reverse("incidents:statements_csv"), f"{API}/statements/"),
}


def as_set(rows: list[dict]) -> set[tuple]:
    return {tuple(sorted(row.items())) for row in rows}


@pytest.mark.parametrize("name", list(PAGE_AND_API))
def test_the_page_and_the_api_give_the_same_table(client, api, world, name):
    page_url, api_url = PAGE_AND_API[name]

    page_columns, page_rows = table(client.get(page_url))
    api_columns, api_rows = table(api.get(api_url, {"format": "csv"}))

    assert page_columns == api_columns
    assert "publication_state" not in page_columns
    assert as_set(page_rows) == as_set(api_rows)
    assert len(page_rows) == len(api_rows) > 0


@pytest.mark.parametrize("name", list(PAGE_AND_API))
def test_staff_get_the_same_table_from_both_with_drafts_marked(
    staff_client, staff_api, world, name
):
    page_url, api_url = PAGE_AND_API[name]

    page_columns, page_rows = table(staff_client.get(page_url))
    api_columns, api_rows = table(staff_api.get(api_url, {"format": "csv"}))

    assert page_columns == api_columns
    assert page_columns[-1] == "publication_state"
    assert as_set(page_rows) == as_set(api_rows)
    if name == "detentions":
        # The detention's own state; its case is the draft.
        assert "draft-case" in {row["incident_slug"] for row in api_rows}
    else:
        assert "draft" in {row["publication_state"] for row in api_rows}


def test_a_statement_row_names_its_cases_people_and_dispute(client, api, world):
    for response in (
        client.get(reverse("incidents:statements_csv")),
        api.get(f"{API}/statements/", {"format": "csv"}),
    ):
        _, rows = table(response)
        (row,) = [r for r in rows if r["dispute_status"] == "disputed"]
        # The draft case is not named to the public; newest first, as the case list.
        assert set(row["incident_slugs"].split(" ")) == {"almaty-case", "shymkent-case"}
        assert row["person_slugs"] == "named-person"
        assert row["dispute_note"] == "'-2+3"
        assert row["speaker_person_slug"] == "official-speaker"
        assert row["speaker_position"] == "'" + FORMULAS[0]
        assert row["source_urls"] == "https://news.example.org/a"
        assert row["statement_url"].endswith(f"/statements/{world['statement'].pk}/")


def test_a_withheld_speaker_has_no_slug_and_no_post(api, world):
    withheld = PersonFactory(name="Withheldname Markerov", identity_withheld=True)
    StatementFactory(
        speaker_person=withheld, position=PositionFactory(person=withheld, title="Head")
    )

    _, rows = table(api.get(f"{API}/statements/", {"format": "csv"}))

    (row,) = [r for r in rows if r["speaker_person_name"].startswith("Person withheld")]
    assert row["speaker_person_slug"] == "" and row["speaker_position"] == ""


def test_each_row_gives_its_sources_titles_beside_their_addresses(client, world):
    _, rows = table(client.get(reverse("incidents:detentions_csv"), {"place": "evil-town"}))

    named = next(row for row in rows if row["person_slug"] == "named-person")
    # The source with an address first (aligned with source_urls), then the printed one.
    assert named["source_urls"] == "https://news.example.org/a"
    assert named["source_titles"].split("\n") == ["'@SUM(A1)", "Printed report"]


# --- formulas -------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def every_csv(world) -> list[str]:
    incident = world["incident"]
    lists = [
        "incidents",
        "detentions",
        "statements",
        "people",
        "organizations",
        "positions",
        "locations",
        "situations",
        "sources",
    ]
    return [
        reverse("incidents:incidents_csv"),
        reverse("incidents:detentions_csv"),
        reverse("incidents:statements_csv"),
        *(f"{API}/{name}/?format=csv" for name in lists),
        *(f"{API}/{name}/?format=csv&page_size=2" for name in lists),
        f"{API}/incidents/{incident.pk}/?format=csv",
        f"{API}/locations/{incident.location_id}/?format=csv",
    ]


def test_no_csv_cell_starts_a_formula(client, staff_client, world):
    checked = 0
    for reader in (client, staff_client):
        for url in every_csv(world):
            _, rows = table(reader.get(url))
            for row in rows:
                for column, value in row.items():
                    if value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
                        pytest.fail(f"{url} {column}: {value!r}")
                    checked += 1
    assert checked > 1000


# --- every row, in one response ---------------------------------------------------------------


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(viewsets, "STREAM_CHUNK_SIZE", 25)


def test_an_api_csv_holds_every_row_not_a_first_page(api, small_chunks):
    """`pd.read_csv(url)` reads no `next` link: the CSV must not be a first page."""
    for _ in range(60):
        IncidentFactory()
    DetentionFactory.create_batch(3)

    response = api.get(f"{API}/incidents/", {"format": "csv"})
    _, rows = table(response)

    assert response.streaming
    assert not response.has_header("Link")
    assert len(rows) == 63 > viewsets.KeysetPagination.default_page_size
    assert len({row["incident_slug"] for row in rows}) == 63
    assert len(table(api.get(f"{API}/people/", {"format": "csv"}))[1]) == 3


def test_stream_all_says_the_same_and_a_page_is_given_when_asked(api, small_chunks):
    for _ in range(30):
        IncidentFactory()

    every = table(api.get(f"{API}/incidents/", {"format": "csv", "stream": "all"}))[1]
    paged = api.get(f"{API}/incidents/", {"format": "csv", "page_size": 20})
    page = api.get(f"{API}/incidents/", {"format": "csv", "stream": "page"})

    assert len(every) == 30
    assert len(table(paged)[1]) == 20 and 'rel="next"' in paged["Link"]
    assert len(table(page)[1]) == 30  # one page of the default size (50)
    assert not page.streaming


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"format": "csv", "stream": "everything"}, "stream"),
        ({"stream": "all"}, "stream"),
        ({"format": "csv", "stream": "all", "page_size": "10"}, "stream"),
        ({"format": "csv", "bom": "maybe"}, "bom"),
        ({"bom": "1"}, "bom"),
        ({"format": "csv", "count": "maybe"}, "count"),
    ],
)
def test_delivery_options_that_cannot_be_met_are_a_400_naming_them(api, params, parameter):
    response = api.get(f"{API}/incidents/", params)

    assert response.status_code == 400
    assert parameter in response.json()


def test_a_streamed_csv_shows_the_public_only_what_is_published(api, staff_api, world):
    public = table(api.get(f"{API}/detentions/", {"format": "csv"}))[1]
    staff = table(staff_api.get(f"{API}/detentions/", {"format": "csv"}))[1]

    assert "draft-case" not in {row["incident_slug"] for row in public}
    assert "draft-case" in {row["incident_slug"] for row in staff}
    withheld = [row for row in public if row["person_identity_withheld"] == "true"]
    assert [row["person_slug"] for row in withheld] == [""]
    assert "markerov" not in body(api.get(f"{API}/detentions/", {"format": "csv"})).lower()


def test_a_token_with_an_unknown_scheme_is_refused_not_read_as_anonymous(api):
    api.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    response = api.get(f"{API}/incidents/", {"format": "csv"})

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "Authorization: Token <key>" in response.json()["detail"]


# Queries of a streamed CSV per chunk: 1 the positions (ids and ordering keys), 2 the rows
# with their joins, then what the rows cite: incidents 3 the source links, 4 the sources,
# 5 the reported groups, 6 the other accounts, 7 their sources; detentions 3 allegations,
# 4 source links, 5 sources, 6-9 the other accounts of the detentions and of their
# allegations, with their sources; statements 3 cases, 4 people, 5 source links, 6 sources;
# sources (their JSON flattened) nothing more.
@pytest.mark.parametrize(
    ("resource", "per_chunk"),
    [("incidents", 7), ("detentions", 9), ("statements", 6), ("sources", 2)],
)
def test_a_streamed_csv_costs_the_same_queries_per_chunk(
    api, django_assert_max_num_queries, small_chunks, resource, per_chunk
):
    for _ in range(55):
        statement = StatementFactory()
        statement.incidents.add(DetentionFactory().incident)
        statement.sources.add(SourceFactory())

    # 3 chunks of 25 (the last of 5), plus one query for the rows with no date (last).
    with django_assert_max_num_queries(3 * per_chunk + 1):
        rows = table(api.get(f"{API}/{resource}/", {"format": "csv"}))[1]

    assert len(rows) >= 55


# --- Excel and file names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        reverse("incidents:detentions_csv"),
        reverse("incidents:statements_csv"),
        f"{API}/detentions/?format=csv",
        f"{API}/people/?format=csv",
        f"{API}/incidents/?format=csv&page_size=1",
    ],
)
def test_bom_1_starts_the_file_with_a_byte_order_mark_for_excel(client, world, url):
    joiner = "&" if "?" in url else "?"

    with_bom = body(client.get(f"{url}{joiner}bom=1"))
    without = body(client.get(url))

    assert with_bom.startswith("\ufeff") and not without.startswith("\ufeff")
    assert with_bom[1:] == without
    assert client.get(f"{url}{joiner}bom=perhaps").status_code == 400


def test_a_file_is_named_for_what_it_holds_its_filter_and_the_day(client, api, world):
    today = datetime.date.today().isoformat()
    page = client.get(reverse("incidents:detentions_csv"), {"place": "evil-town", "q": "Рузахунов"})
    listed = api.get(f"{API}/statements/", {"format": "csv", "dispute_status": "disputed"})

    plain, utf8 = re.fullmatch(
        r'attachment; filename="([^"]+)"; filename\*=UTF-8\'\'(\S+)', page["Content-Disposition"]
    ).groups()
    assert plain == f"detentions-place-evil-town-q-ruzakhunov-{today}.csv"
    assert unquote(utf8) == f"detentions-place-evil-town-q-рузахунов-{today}.csv"
    assert (
        f'filename="statements-dispute_status-disputed-{today}.csv"'
        in (listed["Content-Disposition"])
    )
