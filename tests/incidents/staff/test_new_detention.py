"""The "New detention" page: an incident, its people and its sources in one sitting, saved
as drafts all together or not at all (incidents/staff/entry.py, incidents/staff/entry_views.py)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents import revisions
from incidents.models import Allegation, Detention, Incident, Location, Revision, Source
from incidents.staff.entry import (
    EntryInvalid,
    NewIncident,
    NewPerson,
    PersonEntry,
    SourceEntry,
    enter_detention,
)
from people.models import Person, is_withheld_slug
from tests.factories import (
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
    SourceFactory,
    StaffUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = reverse("staff:new_detention")

PERSON_ROW_DEFAULTS = {
    # What a browser submits for a row left untouched.
    "role": "detainee",
    "detained_on_precision": "day",
    "released_on_precision": "day",
    "outcome": "unknown",
}
SOURCE_ROW_DEFAULTS = {"published_on_precision": "day", "kind": "news_article"}


def entry_data(*, incident=None, people=(), sources=(), person_rows=3, source_rows=2) -> dict:
    """A POST as the page's form sends it: every row, the untouched ones with defaults."""
    data = {"save": "1", "incident-mode": "new", "incident-start_date_precision": "day"}
    data.update({f"incident-{name}": value for name, value in (incident or {}).items()})
    for prefix, rows, defaults, count in (
        ("people", people, PERSON_ROW_DEFAULTS, person_rows),
        ("sources", sources, SOURCE_ROW_DEFAULTS, source_rows),
    ):
        total = max(count, len(rows))
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(total),
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
        for index in range(total):
            row = {**defaults, **(rows[index] if index < len(rows) else {})}
            data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


@pytest.fixture
def almaty():
    return LocationFactory(name="Almaty", slug="almaty-test", parent=CountryFactory())


def valid_entry(almaty, **overrides) -> dict:
    values = {
        "incident": {
            "title": "Detention of two musicians in Almaty",
            "kind": "detention",
            "location": str(almaty.pk),
            "start_date": "2022-01-07",
            "reported_detained_count": "2",
        },
        "people": [
            {
                "name": "Aibek Test",
                "citizenship": "KG",
                "birth_year": "1990",
                "detained_on": "2022-01-07",
                "allegation_kinds": ["forced_confession", "no_lawyer"],
                "allegation_description": "according to his relatives",
                "staff_notes": "Wife called the office.",
            },
            {"name": "Bakyt Sample", "citizenship": "KG", "detained_on": "2022-01-08"},
        ],
        "sources": [
            {
                "url": "https://news.example.org/almaty-musicians",
                "title": "Two musicians detained",
                "publisher": "Example News",
                "published_on": "2022-01-09",
            }
        ],
    }
    values.update(overrides)
    return entry_data(**values)


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Incident, Person, Detention, Source, Location, Allegation)
    }


# --- access --------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_forbids_users_who_are_not_staff(client):
    client.force_login(UserFactory())
    assert client.get(URL).status_code == 403


def test_it_forbids_staff_without_the_editor_permissions(client):
    client.force_login(StaffUserFactory())
    assert client.get(URL).status_code == 403


def test_it_shows_the_three_parts_and_why_a_source_is_needed(editor_client, almaty):
    response = editor_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="incident"' in page and 'id="people-rows"' in page and 'id="sources-rows"' in page
    assert "Every fact needs a source" in page
    assert 'name="people-2-name"' in page  # three empty person rows without JavaScript
    assert "the day is ignored" in page
    assert reverse("staff:person_candidates") in page
    assert "<script>" not in page  # the CSP forbids inline scripts


def test_it_preselects_the_incident_named_in_the_query_string(editor_client):
    incident = IncidentFactory()
    response = editor_client.get(URL, {"incident": incident.slug})
    form = response.context["page"].incident_form
    assert form["mode"].value() == "existing"
    assert form["existing"].value() == str(incident.pk)


# --- a successful save -----------------------------------------------------------------------


def test_it_saves_everything_as_drafts_and_links_the_sources(editor_client, almaty):
    response = editor_client.post(URL, valid_entry(almaty))

    incident = Incident.objects.get(title="Detention of two musicians in Almaty")
    assert response.status_code == 302
    assert response.url == incident.get_absolute_url()
    people = Person.objects.filter(name__in=["Aibek Test", "Bakyt Sample"])
    detentions = Detention.objects.filter(incident=incident)
    source = Source.objects.get(url="https://news.example.org/almaty-musicians")
    assert people.count() == 2 and detentions.count() == 2
    for record in [incident, *people, *detentions, source]:
        assert record.publication_state == PublicationState.DRAFT
    assert list(incident.sources.all()) == [source]
    for record in [*people, *detentions]:
        assert list(record.sources.all()) == [source]
    aibek = detentions.get(person__name="Aibek Test")
    assert aibek.staff_notes == "Wife called the office."
    assert sorted(aibek.allegations.values_list("kind", flat=True)) == [
        "forced_confession",
        "no_lawyer",
    ]
    assert {a.description for a in aibek.allegations.all()} == {"according to his relatives"}
    assert incident.reported_detained_count == 2


def test_it_redirects_to_the_draft_incident_page_with_a_message(editor_client, almaty):
    response = editor_client.post(URL, valid_entry(almaty))
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Saved as a draft: Detention of two musicians in Almaty. A reviewer publishes it."
    ]
    page = editor_client.get(response.url)
    assert page.status_code == 200  # staff see the draft
    assert "Aibek Test" in page.content.decode()


def test_it_records_history_by_the_editor(editor_client, editor, almaty):
    editor_client.post(URL, valid_entry(almaty))
    incident = Incident.objects.get(title="Detention of two musicians in Almaty")
    records = [
        incident,
        *Person.objects.filter(name__in=["Aibek Test", "Bakyt Sample"]),
        *Detention.objects.filter(incident=incident),
        *Source.objects.filter(url="https://news.example.org/almaty-musicians"),
    ]
    for record in records:
        history = list(record.history.all())
        assert history, record
        assert history[-1].history_type == "+"
        assert {row.history_user for row in history} == {editor}


def test_a_new_place_added_on_the_spot_lands_in_the_tree(editor_client, almaty):
    data = valid_entry(almaty)
    data.pop("incident-location")
    data.update(
        {
            "incident-new_place_name": "Police station No. 3",
            "incident-new_place_kind": "police_station",
            "incident-new_place_parent": str(almaty.pk),
        }
    )
    editor_client.post(URL, data)

    station = Location.objects.get(name="Police station No. 3")
    assert station.parent == almaty
    assert station.country == almaty.country
    assert station.path == f"{almaty.path}{station.pk}/"
    assert station in Location.objects.within(almaty.parent)
    incident = Incident.objects.get(title="Detention of two musicians in Almaty")
    assert incident.location == station
    assert incident in Incident.objects.in_location(almaty)


def test_a_month_precise_date_ignores_the_day(editor_client, almaty):
    data = valid_entry(almaty)
    data.update({"incident-start_date": "2022-01-19", "incident-start_date_precision": "month"})
    editor_client.post(URL, data)
    incident = Incident.objects.get(title="Detention of two musicians in Almaty")
    assert incident.start_date == datetime.date(2022, 1, 1)
    assert str(incident.start) == "January 2022"


def test_it_adds_people_to_an_existing_incident(editor_client, almaty):
    incident = IncidentFactory(location=almaty)
    data = valid_entry(almaty)
    data.update({"incident-mode": "existing", "incident-existing": str(incident.pk)})
    response = editor_client.post(URL, data)

    assert response.status_code == 302
    assert Incident.objects.count() == 1
    assert incident.detentions.count() == 2  # drafts: the public sees none of them yet
    new_source = Source.objects.get(url="https://news.example.org/almaty-musicians")
    # The published incident cites the new source once a reviewer agrees, not before.
    assert not incident.sources.filter(pk=new_source.pk).exists()
    proposal = Revision.objects.of(incident).pending().get()
    assert new_source.pk in proposal.proposed["links"]["sources"]
    incident.refresh_from_db()
    assert incident.publication_state == PublicationState.PUBLISHED  # left as it was


def test_a_published_incident_cites_the_entry_source_once_a_reviewer_publishes_it(
    editor_client, reviewer, almaty
):
    incident = IncidentFactory(location=almaty)
    data = valid_entry(almaty)
    data.update({"incident-mode": "existing", "incident-existing": str(incident.pk)})
    editor_client.post(URL, data)
    proposal = Revision.objects.of(incident).pending().get()

    revisions.publish_revision(revision=proposal, user=reviewer)

    new_source = incident.sources.get(url="https://news.example.org/almaty-musicians")
    assert new_source.is_published  # a published page never cites a draft


def test_it_links_an_existing_person_instead_of_creating_one(editor_client, almaty):
    known = PersonFactory(name="Vikram Known", slug="vikram-known")
    data = valid_entry(almaty)
    data["people-0-existing_person"] = "vikram-known"
    data["people-0-name"] = ""
    before = Person.objects.count()
    editor_client.post(URL, data)

    assert Person.objects.count() == before + 1  # only Bakyt Sample is new
    detention = Detention.objects.get(person=known)
    assert detention.incident.title == "Detention of two musicians in Almaty"
    assert not known.sources.exists()  # existing records are not touched


def test_it_accepts_a_person_page_address_as_the_link(editor_client, almaty):
    known = PersonFactory(slug="vikram-known")
    data = valid_entry(almaty)
    data["people-0-existing_person"] = f"https://cases.example.org{known.get_absolute_url()}"
    editor_client.post(URL, data)
    assert Detention.objects.filter(person=known).exists()


def test_it_cites_a_source_already_recorded_instead_of_copying_it(editor_client, almaty):
    recorded = SourceFactory(url="https://news.example.org/almaty-musicians")
    before = Source.objects.count()
    editor_client.post(URL, valid_entry(almaty))
    assert Source.objects.count() == before
    incident = Incident.objects.get(title="Detention of two musicians in Almaty")
    assert list(incident.sources.all()) == [recorded]


def test_a_withheld_persons_slug_does_not_contain_the_name(editor_client, almaty):
    data = valid_entry(almaty)
    data["people-0-identity_withheld"] = "on"
    editor_client.post(URL, data)
    person = Person.objects.get(name="Aibek Test")
    assert person.identity_withheld
    assert is_withheld_slug(person.slug)
    assert "aibek" not in person.slug and "test" not in person.slug


def test_slugs_are_made_unique_and_readable(editor_client, almaty):
    PersonFactory(name="Aibek Test", slug="aibek-test")
    IncidentFactory(slug="detention-of-two-musicians-in-almaty")
    data = valid_entry(almaty)
    data["people-0-is_different_person"] = "on"
    editor_client.post(URL, data)
    incident = Incident.objects.get(slug="detention-of-two-musicians-in-almaty-2")
    assert incident.detentions.filter(person__slug="aibek-test-2").exists()


# --- nothing is saved when anything is wrong -------------------------------------------------


def test_a_bad_date_in_the_second_person_saves_nothing(editor_client, almaty):
    before = counts()
    data = valid_entry(almaty)
    data["people-1-detained_on"] = "2022-13-45"
    response = editor_client.post(URL, data)

    assert response.status_code == 200
    assert counts() == before
    page = response.content.decode()
    # Beside the field (Django ties the list to the input with this id) and at the top.
    assert 'id="id_people-1-detained_on_error"' in page
    assert 'href="#id_people-1-detained_on"' in page
    assert "Nothing was saved" in page


def test_a_record_the_model_rejects_in_the_second_row_rolls_back_the_rest(editor_client, almaty):
    before = counts()
    data = valid_entry(almaty)
    data.pop("incident-location")
    data.update(
        {
            "incident-new_place_name": "Checkpoint Test",
            "incident-new_place_kind": "border_crossing",
            "incident-new_place_parent": str(almaty.pk),
            # Valid for the form, refused by Detention.clean(): release before detention.
            "people-1-released_on": "2022-01-02",
        }
    )
    response = editor_client.post(URL, data)

    assert response.status_code == 200
    assert counts() == before  # not the place, incident, first person or source either
    form = response.context["page"].people.forms[1]
    assert form.errors["released_on"] == ["The release cannot be before the detention."]
    assert 'id="id_people-1-released_on_error"' in response.content.decode()


def test_every_error_is_reported_at_once(editor_client, almaty):
    data = valid_entry(almaty)
    data["incident-title"] = ""
    data["people-0-birth_year"] = "1850"
    data["sources-0-title"] = ""
    response = editor_client.post(URL, data)
    page = response.context["page"]
    assert "title" in page.incident_form.errors
    assert "birth_year" in page.people.forms[0].errors
    assert "title" in page.sources.forms[0].errors
    assert len(response.context["errors"]) == 3


def test_it_requires_a_source_and_says_why(editor_client, almaty):
    before = counts()
    response = editor_client.post(URL, valid_entry(almaty, sources=[]))
    assert counts() == before
    assert "every fact needs a source" in response.content.decode()


def test_it_requires_a_person(editor_client, almaty):
    response = editor_client.post(URL, valid_entry(almaty, people=[]))
    assert list(response.context["page"].people.non_form_errors()) == ["Add at least one person."]


def test_it_requires_a_place(editor_client, almaty):
    data = valid_entry(almaty)
    data.pop("incident-location")
    response = editor_client.post(URL, data)
    assert response.context["page"].incident_form.errors["location"]


def test_the_same_existing_person_twice_is_refused(editor_client, almaty):
    PersonFactory(slug="vikram-known")
    data = valid_entry(almaty)
    data.update(
        {"people-0-existing_person": "vikram-known", "people-1-existing_person": "vikram-known"}
    )
    before = counts()
    response = editor_client.post(URL, data)
    assert counts() == before
    assert response.context["page"].people.forms[1].errors["existing_person"]


def test_a_person_already_in_the_existing_incident_is_refused_beside_the_row(editor_client, almaty):
    detention = DetentionFactory(incident__location=almaty)
    data = valid_entry(almaty)
    data.update(
        {
            "incident-mode": "existing",
            "incident-existing": str(detention.incident.pk),
            "people-1-existing_person": detention.person.slug,
        }
    )
    before = counts()
    response = editor_client.post(URL, data)
    assert counts() == before
    assert response.context["page"].people.forms[1].non_field_errors() == [
        "This person is already recorded in this incident."
    ]


def test_adding_rows_without_javascript_keeps_the_input_and_saves_nothing(editor_client, almaty):
    data = valid_entry(almaty)
    del data["save"]
    data["add_people"] = "1"
    before = counts()
    response = editor_client.post(URL, data)

    assert counts() == before
    page = response.context["page"]
    assert len(page.people.forms) == 5
    assert page.people.forms[0]["name"].value() == "Aibek Test"
    assert not response.context["errors"]
    assert "errorlist" not in response.content.decode()


# --- the duplicate-person warning on save ----------------------------------------------------


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def entry_beside_demo(almaty) -> dict:
    """The valid entry, in March 2022: the demo records an incident in January 2022 in the
    whole of Kazakhstan, which contains the test's Almaty (a probable duplicate incident)."""
    data = valid_entry(almaty)
    data["incident-start_date"] = "2022-03-07"
    return data


def test_a_probable_duplicate_stops_the_save_with_a_warning(editor_client, demo, almaty):
    data = valid_entry(almaty)
    data["people-0-name"] = "Викрам Рузахунов"
    before = counts()
    response = editor_client.post(URL, data)

    assert counts() == before
    form = response.context["page"].people.forms[0]
    assert [c.person.slug for c in form.duplicate_candidates] == ["vikram-ruzakhunov"]
    page = response.content.decode()
    assert 'name="people-0-existing_person" value="vikram-ruzakhunov"' in page
    assert "Detention of Vikram Ruzakhunov in Almaty" in page  # his detentions are listed
    assert "This is a different person" in page


def test_choosing_use_this_person_links_the_candidate(editor_client, demo, almaty):
    data = entry_beside_demo(almaty)
    data["people-0-name"] = "Викрам Рузахунов"  # still typed; the chosen candidate wins
    data["people-0-existing_person"] = "vikram-ruzakhunov"
    before = Person.objects.count()
    response = editor_client.post(URL, data)

    assert response.status_code == 302
    assert Person.objects.count() == before + 1  # Bakyt Sample only
    vikram = Person.objects.get(slug="vikram-ruzakhunov")
    assert vikram.detentions.filter(incident__title__startswith="Detention of two").exists()


def test_ticking_different_person_creates_a_new_record(editor_client, demo, almaty):
    data = entry_beside_demo(almaty)
    data["people-0-name"] = "Vikram Ruzakhunov"
    data["people-0-is_different_person"] = "on"
    response = editor_client.post(URL, data)
    assert response.status_code == 302
    assert Person.objects.filter(name="Vikram Ruzakhunov").count() == 2


def test_a_new_name_typed_in_cyrillic_is_asked_for_in_latin_letters(editor_client, almaty):
    data = valid_entry(almaty)
    data["people-0-name"] = "Айбек Тестов"
    response = editor_client.post(URL, data)
    assert response.context["page"].people.forms[0].errors["name"] == [
        "Write this name in Latin letters, e.g. “Aybek Testov”; put the spelling typed here "
        "in “Name (native script)”."
    ]


def test_two_rows_with_the_same_new_name_are_refused(editor_client, almaty):
    data = valid_entry(almaty)
    data["people-1-name"] = "AIBEK TEST"
    response = editor_client.post(URL, data)
    assert response.context["page"].people.forms[1].errors["name"] == [
        "Another row has the same name."
    ]


# --- the service on its own ------------------------------------------------------------------


def test_the_service_records_the_user_outside_a_request(editor, almaty):
    incident = enter_detention(
        user=editor,
        new_incident=NewIncident(title="Scripted entry", kind="detention", location=almaty),
        people=[PersonEntry(new_person=NewPerson(name="Scripted Person"))],
        sources=[SourceEntry(title="A phone call to the office", kind="testimony")],
    )
    assert incident.history.first().history_user == editor
    person = Person.objects.get(name="Scripted Person")
    assert person.history.first().history_user == editor


def test_the_service_reports_errors_by_row_and_saves_nothing(editor, almaty):
    organization = OrganizationFactory()
    before = counts()
    with pytest.raises(EntryInvalid) as raised:
        enter_detention(
            user=editor,
            new_incident=NewIncident(title="Two rows", kind="detention", location=almaty),
            people=[
                PersonEntry(
                    new_person=NewPerson(name="Fine Person"),
                    allegation_kinds=["torture"],
                    alleged_by_organization=organization,
                ),
                PersonEntry(new_person=NewPerson(name="Bad Person", birth_year=1700)),
            ],
            sources=[SourceEntry(title="A source")],
        )
    assert counts() == before
    assert list(raised.value.errors.people) == [1]
    assert "birth_year" in raised.value.errors.people[1]


def test_the_service_wants_one_incident(editor, almaty):
    with pytest.raises(ValueError):
        enter_detention(user=editor, people=[], sources=[])


# --- queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("records", [1, 30])
def test_the_page_reads_a_fixed_number_of_queries(
    editor_client, django_assert_max_num_queries, records
):
    # Guards against a query per row or per option: the selects' records are read once.
    country = CountryFactory()
    for _n in range(records):
        IncidentFactory(location=LocationFactory(parent=country))
        OrganizationFactory()
    # Expected: session, user, the user's and the groups' permissions (two), incidents,
    # places, situations, organizations, and the user's groups for the staff menu.
    with django_assert_max_num_queries(10):
        response = editor_client.get(URL)
    assert response.status_code == 200


def test_the_editor_role_can_use_the_page(client):
    user = StaffUserFactory()
    user.groups.add(Group.objects.get(name="editor"))
    client.force_login(user)
    assert client.get(URL).status_code == 200
