"""The duplicate-person warning: people already recorded whose names match a new one in any
script or spelling (people/duplicates.py), and its staff JSON endpoint."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from people.models import NameKind
from people.staff.duplicates import find_person_candidates
from tests.factories import (
    DetentionFactory,
    PersonFactory,
    PersonNameFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = reverse("staff:person_candidates")


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def slugs(candidates) -> list[str]:
    return [candidate.person.slug for candidate in candidates]


# --- finding candidates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "Викрам Рузахунов",  # Cyrillic
        "RUZAKHUNOV",  # capitals, surname only
        "Ruzahunov",  # another transliteration
        "Ruzakunov",  # a misspelling the search key misses: caught by similarity
        "Ruzakhunov Vikram",  # surname first, as in Russian documents
    ],
)
def test_it_finds_vikram_ruzakhunov_by_any_spelling(demo, editor, typed):
    candidates = find_person_candidates(typed, user=editor)
    assert slugs(candidates)[:1] == ["vikram-ruzakhunov"]
    assert candidates[0].is_close
    assert 0 < candidates[0].score <= 1


def test_it_lists_each_candidates_detentions(demo, editor):
    (vikram,) = find_person_candidates("Викрам Рузахунов", user=editor)
    assert [d.incident.title for d in vikram.detentions] == [
        "Detention of Vikram Ruzakhunov in Almaty"
    ]


def test_it_does_not_offer_people_who_only_share_a_surname_as_close(demo, editor):
    close = [c for c in find_person_candidates("Akylbek Zhaparov", user=editor) if c.is_close]
    assert slugs(close) == ["akylbek-zhaparov"]


def test_a_name_someone_was_mistaken_for_does_not_find_them(demo, editor):
    # The ministry said the man in the video was Zakir Yuburov: that is not Ruzakhunov's name.
    assert "vikram-ruzakhunov" not in slugs(find_person_candidates("Zakir Yuburov", user=editor))


def test_it_matches_name_variants(editor):
    person = PersonFactory(name="Baialy Torogeldiev")
    PersonNameFactory(person=person, name="Bayaly Torogeldiyev", kind=NameKind.TRANSLITERATION)
    assert slugs(find_person_candidates("Bayaly Torogeldiyev", user=editor)) == [person.slug]


def test_same_citizenship_ranks_higher(editor):
    kazakh = PersonFactory(name="Nurlan Abenov", citizenship="KZ")
    kyrgyz = PersonFactory(name="Nurlan Abenov", citizenship="KG")
    assert slugs(find_person_candidates("Nurlan Abenov", citizenship="KG", user=editor)) == [
        kyrgyz.slug,
        kazakh.slug,
    ]
    assert slugs(find_person_candidates("Nurlan Abenov", citizenship="KZ", user=editor)) == [
        kazakh.slug,
        kyrgyz.slug,
    ]


def test_same_birth_year_ranks_higher(editor):
    older = PersonFactory(name="Nurlan Abenov", birth_year=1970)
    younger = PersonFactory(name="Nurlan Abenov", birth_year=1995)
    assert slugs(find_person_candidates("Nurlan Abenov", birth_year=1995, user=editor)) == [
        younger.slug,
        older.slug,
    ]


def test_citizenship_and_birth_year_together_rank_highest(editor):
    neither = PersonFactory(name="Nurlan Abenov", citizenship="KZ", birth_year=1970)
    one = PersonFactory(name="Nurlan Abenov", citizenship="KG", birth_year=1970)
    both = PersonFactory(name="Nurlan Abenov", citizenship="KG", birth_year=1995)
    found = find_person_candidates("Nurlan Abenov", citizenship="KG", birth_year=1995, user=editor)
    assert slugs(found) == [both.slug, one.slug, neither.slug]


def test_staff_see_drafts_marked_as_drafts(editor):
    draft = PersonFactory(name="Dilnoza Draftova", publication_state=PublicationState.DRAFT)
    (candidate,) = find_person_candidates("Dilnoza Draftova", user=editor)
    assert candidate.person == draft
    assert candidate.is_draft


def test_archived_people_are_never_candidates(editor):
    PersonFactory(name="Archived Person", archived_at=timezone.now())
    assert find_person_candidates("Archived Person", user=editor) == []


def test_the_public_never_finds_a_withheld_identity(editor):
    withheld = PersonFactory(name="Hidden Person", identity_withheld=True)
    assert find_person_candidates("Hidden Person", user=AnonymousUser()) == []
    assert slugs(find_person_candidates("Hidden Person", user=editor)) == [withheld.slug]


def test_an_empty_or_punctuation_only_name_finds_nobody(editor):
    PersonFactory(name="Anyone")
    assert find_person_candidates("", user=editor) == []
    assert find_person_candidates(" - . ", user=editor) == []


def test_unrelated_names_are_not_candidates(demo, editor):
    assert find_person_candidates("Gulnara Satybaldieva", user=editor) == []


# --- the JSON endpoint -----------------------------------------------------------------------


def test_the_endpoint_sends_anonymous_visitors_to_log_in(client):
    response = client.get(URL, {"name": "Ruzakhunov"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_endpoint_is_forbidden_to_users_who_are_not_staff(client):
    client.force_login(UserFactory())
    assert client.get(URL, {"name": "Ruzakhunov"}).status_code == 403


def test_the_endpoint_returns_candidates_with_scores(demo, editor_client):
    response = editor_client.get(URL, {"name": "Викрам Рузахунов", "citizenship": "kg"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    (vikram,) = response.json()["candidates"]
    assert vikram["slug"] == "vikram-ruzakhunov"
    assert vikram["name"] == "Vikram Ruzakhunov"
    assert vikram["citizenship"] == "KG"
    assert vikram["name_score"] == 1.0
    assert vikram["score"] == pytest.approx(0.9)  # name 0.8 + same citizenship 0.1
    assert vikram["is_close"] is True
    assert vikram["detentions"][0]["incident"] == "Detention of Vikram Ruzakhunov in Almaty"
    assert vikram["detentions"][0]["detained"]


def test_the_endpoint_marks_drafts_and_withheld_identities(editor_client):
    PersonFactory(
        name="Hidden Draftperson",
        identity_withheld=True,
        publication_state=PublicationState.DRAFT,
    )
    (found,) = editor_client.get(URL, {"name": "Hidden Draftperson"}).json()["candidates"]
    assert found["identity_withheld"] is True
    assert found["publication_state"] == "draft"


def test_the_endpoint_never_includes_archived_people(editor_client):
    PersonFactory(name="Archived Abenov", archived_at=timezone.now())
    kept = PersonFactory(name="Present Abenov")
    found = editor_client.get(URL, {"name": "Abenov"}).json()["candidates"]
    assert [c["slug"] for c in found] == [kept.slug]


def test_the_endpoint_ignores_a_birth_year_that_is_not_a_number(editor_client):
    PersonFactory(name="Nurlan Abenov")
    response = editor_client.get(URL, {"name": "Nurlan Abenov", "birth_year": "nineteen"})
    assert response.status_code == 200
    assert len(response.json()["candidates"]) == 1


def test_the_endpoint_answers_an_empty_list_without_a_name(editor_client):
    assert editor_client.get(URL).json() == {"name": "", "candidates": []}


@pytest.mark.parametrize("namesakes", [1, 25])
def test_the_endpoint_reads_a_fixed_number_of_queries(
    editor_client, django_assert_max_num_queries, namesakes
):
    # Guards against a query per candidate (names, detentions). Expected: session, user,
    # the gathered persons, their name variants, the detentions of those returned.
    for _n in range(namesakes):
        person = PersonFactory(name="Nurlan Abenov")
        PersonNameFactory(person=person, name="Нурлан Абенов")
        DetentionFactory.create_batch(2, person=person)
    with django_assert_max_num_queries(6):
        response = editor_client.get(URL, {"name": "Nurlan Abenov"})
    assert len(response.json()["candidates"]) == min(namesakes, 10)
