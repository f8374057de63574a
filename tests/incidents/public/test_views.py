"""The public incident pages: the case list (home), incident, situation, place, statement and
source pages. The anonymous reader is pytest-django's `client`; staff log in as `staff_user`."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from incidents.models import (
    AllegationKind,
    DetentionRole,
    DisputeStatus,
    IncidentKind,
    Outcome,
    Verification,
)
from incidents.public import views
from tests.factories import (
    AccountFactory,
    AllegationFactory,
    CountryFactory,
    DetentionFactory,
    IncidentEventFactory,
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

DRAFT = PublicationState.DRAFT


def text(response) -> str:
    return response.content.decode()


# --- home -----------------------------------------------------------------------------------


def test_it_lists_published_incidents_newest_first(client):
    IncidentFactory(title="Older case", start_date=datetime.date(2022, 1, 5))
    IncidentFactory(title="Newest case", start_date=datetime.date(2022, 1, 11))
    IncidentFactory(title="Undated case", start_date=None, start_date_precision="")
    IncidentFactory(title="Middle case", start_date=datetime.date(2022, 1, 7))

    response = client.get(reverse("home"))

    assert response.status_code == 200
    page = text(response)
    positions = [page.index(t) for t in ("Newest case", "Middle case", "Older case")]
    assert positions == sorted(positions)
    # Undated incidents come last on every database (PostgreSQL puts NULLs first by default).
    assert page.index("Older case") < page.index("Undated case")


def test_it_breaks_date_ties_by_newest_record(client):
    first = IncidentFactory(title="Entered first")
    second = IncidentFactory(title="Entered second", start_date=first.start_date)

    page = text(client.get(reverse("home")))

    assert second.pk > first.pk
    assert page.index("Entered second") < page.index("Entered first")


def test_it_shows_the_facts_of_each_case(client):
    kazakhstan = CountryFactory()
    shymkent = LocationFactory(name="Shymkent", parent=kazakhstan)
    incident = IncidentFactory(
        title="Checks of Kyrgyz citizens",
        location=shymkent,
        kind=IncidentKind.MASS_DETENTION,
        reported_detained_count=38,
        summary="Detained and released after checks.",
    )

    page = text(client.get(reverse("home")))

    assert f'href="{incident.get_absolute_url()}"' in page
    assert "Checks of Kyrgyz citizens" in page
    assert "7 January 2022" in page
    assert "Shymkent, Kazakhstan" in page
    assert "Mass detention" in page
    assert "38 reported detained" in page
    assert "Detained and released after checks." in page


def test_it_hides_drafts_and_archived_incidents_from_anonymous(client):
    IncidentFactory(title="Published case")
    IncidentFactory(title="Draft case", publication_state=DRAFT)
    IncidentFactory(title="In review case", publication_state=PublicationState.IN_REVIEW)
    IncidentFactory(title="Archived case", archived_at=timezone.now())

    page = text(client.get(reverse("home")))

    assert "Published case" in page
    assert "Draft case" not in page
    assert "In review case" not in page
    assert "Archived case" not in page
    assert "1 documented incident," in page


def test_it_shows_drafts_to_staff_with_a_marker(staff_client):
    IncidentFactory(title="Draft case", publication_state=DRAFT)
    IncidentFactory(title="Archived case", archived_at=timezone.now())

    page = text(staff_client.get(reverse("home")))

    assert "Draft case" in page
    assert "badge-draft" in page
    assert "Archived case" not in page


def test_it_shows_a_month_precision_date_as_the_month(client):
    incident = IncidentFactory(start_date=datetime.date(2022, 1, 1), start_date_precision="month")

    for url in (reverse("home"), incident.get_absolute_url()):
        page = text(client.get(url))
        assert "January 2022" in page
        assert "1 January 2022" not in page


def test_it_says_when_the_date_is_not_given(client):
    IncidentFactory(start_date=None, start_date_precision="")

    assert "date not given" in text(client.get(reverse("home")))


def test_it_paginates(client, monkeypatch):
    monkeypatch.setattr(views, "INCIDENTS_PER_PAGE", 2)
    for day in (1, 2, 3):
        IncidentFactory(title=f"Case of day {day}", start_date=datetime.date(2022, 1, day))

    first = text(client.get(reverse("home")))
    second = text(client.get(reverse("home"), {"page": 2}))

    assert "Case of day 3" in first and "Case of day 1" not in first
    assert "Case of day 1" in second
    assert "Page 2 of 2" in second


def test_it_marks_the_page_language_and_links_home(client):
    page = text(client.get(reverse("home")))

    assert '<html lang="en">' in page
    assert "Detention case tracker" in page
    assert 'href="/static/css/site.css"' in page


def test_it_shows_the_staff_desk_to_staff_and_the_admin_to_superusers_only(
    client, staff_user, admin_user
):
    staff_url, admin_url = reverse("staff:dashboard"), reverse("admin:index")
    page = text(client.get(reverse("home")))
    assert staff_url not in page and admin_url not in page

    client.force_login(staff_user)
    page = text(client.get(reverse("home")))
    assert staff_url in page and admin_url not in page

    client.force_login(admin_user)
    assert admin_url in text(client.get(reverse("home")))


@pytest.mark.parametrize("rows", [2, 10])
def test_home_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries, rows):
    country = CountryFactory()
    for _ in range(rows):
        IncidentFactory(location=LocationFactory(parent=LocationFactory(parent=country)))

    # Guards against N+1: 1 count for the paginator, 2 the page of incidents with their
    # places, 3 the names of all those places' ancestors. Anonymous: no session query.
    with django_assert_max_num_queries(3):
        response = client.get(reverse("home"))
    assert response.status_code == 200


# --- incident detail ------------------------------------------------------------------------


@pytest.fixture
def full_incident():
    """An incident with every kind of related record the page shows."""
    kazakhstan = CountryFactory()
    shymkent = LocationFactory(name="Shymkent", parent=kazakhstan)
    police = LocationFactory(name="City police department", parent=shymkent)
    checkpoint = LocationFactory(name="Ak Zhol checkpoint", parent=kazakhstan)
    situation = SituationFactory(title="January 2022 unrest")
    incident = IncidentFactory(
        title="Beating during interrogation",
        kind=IncidentKind.ILL_TREATMENT,
        verification=Verification.CORROBORATED,
        situation=situation,
        location=shymkent,
        summary="A citizen was beaten during interrogation.",
        description="The ombudsman's office reported the beating.",
        reported_detained_count=38,
        reported_released_count=38,
        reported_count_note="released after checks",
        staff_notes="Call the family before publishing more.",
    )
    person = PersonFactory(name="Baialy Torogeldiev")
    ombudsman = OrganizationFactory(name="Ombudsman Institute")
    detention = DetentionFactory(
        incident=incident,
        person=person,
        role=DetentionRole.VICTIM,
        custody_location=police,
        released_on=datetime.date(2022, 1, 10),
        released_on_precision="day",
        release_location=checkpoint,
        outcome=Outcome.HANDED_OVER,
        staff_notes="Lawyer's phone number on file.",
    )
    AllegationFactory(
        detention=detention,
        kind=AllegationKind.ILL_TREATMENT,
        alleged_by_organization=ombudsman,
        description="Beaten during interrogation",
    )
    IncidentEventFactory(incident=incident, title="Video broadcast on TV", occurred_on=None)
    IncidentEventFactory(
        incident=incident, title="Handed over at the border", occurred_on=datetime.date(2022, 1, 9)
    )
    IncidentEventFactory(
        incident=incident, title="Consul visited", occurred_on=datetime.date(2022, 1, 8)
    )
    head = PositionFactory(
        person=PersonFactory(name="Kamchybek Tashiev"),
        organization=OrganizationFactory(name="GKNB"),
        title="Head",
    )
    statement = StatementFactory(
        speaker_person=head.person,
        speaker_organization=None,
        position=head,
        text="The man in the video is someone else.",
        dispute_status=DisputeStatus.REFUTED,
        dispute_note="The family identified him.",
    )
    statement.incidents.add(incident)
    source = SourceFactory(
        title="Kyrgyz citizens in Kazakhstan",
        publisher="CABAR.asia",
        url="https://cabar.asia/en/article",
        archived_url="https://web.archive.org/web/2022/https://cabar.asia/en/article",
    )
    incident.sources.add(source)
    return incident


def test_it_shows_the_incident_facts(client, full_incident):
    response = client.get(full_incident.get_absolute_url())

    assert response.status_code == 200
    page = text(response)
    for fact in (
        "Beating during interrogation",
        "Ill-treatment",
        "Corroborated",
        "7 January 2022",
        "Shymkent, Kazakhstan",
        "January 2022 unrest",
        full_incident.situation.get_absolute_url(),
        "A citizen was beaten during interrogation.",
        "The ombudsman&#x27;s office reported the beating.",
        "38",
        "released after checks",
    ):
        assert fact in page


def test_it_shows_the_people_involved(client, full_incident):
    page = text(client.get(full_incident.get_absolute_url()))

    for fact in (
        "Baialy Torogeldiev",
        "Victim",
        "City police department, Shymkent, Kazakhstan",
        "10 January 2022",
        "Ak Zhol checkpoint, Kazakhstan",
        "Deported or handed over",
        "Ill-treatment or beating",
        "Beaten during interrogation",
        "alleged by",
        "Ombudsman Institute",
    ):
        assert fact in page


def test_it_shows_the_timeline_in_date_order_with_undated_events_last(client, full_incident):
    page = text(client.get(full_incident.get_absolute_url()))
    timeline = page[page.index('id="timeline"') : page.index('id="statements"')]

    order = [
        timeline.index(t)
        for t in ("Consul visited", "Handed over at the border", "Video broadcast on TV")
    ]
    assert order == sorted(order)
    assert "date not given" in timeline[order[1] :]


def test_it_shows_statements_with_their_dispute_status(client, full_incident):
    page = text(client.get(full_incident.get_absolute_url()))

    for fact in (
        "Kamchybek Tashiev",
        "Head, ",
        "GKNB",
        "Claim",
        "The man in the video is someone else.",
        "badge-refuted",
        "Refuted",
        "The family identified him.",
    ):
        assert fact in page


def test_it_lists_the_sources_with_links(client, full_incident):
    page = text(client.get(full_incident.get_absolute_url()))

    assert "Kyrgyz citizens in Kazakhstan" in page
    assert "CABAR.asia" in page
    assert 'href="https://cabar.asia/en/article"' in page
    assert 'href="https://web.archive.org/web/2022/https://cabar.asia/en/article"' in page


def test_it_never_links_a_javascript_url(client):
    incident = IncidentFactory()
    # Written past the URLField validator, as a direct database write could.
    incident.sources.add(SourceFactory(url="javascript:alert(1)"))

    assert "javascript:" not in text(client.get(incident.get_absolute_url()))


def test_it_shows_staff_notes_to_staff_only(client, staff_user, full_incident):
    anonymous = text(client.get(full_incident.get_absolute_url()))
    assert "Call the family" not in anonymous
    assert "Lawyer&#x27;s phone number" not in anonymous
    assert "Staff only" not in anonymous

    client.force_login(staff_user)
    staff = text(client.get(full_incident.get_absolute_url()))
    assert "Call the family before publishing more." in staff
    assert "Lawyer&#x27;s phone number on file." in staff
    assert "Staff only" in staff


def test_it_hides_unpublished_related_records_from_anonymous(client, staff_user):
    incident = IncidentFactory()
    DetentionFactory(
        incident=incident, person=PersonFactory(name="Draft Detention"), publication_state=DRAFT
    )
    DetentionFactory(
        incident=incident, person=PersonFactory(name="Unreviewed Person", publication_state=DRAFT)
    )
    StatementFactory(text="A draft statement.", publication_state=DRAFT).incidents.add(incident)
    incident.sources.add(SourceFactory(title="A draft source", publication_state=DRAFT))
    hidden = ("Draft Detention", "Unreviewed Person", "A draft statement.", "A draft source")

    anonymous = text(client.get(incident.get_absolute_url()))
    assert not [fact for fact in hidden if fact in anonymous]

    client.force_login(staff_user)
    staff = text(client.get(incident.get_absolute_url()))
    assert [fact for fact in hidden if fact in staff] == list(hidden)


def test_it_shows_a_draft_incident_to_staff_with_a_marker(staff_client):
    incident = IncidentFactory(publication_state=DRAFT)

    response = staff_client.get(incident.get_absolute_url())

    assert response.status_code == 200
    assert '<span class="badge badge-draft">Draft</span>' in text(response)


def test_it_hides_an_archived_incident_from_staff_too(staff_client):
    incident = IncidentFactory(archived_at=timezone.now())

    assert staff_client.get(incident.get_absolute_url()).status_code == 404


def test_it_404s_for_an_unknown_incident(client):
    assert (
        client.get(reverse("incidents:incident_detail", args=["no-such-case"])).status_code == 404
    )


@pytest.mark.parametrize("rows", [2, 10])
def test_incident_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries, rows):
    incident = IncidentFactory()
    for _ in range(rows):
        detention = DetentionFactory(incident=incident, custody_location=LocationFactory())
        AllegationFactory(detention=detention)
        AccountFactory(detention=detention)  # another account of the place of arrest
        IncidentEventFactory(incident=incident, location=LocationFactory())
        statement = StatementFactory(speaker_person=PositionFactory().person)
        statement.incidents.add(incident)
        incident.sources.add(SourceFactory())
    for code in ["KG", "UZ", "TJ"][: min(rows, 3)]:
        group = ReportedGroupFactory(incident=incident, citizenship=code, detained_count=1)
        group.sources.add(SourceFactory())

    # Guards against N+1: 1 the incident with its place and situation, 2 detentions with
    # persons and places, 3 their allegations with who alleged them, 4 timeline events,
    # 5 statements with speakers and posts, 6 sources, 7 reported groups, 8 their sources,
    # 9 the accounts of the case's facts with their places and who asserts them, 10 the
    # accounts' sources, 11 the names of the places' ancestors.
    with django_assert_max_num_queries(11):
        response = client.get(incident.get_absolute_url())
    assert response.status_code == 200


# --- situation, place, statement and source pages --------------------------------------------


def test_it_shows_a_situation_with_its_incidents_and_statements(client):
    situation = SituationFactory(title="January 2022 unrest", summary="Protests and a crackdown.")
    IncidentFactory(situation=situation, title="A case in the situation")
    IncidentFactory(title="A case elsewhere")
    IncidentFactory(situation=situation, title="A draft case", publication_state=DRAFT)
    statement = StatementFactory(situation=situation, text="The ministry expressed concern.")
    situation.sources.add(SourceFactory(title="Overview article"))

    response = client.get(situation.get_absolute_url())

    assert response.status_code == 200
    page = text(response)
    assert "January 2022 unrest" in page
    assert "January 2022" in page and "1 January 2022" not in page
    assert "Protests and a crackdown." in page
    assert "A case in the situation" in page
    assert "A case elsewhere" not in page
    assert "A draft case" not in page
    assert statement.text in page
    assert "Overview article" in page


def test_it_shows_a_place_with_ancestors_children_and_incidents_inside(client):
    kazakhstan = CountryFactory()
    almaty = LocationFactory(name="Almaty", parent=kazakhstan)
    airport = LocationFactory(name="Almaty airport", parent=almaty)
    shymkent = LocationFactory(name="Shymkent", parent=kazakhstan)
    IncidentFactory(location=almaty, title="Detained in the city")
    IncidentFactory(location=airport, title="Detained at the airport")
    IncidentFactory(location=shymkent, title="Detained in Shymkent")
    IncidentFactory(location=airport, title="Draft at the airport", publication_state=DRAFT)

    response = client.get(almaty.get_absolute_url())

    assert response.status_code == 200
    page = text(response)
    assert kazakhstan.get_absolute_url() in page
    assert airport.get_absolute_url() in page
    assert "Detained in the city" in page
    assert "Detained at the airport" in page
    assert "Almaty airport, Almaty, Kazakhstan" in page
    assert "Detained in Shymkent" not in page
    assert "Draft at the airport" not in page

    country_page = text(client.get(kazakhstan.get_absolute_url()))
    assert "Detained in Shymkent" in country_page
    assert "Detained at the airport" in country_page


def test_it_404s_for_an_unknown_place(client):
    assert client.get(reverse("incidents:location_detail", args=["atlantis"])).status_code == 404


def test_it_shows_a_statement(client):
    position = PositionFactory(
        person=PersonFactory(name="Akylbek Japarov"),
        organization=OrganizationFactory(name="Cabinet of Ministers"),
        title="Chairman",
    )
    incident = IncidentFactory(title="Detention of a pianist")
    about = PersonFactory(name="Vikram Ruzakhunov")
    statement = StatementFactory(
        speaker_person=position.person,
        position=position,
        text="We demand the release of our citizens.",
        is_direct_quote=True,
        dispute_status=DisputeStatus.DISPUTED,
        dispute_note="Kazakhstan said none were held unlawfully.",
    )
    statement.incidents.add(incident)
    statement.people.add(about)
    statement.sources.add(SourceFactory(title="Speech report"))

    response = client.get(statement.get_absolute_url())

    assert response.status_code == 200
    page = text(response)
    for fact in (
        "Akylbek Japarov",
        "Chairman, ",
        "Cabinet of Ministers",
        "<blockquote",
        "We demand the release of our citizens.",
        "badge-disputed",
        "Kazakhstan said none were held unlawfully.",
        "10 January 2022",
        "Detention of a pianist",
        "Vikram Ruzakhunov",
        "Speech report",
    ):
        assert fact in page


def test_it_shows_a_source_and_what_cites_it(client):
    source = SourceFactory(
        title="Kyrgyz citizens in Kazakhstan",
        publisher="CABAR.asia",
        published_on=datetime.date(2022, 1, 1),
        published_on_precision="month",
    )
    IncidentFactory(title="Citing case").sources.add(source)
    IncidentFactory(title="Draft citing case", publication_state=DRAFT).sources.add(source)
    IncidentFactory(title="Unrelated case")
    StatementFactory(text="Citing statement.").sources.add(source)
    StatementFactory(text="Draft citing statement.", publication_state=DRAFT).sources.add(source)

    response = client.get(source.get_absolute_url())

    assert response.status_code == 200
    page = text(response)
    assert "Kyrgyz citizens in Kazakhstan" in page
    assert "CABAR.asia" in page
    assert "January 2022" in page and "1 January 2022" not in page
    assert 'href="https://news.example.org/reports/' in page
    assert "Citing case" in page
    assert "Citing statement." in page
    assert "Unrelated case" not in page
    assert "Draft citing" not in page


# --- drafts on every detail page ------------------------------------------------------------


def _draft_incident():
    return IncidentFactory(publication_state=DRAFT)


def _draft_situation():
    return SituationFactory(publication_state=DRAFT)


def _draft_statement():
    return StatementFactory(publication_state=DRAFT)


def _draft_source():
    return SourceFactory(publication_state=DRAFT)


def _archived_incident():
    return IncidentFactory(archived_at=timezone.now())


def _archived_statement():
    return StatementFactory(archived_at=timezone.now())


@pytest.mark.parametrize(
    "make_record",
    [
        _draft_incident,
        _draft_situation,
        _draft_statement,
        _draft_source,
        _archived_incident,
        _archived_statement,
    ],
)
def test_it_404s_for_unpublished_records_to_anonymous(client, make_record):
    record = make_record()

    assert client.get(record.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    "make_record", [_draft_incident, _draft_situation, _draft_statement, _draft_source]
)
def test_it_shows_drafts_to_staff_on_every_detail_page(staff_client, make_record):
    record = make_record()

    response = staff_client.get(record.get_absolute_url())

    assert response.status_code == 200
    assert "badge-draft" in text(response)
