"""Every list (and detail) costs the same number of queries for 3 rows as for 20: no N+1.

Anonymous requests: no session or token query. Every page first reads its ids (0: in the
order, from an index alone; see cabar_tracker/api/pagination.py), then, per endpoint:

- incidents: 1 the page (with place and situation), 2 their reported groups, 3 the
  ancestors of all their places;
- detentions: 1 the page (with incident, person, custody and release places), 2 allegations;
- people, organizations, positions, locations, situations, statements, sources: 1 the page
  with what its items embed (select_related).

`?count=true` adds one COUNT query.
"""

import pytest

from tests.api_personas import API
from tests.factories import (
    AccountFactory,
    AllegationFactory,
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
    PositionFactory,
    ReportedGroupFactory,
    SituationFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db


def incident_row():
    place = LocationFactory(parent=LocationFactory(parent=CountryFactory()))
    incident = IncidentFactory(location=place)
    ReportedGroupFactory(incident=incident)
    return incident


def detention_row():
    detention = DetentionFactory(custody_location=LocationFactory())
    AllegationFactory(detention=detention)
    AllegationFactory(detention=detention, kind="torture")
    AccountFactory(detention=detention)  # another account of the place of arrest
    return detention


def statement_row():
    position = PositionFactory()
    return StatementFactory(
        speaker_person=position.person,
        position=position,
        situation=SituationFactory(),
    )


LISTS = {
    "incidents": (incident_row, 4),
    "detentions": (detention_row, 3),
    "people": (PersonFactory, 2),
    "organizations": (lambda: OrganizationFactory(parent=OrganizationFactory()), 2),
    "positions": (PositionFactory, 2),
    "locations": (lambda: LocationFactory(parent=CountryFactory()), 2),
    "situations": (SituationFactory, 2),
    "statements": (statement_row, 2),
    "sources": (SourceFactory, 2),
}


@pytest.mark.parametrize("rows", [3, 20])
@pytest.mark.parametrize("resource", list(LISTS))
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_list_query_count_does_not_grow_with_rows(
    api, django_assert_max_num_queries, resource, rows, fmt
):
    make, budget = LISTS[resource]
    for _ in range(rows):
        make()

    with django_assert_max_num_queries(budget):
        response = api.get(f"{API}/{resource}/", {"format": fmt})
    assert response.status_code == 200
    with django_assert_max_num_queries(budget + 1):
        api.get(f"{API}/{resource}/", {"format": fmt, "count": "true"})


def test_geojson_query_count_does_not_grow_with_rows(api, django_assert_max_num_queries):
    for _ in range(20):
        incident_row()

    with django_assert_max_num_queries(4):
        assert api.get(f"{API}/incidents/", {"format": "geojson"}).status_code == 200


def a_full_incident():
    incident = incident_row()
    for _ in range(4):
        detention = detention_row()
        detention.incident = incident
        detention.save()
        statement = statement_row()
        statement.incidents.add(incident)
        incident.sources.add(SourceFactory())
    for code in ["UZ", "TJ", "KZ"]:
        group = ReportedGroupFactory(incident=incident, citizenship=code)
        group.sources.add(SourceFactory())
    return incident


# Details: the record and each list it embeds, each in one query, whatever their length.
# incidents: record, reported groups, ancestors, detentions, their allegations, the groups'
# sources, events, statements, sources, the accounts of the case's facts (of the incident,
# its detentions and their allegations) and the accounts' sources; detentions: record,
# allegations, sources, accounts, their sources; people: record, names, posts, detentions,
# sources; statements: record, incidents, people, sources.
DETAILS = {
    "incidents": (a_full_incident, 11),
    "detentions": (detention_row, 5),
    "people": (lambda: detention_row().person, 5),
    "statements": (statement_row, 4),
}


@pytest.mark.parametrize("resource", list(DETAILS))
def test_detail_query_count_is_fixed(api, django_assert_max_num_queries, resource):
    record = DETAILS[resource][0]()

    with django_assert_max_num_queries(DETAILS[resource][1]):
        response = api.get(f"{API}/{resource}/{record.pk}/")
    assert response.status_code == 200


# `updated_since` reads, besides the list's own queries (LISTS), what changed since then,
# each part by its own index into a short list of keys (incidents.mirror): incidents 1 the
# changed places' paths and 3 parts (own, situation, places around); detentions 5 parts
# (own, incident, person, two places); statements 6 (own, speaker, organization, post, the
# post's organization, situation); positions 3 (own, holder, organization); people,
# situations and sources none (their own `updated_at`, in the page's query). Places,
# organizations and posts first bring their public use up to date: a savepoint, what is
# public, what was recorded, a write for those that entered and one for those that left,
# the release (6). Places and organizations then read the public incidents (1) and
# detentions (5 parts) changed since then; places the paths of those used (1),
# organizations the posts (3).
PUBLIC_USE = 6
UPDATED_SINCE = {
    "incidents": 4 + 4,
    "detentions": 3 + 5,
    "people": 2,
    "organizations": 2 + PUBLIC_USE + 6 + 3,
    "positions": 2 + PUBLIC_USE + 3,
    "locations": 2 + PUBLIC_USE + 6 + 1,
    "situations": 2,
    "statements": 2 + 6,
    "sources": 2,
}


@pytest.mark.parametrize("rows", [3, 20])
@pytest.mark.parametrize("resource", list(LISTS))
def test_updated_since_query_count_does_not_grow_with_rows(
    api, django_assert_max_num_queries, resource, rows
):
    make = LISTS[resource][0]
    for _ in range(rows):
        make()

    with django_assert_max_num_queries(UPDATED_SINCE[resource]):
        response = api.get(f"{API}/{resource}/", {"updated_since": "2000-01-01T00:00:00Z"})
    assert response.status_code == 200
