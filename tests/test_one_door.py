"""Changes that decide what the public sees are a reviewer's, on every path.

Publishing, unpublishing, archiving or restoring a published record, showing a withheld
name and moving a published detention to another case are refused to an editor whichever
door they try: the staff pages, the API, the admin, or a save by any other code that names
the user (`PublishableModel.save` enforces it, so a new door cannot forget). The Django
admin is the admin role's alone, with the workflow's fields read-only and no deletions.
"""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from cabar_tracker.publishing import PublicationState, ReviewerOnlyChange
from incidents import revisions
from incidents.models import Detention, Incident, Revision
from people.models import Person, is_withheld_slug
from tests.api_personas import API, token_client
from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PersonFactory,
    SourceFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def withheld_person():
    return PersonFactory(name="Marker Hiddenname", identity_withheld=True)


def public_person_page(person: Person) -> bytes:
    return Client().get(person.get_absolute_url()).content


# --- the model: the one place the rule lives ------------------------------------------------


def test_a_save_naming_an_editor_cannot_publish(editor):
    incident = IncidentFactory(publication_state=PublicationState.DRAFT)
    incident.publication_state = PublicationState.PUBLISHED
    incident._history_user = editor
    with pytest.raises(ReviewerOnlyChange):
        incident.save()
    incident.refresh_from_db()
    assert incident.publication_state == PublicationState.DRAFT


def test_a_save_naming_an_editor_cannot_create_a_published_record(editor):
    incident = Incident(
        title="Marker",
        slug="marker",
        kind="detention",
        location=LocationFactory(),
        publication_state=PublicationState.PUBLISHED,
    )
    incident._history_user = editor
    with pytest.raises(ReviewerOnlyChange):
        incident.save()
    assert not Incident.objects.filter(slug="marker").exists()


def test_a_save_naming_an_editor_cannot_restore_a_published_record(editor):
    incident = IncidentFactory(archived_at="2024-01-01T00:00Z")
    incident.archived_at = None
    incident._history_user = editor
    with pytest.raises(ReviewerOnlyChange):
        incident.save()


def test_an_editor_still_archives_and_restores_a_draft(editor):
    incident = IncidentFactory(publication_state=PublicationState.DRAFT, archived_at=None)
    incident._history_user = editor
    incident.archived_at = "2024-01-01T00:00Z"
    incident.save()
    incident.archived_at = None
    incident.save()


def test_a_reviewer_and_the_operators_own_commands_may(reviewer):
    incident = IncidentFactory(publication_state=PublicationState.DRAFT)
    incident.publication_state = PublicationState.PUBLISHED
    incident._history_user = reviewer
    incident.save()
    person = PersonFactory(identity_withheld=True)
    person.identity_withheld = False  # no request, nobody named: a shell or a command
    person.save()


# --- the API --------------------------------------------------------------------------------


def test_an_editor_token_cannot_show_a_withheld_name(editor, withheld_person):
    response = token_client(editor).patch(
        f"{API}/people/{withheld_person.pk}/", {"identity_withheld": False}, format="json"
    )
    # Proposed, not done: the reviewer decides whether the name may be shown.
    assert response.status_code == 202, response.content
    assert "reviewer" in response.json()["detail"]
    withheld_person.refresh_from_db()
    assert withheld_person.identity_withheld
    assert b"Hiddenname" not in public_person_page(withheld_person)
    assert Revision.objects.of(withheld_person).pending().get().created_by == editor


def test_an_editor_token_cannot_move_a_published_detention(editor):
    detention = DetentionFactory()
    other = IncidentFactory()
    response = token_client(editor).patch(
        f"{API}/detentions/{detention.pk}/", {"incident": other.pk}, format="json"
    )
    assert response.status_code == 202, response.content  # proposed for a reviewer
    assert Detention.objects.get(pk=detention.pk).incident_id == detention.incident_id
    assert b"Test Person" not in Client().get(other.get_absolute_url()).content


def test_an_editor_token_may_move_a_draft_detention(editor):
    detention = DetentionFactory(publication_state=PublicationState.DRAFT)
    other = IncidentFactory()
    response = token_client(editor).patch(
        f"{API}/detentions/{detention.pk}/", {"incident": other.pk}, format="json"
    )
    assert response.status_code == 200, response.content


def test_a_reviewer_token_cannot_show_a_withheld_name(reviewer, withheld_person):
    """Showing a withheld identity needs a fresh confirmation of who one is, which a token
    cannot give (accounts/reauth.py): the reviewer does it on the staff pages."""
    response = token_client(reviewer).patch(
        f"{API}/people/{withheld_person.pk}/", {"identity_withheld": False}, format="json"
    )
    assert response.status_code == 403, response.content
    assert "confirm who you are" in response.json()["detail"]
    assert Person.objects.get(pk=withheld_person.pk).identity_withheld
    assert b"Hiddenname" not in public_person_page(Person.objects.get(pk=withheld_person.pk))


# --- the staff pages ------------------------------------------------------------------------


def person_form(person: Person, **changes) -> dict:
    data = {
        "version": person.version,
        "name": person.name,
        "name_native": person.name_native,
        "slug": person.slug,
        "sex": "",
        "birth_year": "",
        "citizenship": "KG",
        "occupation": "",
        "public_notes": "",
        "staff_notes": "",
        "name_variants-TOTAL_FORMS": "0",
        "name_variants-INITIAL_FORMS": "0",
        "name_variants-MIN_NUM_FORMS": "0",
        "name_variants-MAX_NUM_FORMS": "1000",
    }
    if person.identity_withheld:
        data["identity_withheld"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_edit_page_tells_an_editor_that_only_a_reviewer_shows_a_name(
    editor_client, withheld_person
):
    response = editor_client.post(
        reverse("staff:person_edit", kwargs={"pk": withheld_person.pk}),
        person_form(withheld_person, identity_withheld=None),
    )
    assert response.status_code == 302  # proposed: a reviewer decides
    page = editor_client.get(response["Location"]).content.decode()
    assert "Your change waits for a reviewer" in page
    withheld_person.refresh_from_db()
    assert withheld_person.identity_withheld


# --- the admin ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["editor_client", "reviewer_client"])
def test_editors_and_reviewers_get_403_from_the_admin(request, persona):
    client = request.getfixturevalue(persona)
    incident = IncidentFactory()
    for url in (
        reverse("admin:index"),
        reverse("admin:incidents_incident_change", args=[incident.pk]),
        reverse("admin:people_person_changelist"),
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(
        reverse("admin:incidents_incident_change", args=[incident.pk]),
        {"publication_state": "draft"},
    )
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.publication_state == PublicationState.PUBLISHED


def test_the_admin_role_uses_the_admin(admin_role_client):
    assert admin_role_client.get(reverse("admin:index")).status_code == 200


def test_the_admin_shows_the_workflow_fields_read_only(admin_role_client):
    incident = IncidentFactory(publication_state=PublicationState.DRAFT)
    DetentionFactory(incident=incident, publication_state=PublicationState.DRAFT)
    body = admin_role_client.get(
        reverse("admin:incidents_incident_change", args=[incident.pk])
    ).content.decode()
    assert 'name="publication_state"' not in body
    assert 'name="archived_at' not in body
    assert 'name="detentions-0-publication_state"' not in body
    assert 'name="detentions-0-DELETE"' not in body


def test_the_admin_deletes_nothing(admin_role_client, admin_client):
    incident = IncidentFactory()
    for client in (admin_role_client, admin_client):  # the admin role, and a superuser
        url = reverse("admin:incidents_incident_delete", args=[incident.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
        response = client.post(
            reverse("admin:incidents_incident_changelist"),
            {"action": "delete_selected", "_selected_action": [incident.pk], "post": "yes"},
        )
        assert response.status_code in (200, 302)
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_the_admin_history_does_not_restore_an_old_version(admin_client):
    source = SourceFactory(title="First title")
    source.title = "Second title"
    source.save()
    first = source.history.order_by("history_id").first()
    url = reverse("admin:incidents_source_simple_history", args=[source.pk, first.history_id])
    response = admin_client.post(url, {"title": "First title", "url": source.url})
    assert response.status_code == 403
    source.refresh_from_db()
    assert source.title == "Second title"


def test_the_admin_role_cannot_make_a_superuser(admin_role_client, admin_role):
    target = StaffUserFactory(username="someone")
    url = reverse("admin:auth_user_change", args=[target.pk])
    body = admin_role_client.get(url).content.decode()
    assert 'name="is_superuser"' not in body
    assert 'name="user_permissions"' not in body
    for user in (target, admin_role):
        admin_role_client.post(
            reverse("admin:auth_user_change", args=[user.pk]),
            {
                "username": user.username,
                "is_active": "on",
                "is_staff": "on",
                "is_superuser": "on",
                "groups": [Group.objects.get(name="admin").pk],
                "date_joined_0": "2024-01-01",
                "date_joined_1": "00:00:00",
            },
        )
        user.refresh_from_db()
        assert not user.is_superuser


def test_the_admin_role_cannot_change_a_superusers_account(admin_role_client):
    root = StaffUserFactory(username="root", is_superuser=True)
    url = reverse("admin:auth_user_change", args=[root.pk])
    response = admin_role_client.post(url, {"username": "root", "is_active": ""})
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.is_active
    password_url = reverse("admin:auth_user_password_change", args=[root.pk])
    assert admin_role_client.get(password_url).status_code == 403


# --- withheld identities keep no name in their address -------------------------------------


def test_a_withheld_person_never_keeps_a_name_slug(withheld_person):
    assert is_withheld_slug(withheld_person.slug)
    shown = PersonFactory(name="Named Later", slug="named-later")
    shown.identity_withheld = True
    shown.save(update_fields=["identity_withheld"])
    shown.refresh_from_db()
    assert is_withheld_slug(shown.slug)
    assert Client().get("/people/named-later/").status_code == 404


def test_the_api_cannot_give_a_withheld_person_a_name_slug(editor, reviewer, withheld_person):
    response = token_client(editor).patch(
        f"{API}/people/{withheld_person.pk}/", {"slug": "marker-hiddenname"}, format="json"
    )
    assert response.status_code == 202, response.content
    revisions.publish_revision(
        revision=Revision.objects.of(withheld_person).pending().get(), user=reviewer
    )
    withheld_person.refresh_from_db()
    assert is_withheld_slug(withheld_person.slug)
    assert Client().get("/people/marker-hiddenname/").status_code == 404


def test_the_migration_reslugs_withheld_persons(withheld_person):
    from importlib import import_module

    from django.apps import apps

    Person.objects.filter(pk=withheld_person.pk).update(slug="marker-hiddenname")
    migration = import_module("people.migrations.0008_withheld_person_slugs")
    migration.reslug_withheld(apps, None)
    withheld_person.refresh_from_db()
    assert is_withheld_slug(withheld_person.slug)


# --- caches keep nothing that is not public -------------------------------------------------


def test_every_response_to_staff_is_private_and_not_stored(editor_client, editor):
    incident = IncidentFactory()
    for url in (
        "/",
        incident.get_absolute_url(),
        reverse("staff:dashboard"),
        reverse("staff:incident_edit", kwargs={"pk": incident.pk}),
        f"{API}/incidents/{incident.pk}/",
    ):
        response = editor_client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url
    api_response = token_client(editor).get(f"{API}/incidents/{incident.pk}/")
    assert api_response["Cache-Control"] == "private, no-store"


def test_the_private_areas_are_not_stored_even_for_anonymous_visitors(client, db):
    for url in (reverse("login"), reverse("staff:dashboard"), reverse("admin:login")):
        assert client.get(url)["Cache-Control"] == "private, no-store", url


def test_public_pages_for_anonymous_readers_stay_cacheable(client, db):
    incident = IncidentFactory()
    assert "no-store" not in client.get(incident.get_absolute_url()).get("Cache-Control", "")


def test_every_response_carries_a_permissions_policy(client, db):
    policy = client.get("/")["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy
