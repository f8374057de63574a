"""Exports of the filtered case list (incidents CSV, detentions CSV, JSON), and the case page's
"Cite this" block that links to them. The anonymous reader is pytest-django's `client`."""

import csv
import datetime
import io
import json
import re

import pytest
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from cabar_tracker.spreadsheet import in_blocks
from incidents import exports
from incidents.columns import (
    DETENTION_COLUMNS,
    DETENTION_ROW_COLUMNS,
    INCIDENT_COLUMNS,
    STATEMENT_COLUMNS,
    columns_for,
)
from incidents.models import AllegationKind, IncidentKind, Outcome
from tests.factories import (
    AccountFactory,
    AllegationFactory,
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    ReportedGroupFactory,
    SituationFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationState.DRAFT
INCIDENTS_CSV = reverse("incidents:incidents_csv")
DETENTIONS_CSV = reverse("incidents:detentions_csv")
INCIDENTS_JSON = reverse("incidents:incidents_json")
EXPORTS = [INCIDENTS_CSV, DETENTIONS_CSV, INCIDENTS_JSON]


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body(response))))


def csv_header(response) -> list[str]:
    return next(csv.reader(io.StringIO(body(response))))


def json_records(response) -> list[dict]:
    return json.loads(body(response))


# --- the columns ------------------------------------------------------------------------------


def public(columns) -> list[str]:
    """The names of the columns an anonymous reader gets (staff get `publication_state` too)."""
    return [column.name for column in columns_for(columns, for_staff=False)]


def test_it_writes_the_documented_columns_in_order(client):
    IncidentFactory()

    assert csv_header(client.get(INCIDENTS_CSV)) == public(INCIDENT_COLUMNS)
    assert csv_header(client.get(DETENTIONS_CSV)) == public(DETENTION_ROW_COLUMNS)


def test_it_writes_the_header_even_when_nothing_matches(client):
    response = client.get(INCIDENTS_CSV, {"kind": IncidentKind.DISAPPEARANCE})

    assert response.status_code == 200
    assert csv_header(response) == public(INCIDENT_COLUMNS)
    assert csv_rows(client.get(INCIDENTS_CSV, {"kind": IncidentKind.DISAPPEARANCE})) == []
    assert json_records(client.get(INCIDENTS_JSON, {"kind": IncidentKind.DISAPPEARANCE})) == []


def test_every_column_is_described_and_named_once():
    for columns in (INCIDENT_COLUMNS, DETENTION_ROW_COLUMNS, STATEMENT_COLUMNS):
        names = [column.name for column in columns]
        assert len(names) == len(set(names))
        assert all(str(column.description).strip() for column in columns)


def test_it_exports_an_incident_with_its_facts(client):
    kazakhstan = CountryFactory()
    shymkent = LocationFactory(
        name="Shymkent",
        slug="shymkent",
        parent=kazakhstan,
        latitude="42.341700",
        longitude="69.590100",
        coordinate_precision="city",
    )
    situation = SituationFactory(slug="kazakhstan-january-2022")
    incident = IncidentFactory(
        slug="shymkent-38",
        title="Detention of 38 citizens of Kyrgyzstan in Shymkent",
        kind=IncidentKind.MASS_DETENTION,
        situation=situation,
        location=shymkent,
        start_date=datetime.date(2022, 1, 1),
        start_date_precision="month",
        reported_detained_count=38,
        reported_released_count=38,
        summary="Released after checks.",
    )
    incident.sources.add(SourceFactory(url="https://cabar.asia/en/article"))
    incident.sources.add(SourceFactory(url="https://example.org/draft", publication_state=DRAFT))

    [row] = csv_rows(client.get(INCIDENTS_CSV))

    assert row["incident_slug"] == "shymkent-38"
    assert row["incident_url"] == "http://testserver/incidents/shymkent-38/"
    assert row["incident_kind"] == "mass_detention"
    # The date at its known precision, never an invented day.
    assert row["incident_start_date"] == "2022-01"
    assert row["incident_start_date_precision"] == "month"
    assert row["incident_end_date"] == ""
    assert row["situation_slug"] == "kazakhstan-january-2022"
    assert row["place_slug"] == "shymkent"
    assert row["place_country"] == "KZ"
    assert float(row["place_latitude"]) == pytest.approx(42.3417)
    assert row["reported_detained_count"] == "38"
    assert row["verification"] == "reported"
    assert row["summary"] == "Released after checks."
    # A draft source's address is not public.
    assert row["source_urls"] == "https://cabar.asia/en/article"


def test_it_exports_a_detention_with_dates_places_and_allegations(client):
    almaty = LocationFactory(slug="almaty")
    checkpoint = LocationFactory(slug="ak-zhol-checkpoint")
    incident = IncidentFactory(slug="ruzakhunov-almaty", location=almaty)
    person = PersonFactory(
        name="Vikram Ruzakhunov",
        name_native="Викрам Рузахунов",
        slug="vikram-ruzakhunov",
        citizenship="KG",
        birth_year=1980,
    )
    detention = DetentionFactory(
        incident=incident,
        person=person,
        detained_on=datetime.date(2022, 1, 7),
        detained_on_precision="day",
        released_on=datetime.date(2022, 1, 10),
        released_on_precision="day",
        custody_location=almaty,
        release_location=checkpoint,
        outcome=Outcome.HANDED_OVER,
        charges="None known",
        details="Shown in a televised confession.",
    )
    detention.sources.add(SourceFactory(url="https://cabar.asia/en/article"))
    AllegationFactory(detention=detention, kind=AllegationKind.ILL_TREATMENT)
    AllegationFactory(detention=detention, kind=AllegationKind.FORCED_CONFESSION)

    [row] = csv_rows(client.get(DETENTIONS_CSV))

    assert row["incident_slug"] == "ruzakhunov-almaty"
    assert row["place_slug"] == "almaty"
    assert row["person_slug"] == "vikram-ruzakhunov"
    assert row["person_name"] == "Vikram Ruzakhunov"
    assert row["person_name_native"] == "Викрам Рузахунов"
    assert row["person_identity_withheld"] == "false"
    assert row["person_citizenship"] == "KG"
    assert row["person_birth_year"] == "1980"
    assert row["role"] == "detainee"
    assert (row["detained_on"], row["detained_on_precision"]) == ("2022-01-07", "day")
    assert (row["released_on"], row["released_on_precision"]) == ("2022-01-10", "day")
    assert row["days_in_custody"] == "3"
    assert row["custody_place_slug"] == "almaty"
    assert row["release_place_slug"] == "ak-zhol-checkpoint"
    assert row["outcome"] == "handed_over"
    assert row["allegations"] == "forced_confession;ill_treatment"
    assert row["charges"] == "None known"
    assert row["source_urls"] == "https://cabar.asia/en/article"


def test_it_nests_detentions_in_the_json_export(client):
    incident = IncidentFactory(slug="with-two")
    first = DetentionFactory(incident=incident, detained_on=datetime.date(2022, 1, 5))
    AllegationFactory(detention=first, kind=AllegationKind.TORTURE)
    DetentionFactory(
        incident=incident,
        detained_on=datetime.date(2022, 1, 1),
        detained_on_precision="month",
    )
    IncidentFactory(slug="with-none")

    records = {
        record["incident_slug"]: record for record in json_records(client.get(INCIDENTS_JSON))
    }

    assert set(records) == {"with-two", "with-none"}
    assert set(records["with-two"]) == {*public(INCIDENT_COLUMNS), "detentions"}
    detentions = records["with-two"]["detentions"]
    assert [set(d) for d in detentions] == [set(public(DETENTION_COLUMNS))] * 2
    # Month before day: "January 2022" sorts at the start of the month.
    assert [d["detained_on"] for d in detentions] == ["2022-01", "2022-01-05"]
    assert detentions[1]["allegations"] == ["torture"]
    assert detentions[1]["person_identity_withheld"] is False
    assert records["with-none"]["detentions"] == []
    assert records["with-none"]["reported_released_count"] is None


# --- the filter -------------------------------------------------------------------------------


def test_it_exports_exactly_what_the_filters_select(client):
    kazakhstan = CountryFactory()
    kyrgyzstan = CountryFactory(name="Kyrgyzstan", country="KG")
    almaty = LocationFactory(parent=kazakhstan)
    IncidentFactory(slug="mass-in-kz", kind=IncidentKind.MASS_DETENTION, location=almaty)
    IncidentFactory(slug="single-in-kz", kind=IncidentKind.DETENTION, location=almaty)
    IncidentFactory(
        slug="mass-in-kg",
        kind=IncidentKind.MASS_DETENTION,
        location=LocationFactory(parent=kyrgyzstan),
    )
    IncidentFactory(slug="early", start_date=datetime.date(2021, 12, 1), location=almaty)
    query = {"kind": IncidentKind.MASS_DETENTION, "place": "kazakhstan"}

    assert [r["incident_slug"] for r in csv_rows(client.get(INCIDENTS_CSV, query))] == [
        "mass-in-kz"
    ]
    assert [r["incident_slug"] for r in json_records(client.get(INCIDENTS_JSON, query))] == [
        "mass-in-kz"
    ]
    after = {"date_after": "2022-01-01"}
    assert {r["incident_slug"] for r in csv_rows(client.get(INCIDENTS_CSV, after))} == {
        "mass-in-kz",
        "single-in-kz",
        "mass-in-kg",
    }


def test_it_exports_only_the_detentions_of_the_filtered_incidents(client):
    chosen = IncidentFactory(slug="chosen", kind=IncidentKind.ILL_TREATMENT)
    DetentionFactory(incident=chosen, person=PersonFactory(name="Chosen Person"))
    DetentionFactory(incident=IncidentFactory(), person=PersonFactory(name="Other Person"))

    rows = csv_rows(client.get(DETENTIONS_CSV, {"kind": IncidentKind.ILL_TREATMENT}))

    assert [row["person_name"] for row in rows] == ["Chosen Person"]


def test_it_exports_one_incident_by_slug(client):
    IncidentFactory(slug="this-one")
    IncidentFactory(slug="not-this-one")

    rows = csv_rows(client.get(INCIDENTS_CSV, {"slug": "this-one"}))

    assert [row["incident_slug"] for row in rows] == ["this-one"]


def test_it_follows_the_ordering_of_the_list(client):
    IncidentFactory(slug="older", start_date=datetime.date(2022, 1, 3))
    IncidentFactory(slug="newer", start_date=datetime.date(2022, 1, 9))

    newest_first = [r["incident_slug"] for r in csv_rows(client.get(INCIDENTS_CSV))]
    oldest_first = [
        r["incident_slug"] for r in csv_rows(client.get(INCIDENTS_CSV, {"ordering": "date"}))
    ]

    assert newest_first == ["newer", "older"]
    assert oldest_first == ["older", "newer"]


def test_it_refuses_an_invalid_filter_rather_than_exporting_everything(client):
    IncidentFactory()

    response = client.get(INCIDENTS_CSV, {"date_after": "2022-13-45"})

    assert response.status_code == 400
    assert "date_after" in response.content.decode()


@pytest.mark.parametrize(
    ("url", "content_type", "filename"),
    [
        (INCIDENTS_CSV, "text/csv", "incidents-"),
        (DETENTIONS_CSV, "text/csv", "detentions-"),
        (INCIDENTS_JSON, "application/json", "incidents-"),
    ],
)
def test_it_streams_a_download(client, url, content_type, filename):
    IncidentFactory()

    response = client.get(url)

    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Type"].startswith(content_type)
    disposition = response["Content-Disposition"]
    extension = url.rsplit(".", 1)[1]
    assert re.fullmatch(
        f'attachment; filename="{filename}\\d{{4}}-\\d\\d-\\d\\d\\.{extension}"; '
        f"filename\\*=UTF-8''{filename}\\d{{4}}-\\d\\d-\\d\\d\\.{extension}",
        disposition,
    ), disposition


# --- what anonymous readers never get ---------------------------------------------------------


@pytest.fixture
def restricted(db):
    """A published incident holding every kind of thing the public must not see, each with a
    marker string, plus a draft incident."""
    incident = IncidentFactory(slug="public-case", staff_notes="STAFFNOTE-incident")
    withheld = PersonFactory(
        name="Hiddenname Markerov",
        name_native="Маркеров",
        slug="markerov-slug",
        identity_withheld=True,
        birth_year=1991,
        sex="male",
        citizenship="KG",
        staff_notes="STAFFNOTE-person",
    )
    DetentionFactory(incident=incident, person=withheld, staff_notes="STAFFNOTE-detention")
    DetentionFactory(
        incident=incident,
        person=PersonFactory(name="Draftdetention Person"),
        publication_state=DRAFT,
    )
    DetentionFactory(
        incident=incident,
        person=PersonFactory(name="Draftperson Unreviewed", publication_state=DRAFT),
    )
    DetentionFactory(incident=incident, person=PersonFactory(name="Public Person"))
    incident.sources.add(
        SourceFactory(url="https://example.org/draftsource", publication_state=DRAFT)
    )
    IncidentFactory(
        slug="draftincident",
        title="DRAFTINCIDENT",
        publication_state=DRAFT,
        situation=SituationFactory(),
    )
    draft_situation = SituationFactory(slug="draftsituation", publication_state=DRAFT)
    IncidentFactory(slug="in-draft-situation", situation=draft_situation)
    return incident


MARKERS = [
    "STAFFNOTE",
    "Hiddenname",
    "Markerov",
    "Маркеров",
    "markerov-slug",
    "1991",
    "Draftdetention",
    "Draftperson",
    "draftsource",
    "DRAFTINCIDENT",
    "draftincident",
    "draftsituation",
]


@pytest.mark.parametrize("url", EXPORTS)
def test_it_never_exports_drafts_withheld_names_or_staff_notes_anonymously(client, restricted, url):
    content = body(client.get(url))

    assert "public-case" in content
    if url != INCIDENTS_CSV:
        assert "Public Person" in content
    for marker in MARKERS:
        assert marker not in content, marker


def test_it_shows_a_withheld_person_as_the_public_label(client, restricted):
    rows = csv_rows(client.get(DETENTIONS_CSV))

    [withheld] = [row for row in rows if row["person_identity_withheld"] == "true"]
    assert withheld["person_name"] == "Person withheld, citizen of Kyrgyzstan"
    assert withheld["person_slug"] == ""
    assert withheld["person_name_native"] == ""
    assert withheld["person_birth_year"] == ""
    assert withheld["person_sex"] == ""
    # Citizenship is part of the public label, and what the counts are about.
    assert withheld["person_citizenship"] == "KG"


def test_staff_get_drafts_and_names_but_never_staff_notes(staff_client, restricted):
    content = body(staff_client.get(DETENTIONS_CSV))

    assert "Hiddenname Markerov" in content
    assert "Draftdetention Person" in content
    assert "STAFFNOTE" not in content


# --- query counts -----------------------------------------------------------------------------


def make_incidents(count: int) -> None:
    for _ in range(count):
        incident = IncidentFactory()
        incident.sources.add(SourceFactory())
        detention = DetentionFactory(incident=incident, custody_location=LocationFactory())
        detention.sources.add(SourceFactory())
        allegation = AllegationFactory(detention=detention)
        # Another account of a fact of each: the incident, the detention, the allegation.
        AccountFactory(detention=None, incident=incident, fact="incident_place")
        AccountFactory(detention=detention)
        AccountFactory(
            detention=None,
            allegation=allegation,
            fact="allegation_status",
            value_location=None,
            value_choice="denied",
        )
        ReportedGroupFactory(incident=incident)


@pytest.mark.parametrize("count", [3, 30])
@pytest.mark.parametrize(
    ("url", "budget"), [(INCIDENTS_CSV, 8), (DETENTIONS_CSV, 13), (INCIDENTS_JSON, 16)]
)
def test_export_query_count_does_not_grow_with_rows(
    client, django_assert_max_num_queries, url, budget, count
):
    make_incidents(count)

    # First, once, the count of the file's rows up to one past EXPORT_JOB_ROWS, which
    # decides whether the export streams or becomes a job (test_export_jobs.py).
    # Guards against N+1, per chunk of 500 incidents: 1 their positions (ids and ordering
    # keys), 2 the incidents with their places and situations, 3 their other accounts, 4
    # those accounts' sources; for the incidents CSV and the JSON, their sources (links,
    # sources) and their reported groups; for the detentions CSV and the JSON, the
    # detentions with persons and places, their allegations, their sources (links,
    # sources), their other accounts and those accounts' sources, the allegations' other
    # accounts and those accounts' sources.
    with django_assert_max_num_queries(budget):
        content = body(client.get(url))
    if url == INCIDENTS_JSON:
        assert len(json.loads(content)) == count
    else:
        assert len(list(csv.DictReader(io.StringIO(content)))) == count


@pytest.mark.parametrize(("url", "per_chunk"), [(INCIDENTS_CSV, 7), (DETENTIONS_CSV, 12)])
def test_it_reads_every_row_in_chunks_of_the_same_few_queries(
    client, django_assert_max_num_queries, monkeypatch, url, per_chunk
):
    """Chunk after chunk (keyset positions, no OFFSET), no row lost or repeated at a chunk's
    edge, among equal dates too."""
    monkeypatch.setattr(exports, "CHUNK_SIZE", 4)
    make_incidents(10)
    DetentionFactory(incident=IncidentFactory(start_date=None, start_date_precision=""))

    # 3 chunks of 4 incidents (the last of 3), each `per_chunk` queries (incidents CSV: the
    # positions, the rows, their sources' links and sources, their reported groups, their
    # other accounts and those accounts' sources; the detentions CSV: also the detentions,
    # their allegations, sources (2) and the two levels' other accounts with sources (4),
    # not the groups); the first of 3 and
    # the last of 4 also ask for the rows whose date is unknown, which come last.
    with django_assert_max_num_queries(3 * per_chunk + 2):
        rows = list(csv.DictReader(io.StringIO(body(client.get(url)))))

    slugs = [row["incident_slug"] for row in rows]
    assert len(set(slugs)) == 11 and len(slugs) == 11


# --- the case page: "Cite this" and the same data as JSON and CSV -----------------------------


def test_the_case_page_offers_a_citation_and_this_case_as_data(client):
    almaty = LocationFactory(name="Almaty", parent=CountryFactory())
    incident = IncidentFactory(
        slug="ruzakhunov-almaty",
        title="Detention of Vikram Ruzakhunov in Almaty",
        location=almaty,
        start_date=datetime.date(2022, 1, 1),
        start_date_precision="month",
    )

    page = client.get(incident.get_absolute_url()).content.decode()

    assert "Cite this" in page
    assert 'href="http://testserver/incidents/ruzakhunov-almaty/"' in page
    assert "Last updated" in page
    assert "“Detention of Vikram Ruzakhunov in Almaty”, Almaty, Kazakhstan, January 2022." in page
    assert f"{INCIDENTS_JSON}?slug=ruzakhunov-almaty" in page
    assert f"{INCIDENTS_CSV}?slug=ruzakhunov-almaty" in page
    assert f"{DETENTIONS_CSV}?slug=ruzakhunov-almaty" in page


def test_the_case_page_data_links_export_that_case(client):
    incident = IncidentFactory(slug="the-case")
    IncidentFactory(slug="another-case")

    records = json_records(client.get(INCIDENTS_JSON, {"slug": incident.slug}))

    assert [record["incident_slug"] for record in records] == ["the-case"]


def test_the_case_page_shows_time_in_custody_where_known(client):
    incident = IncidentFactory()
    DetentionFactory(
        incident=incident,
        person=PersonFactory(name="Known Days"),
        detained_on=datetime.date(2022, 1, 7),
        released_on=datetime.date(2022, 1, 10),
        released_on_precision="day",
    )
    DetentionFactory(
        incident=incident,
        person=PersonFactory(name="Month Only"),
        detained_on=datetime.date(2022, 1, 1),
        detained_on_precision="month",
        released_on=datetime.date(2022, 1, 10),
        released_on_precision="day",
    )

    page = client.get(incident.get_absolute_url()).content.decode()

    # Exact where both days are known; else the bounds the dates allow (issue 13).
    assert page.count("Time in custody") == 2
    assert "3 days" in page
    assert "at most 9 days" in page


def test_the_case_page_maps_the_place_or_the_nearest_place_with_coordinates(client):
    country = CountryFactory()
    country.latitude, country.longitude, country.coordinate_precision = 48, 67, "country"
    country.save()
    checkpoint = LocationFactory(name="Checkpoint", parent=country)
    incident = IncidentFactory(location=checkpoint)
    unmapped = IncidentFactory(location=LocationFactory(parent=CountryFactory(name="Nowhere")))

    page = client.get(incident.get_absolute_url()).content.decode()

    assert 'id="case-map"' in page
    assert 'id="case-map-data"' in page
    assert '"latitude": 48.0' in page
    assert "js/case_map.js" in page
    assert "The exact place has no coordinates; shown: Kazakhstan" in page
    # No inline script or style: the Content Security Policy forbids them.
    assert "<script>" not in page
    assert "style=" not in page
    assert 'id="case-map"' not in client.get(unmapped.get_absolute_url()).content.decode()


def test_the_case_page_lists_undated_statements_too(client):
    incident = IncidentFactory()
    statement = StatementFactory(said_on=None, said_on_precision="", text="An undated claim.")
    statement.incidents.add(incident)

    page = client.get(incident.get_absolute_url()).content.decode()

    assert "An undated claim." in page


def test_the_situation_and_place_pages_count_incidents_and_people(client):
    situation = SituationFactory()
    country = CountryFactory()
    town = LocationFactory(parent=country)
    IncidentFactory(
        situation=situation, location=town, reported_detained_count=38, reported_released_count=38
    )
    named = IncidentFactory(situation=situation, location=town, reported_detained_count=None)
    DetentionFactory(incident=named, outcome=Outcome.RELEASED)
    DetentionFactory(incident=named, outcome=Outcome.STILL_HELD)
    DetentionFactory(incident=named, publication_state=DRAFT)

    for url in (situation.get_absolute_url(), country.get_absolute_url()):
        page = client.get(url).content.decode()
        assert "<dt>Incidents</dt><dd>2</dd>" in page
        assert "<dt>People detained</dt><dd>40</dd>" in page
        assert "<dt>People released</dt><dd>39</dd>" in page


def test_lines_are_sent_in_blocks_that_keep_every_character(db):
    lines = [f"row {number}\r\n" for number in range(1000)]

    blocks = list(in_blocks(lines, size=100))

    assert "".join(blocks) == "".join(lines)
    assert all(len(block) >= 100 for block in blocks[:-1])
    assert len(blocks) < len(lines) / 5
    assert list(in_blocks([])) == []


@pytest.mark.parametrize("path", ["/incidents/export.csv", "/incidents/detentions.csv"])
def test_page_exports_neutralize_formula_cells(client, path):
    from tests.factories import DetentionFactory, IncidentFactory, PersonFactory

    incident = IncidentFactory(title='=HYPERLINK("http://evil.example","click")')
    DetentionFactory(incident=incident, person=PersonFactory(name="+Formula Name"))

    body = b"".join(client.get(path).streaming_content).decode()

    assert "'=HYPERLINK" in body
    assert "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body
    if "detentions" in path:
        assert "'+Formula Name" in body
