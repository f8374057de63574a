"""The admin: every model has a changelist whose cost does not grow with its rows, a working
add and change form, and a person search that takes any spelling of any name."""

import datetime
from collections.abc import Callable

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Model
from django.test import RequestFactory
from django.urls import reverse

from incidents import models as incidents
from people import models as people
from tests import factories


def allegation_with_everything() -> incidents.Allegation:
    # Every column the changelist shows is filled, so a missing select_related would show.
    return factories.AllegationFactory(
        alleged_by_person=factories.PersonFactory(), statement=factories.StatementFactory()
    )


def misidentification() -> people.PersonName:
    return factories.PersonNameFactory(
        kind=people.NameKind.MISIDENTIFIED_AS, other_person=factories.PersonFactory()
    )


# For each model: a factory for one fully linked row, and the changelist's query budget.
# Every changelist costs 5 queries: the session, the user, the filtered count, the unfiltered
# count and the page of rows (related rows joined in by list_select_related). Then one more
# per filter that lists values from the database (situations, countries in use, languages in
# use) and two for a date hierarchy (the first and last dates, then the dates to drill into).
# None of these depends on the number of rows.
CHANGELISTS: dict[type[Model], tuple[Callable[[], Model], int]] = {
    # 5 + date hierarchy
    incidents.Situation: (factories.SituationFactory, 7),
    # 5 + countries
    incidents.Location: (factories.LocationFactory, 6),
    # 5 + situations, countries, date hierarchy
    incidents.Incident: (factories.IncidentFactory, 9),
    # 5 + situations, citizenships, date hierarchy
    incidents.Detention: (factories.DetentionFactory, 9),
    # 5 + citizenships
    incidents.Allegation: (allegation_with_everything, 6),
    # 5 + date hierarchy
    incidents.IncidentEvent: (
        lambda: factories.IncidentEventFactory(location=factories.LocationFactory()),
        7,
    ),
    # 5 + citizenships
    incidents.ReportedGroup: (factories.ReportedGroupFactory, 6),
    # 5 + date hierarchy
    incidents.Statement: (
        lambda: factories.StatementFactory(speaker_person=factories.PersonFactory()),
        7,
    ),
    # 5 + languages, date hierarchy
    incidents.Source: (factories.SourceFactory, 8),
    # 5 + citizenships
    people.Person: (factories.PersonFactory, 6),
    # 5
    people.PersonName: (misidentification, 5),
    # 5 + countries
    people.Organization: (
        lambda: factories.OrganizationFactory(parent=factories.OrganizationFactory()),
        6,
    ),
    # 5 + countries
    people.Position: (factories.PositionFactory, 6),
    # 5 + date hierarchy
    incidents.FollowUpAction: (factories.FollowUpActionFactory, 7),
    # 5
    incidents.Account: (factories.AccountFactory, 5),
}


def admin_url(model: type[Model], view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def model_id(model: type[Model]) -> str:
    return model._meta.label_lower


def test_it_registers_every_model_of_both_apps():
    ours = {
        model for model in admin.site._registry if model._meta.app_label in {"incidents", "people"}
    }
    assert ours == set(CHANGELISTS)


@pytest.mark.parametrize("rows", [3, 10])
@pytest.mark.parametrize("model", CHANGELISTS, ids=model_id)
def test_it_lists_rows_within_a_fixed_query_budget(
    admin_client, django_assert_max_num_queries, model, rows
):
    make_row, budget = CHANGELISTS[model]
    for _ in range(rows):
        make_row()

    # +1: the session's second factor (django-otp checks its device on every request).
    with django_assert_max_num_queries(budget + 1):
        response = admin_client.get(admin_url(model, "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count() >= rows


@pytest.mark.parametrize("model", CHANGELISTS, ids=model_id)
def test_it_renders_the_add_form(admin_client, model):
    response = admin_client.get(admin_url(model, "add"))

    assert response.status_code == 200


@pytest.mark.parametrize("model", CHANGELISTS, ids=model_id)
def test_it_renders_the_change_form(admin_client, model):
    make_row, _budget = CHANGELISTS[model]
    row = make_row()

    response = admin_client.get(admin_url(model, "change", row.pk))

    assert response.status_code == 200


def test_it_renders_inline_rows(admin_client):
    incident = factories.IncidentFactory()
    detention = factories.DetentionFactory(incident=incident, custody_location=incident.location)
    factories.AllegationFactory(detention=detention, statement=factories.StatementFactory())
    factories.IncidentEventFactory(incident=incident, location=incident.location)
    person = detention.person
    misidentification_of = factories.PersonNameFactory(
        person=person, kind=people.NameKind.MISIDENTIFIED_AS, other_person=factories.PersonFactory()
    )
    factories.PositionFactory(person=person)

    for url in [
        admin_url(incidents.Incident, "change", incident.pk),
        admin_url(incidents.Detention, "change", detention.pk),
        admin_url(people.Person, "change", person.pk),
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url

    assert misidentification_of.name in response.content.decode()


def test_it_adds_a_person_with_a_name_variant(admin_client):
    response = admin_client.post(
        admin_url(people.Person, "add"),
        {
            "name": "Vikram Ruzakhunov",
            "name_native": "Викрам Рузахунов",
            "slug": "vikram-ruzakhunov",
            "citizenship": "KG",
            "publication_state": "draft",
            "name_variants-TOTAL_FORMS": "1",
            "name_variants-INITIAL_FORMS": "0",
            "name_variants-0-name": "Ruzahunov",
            "name_variants-0-kind": people.NameKind.SPELLING,
            "positions-TOTAL_FORMS": "0",
            "positions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    person = people.Person.objects.get(slug="vikram-ruzakhunov")
    assert "ruzahunov" in person.name_key
    assert [variant.name for variant in person.name_variants.all()] == ["Ruzahunov"]


@pytest.mark.parametrize("model", CHANGELISTS, ids=model_id)
def test_it_shows_every_editable_field_on_the_change_form(admin_user, model):
    # Fieldsets list fields by hand: a field added to a model later must not go missing.
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = admin.site._registry[model]
    shown = set(flatten_fieldsets(model_admin.get_fieldsets(request)))

    editable = {
        field.name
        for field in [*model._meta.fields, *model._meta.many_to_many]
        if field.editable and not field.auto_created
    }

    assert editable <= shown


@pytest.mark.parametrize("model", [incidents.Incident, incidents.Detention, people.Person])
def test_it_groups_staff_notes_under_staff_only(admin_user, model):
    request = RequestFactory().get("/")
    request.user = admin_user
    fieldsets = dict(admin.site._registry[model].get_fieldsets(request))

    assert fieldsets["Staff only"]["fields"] == ("staff_notes",)


def test_it_shows_partial_dates_at_their_precision(admin_client):
    factories.IncidentFactory(
        title="Mass detention in Shymkent",
        start_date=datetime.date(2022, 1, 7),
        start_date_precision="month",
    )

    response = admin_client.get(admin_url(incidents.Incident, "changelist"))

    assert "January 2022" in response.content.decode()
    assert "7 January 2022" not in response.content.decode()


def test_it_lists_locations_as_a_tree(admin_client):
    kazakhstan = factories.CountryFactory()
    almaty = factories.LocationFactory(name="Almaty", parent=kazakhstan)
    factories.LocationFactory(
        name="Police station", kind=incidents.LocationKind.POLICE_STATION, parent=almaty
    )
    factories.LocationFactory(name="Shymkent", parent=kazakhstan)

    response = admin_client.get(admin_url(incidents.Location, "changelist"))

    shown = [
        admin.site._registry[incidents.Location].indented_name(location)
        for location in response.context["cl"].result_list
    ]
    assert shown == ["Kazakhstan", "— Almaty", "— — Police station", "— Shymkent"]


@pytest.fixture
def ruzakhunov(db):
    return factories.PersonFactory(name="Vikram Ruzakhunov")


@pytest.fixture
def yuburov(db):
    return factories.PersonFactory(name="Zakir Yuburov")


@pytest.mark.parametrize("term", ["Рузахунов", "RUZAKHUNOV", "Ruzahunov", "ruzahunov vikram"])
def test_it_finds_a_person_by_any_spelling(admin_client, ruzakhunov, yuburov, term):
    response = admin_client.get(admin_url(people.Person, "changelist"), {"q": term})

    assert list(response.context["cl"].result_list) == [ruzakhunov]


def test_it_finds_a_person_by_a_name_variant(admin_client, ruzakhunov, yuburov):
    factories.PersonNameFactory(person=ruzakhunov, name="Ruzakhunov Vikram Abdulaevich")

    response = admin_client.get(admin_url(people.Person, "changelist"), {"q": "Абдулаевич"})

    assert list(response.context["cl"].result_list) == [ruzakhunov]


def test_it_keeps_the_list_filters_when_searching_by_name(admin_client, ruzakhunov):
    factories.PersonFactory(name="Vikram Ruzakhunov", slug="namesake", citizenship="KZ")

    response = admin_client.get(
        admin_url(people.Person, "changelist"), {"q": "Рузахунов", "citizenship": "KG"}
    )

    assert list(response.context["cl"].result_list) == [ruzakhunov]


def test_it_finds_a_detention_by_any_spelling_of_the_person(admin_client, ruzakhunov, yuburov):
    detention = factories.DetentionFactory(person=ruzakhunov)
    factories.DetentionFactory(person=yuburov)

    response = admin_client.get(admin_url(incidents.Detention, "changelist"), {"q": "Рузахунов"})

    assert list(response.context["cl"].result_list) == [detention]


def test_it_autocompletes_a_person_by_any_spelling(admin_client, ruzakhunov, yuburov):
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "incidents",
            "model_name": "detention",
            "field_name": "person",
            "term": "Рузахунов",
        },
    )

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(ruzakhunov.pk), "text": "Vikram Ruzakhunov"}]


@pytest.mark.parametrize("url", ["/admin/", "/admin/incidents/incident/", "/admin/autocomplete/"])
def test_it_sends_anonymous_readers_to_the_login(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
