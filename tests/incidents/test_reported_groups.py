"""Reported groups (issue 13, item 2): an incident's reported numbers by citizenship, such as
the 38 citizens of Kyrgyzstan detained in Shymkent whom no source names.

The citizenship filter finds an incident by them as by its named detainees, on the page,
in the API, the exports and the feed; the facet counts them beside the named people; the
case page says which numbers are reported (with their sources) and which people are named.
A group is public with its incident, and only then.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents import public_counts
from incidents.models import (
    CountDimension,
    Incident,
    IncidentKind,
    PublicIncidentCount,
    ReportedGroup,
)
from tests.api_personas import API
from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    ReportedGroupFactory,
    SourceFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationState.DRAFT
LIST_URL = reverse("incidents:incident_list")


@pytest.fixture
def shymkent():
    """The CABAR article's Shymkent case: 38 citizens of Kyrgyzstan detained and released
    after checks, none of them named; beside it, a case naming one Uzbek citizen and one
    naming a Kyrgyz citizen."""
    source = SourceFactory(title="Central Asian States in the Context of Clashes in Kazakhstan")
    incident = IncidentFactory(
        title="Detention of 38 citizens of Kyrgyzstan in Shymkent",
        slug="shymkent-38",
        kind=IncidentKind.MASS_DETENTION,
        location=LocationFactory(name="Shymkent"),
        reported_detained_count=38,
        reported_released_count=38,
    )
    group = ReportedGroupFactory(
        incident=incident, citizenship="KG", detained_count=38, released_count=38
    )
    group.sources.add(source)
    uzbek = DetentionFactory(
        incident=IncidentFactory(title="Detention of an Uzbek citizen"),
        person=PersonFactory(name="Named Uzbek", citizenship="UZ"),
    )
    kyrgyz = DetentionFactory(
        incident=IncidentFactory(title="Detention of a named Kyrgyz citizen"),
        person=PersonFactory(name="Named Kyrgyz", citizenship="KG"),
    )
    return {"incident": incident, "group": group, "uzbek": uzbek, "kyrgyz": kyrgyz}


def titles(response) -> list[str]:
    return sorted(incident.title for incident in response.context["page"].object_list)


def citizenship_facet(response) -> dict[str, tuple[int, str]]:
    (facet,) = [f for f in response.context["facets"] if f.name == "citizenship"]
    return {value.value: (value.count, value.detail) for value in facet.values}


def csv_rows(response) -> list[dict]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


# --- found by the citizenship filter, on every surface ---------------------------------------


def test_the_shymkent_38_are_found_by_citizenship_on_the_page(client, shymkent):
    response = client.get(LIST_URL, {"citizenship": "KG"})

    assert response.status_code == 200
    assert titles(response) == [
        "Detention of 38 citizens of Kyrgyzstan in Shymkent",
        "Detention of a named Kyrgyz citizen",
    ]
    assert titles(client.get(LIST_URL, {"citizenship": "UZ"})) == ["Detention of an Uzbek citizen"]


def test_the_shymkent_38_are_found_by_citizenship_in_the_api(client, shymkent):
    response = client.get(f"{API}/incidents/", {"citizenship": "KG"})

    assert response.status_code == 200
    found = {item["slug"]: item for item in response.json()["results"]}
    assert set(found) == {"shymkent-38", shymkent["kyrgyz"].incident.slug}
    assert found["shymkent-38"]["reported_by_citizenship"] == ["KG:38"]
    assert found[shymkent["kyrgyz"].incident.slug]["reported_by_citizenship"] == []


def test_the_api_detail_carries_the_groups_with_their_sources(client, shymkent):
    detail = client.get(f"{API}/incidents/{shymkent['incident'].pk}/").json()

    (group,) = detail["reported_groups"]
    assert group["citizenship"] == "KG"
    assert (group["detained_count"], group["released_count"], group["note"]) == (38, 38, "")
    assert [source["title"] for source in group["sources"]] == [
        "Central Asian States in the Context of Clashes in Kazakhstan"
    ]


def test_the_shymkent_38_are_found_by_citizenship_in_the_exports(client, shymkent):
    page_csv = csv_rows(client.get(reverse("incidents:incidents_csv"), {"citizenship": "KG"}))
    api_csv = csv_rows(client.get(f"{API}/incidents/", {"citizenship": "KG", "format": "csv"}))

    by_slug = {row["incident_slug"]: row for row in page_csv}
    assert set(by_slug) == {"shymkent-38", shymkent["kyrgyz"].incident.slug}
    assert by_slug["shymkent-38"]["reported_by_citizenship"] == "KG:38"
    assert by_slug[shymkent["kyrgyz"].incident.slug]["reported_by_citizenship"] == ""
    api_by_slug = {row["incident_slug"]: row for row in api_csv}
    assert api_by_slug["shymkent-38"]["reported_by_citizenship"] == "KG:38"


def test_the_shymkent_38_are_found_by_citizenship_in_the_feed(client, shymkent):
    response = client.get(reverse("incidents:incident_feed"), {"citizenship": "KG"})

    assert response.status_code == 200
    assert "Detention of 38 citizens of Kyrgyzstan in Shymkent" in response.text
    assert "Detention of an Uzbek citizen" not in response.text


def test_a_group_without_an_exact_number_is_written_with_a_question_mark(client):
    incident = IncidentFactory(slug="tens-of")
    ReportedGroupFactory(incident=incident, citizenship="KG", detained_count=None, note="tens of")

    (row,) = csv_rows(client.get(reverse("incidents:incidents_csv")))

    assert row["reported_by_citizenship"] == "KG:?"


# --- the facet counts them beside named people ----------------------------------------------


def test_the_facet_counts_reported_and_named_people_apart(client, shymkent):
    # Anonymous and unfiltered: read from the maintained counts.
    maintained = citizenship_facet(client.get(LIST_URL))
    # A staff reader (drafts too) is counted live, over the same published cases here.
    staff = Client()
    staff.force_login(StaffUserFactory())
    live = citizenship_facet(staff.get(LIST_URL))
    # An anonymous reader with a filter the counts cannot answer: live, too.
    filtered = citizenship_facet(client.get(LIST_URL, {"verification": "reported"}))

    expected = {"KG": (2, "38 reported, 1 named"), "UZ": (1, "1 named")}
    assert maintained == expected
    assert live == expected
    assert filtered == expected


def test_the_facet_counts_an_incident_once_when_it_names_and_reports_one_citizenship(client):
    incident = IncidentFactory(reported_detained_count=10)
    ReportedGroupFactory(incident=incident, citizenship="KG", detained_count=10)
    DetentionFactory(incident=incident, person=PersonFactory(citizenship="KG"))
    DetentionFactory(incident=incident, person=PersonFactory(citizenship="KG"), role="witness")

    expected = {"KG": (1, "10 reported, 1 named")}
    assert citizenship_facet(client.get(LIST_URL)) == expected
    assert citizenship_facet(client.get(LIST_URL, {"verification": "reported"})) == expected


def test_the_large_set_counts_agree_with_the_short_list_counts(client, shymkent, monkeypatch):
    """Above ID_LIST_LIMIT incidents the facet counts with GROUP BY queries instead of a
    list of ids: the same numbers."""
    from incidents.public import facets

    incident = IncidentFactory()
    ReportedGroupFactory(incident=incident, citizenship="KG", detained_count=4)
    DetentionFactory(incident=incident, person=PersonFactory(citizenship="KG"))
    short = citizenship_facet(client.get(LIST_URL, {"verification": "reported"}))
    monkeypatch.setattr(facets, "ID_LIST_LIMIT", 1)
    grouped = citizenship_facet(client.get(LIST_URL, {"verification": "reported"}))

    assert short == grouped == {"KG": (3, "42 reported, 2 named"), "UZ": (1, "1 named")}


def test_the_maintained_counts_stay_what_a_recount_gives(shymkent):
    group = shymkent["group"]
    group.detained_count = group.released_count = 30
    group.save()
    ReportedGroupFactory(incident=shymkent["incident"], citizenship="UZ", detained_count=8)
    shymkent["group"].delete()

    stored = sorted(map(public_counts.row_key, PublicIncidentCount.objects.all()))
    recounted = sorted(
        map(public_counts.row_key, public_counts.compute(Incident.objects.published()))
    )
    assert stored == recounted
    rows = PublicIncidentCount.objects.filter(dimension=CountDimension.CITIZENSHIP)
    assert {(r.value, r.incidents, r.people_reported, r.people_named) for r in rows} == {
        ("UZ", 1, 8, 0),
        ("UZ", 1, 0, 1),
        ("KG", 1, 0, 1),
    }


# --- public only with its incident ---------------------------------------------------------


def test_a_group_on_a_draft_incident_is_neither_found_nor_counted(client):
    draft = IncidentFactory(
        title="Marker draft mass detention", publication_state=DRAFT, reported_detained_count=9
    )
    ReportedGroupFactory(incident=draft, citizenship="TJ", detained_count=9)

    assert titles(client.get(LIST_URL, {"citizenship": "TJ"})) == []
    assert "TJ" not in citizenship_facet(client.get(LIST_URL))
    assert "TJ" not in citizenship_facet(client.get(LIST_URL, {"verification": "reported"}))
    assert client.get(f"{API}/incidents/", {"citizenship": "TJ"}).json()["results"] == []
    assert csv_rows(client.get(reverse("incidents:incidents_csv"), {"citizenship": "TJ"})) == []
    assert "Marker draft" not in client.get(reverse("incidents:incident_feed")).text
    assert not PublicIncidentCount.objects.filter(value="TJ").exists()
    assert client.get(reverse("incidents:incident_list")).context["summary"].people_detained == 0


def test_a_group_counts_once_its_incident_is_published(client):
    incident = IncidentFactory(publication_state=DRAFT, reported_detained_count=None)
    ReportedGroupFactory(incident=incident, citizenship="TJ", detained_count=9)

    incident.publication_state = PublicationState.PUBLISHED
    incident.save()

    assert citizenship_facet(client.get(LIST_URL)) == {"TJ": (1, "9 reported")}


# --- the counting rule ----------------------------------------------------------------------


def test_the_groups_stand_for_an_overall_number_not_given(client):
    incident = IncidentFactory(reported_detained_count=None, reported_released_count=None)
    ReportedGroupFactory(incident=incident, citizenship="KG", detained_count=7, released_count=2)
    ReportedGroupFactory(incident=incident, citizenship="UZ", detained_count=3)

    live = client.get(LIST_URL, {"verification": "reported"}).context["summary"]
    maintained = client.get(LIST_URL).context["summary"]

    assert (live.people_detained, live.people_released) == (10, 2)
    assert (maintained.people_detained, maintained.people_released) == (10, 2)


def test_an_overall_number_is_not_added_to_its_groups(client, shymkent):
    summary = client.get(LIST_URL, {"citizenship": "KG"}).context["summary"]

    # 38 reported in Shymkent (overall and by citizenship: the same 38) and one named.
    assert summary.people_detained == 39


# --- the case page ---------------------------------------------------------------------------


def test_the_case_page_says_which_numbers_are_reported_and_which_people_named(client, shymkent):
    incident = shymkent["incident"]
    DetentionFactory(incident=incident, person=PersonFactory(name="Marker Named", citizenship="KZ"))

    page = client.get(incident.get_absolute_url()).text

    section = page[page.index('id="people-detained"') : page.index('id="people"')]
    assert "People detained" in section
    assert "Reported numbers are what the sources say" in section
    assert 'id="reported-kg"' in section
    assert "Kyrgyzstan" in section and "Kazakhstan" in section
    assert "Central Asian States in the Context of Clashes in Kazakhstan" in section
    assert "All citizenships" in section
    assert "Marker Named" in page[page.index('id="people"') :]


def test_the_case_page_of_a_published_case_hides_a_draft_source_of_a_group(client, shymkent):
    shymkent["group"].sources.add(
        SourceFactory(title="Marker draft source", publication_state=DRAFT)
    )

    assert "Marker draft source" not in client.get(shymkent["incident"].get_absolute_url()).text


def test_the_case_page_speaks_russian(client, shymkent):
    page = client.get(shymkent["incident"].get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").text

    assert "Все гражданства" in page
    assert "Источник чисел из сообщений" in page


# --- what a group may say ------------------------------------------------------------------


def test_the_groups_may_not_add_up_to_more_than_the_overall_number(shymkent):
    extra = ReportedGroup(incident=shymkent["incident"], citizenship="UZ", detained_count=1)

    with pytest.raises(ValidationError) as refused:
        extra.full_clean()

    assert refused.value.message_dict["detained_count"] == [
        "The numbers detained by citizenship add up to 39, more than the incident's "
        "reported number detained (38). Correct one of them."
    ]


def test_the_overall_number_may_not_fall_below_its_groups(shymkent):
    incident = shymkent["incident"]
    incident.reported_detained_count = 30
    incident.reported_released_count = None

    with pytest.raises(ValidationError) as refused:
        incident.full_clean()

    assert "add up to 38" in refused.value.message_dict["reported_detained_count"][0]


def test_one_group_per_citizenship_with_a_number_or_the_source_s_words(shymkent):
    twin = ReportedGroup(incident=shymkent["incident"], citizenship="KG", detained_count=1)
    with pytest.raises(ValidationError) as refused:
        twin.full_clean()
    assert "already has a reported number" in refused.value.message_dict["citizenship"][0]

    wordless = ReportedGroup(incident=IncidentFactory(), citizenship="KG", detained_count=None)
    with pytest.raises(ValidationError) as refused:
        wordless.full_clean()
    assert "the source's words in the note" in str(refused.value)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"citizenship": "KG", "detained_count": 0}, "reportedgroup_detained_count_positive"),
        ({"citizenship": "KG", "detained_count": None}, "reportedgroup_number_or_note"),
        ({"citizenship": "", "detained_count": 3}, "reportedgroup_has_citizenship"),
        (
            {"citizenship": "KG", "detained_count": 3, "released_count": 4},
            "reportedgroup_released_not_more_than_detained",
        ),
    ],
)
def test_the_database_refuses_what_the_model_refuses(fields, constraint):
    incident = IncidentFactory()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        ReportedGroup.objects.create(incident=incident, **fields)


def test_the_database_refuses_a_second_group_of_one_citizenship(shymkent):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportedGroup.objects.create(incident=shymkent["incident"], citizenship="KG", note="some")
