"""The maintained counts of published incidents (incidents/public_counts.py).

Two promises: after any write, the stored rows are exactly what a recount from scratch
gives; and the case list's summary, facets and chart read from them are the numbers the
live GROUP BY queries give, for every filter the counts answer.
"""

import datetime
import random

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.http import QueryDict

from cabar_tracker.publishing import PublicationState
from incidents import public_counts
from incidents.filters import IncidentFilter
from incidents.models import (
    AllegationKind,
    Detention,
    DetentionRole,
    Incident,
    IncidentKind,
    Outcome,
    PublicIncidentCount,
    Verification,
)
from incidents.public import charts, facets
from people.models import Person
from tests.factories import (
    AllegationFactory,
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    ReportedGroupFactory,
    SituationFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db

DRAFT, PUBLISHED = PublicationState.DRAFT, PublicationState.PUBLISHED


def stored() -> list[tuple]:
    return sorted(map(public_counts.row_key, PublicIncidentCount.objects.all()))


def recounted() -> list[tuple]:
    published = Incident.objects.published()
    return sorted(map(public_counts.row_key, public_counts.compute(published)))


def assert_counts_are_fresh():
    assert stored() == recounted()


@pytest.fixture
def varied_cases():
    """Incidents over two countries, three years, every precision, kinds, verification
    states, drafts and archived ones, with detentions of published, draft and withheld
    people, witnesses, allegations, reported numbers above the named ones and reported numbers
    by citizenship."""
    rng = random.Random(7)
    kazakhstan = CountryFactory()
    kyrgyzstan = CountryFactory(name="Kyrgyzstan", country="KG")
    cities = [
        LocationFactory(parent=kazakhstan),
        LocationFactory(parent=kazakhstan),
        LocationFactory(parent=kyrgyzstan, country="KG"),
    ]
    sites = [LocationFactory(parent=cities[0], kind="police_station")]
    situations = [SituationFactory(slug="unrest"), SituationFactory(slug="border"), None]
    people = [
        PersonFactory(citizenship=rng.choice(["KG", "KZ", "UZ"]), identity_withheld=n % 7 == 0)
        for n in range(12)
    ] + [PersonFactory(publication_state=DRAFT, citizenship="TJ")]
    precisions = ["day", "day", "month", "year", "approximate"]
    # Numbers reported by citizenship, drawn apart so the rest stays as it was.
    group_rng = random.Random(8)
    for number in range(40):
        precision = rng.choice(precisions)
        day = datetime.date(2021 + rng.randrange(3), rng.randrange(1, 13), rng.randrange(1, 28))
        incident = IncidentFactory(
            kind=rng.choice(IncidentKind.values[:4]),
            situation=rng.choice(situations),
            location=rng.choice(cities + sites),
            start_date=None if number % 13 == 0 else day,
            start_date_precision="" if number % 13 == 0 else precision,
            verification=rng.choice(Verification.values),
            reported_detained_count=rng.choice([None, None, 3, 38]),
            publication_state=DRAFT if number % 9 == 0 else PUBLISHED,
            archived_at=datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC)
            if number % 17 == 5
            else None,
        )
        for person in rng.sample(people, rng.randrange(0, 4)):
            detention = DetentionFactory(
                incident=incident,
                person=person,
                outcome=rng.choice(Outcome.values),
                role=DetentionRole.WITNESS if rng.random() < 0.1 else DetentionRole.DETAINEE,
                publication_state=DRAFT if rng.random() < 0.1 else PUBLISHED,
            )
            if rng.random() < 0.4:
                AllegationFactory(detention=detention, kind=rng.choice(AllegationKind.values))
        if group_rng.random() < 0.4:
            overall = incident.reported_detained_count
            ReportedGroupFactory(
                incident=incident,
                citizenship=group_rng.choice(["KG", "UZ", "TJ"]),
                detained_count=group_rng.randint(1, overall or 9),
            )
    return {"kazakhstan": kazakhstan, "cities": cities, "people": people}


# --- the stored rows stay what a recount gives ----------------------------------------------


def test_it_counts_the_demo_like_cases_as_a_recount_does(varied_cases):
    assert PublicIncidentCount.objects.exists()
    assert_counts_are_fresh()


def test_it_follows_publishing_unpublishing_and_archiving(varied_cases):
    draft = Incident.objects.filter(publication_state=DRAFT).first()
    draft.publication_state = PUBLISHED
    draft.save()
    assert_counts_are_fresh()

    published = Incident.objects.published().first()
    published.publication_state = DRAFT
    published.save()
    assert_counts_are_fresh()

    other = Incident.objects.published().last()
    other.archived_at = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    other.save()
    assert_counts_are_fresh()


def test_it_moves_an_incident_between_buckets(varied_cases):
    incident = Incident.objects.published().filter(start_date__isnull=False).first()
    incident.kind = IncidentKind.DISAPPEARANCE
    incident.location = varied_cases["cities"][2]
    incident.start_date = datetime.date(2019, 5, 5)
    incident.situation = None
    incident.save()

    assert_counts_are_fresh()
    assert PublicIncidentCount.objects.filter(year=2019, kind=IncidentKind.DISAPPEARANCE).exists()


def test_it_follows_detentions_allegations_and_people(varied_cases):
    incident = Incident.objects.published().first()
    detention = DetentionFactory(incident=incident, outcome=Outcome.STILL_HELD)
    assert_counts_are_fresh()

    detention.outcome = Outcome.RELEASED
    detention.save()
    assert_counts_are_fresh()

    allegation = AllegationFactory(detention=detention, kind=AllegationKind.TORTURE)
    assert_counts_are_fresh()
    allegation.delete()
    assert_counts_are_fresh()

    other_incident = Incident.objects.published().exclude(pk=incident.pk).first()
    detention.incident = other_incident
    detention.save()
    assert_counts_are_fresh()

    person = detention.person
    person.citizenship = "RU"
    person.save()
    assert_counts_are_fresh()
    person.publication_state = DRAFT
    person.save()
    assert_counts_are_fresh()

    detention.delete()
    assert_counts_are_fresh()


def test_it_follows_the_bulk_write_paths(varied_cases):
    Incident.objects.filter(kind=IncidentKind.DETENTION).update(kind=IncidentKind.OTHER)
    assert_counts_are_fresh()

    Detention.objects.filter(outcome=Outcome.RELEASED).update(outcome=Outcome.CHARGED)
    assert_counts_are_fresh()

    Person.objects.filter(citizenship="KG").update(publication_state=DRAFT)
    assert_counts_are_fresh()

    incidents = list(Incident.objects.published()[:5])
    for incident in incidents:
        incident.verification = Verification.REFUTED
    Incident.objects.bulk_update(incidents, ["verification"])
    assert_counts_are_fresh()

    new = Incident.objects.bulk_create(
        [
            Incident(
                title=f"Bulk {n}",
                slug=f"bulk-{n}",
                kind=IncidentKind.DETENTION,
                location=varied_cases["cities"][0],
                start_date=datetime.date(2022, 3, n + 1),
                start_date_precision="day",
                publication_state=PUBLISHED,
            )
            for n in range(3)
        ]
    )
    assert len(new) == 3
    assert_counts_are_fresh()


def test_the_command_rebuilds_and_checks_the_counts(varied_cases, capsys):
    call_command("rebuild_public_counts", "--check")
    assert "are right" in capsys.readouterr().out

    # Written around the ORM, as a bulk load in SQL would: the check notices.
    PublicIncidentCount.objects.filter(dimension="").update(incidents=999)
    with pytest.raises(CommandError, match="differ"):
        call_command("rebuild_public_counts", "--check")

    call_command("rebuild_public_counts")
    assert "Rebuilt" in capsys.readouterr().out
    assert_counts_are_fresh()


# --- the list reads the same numbers from them ----------------------------------------------


def answers(query: str, user=None):
    user = user or AnonymousUser()
    filterset = IncidentFilter(
        QueryDict(query), queryset=Incident.objects.visible_to(user), request=None
    )
    assert filterset.is_valid(), filterset.errors
    return filterset, public_counts.for_filters(filterset, user)


ANSWERED = [
    "",
    "kind=detention",
    "kind=detention&kind=ill_treatment",
    "place=kazakhstan",
    "situation=unrest",
    "situation=unrest&situation=border",
    "ordering=date&place=kyrgyzstan",
    # Alone, without a range, date_match changes nothing.
    "date_match=certain&place=kazakhstan",
]


@pytest.mark.parametrize("query", ANSWERED)
def test_the_counts_give_the_live_numbers(varied_cases, query):
    filterset, counts = answers(query)
    assert counts is not None
    user = AnonymousUser()
    incidents = facets.filtered_incidents(filterset)
    params = facets.clean_query(QueryDict(query), filterset)

    assert counts.summary() == facets.summarize(incidents, user)
    assert facets.build_facets(filterset, params, user, counts) == facets.build_facets(
        filterset, params, user
    )
    rows = counts.date_rows()
    live = charts.detentions_chart(incidents, user)
    if rows is None:  # a span the chart draws in days or weeks: the page counts live
        assert live is not None and live.unit != charts.MONTH
    else:
        assert charts.build_chart(rows) == live


@pytest.mark.parametrize(
    "query",
    [
        "q=detained",
        "verification=reported",
        "citizenship=KG",
        "outcome=released",
        "allegation=torture",
        "date_after=2022-01-15",
        # An incident begun in one year may reach into the next: counts keyed by the start
        # year cannot answer "from", even from 1 January.
        "date_after=2022-01-01",
        "date_before=2022-06-30",
        # Any range, whole years too: an incident "around 2 January 2023" may fall in
        # 2022, and an undated one may fall in any range (issue 13).
        "date_before=2022-12-31",
        "date_before=2022-12-31&place=kazakhstan&kind=detention",
        "date_after=2022-01-01&date_before=2022-12-31&date_match=certain",
        "updated_since=2020-01-01T00:00:00Z",
        "slug=detention-1",
    ],
)
def test_other_filters_are_counted_live(varied_cases, query):
    assert answers(query)[1] is None


def test_staff_are_always_counted_live(varied_cases):
    staff = StaffUserFactory()
    assert answers("", staff)[1] is None


def test_the_page_shows_the_counted_numbers(client, varied_cases):
    response = client.get("/incidents/", {"place": "kazakhstan"})

    filterset, counts = answers("place=kazakhstan")
    expected = facets.summarize(facets.filtered_incidents(filterset), AnonymousUser())
    assert response.context["summary"] == expected
    assert expected.incidents > 0
