"""The public person and organization pages, and how a withheld identity appears on every
page. The anonymous reader is pytest-django's `client`; staff log in as `staff_user`."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from incidents.models import StatementKind
from people.models import NameKind
from tests.factories import (
    AllegationFactory,
    DetentionFactory,
    IncidentFactory,
    OrganizationFactory,
    PersonFactory,
    PersonNameFactory,
    PositionFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationState.DRAFT


def text(response) -> str:
    return response.content.decode()


# --- person page ----------------------------------------------------------------------------


def test_it_shows_a_person(client):
    person = PersonFactory(
        name="Vikram Ruzakhunov",
        name_native="Викрам Рузахунов",
        occupation="Jazz pianist",
        public_notes="Shown in a televised confession.",
    )
    PersonNameFactory(person=person, name="Vikram Ruzahunov", kind=NameKind.SPELLING)
    incident = IncidentFactory(title="Detention in Almaty")
    DetentionFactory(
        person=person,
        incident=incident,
        released_on=datetime.date(2022, 1, 10),
        released_on_precision="day",
    )
    StatementFactory(text="He was released.", kind=StatementKind.ASSURANCE).people.add(person)
    person.sources.add(SourceFactory(title="Article about the pianist"))

    response = client.get(person.get_absolute_url())

    assert response.status_code == 200
    page = text(response)
    for fact in (
        "Vikram Ruzakhunov",
        "Викрам Рузахунов",
        "Vikram Ruzahunov",
        "Kyrgyzstan",
        "Jazz pianist",
        "Shown in a televised confession.",
        "Detention in Almaty",
        "7 January 2022",
        "10 January 2022",
        "He was released.",
        "Article about the pianist",
    ):
        assert fact in page


def test_it_shows_a_misidentification_and_its_real_bearer(client):
    pianist = PersonFactory(name="Vikram Ruzakhunov")
    other = PersonFactory(name="Zakir Yuburov")
    PersonNameFactory(
        person=pianist, name="Zakir Yuburov", kind=NameKind.MISIDENTIFIED_AS, other_person=other
    )

    pianist_page = text(client.get(pianist.get_absolute_url()))
    assert "Misidentified as" in pianist_page
    assert other.get_absolute_url() in pianist_page

    other_page = text(client.get(other.get_absolute_url()))
    assert "was the name wrongly given to" in other_page
    assert pianist.get_absolute_url() in other_page


def test_it_shows_statements_made_and_posts_held(client):
    position = PositionFactory(
        person=PersonFactory(name="Kamchybek Tashiev"),
        organization=OrganizationFactory(name="State Committee for National Security"),
        title="Head",
    )
    StatementFactory(
        speaker_person=position.person, position=position, text="Our citizens will be returned."
    )

    page = text(client.get(position.person.get_absolute_url()))

    assert "Head, " in page
    assert "State Committee for National Security" in page
    assert "Our citizens will be returned." in page


def test_it_hides_unpublished_detentions_and_statements_from_anonymous(client):
    person = PersonFactory()
    DetentionFactory(person=person, incident=IncidentFactory(title="Published case"))
    DetentionFactory(
        person=person, incident=IncidentFactory(title="Draft case", publication_state=DRAFT)
    )
    DetentionFactory(
        person=person, incident=IncidentFactory(title="Draft detention"), publication_state=DRAFT
    )
    StatementFactory(text="A draft statement.", publication_state=DRAFT).people.add(person)

    page = text(client.get(person.get_absolute_url()))

    assert "Published case" in page
    assert "Draft case" not in page
    assert "Draft detention" not in page
    assert "A draft statement." not in page


def test_it_shows_person_staff_notes_to_staff_only(client, staff_user):
    person = PersonFactory(staff_notes="Family asked not to be contacted.")

    assert "Family asked" not in text(client.get(person.get_absolute_url()))

    client.force_login(staff_user)
    page = text(client.get(person.get_absolute_url()))
    assert "Family asked not to be contacted." in page
    assert "Staff only" in page


def test_it_404s_for_a_draft_or_archived_person_to_anonymous(client):
    draft = PersonFactory(publication_state=DRAFT)
    archived = PersonFactory(archived_at=timezone.now())

    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(archived.get_absolute_url()).status_code == 404


def test_it_shows_a_draft_person_to_staff_with_a_marker(staff_client):
    person = PersonFactory(publication_state=DRAFT)

    response = staff_client.get(person.get_absolute_url())

    assert response.status_code == 200
    assert '<span class="badge badge-draft">Draft</span>' in text(response)


def test_it_404s_for_an_unknown_person(client):
    assert client.get(reverse("people:person_detail", args=["nobody"])).status_code == 404


@pytest.mark.parametrize("rows", [2, 10])
def test_person_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries, rows):
    person = PersonFactory()
    for _ in range(rows):
        PersonNameFactory(person=person)
        PositionFactory(person=person)
        DetentionFactory(person=person)
        StatementFactory(speaker_person=person)
        StatementFactory().people.add(person)
        person.sources.add(SourceFactory())

    # Guards against N+1: 1 the person, 2 name variants, 3 names misattributed to them,
    # 4 posts with organizations, 5 detentions with incidents and places, 6 statements made,
    # 7 statements about them, 8 sources.
    with django_assert_max_num_queries(8):
        response = client.get(person.get_absolute_url())
    assert response.status_code == 200


# --- a withheld identity on every page ------------------------------------------------------


@pytest.fixture
def withheld():
    """A withheld person involved in an incident, named in and alleging in statements, and
    whose name another person was wrongly given."""
    person = PersonFactory(
        name="Aibek Secretov",
        name_native="Айбек Секретов",
        slug="aibek-secretov",
        occupation="Night watchman at the depot",
        staff_notes="Reachable through his sister.",
        identity_withheld=True,
    )
    PersonNameFactory(person=person, name="Aybek Sekretoff", kind=NameKind.TRANSLITERATION)
    incident = IncidentFactory(title="Detentions at the depot")
    detention = DetentionFactory(incident=incident, person=person)
    AllegationFactory(detention=detention, alleged_by_organization=None, alleged_by_person=person)
    statement = StatementFactory(text="The detainees are well.")
    statement.incidents.add(incident)
    statement.people.add(person)
    own_statement = StatementFactory(speaker_person=person, text="I was beaten.")
    own_statement.incidents.add(incident)
    mistaken = PersonFactory(name="Other Man")
    PersonNameFactory(
        person=mistaken,
        name="Aibek Secretov",
        kind=NameKind.MISIDENTIFIED_AS,
        other_person=person,
    )
    return {
        "person": person,
        "incident": incident,
        "statement": statement,
        "own_statement": own_statement,
        "mistaken": mistaken,
    }


# Every fragment that would identify the withheld person, case-insensitively: the name, the
# native name, the variant, the slug (the page address) and the staff notes.
IDENTIFYING = ("secretov", "секретов", "sekretoff", "night watchman", "through his sister")


def _public_pages(withheld) -> list[str]:
    return [
        reverse("home"),
        withheld["incident"].get_absolute_url(),
        withheld["person"].get_absolute_url(),
        withheld["statement"].get_absolute_url(),
        withheld["own_statement"].get_absolute_url(),
        withheld["mistaken"].get_absolute_url(),
    ]


def test_it_never_shows_a_withheld_identity_to_anonymous(client, withheld):
    for url in _public_pages(withheld):
        response = client.get(url)
        assert response.status_code == 200, url
        page = text(response).lower()
        leaked = [fragment for fragment in IDENTIFYING if fragment in page]
        assert leaked == [], url


def test_it_shows_the_public_label_instead(client, withheld):
    label = "Person withheld, citizen of Kyrgyzstan"

    for url in _public_pages(withheld)[1:]:
        assert label in text(client.get(url)), url


def test_it_shows_a_withheld_identity_to_staff(staff_client, withheld):
    person_page = text(staff_client.get(withheld["person"].get_absolute_url()))
    assert "Aibek Secretov" in person_page
    assert "Айбек Секретов" in person_page
    assert "Aybek Sekretoff" in person_page
    assert "Reachable through his sister." in person_page

    incident_page = text(staff_client.get(withheld["incident"].get_absolute_url()))
    assert "Aibek Secretov" in incident_page
    # Staff are reminded that the name they see is not public.
    assert "identity withheld" in incident_page
    assert withheld["person"].get_absolute_url() in incident_page


# --- organization page ----------------------------------------------------------------------


def test_it_shows_an_organization_with_posts_and_statements(client):
    ministry = OrganizationFactory(name="Ministry of Foreign Affairs", abbreviation="MFA")
    PositionFactory(
        organization=ministry, person=PersonFactory(name="Nazarali Aripov"), title="Consul-General"
    )
    PositionFactory(
        organization=ministry,
        person=PersonFactory(name="Draft Official", publication_state=DRAFT),
        title="Deputy minister",
    )
    StatementFactory(speaker_organization=ministry, text="A note of protest was sent.")
    StatementFactory(
        speaker_organization=ministry, text="A draft protest.", publication_state=DRAFT
    )

    response = client.get(ministry.get_absolute_url())

    assert response.status_code == 200
    page = text(response)
    assert "Ministry of Foreign Affairs (MFA)" in page
    assert "Consul-General" in page
    assert "Nazarali Aripov" in page
    assert "A note of protest was sent." in page
    assert "Draft Official" not in page
    assert "Deputy minister" not in page
    assert "A draft protest." not in page


def test_it_404s_for_an_unknown_organization(client):
    assert (
        client.get(reverse("people:organization_detail", args=["no-such-body"])).status_code == 404
    )
