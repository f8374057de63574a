"""The statements list (`/statements/`): every statement the reader may see, newest first,
filtered with the shared StatementFilter. The anonymous reader is pytest-django's `client`."""

import datetime

import pytest
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents.models import DisputeStatus, StatementKind
from incidents.public.browse_views import STATEMENTS_PER_PAGE
from tests.factories import (
    IncidentFactory,
    OrganizationFactory,
    PersonFactory,
    PositionFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationState.DRAFT
STATEMENTS = reverse("incidents:statement_list")


def page_for(client, status: int = 200, **query) -> str:
    response = client.get(STATEMENTS, query)
    assert response.status_code == status
    return response.content.decode()


def test_it_lists_statements_with_speaker_post_kind_date_and_incidents(client):
    position = PositionFactory(
        person=PersonFactory(name="Kamchybek Tashiev"),
        organization=OrganizationFactory(name="State Committee for National Security"),
        title="Head",
    )
    incident = IncidentFactory(title="Detention of Vikram Ruzakhunov")
    statement = StatementFactory(
        speaker_person=position.person,
        speaker_organization=position.organization,
        position=position,
        kind=StatementKind.PROTEST,
        said_on=datetime.date(2022, 1, 10),
        text="It was wrong to accuse our citizens of terrorism.",
    )
    statement.incidents.add(incident)

    page = page_for(client)

    assert "Kamchybek Tashiev" in page
    assert "Head, " in page and "State Committee for National Security" in page
    assert "Protest" in page
    assert "10 January 2022" in page
    assert "It was wrong to accuse our citizens of terrorism." in page
    assert f'<a href="{incident.get_absolute_url()}">Detention of Vikram Ruzakhunov</a>' in page


def test_it_shows_the_dispute_badge_and_note(client):
    StatementFactory(
        text="It was not him in the video.",
        dispute_status=DisputeStatus.DISPUTED,
        dispute_note="He was recognised by his relatives.",
    )

    page = page_for(client)

    assert 'class="badge badge-disputed"' in page
    assert "He was recognised by his relatives." in page


def test_it_lists_newest_first_and_undated_last(client):
    StatementFactory(text="Undated statement", said_on=None, said_on_precision="")
    StatementFactory(text="Older statement", said_on=datetime.date(2022, 1, 5))
    StatementFactory(text="Newer statement", said_on=datetime.date(2022, 1, 11))

    page = page_for(client)

    positions = [page.index(t) for t in ("Newer statement", "Older statement", "Undated")]
    assert positions == sorted(positions)


def test_it_hides_drafts_withheld_speakers_and_draft_incidents_from_anonymous(client):
    withheld = PersonFactory(name="Hiddenname Markerov", identity_withheld=True, citizenship="KG")
    StatementFactory(speaker_person=withheld, text="An account by a withheld person.")
    StatementFactory(text="Draftstatement text", publication_state=DRAFT)
    public = StatementFactory(text="Public statement")
    public.incidents.add(IncidentFactory(title="Draftincident title", publication_state=DRAFT))

    page = page_for(client)

    assert "An account by a withheld person." in page
    assert "Person withheld, citizen of Kyrgyzstan" in page
    assert "Markerov" not in page  # neither in the list nor in the speaker menu
    assert "Draftstatement" not in page
    assert "Draftincident" not in page


def test_staff_see_drafts(staff_client):
    StatementFactory(text="Draftstatement text", publication_state=DRAFT)

    assert "Draftstatement text" in page_for(staff_client)


# --- filters --------------------------------------------------------------------------------


@pytest.fixture
def statements(db):
    tashiev = PersonFactory(name="Kamchybek Tashiev", slug="kamchybek-tashiev")
    ministry = OrganizationFactory(name="Interior ministry", slug="interior-ministry")
    incident = IncidentFactory(slug="ruzakhunov-almaty")
    by_tashiev = StatementFactory(
        text="Said by Tashiev", speaker_person=tashiev, kind=StatementKind.PROTEST
    )
    by_tashiev.incidents.add(incident)
    StatementFactory(
        text="Said by the ministry",
        speaker_organization=ministry,
        kind=StatementKind.CLAIM,
        dispute_status=DisputeStatus.DISPUTED,
        dispute_note="Contradicted.",
        said_on=datetime.date(2022, 1, 3),
    )
    StatementFactory(
        text="Said on the eleventh",
        kind=StatementKind.ASSURANCE,
        said_on=datetime.date(2022, 1, 11),
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"speaker": "kamchybek-tashiev"}, {"Said by Tashiev"}),
        ({"organization": "interior-ministry"}, {"Said by the ministry"}),
        ({"kind": "protest"}, {"Said by Tashiev"}),
        ({"kind": ["protest", "assurance"]}, {"Said by Tashiev", "Said on the eleventh"}),
        ({"dispute_status": "disputed"}, {"Said by the ministry"}),
        ({"incident": "ruzakhunov-almaty"}, {"Said by Tashiev"}),
        ({"date_after": "2022-01-11"}, {"Said on the eleventh"}),
        ({"date_before": "2022-01-03"}, {"Said by the ministry"}),
        ({"q": "eleventh"}, {"Said on the eleventh"}),
        ({"q": "Ташиев"}, {"Said by Tashiev"}),
    ],
)
def test_it_filters(client, statements, query, expected):
    page = page_for(client, **query)

    shown = {
        t for t in ("Said by Tashiev", "Said by the ministry", "Said on the eleventh") if t in page
    }
    assert shown == expected


def test_the_filter_form_offers_speakers_bodies_and_incidents_with_statements(client, statements):
    PersonFactory(name="Silent Person")

    page = page_for(client)

    assert '<option value="kamchybek-tashiev">Kamchybek Tashiev</option>' in page
    assert '<option value="interior-ministry">Interior ministry</option>' in page
    assert '<option value="ruzakhunov-almaty">' in page
    assert "Silent Person" not in page


def test_it_keeps_the_chosen_filters_in_the_form(client, statements):
    page = page_for(client, speaker="kamchybek-tashiev", kind="protest", q="Tashiev")

    assert '<option value="kamchybek-tashiev" selected>' in page
    assert 'value="protest" checked' in page
    assert 'value="Tashiev"' in page


def test_it_reports_an_invalid_filter_instead_of_ignoring_it(client, statements):
    page = page_for(client, 400, speaker="no-such-person")

    assert "Some filters could not be applied" in page
    assert "Speaker" in page
    assert "Said by the ministry" not in page


def test_it_pages_and_keeps_the_filters_on_the_page_links(client):
    for number in range(STATEMENTS_PER_PAGE + 1):
        StatementFactory(text=f"Claim number {number}", kind=StatementKind.CLAIM)

    first = page_for(client, kind="claim")
    second = page_for(client, kind="claim", page=2)

    assert first.count('class="statement"') == STATEMENTS_PER_PAGE
    assert "kind=claim&amp;page=2" in first
    assert second.count('class="statement"') == 1


@pytest.mark.parametrize("rows", [3, 30])
def test_statement_list_query_count_does_not_grow_with_rows(
    client, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        position = PositionFactory()
        statement = StatementFactory(
            speaker_person=position.person,
            speaker_organization=position.organization,
            position=position,
        )
        statement.incidents.add(IncidentFactory())

    # Guards against N+1: 1 count, 2 the page of statements with speakers and posts, 3 the
    # incidents they are about; the filter menus: 4 speakers, 5 organizations, 6 incidents.
    with django_assert_max_num_queries(6):
        page = page_for(client)
    assert page.count('class="statement"') == min(rows, STATEMENTS_PER_PAGE)
