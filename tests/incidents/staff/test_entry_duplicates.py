"""The "New detention" page stops a probable duplicate: a new incident at the same place (or
one inside or around it) on dates that may overlap, a new place named like one in the same
place, a person of the same name; the same form sent twice; and a source typed by an address
already recorded is cited, not copied (incidents/staff/entry.py)."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.contrib.messages import get_messages
from django.db import connection, connections, transaction
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from incidents.models import Detention, Incident, Location, Source, normalized_url
from incidents.staff.entry import (
    EntryInvalid,
    NewIncident,
    NewPerson,
    PersonEntry,
    SourceEntry,
    enter_detention,
)
from people.models import Person
from tests.factories import (
    CountryFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    SourceFactory,
    StaffUserFactory,
)
from tests.incidents.staff.test_new_detention import URL, counts, valid_entry

pytestmark = pytest.mark.django_db

TITLE = "Detention of two musicians in Almaty"


@pytest.fixture
def almaty():
    return LocationFactory(
        name="Almaty", name_native="Алматы", slug="almaty-test", parent=CountryFactory()
    )


def january(location: Location, **fields) -> Incident:
    """An incident recorded as "January 2022" at `location`."""
    values = {
        "title": "Arrests in Almaty in January",
        "start_date": datetime.date(2022, 1, 1),
        "start_date_precision": "month",
        **fields,
    }
    return IncidentFactory(location=location, **values)


def warned_of(response) -> list[Incident]:
    found = response.context["page"].incident_form.duplicate_incidents
    return found.records if found else []


# --- incidents -------------------------------------------------------------------------------


def test_an_incident_in_the_same_month_at_the_same_place_stops_the_save(editor_client, almaty):
    recorded = january(almaty)
    before = counts()
    response = editor_client.post(URL, valid_entry(almaty))  # 7 January 2022, exact day

    assert response.status_code == 200
    assert counts() == before
    assert warned_of(response) == [recorded]
    page = response.content.decode()
    assert "This incident may already be recorded." in page
    assert f'href="{recorded.get_absolute_url()}"' in page
    assert f'href="{reverse("staff:incident_edit", args=[recorded.pk])}"' in page
    assert f'name="incident-use_incident" value="{recorded.pk}"' in page
    assert f'name="incident-create_anyway" value="{recorded.pk}"' in page
    assert 'href="#id_incident-title"' in page  # in the summary of what to correct


@pytest.mark.parametrize(
    "where",
    ["inside", "around"],
)
def test_a_place_inside_or_around_counts_as_the_same_place(editor_client, almaty, where):
    station = LocationFactory(name="Police station No. 3", parent=almaty)
    recorded = january(station if where == "inside" else almaty.parent)
    response = editor_client.post(URL, valid_entry(almaty))
    assert warned_of(response) == [recorded]


@pytest.mark.parametrize(
    ("start_date", "precision"),
    [
        ("2022-01-31", "day"),  # a day of the month the other incident is known to
        ("2022-05-05", "year"),  # the year contains January
        ("2022-02-02", "approximate"),  # "around 2 February": a few days either side
    ],
)
def test_dates_overlap_at_their_precision(editor_client, almaty, start_date, precision):
    recorded = january(almaty)
    data = valid_entry(almaty)
    data.update({"incident-start_date": start_date, "incident-start_date_precision": precision})
    assert warned_of(editor_client.post(URL, data)) == [recorded]


def test_an_undated_incident_at_the_place_may_be_the_same(editor_client, almaty):
    recorded = january(almaty, start_date=None, start_date_precision="")
    assert warned_of(editor_client.post(URL, valid_entry(almaty))) == [recorded]


def test_other_places_other_months_and_archived_incidents_do_not_stop_it(editor_client, almaty):
    january(LocationFactory(name="Shymkent", parent=almaty.parent))  # a sibling city
    january(almaty, start_date=datetime.date(2022, 2, 1))  # February
    january(almaty, archived_at=datetime.datetime(2022, 3, 1, tzinfo=datetime.UTC))
    response = editor_client.post(URL, valid_entry(almaty))
    assert response.status_code == 302
    assert Incident.objects.filter(title=TITLE).count() == 1


def test_create_anyway_records_a_new_incident(editor_client, almaty):
    recorded = january(almaty)
    data = valid_entry(almaty)
    data["incident-create_anyway"] = str(recorded.pk)
    response = editor_client.post(URL, data)
    assert response.status_code == 302
    assert Incident.objects.filter(title=TITLE).count() == 1
    assert recorded.detentions.count() == 0


def test_use_this_incident_adds_the_people_to_it(editor_client, almaty):
    recorded = january(almaty, publication_state=PublicationState.DRAFT)
    data = valid_entry(almaty)
    data["incident-use_incident"] = str(recorded.pk)
    response = editor_client.post(URL, data)

    assert response.status_code == 302
    assert response.url == recorded.get_absolute_url()
    assert not Incident.objects.filter(title=TITLE).exists()
    assert recorded.detentions.count() == 2
    assert recorded.sources.filter(url="https://news.example.org/almaty-musicians").exists()


def test_the_choice_of_incident_is_kept_when_the_page_comes_back(editor_client, almaty):
    recorded = january(almaty)
    data = valid_entry(almaty)
    data["incident-use_incident"] = str(recorded.pk)
    data["people-1-detained_on"] = "2022-13-45"  # another error: the page comes back
    response = editor_client.post(URL, data)
    form = response.context["page"].incident_form
    assert form["mode"].value() == "existing"
    assert form["existing"].value() == str(recorded.pk)


def test_the_warning_reads_a_fixed_number_of_queries(
    editor_client, almaty, django_assert_max_num_queries
):
    # Guards against a query per incident listed: their places come with them. Expected:
    # session, user, the user's and the groups' permissions (two), the selects' incidents,
    # places, situations and organizations (four), the duplicate incidents and the highest
    # id among them (two), the person check (one, no one found), the source row's address
    # (one), the user's groups for the staff menu; one spare.
    for number in range(12):
        january(LocationFactory(name=f"Site {number}", parent=almaty))
    data = valid_entry(almaty)
    # One person: the person check's three queries, once.
    data.update({"people-1-name": "", "people-1-citizenship": "", "people-1-detained_on": ""})
    with django_assert_max_num_queries(14):
        response = editor_client.post(URL, data)
    found = response.context["page"].incident_form.duplicate_incidents
    assert len(found.records) == 10 and found.more
    assert found.checked_up_to == Incident.objects.order_by("pk").last().pk
    assert "Only the newest 10 are listed." in response.content.decode()


@pytest.mark.parametrize(
    "answer", ["9" * 400, "-1", "abc", "1\x00", "１２", " "], ids=lambda a: repr(a[:8])
)
def test_a_tampered_answer_shows_the_warning_again(editor_client, almaty, answer):
    january(almaty)
    data = valid_entry(almaty)
    data["incident-create_anyway"] = answer
    before = counts()
    response = editor_client.post(URL, data)
    assert response.status_code == 200
    assert counts() == before
    # A NUL byte is refused as such (Django's fields refuse it in any text).
    assert warned_of(response) or "\x00" in answer


def test_a_tampered_choice_is_an_error_not_a_crash(editor_client, almaty):
    data = valid_entry(almaty)
    data["incident-use_incident"] = "9" * 400
    response = editor_client.post(URL, data)
    assert response.status_code == 200
    assert response.context["page"].incident_form.errors["use_incident"]


def test_a_date_in_the_year_9999_is_refused_without_a_crash(editor_client, almaty):
    january(almaty)
    data = valid_entry(almaty)
    data.update({"incident-start_date": "9999-12-31", "incident-start_date_precision": "day"})
    response = editor_client.post(URL, data)
    assert response.status_code == 200
    assert Incident.objects.count() == 1


# --- places ----------------------------------------------------------------------------------


def new_place_entry(almaty, **place) -> dict:
    data = valid_entry(almaty)
    data.pop("incident-location")
    data.update(
        {
            "incident-new_place_kind": "city",
            "incident-new_place_parent": str(almaty.parent.pk),
            **{f"incident-new_place_{name}": value for name, value in place.items()},
        }
    )
    return data


@pytest.mark.parametrize(
    "place", [{"name": "ALMATY "}, {"name": "Alma-Ata", "name_native": "алматы"}], ids=str
)
def test_a_new_place_named_like_one_in_the_same_place_stops_the_save(editor_client, almaty, place):
    before = counts()
    response = editor_client.post(URL, new_place_entry(almaty, **place))

    assert counts() == before
    found = response.context["page"].incident_form.duplicate_places
    assert found.records == [almaty]
    page = response.content.decode()
    assert "This place may already be recorded." in page
    assert f'name="incident-use_place" value="{almaty.pk}"' in page
    assert f'href="{almaty.get_absolute_url()}"' in page


def test_the_same_name_in_another_place_is_another_place(editor_client, almaty):
    elsewhere = LocationFactory(name="Elsewhere", parent=almaty.parent)
    data = new_place_entry(almaty, name="Almaty")
    data["incident-new_place_parent"] = str(elsewhere.pk)
    assert editor_client.post(URL, data).status_code == 302
    assert Location.objects.filter(name="Almaty").count() == 2


def test_add_the_place_anyway(editor_client, almaty):
    data = new_place_entry(almaty, name="Almaty")
    data["incident-create_place_anyway"] = str(almaty.pk)
    assert editor_client.post(URL, data).status_code == 302
    assert Location.objects.filter(name="Almaty").count() == 2


def test_use_this_place_records_the_incident_there(editor_client, almaty):
    data = new_place_entry(almaty, name="Almaty")
    data["incident-use_place"] = str(almaty.pk)
    assert editor_client.post(URL, data).status_code == 302
    assert Location.objects.filter(name="Almaty").count() == 1
    assert Incident.objects.get(title=TITLE).location == almaty


# --- the same form sent twice ----------------------------------------------------------------


def test_the_same_form_sent_twice_records_one_incident(editor_client, almaty):
    data = valid_entry(almaty)
    first = editor_client.post(URL, data)
    after_first = counts()
    second = editor_client.post(URL, data)

    assert first.status_code == 302 and second.status_code == 200
    assert counts() == after_first
    assert Incident.objects.filter(title=TITLE).count() == 1
    assert Person.objects.filter(name="Aibek Test").count() == 1
    assert warned_of(second) == [Incident.objects.get(title=TITLE)]


def test_create_anyway_sent_twice_records_one_incident(editor_client, almaty):
    recorded = january(almaty)
    data = valid_entry(almaty)
    data["incident-create_anyway"] = str(recorded.pk)  # covers what was listed, not more
    assert editor_client.post(URL, data).status_code == 302
    second = editor_client.post(URL, data)
    assert second.status_code == 200
    assert Incident.objects.filter(title=TITLE).count() == 1
    assert warned_of(second) == [Incident.objects.get(title=TITLE)]


def test_a_new_place_sent_twice_is_recorded_once(editor_client, almaty):
    data = new_place_entry(almaty, name="Police station No. 3")
    data["incident-new_place_parent"] = str(almaty.pk)
    assert editor_client.post(URL, data).status_code == 302
    second = editor_client.post(URL, data)
    assert Location.objects.filter(name="Police station No. 3").count() == 1
    assert second.context["page"].incident_form.duplicate_places


def existing_incident_entry(incident, almaty) -> dict:
    data = valid_entry(almaty)
    data.update({"incident-mode": "existing", "incident-existing": str(incident.pk)})
    return data


def test_people_added_twice_to_an_existing_incident_are_recorded_once(editor_client, almaty):
    incident = IncidentFactory(location=almaty, publication_state=PublicationState.DRAFT)
    data = existing_incident_entry(incident, almaty)
    assert editor_client.post(URL, data).status_code == 302
    second = editor_client.post(URL, data)
    assert second.status_code == 200
    assert incident.detentions.count() == 2
    assert Person.objects.filter(name="Aibek Test").count() == 1
    form = second.context["page"].people.forms[0]
    assert [c.person.name for c in form.duplicate_candidates] == ["Aibek Test"]


def test_a_different_person_ticked_while_typing_and_sent_twice_is_recorded_once(
    editor_client, almaty
):
    incident = IncidentFactory(location=almaty, publication_state=PublicationState.DRAFT)
    data = existing_incident_entry(incident, almaty)
    # Ticked as the list found while typing showed (entry.js): no ids come with it.
    data["people-0-is_different_person"] = "on"
    data.update({"people-1-name": "", "people-1-citizenship": "", "people-1-detained_on": ""})
    assert editor_client.post(URL, data).status_code == 302
    second = editor_client.post(URL, data)

    assert second.status_code == 200
    assert Person.objects.filter(name="Aibek Test").count() == 1
    form = second.context["page"].people.forms[0]
    assert "already recorded in this incident" in " ".join(form.errors["name"])
    aibek = Person.objects.get(name="Aibek Test")
    assert [c.person for c in form.duplicate_candidates] == [aibek]
    # The warning now carries the ids it covers: ticking it again records a namesake.
    assert f'name="people-0-different_up_to" value="{aibek.pk}"' in second.content.decode()
    data["people-0-different_up_to"] = str(aibek.pk)
    assert editor_client.post(URL, data).status_code == 302
    assert Person.objects.filter(name="Aibek Test").count() == 2


def test_a_different_person_answer_covers_only_the_people_listed(editor_client, almaty):
    namesake = PersonFactory(name="Aibek Test")
    incident = IncidentFactory(location=almaty, publication_state=PublicationState.DRAFT)
    data = existing_incident_entry(incident, almaty)
    data["people-0-is_different_person"] = "on"
    data["people-0-different_up_to"] = str(namesake.pk)
    assert editor_client.post(URL, data).status_code == 302
    second = editor_client.post(URL, data)
    assert second.status_code == 200
    assert Person.objects.filter(name="Aibek Test").count() == 2  # the namesake and one new
    form = second.context["page"].people.forms[0]
    assert [c.person.pk for c in form.duplicate_candidates] == [
        Person.objects.filter(name="Aibek Test").latest("pk").pk
    ]


def test_the_service_checks_again_inside_its_transaction(editor, almaty):
    # What a second sending at the same moment meets once the first is saved (the page's
    # own check ran before it was): the service's check, after locking the place.
    def enter():
        return enter_detention(
            user=editor,
            new_incident=NewIncident(
                title="Scripted", kind="detention", location=almaty, start_date=None
            ),
            people=[PersonEntry(new_person=NewPerson(name="Scripted Person"))],
            sources=[SourceEntry(title="A phone call", kind="testimony")],
        )

    first = enter()
    before = counts()
    with pytest.raises(EntryInvalid) as raised:
        enter()
    assert counts() == before
    assert raised.value.errors.incident_duplicates.records == [first]
    assert raised.value.errors.incident["title"]


def test_the_service_refuses_a_namesake_already_in_the_incident(editor, almaty):
    detention = DetentionFactory(incident__location=almaty, person__name="Aibek Test")
    with pytest.raises(EntryInvalid) as raised:
        enter_detention(
            user=editor,
            incident=detention.incident,
            people=[PersonEntry(new_person=NewPerson(name="AIBEK TEST"))],
            sources=[SourceEntry(title="A phone call", kind="testimony")],
        )
    assert "duplicate_person" in raised.value.errors.people[0]
    assert Detention.objects.count() == 1


# --- a source already recorded ---------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "https://news.example.org/almaty-musicians",
        "  HTTPS://News.Example.ORG/almaty-musicians/ ",
    ],
)
def test_a_known_address_cites_the_source_without_its_title(editor_client, almaty, typed):
    recorded = SourceFactory(url="https://news.example.org/almaty-musicians/")
    data = valid_entry(almaty)
    data.update({"sources-0-url": typed, "sources-0-title": "", "sources-0-publisher": ""})
    before = Source.objects.count()
    response = editor_client.post(URL, data)

    assert response.status_code == 302, response.context["errors"]
    assert Source.objects.count() == before
    incident = Incident.objects.get(title=TITLE)
    assert list(incident.sources.all()) == [recorded]
    assert all(list(d.sources.all()) == [recorded] for d in incident.detentions.all())
    assert f"Cited the source already recorded at this address: {recorded.title}." in [
        str(m) for m in get_messages(response.wsgi_request)
    ]


def test_the_page_says_the_address_is_known(editor_client, almaty):
    recorded = SourceFactory(url="https://news.example.org/almaty-musicians")
    data = valid_entry(almaty)
    data.update(
        {"sources-0-url": "https://NEWS.example.org/almaty-musicians/", "sources-0-title": ""}
    )
    data["people-1-detained_on"] = "2022-13-45"  # another error: the page comes back
    response = editor_client.post(URL, data)
    page = response.content.decode()
    assert "This address is already recorded" in page and recorded.title in page
    assert "title" not in response.context["page"].sources.forms[0].errors


def test_an_unknown_address_still_needs_a_title(editor_client, almaty):
    SourceFactory(url="https://news.example.org/almaty-musicians/other")
    data = valid_entry(almaty)
    data["sources-0-title"] = ""
    response = editor_client.post(URL, data)
    assert response.context["page"].sources.forms[0].errors["title"]


def test_an_archived_source_is_not_cited(editor_client, almaty):
    SourceFactory(
        url="https://news.example.org/almaty-musicians",
        archived_at=datetime.datetime(2022, 3, 1, tzinfo=datetime.UTC),
    )
    data = valid_entry(almaty)
    data["sources-0-title"] = ""
    response = editor_client.post(URL, data)
    assert response.status_code == 200
    assert response.context["page"].sources.forms[0].errors["title"]


def test_two_rows_with_the_same_address_spelled_differently_are_refused(editor_client, almaty):
    data = valid_entry(almaty)
    data.update(
        {"sources-1-url": "https://NEWS.example.org/almaty-musicians/", "sources-1-title": "Copy"}
    )
    response = editor_client.post(URL, data)
    assert response.context["page"].sources.forms[1].errors["url"] == [
        "Another row has the same URL."
    ]


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        (" HTTP://Example.ORG/a/B/ ", "http://example.org/a/B"),
        ("https://example.org/", "https://example.org"),
        ("https://example.org/a?q=X#F", "https://example.org/a?q=X#F"),
        ("http://[", "http://["),
    ],
)
def test_normalized_url(url, normal):
    assert normalized_url(url) == normal


# --- two sendings at the same moment ---------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite writes one transaction at a time; PostgreSQL runs them side by side",
)
@pytest.mark.django_db(transaction=True)
def test_two_sendings_at_the_same_moment_record_one_incident():
    # The first entry is saved but not yet committed when the second starts: without the
    # lock on the place the second would not see it and would record the incident again.
    user = StaffUserFactory()
    place = LocationFactory(name="Almaty", parent=CountryFactory())
    saved, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def enter():
        return enter_detention(
            user=user,
            new_incident=NewIncident(
                title="At once",
                kind="detention",
                location=place,
                start_date=datetime.date(2022, 1, 7),
                start_date_precision="day",
            ),
            people=[PersonEntry(new_person=NewPerson(name="Same Person"))],
            sources=[SourceEntry(title="A phone call", kind="testimony")],
        )

    def first():
        try:
            with transaction.atomic():
                outcome["first"] = enter()
                saved.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    def second():
        try:
            saved.wait(timeout=10)
            outcome["second"] = enter()
        except EntryInvalid as invalid:
            outcome["second"] = invalid
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    saved.wait(timeout=10)
    time.sleep(0.5)  # the second is now waiting for the place
    release.set()
    for thread in threads:
        thread.join(timeout=20)

    assert isinstance(outcome["second"], EntryInvalid)
    assert outcome["second"].errors.incident_duplicates.records == [outcome["first"]]
    assert Incident.objects.filter(title="At once").count() == 1
    assert Person.objects.filter(name="Same Person").count() == 1


def test_a_slug_taken_between_check_and_save_is_an_error_not_a_crash(editor, almaty, monkeypatch):
    """Two entries at the same moment at different places with the same title: both check
    the slug free, the database refuses the second. The entry reports it; nothing is kept."""
    from django.db import IntegrityError

    from incidents.models import Incident

    real_save = Incident.save

    def save_refused(self, *args, **kwargs):
        if self._state.adding:
            raise IntegrityError("UNIQUE constraint failed: incidents_incident.slug")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Incident, "save", save_refused)
    before = counts()
    with pytest.raises(EntryInvalid) as raised:
        enter_detention(
            user=editor,
            new_incident=NewIncident(
                title="Raced", kind="detention", location=almaty, start_date=None
            ),
            people=[PersonEntry(new_person=NewPerson(name="Raced Person"))],
            sources=[SourceEntry(title="A phone call", kind="testimony")],
        )
    assert "same moment" in " ".join(raised.value.errors.general)
    assert counts() == before
