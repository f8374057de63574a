"""A form or API write sent twice with the same idempotency key is done once, and the second
answer is the first's (cabar_tracker/idempotency.py).

Each double submit here once wrote twice: a statement or a follow-up sent again by a double
click, and (sent at the same moment) two incidents and two persons from one entry form.
"""

from __future__ import annotations

import datetime
import re
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cabar_tracker.models import IdempotencyKey
from incidents.models import FollowUpAction, Incident, Source, Statement
from incidents.staff import entry_views
from people.models import Person
from tests.api_personas import API
from tests.factories import (
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    PositionFactory,
    SourceFactory,
    StaffUserFactory,
)
from tests.incidents.staff.test_new_detention import URL as NEW_DETENTION
from tests.incidents.staff.test_new_detention import valid_entry

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def form_key(response) -> str:
    (key,) = re.findall(r'name="idempotency_key" value="([^"]+)"', response.content.decode())[:1]
    return key


def statement_data(**changes) -> dict:
    position = PositionFactory(title="Head of GKNB")
    return {
        "speaker_person": position.person_id,
        "position": position.pk,
        "said_on": "2022-01-10",
        "said_on_precision": "day",
        "kind": "claim",
        "medium": "remarks",
        "text": "All our citizens will be returned.",
        "language": "ru",
        "incidents": [IncidentFactory().pk],
        "dispute_status": "not_disputed",
        "sources": [SourceFactory().pk],
        **changes,
    }


# --- forms carry a key ----------------------------------------------------------------------


def test_every_form_that_posts_carries_a_fresh_key(editor_client):
    response = editor_client.get(reverse("staff:statement_add"))
    keys = re.findall(r'name="idempotency_key" value="([^"]+)"', response.content.decode())
    assert keys, "the form carries no key"
    assert len(set(keys)) == len(keys)
    again = editor_client.get(reverse("staff:statement_add"))
    assert form_key(again) != keys[0]


def test_no_template_writes_a_form_without_its_key():
    bare = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if "{% csrf_token %}" in path.read_text()
    ]
    assert bare == [], "write {% form_tokens %} (CSRF token and idempotency key) instead"


# --- a double submit saves once -------------------------------------------------------------


def test_a_statement_sent_twice_is_saved_once(editor_client):
    key = form_key(editor_client.get(reverse("staff:statement_add")))
    data = {**statement_data(), "idempotency_key": key}
    first = editor_client.post(reverse("staff:statement_add"), data)
    second = editor_client.post(reverse("staff:statement_add"), data, follow=True)

    assert first.status_code == 302
    assert second.redirect_chain[0] == (first["Location"], 302)
    assert Statement.objects.count() == 1
    assert "sent more than once; only the first sending was acted on" in second.content.decode()


def test_a_follow_up_sent_twice_is_recorded_once(editor_client):
    detention = DetentionFactory()
    url = reverse("staff:followup_add", args=[detention.pk])
    data = {
        "taken_on": "2022-02-20",
        "kind": "letter",
        "addressee": "Prosecutor of Almaty",
        "outcome": "No answer yet.",
        "idempotency_key": form_key(editor_client.get(url)),
    }
    responses = [editor_client.post(url, data) for _ in range(3)]
    assert [r.status_code for r in responses] == [302, 302, 302]
    assert {r["Location"] for r in responses} == {detention.get_absolute_url()}
    assert FollowUpAction.objects.count() == 1


def test_a_refused_form_keeps_no_key_so_the_corrected_one_saves(editor_client):
    key = "0f3c2b1a-refused-then-corrected"
    refused = editor_client.post(
        reverse("staff:statement_add"),
        {**statement_data(said_on="9999-12-31"), "idempotency_key": key},
    )
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()

    saved = editor_client.post(
        reverse("staff:statement_add"), {**statement_data(), "idempotency_key": key}
    )
    assert saved.status_code == 302
    assert Statement.objects.count() == 1


def test_a_key_sent_again_with_other_values_is_refused(editor_client):
    key = "a-key-used-once"
    url = reverse("staff:statement_add")
    editor_client.post(url, {**statement_data(), "idempotency_key": key})
    response = editor_client.post(
        url, {**statement_data(text="Something else"), "idempotency_key": key}
    )
    assert response.status_code == 422
    assert "already used for another request" in response.content.decode()
    assert list(Statement.objects.values_list("text", flat=True)) == [
        "All our citizens will be returned."
    ]


def test_keys_are_per_user(editor_client, reviewer_client):
    url = reverse("staff:statement_add")
    for client in (editor_client, reviewer_client):
        response = client.post(url, {**statement_data(), "idempotency_key": "same-key"})
        assert response.status_code == 302
    assert Statement.objects.count() == 2


def test_an_expired_key_writes_again(editor_client, settings):
    url = reverse("staff:statement_add")
    data = {**statement_data(), "idempotency_key": "old-key"}
    editor_client.post(url, data)
    IdempotencyKey.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    assert editor_client.post(url, data).status_code == 302
    assert Statement.objects.count() == 2
    # The expired row was removed; the new one expires a day from now.
    (row,) = IdempotencyKey.objects.all()
    hours = (row.expires_at - row.created_at) / datetime.timedelta(hours=1)
    assert hours == settings.IDEMPOTENCY_KEY_HOURS


def test_an_unusable_key_is_a_400_naming_it(editor_client):
    response = editor_client.post(
        reverse("staff:statement_add"), {**statement_data(), "idempotency_key": "two words"}
    )
    assert response.status_code == 400
    assert "“idempotency_key”" in response.content.decode()
    assert not Statement.objects.exists()


def test_a_form_without_a_key_still_saves(editor_client):
    # Scripts and older pages post without one: nothing changes for them.
    response = editor_client.post(reverse("staff:statement_add"), statement_data())
    assert response.status_code == 302
    assert not IdempotencyKey.objects.exists()


def test_a_new_detention_sent_twice_records_one_incident_and_one_person(editor_client):
    almaty = LocationFactory(name="Almaty", slug="almaty-twice")
    data = {**valid_entry(almaty), "idempotency_key": form_key(editor_client.get(NEW_DETENTION))}
    first = editor_client.post(NEW_DETENTION, data)
    second = editor_client.post(NEW_DETENTION, data)
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert Incident.objects.count() == 1
    assert Person.objects.filter(name="Aibek Test").count() == 1


# --- the API --------------------------------------------------------------------------------


def source_payload(**changes) -> dict:
    return {
        "title": "A report",
        "url": "https://news.example.org/once",
        "kind": "news_article",
        **changes,
    }


def test_an_api_write_sent_twice_with_a_key_is_done_once(editor_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "script-retry-1"}
    first = editor_api.post(f"{API}/sources/", source_payload(), format="json", **headers)
    second = editor_api.post(f"{API}/sources/", source_payload(), format="json", **headers)

    assert first.status_code == 201, first.content
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Location"] == first["Location"]
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Source.objects.count() == 1


def test_an_api_key_reused_for_another_body_is_a_json_422(editor_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "script-retry-2"}
    editor_api.post(f"{API}/sources/", source_payload(), format="json", **headers)
    response = editor_api.post(
        f"{API}/sources/", source_payload(title="Other"), format="json", **headers
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()
    assert Source.objects.count() == 1


def test_an_api_key_with_spaces_is_a_json_400(editor_api):
    response = editor_api.post(
        f"{API}/sources/", source_payload(), format="json", HTTP_IDEMPOTENCY_KEY="a b"
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Source.objects.exists()


def test_an_api_refusal_keeps_no_key(editor_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "script-retry-3"}
    refused = editor_api.post(f"{API}/sources/", {"title": ""}, format="json", **headers)
    assert refused.status_code == 400
    saved = editor_api.post(f"{API}/sources/", source_payload(), format="json", **headers)
    assert saved.status_code == 201


def test_an_anonymous_write_with_a_key_is_still_a_401(client):
    response = client.post(
        f"{API}/sources/",
        source_payload(),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="anonymous",
    )
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/json"
    assert not IdempotencyKey.objects.exists()


# --- two at the same moment -----------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite writes one transaction at a time; PostgreSQL runs them side by side",
)
@pytest.mark.django_db(transaction=True)
def test_one_entry_sent_twice_at_the_same_moment_records_one_incident(monkeypatch):
    """The first sending has inserted its key and saved, not yet committed, when the second
    arrives: the second waits on the key's unique constraint, then answers as the first."""
    editor = StaffUserFactory(is_superuser=True)
    almaty = LocationFactory(name="Almaty", slug="almaty-at-once")
    saved, release = threading.Event(), threading.Event()
    enter = entry_views.enter_detention

    def slow_enter(**kwargs):
        incident = enter(**kwargs)
        if not saved.is_set():
            saved.set()
            release.wait(timeout=10)
        return incident

    monkeypatch.setattr(entry_views, "enter_detention", slow_enter)
    data = {**valid_entry(almaty), "idempotency_key": "sent-at-once"}
    answers: dict[str, object] = {}

    def send(name: str):
        try:
            client = Client()
            client.force_login(editor)
            answers[name] = client.post(NEW_DETENTION, data)
        finally:
            connections.close_all()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert saved.wait(timeout=10)
    second = threading.Thread(target=send, args=("second",))
    second.start()
    time.sleep(0.5)  # the second now waits for the first's key
    release.set()
    for thread in (first, second):
        thread.join(timeout=20)

    assert answers["first"].status_code == answers["second"].status_code == 302
    assert answers["second"]["Location"] == answers["first"]["Location"]
    assert Incident.objects.count() == 1
    assert Person.objects.filter(name="Aibek Test").count() == 1
    assert IdempotencyKey.objects.count() == 1
