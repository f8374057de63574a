"""The security log: one JSON line per event on the `security` logger, with the user, the
client's address, the time and the request id (answered in X-Request-ID), and the same event
as a row; never a password, key or session key."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts import security_log
from accounts.models import SecurityEvent
from accounts.reauth import REAUTH_AT
from accounts.tokens import create_token
from cabar_tracker.request_context import RequestIdMiddleware
from incidents import revisions
from incidents.models import Incident
from people.staff.merge import merge_persons
from tests.api_personas import API
from tests.factories import (
    IncidentFactory,
    PersonFactory,
    SourceFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
ADDRESS = "203.0.113.7"


@pytest.fixture
def lines(caplog):
    """The security log's lines so far, parsed as JSON."""
    caplog.set_level(logging.INFO, logger="security")

    def read(event: str | None = None) -> list[dict]:
        parsed = [json.loads(r.getMessage()) for r in caplog.records if r.name == "security"]
        return [line for line in parsed if event is None or line["event"] == event]

    return read


def assert_well_formed(line: dict, *, user: str | None, response=None, address=ADDRESS):
    assert line["user"] == user
    assert line["address"] == address
    assert datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
    if response is not None:
        assert line["request_id"] == response["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    row = SecurityEvent.objects.filter(event=line["event"]).order_by("-pk").first()
    assert row is not None
    assert row.username == (user or "")
    assert row.address == address
    assert row.request_id == (line["request_id"] or "")


def in_request(function, *, user, address: str = ADDRESS):
    """Run a service function as a page would: inside a request with an id and an address
    (what the views add around the same call)."""
    from django.test import RequestFactory

    request = RequestFactory().post("/staff/some-page/", REMOTE_ADDR=address)
    request.user = user
    # Staff who have just passed their second factor (accounts/reauth.py).
    request.session = {REAUTH_AT: int(time.time())}
    result = {}

    def view(request):
        from django.http import HttpResponse

        result["value"] = function()
        return HttpResponse()

    response = RequestIdMiddleware(view)(request)
    return result["value"], response


# --- logins ----------------------------------------------------------------------------------


def log_in(client, username, password, address=ADDRESS):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/"), client.get("/")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_clients_own_request_id_is_not_taken(client, settings):
    assert client.get("/", HTTP_X_REQUEST_ID="chosen-by-the-client")["X-Request-ID"] != (
        "chosen-by-the-client"
    )
    # Behind a trusted proxy, the proxy's id is kept (the proxy's log lines carry it too),
    # when it is a plain token.
    settings.TRUSTED_PROXY_COUNT = 1
    assert client.get("/", HTTP_X_REQUEST_ID="proxy-id-0042")["X-Request-ID"] == "proxy-id-0042"
    bad = client.get("/", HTTP_X_REQUEST_ID='x" forged="1')["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", bad)


def test_a_login_is_logged(client, lines):
    StaffUserFactory(username="aigul")
    response = log_in(client, "aigul", PASSWORD)
    assert response.status_code == 302
    (line,) = lines("login.succeeded")
    assert_well_formed(line, user="aigul", response=response)
    assert line["path"] == reverse("login")


def test_a_failed_login_names_the_account_but_never_the_password(client, lines):
    StaffUserFactory(username="aigul")
    response = log_in(client, "aigul", "my-secret-guess")
    (line,) = lines("login.failed")
    assert_well_formed(line, user="aigul", response=response)
    assert "my-secret-guess" not in json.dumps(lines())
    assert "my-secret-guess" not in str(list(SecurityEvent.objects.values()))


def test_an_unknown_username_is_kept_only_as_a_fingerprint(client, lines):
    # Someone typed their password in the username box.
    response = log_in(client, "hunter2-password", "aigul")
    (line,) = lines("login.failed")
    assert_well_formed(line, user=None, response=response)
    assert re.fullmatch(r"[0-9a-f]{12}", line["unknown_username"])
    assert "hunter2" not in json.dumps(lines()) + str(list(SecurityEvent.objects.values()))
    # The same string gives the same fingerprint, so repeated tries can be counted.
    log_in(client, "hunter2-password", "again")
    assert len({line["unknown_username"] for line in lines("login.failed")}) == 1


def test_a_lockout_is_logged(client, lines, settings):
    StaffUserFactory(username="aigul")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = log_in(client, "aigul", "wrong")
    assert response.status_code == 429
    (line,) = lines("login.locked_out")
    assert_well_formed(line, user="aigul", response=response)


def test_an_address_pause_is_logged(client, lines, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 2
    StaffUserFactory(username="aigul")
    log_in(client, "first", "guess")
    log_in(client, "second", "guess")
    response = log_in(client, "aigul", PASSWORD)
    assert response.status_code == 429
    (line,) = lines("login.throttled")
    assert_well_formed(line, user="aigul", response=response)
    assert line["failures"] == 2


def test_the_address_behind_a_trusted_proxy_is_logged(client, lines, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    StaffUserFactory(username="aigul")
    response = client.post(
        reverse("login"),
        {"username": "aigul", "password": PASSWORD},
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4",
    )
    assert_well_formed(
        lines("login.succeeded")[0], user="aigul", response=response, address=("198.51.100.4")
    )


def test_a_logout_is_logged(client, lines):
    StaffUserFactory(username="aigul")
    log_in(client, "aigul", PASSWORD)
    response = client.post(reverse("logout"), REMOTE_ADDR=ADDRESS)
    (line,) = lines("logout")
    assert_well_formed(line, user="aigul", response=response)


def test_an_expired_session_is_logged(client, lines):
    from accounts.middleware import SEEN_AT

    StaffUserFactory(username="aigul")
    log_in(client, "aigul", PASSWORD)
    session = client.session
    session[SEEN_AT] -= 3600
    session.save()
    response = client.get("/staff/", REMOTE_ADDR=ADDRESS)
    (line,) = lines("session.expired")
    assert_well_formed(line, user="aigul", response=response)
    assert line["reason"] == "idle"
    assert not lines("logout")  # the expiry is the event, not a logout by the user


def test_no_session_key_reaches_the_log(client, lines):
    StaffUserFactory(username="aigul")
    log_in(client, "aigul", PASSWORD)
    session_key = client.cookies["sessionid"].value
    client.get("/staff/", REMOTE_ADDR=ADDRESS)
    client.post(reverse("logout"), REMOTE_ADDR=ADDRESS)
    everything = json.dumps(lines()) + str(list(SecurityEvent.objects.values()))
    assert session_key not in everything


# --- refusals --------------------------------------------------------------------------------


def test_a_refused_page_is_logged_with_its_user(editor_client, lines):
    response = editor_client.get(reverse("staff:security_log"), REMOTE_ADDR=ADDRESS)
    assert response.status_code == 403
    (line,) = lines("permission.denied")
    assert_well_formed(line, user="erkin_editor", response=response)
    assert line["path"] == reverse("staff:security_log")
    assert line["method"] == "GET"


def test_a_refused_api_write_is_logged_with_the_tokens_user(staff_api, lines):
    response = staff_api.post(f"{API}/sources/", {"title": "x"}, format="json", REMOTE_ADDR=ADDRESS)
    assert response.status_code == 403
    (line,) = lines("permission.denied")
    assert_well_formed(line, user="staff-no-perms", response=response)


# --- API tokens ------------------------------------------------------------------------------


def test_token_creation_use_refusal_and_revocation_are_logged(staff_client, staff_user, lines):
    created = staff_client.post(
        "/account/api-token/", {"name": "nightly", "days": 30}, REMOTE_ADDR=ADDRESS
    )
    key = re.search(r'id="api-token-key">([^<]+)<', created.content.decode()).group(1)
    (line,) = lines("token.created")
    assert_well_formed(line, user="editor", response=created)
    prefix = line["prefix"]
    assert key.startswith(prefix) and len(prefix) < 16

    script = Client(HTTP_AUTHORIZATION=f"Token {key}", REMOTE_ADDR="198.51.100.9")
    used = script.get(f"{API}/incidents/")
    script.get(f"{API}/incidents/")  # within the minute: not logged again
    (line,) = lines("token.used")
    assert_well_formed(line, user="editor", response=used, address="198.51.100.9")
    assert line["prefix"] == prefix

    token_id = lines("token.created")[0]["token_id"]
    revoked = staff_client.post(f"/account/api-token/{token_id}/revoke/", REMOTE_ADDR=ADDRESS)
    (line,) = lines("token.revoked")
    assert_well_formed(line, user="editor", response=revoked)

    refused = script.get(f"{API}/incidents/")
    assert refused.status_code == 401
    (line,) = lines("token.rejected")
    assert_well_formed(line, user="editor", response=refused, address="198.51.100.9")
    assert line["reason"] == "unknown or revoked"

    everything = json.dumps(lines()) + str(list(SecurityEvent.objects.values()))
    assert key not in everything


def test_a_wrong_token_is_logged_without_the_key(lines):
    wrong = "ct_" + "A" * 43
    response = Client(HTTP_AUTHORIZATION=f"Token {wrong}", REMOTE_ADDR=ADDRESS).get(
        f"{API}/incidents/"
    )
    assert response.status_code == 401
    (line,) = lines("token.rejected")
    assert_well_formed(line, user=None, response=response)
    assert wrong not in json.dumps(lines())


# --- publishing, withholding, merging, reverting ----------------------------------------------


def test_publish_unpublish_archive_and_restore_are_logged(reviewer_client, lines):
    incident = IncidentFactory(publication_state="in_review")
    incident.sources.add(SourceFactory())
    pk = incident.pk
    steps = [
        ("record.published", reverse("staff:publish", kwargs={"model_name": "incident", "pk": pk})),
        (
            "record.unpublished",
            reverse("staff:unpublish", kwargs={"model_name": "incident", "pk": pk}),
        ),
        ("record.archived", reverse("staff:incident_archive", kwargs={"pk": pk})),
        ("record.restored", reverse("staff:incident_restore", kwargs={"pk": pk})),
    ]
    for event, url in steps:
        response = reviewer_client.post(url, REMOTE_ADDR=ADDRESS)
        assert response.status_code == 302, event
        (line,) = lines(event)
        assert_well_formed(line, user="rahat_reviewer", response=response)
        assert line["target"] == {"model": "incidents.incident", "id": pk}


def test_a_revert_is_logged(reviewer_client, lines):
    incident = IncidentFactory(title="First")
    incident.title = "Second"
    incident.save()
    first = incident.history.get(history_type="+")
    current = Incident.objects.get(pk=incident.pk)
    url = reverse(
        "staff:history_revert",
        kwargs={
            "app_label": "incidents",
            "model_name": "incident",
            "pk": incident.pk,
            "history_id": first.history_id,
        },
    )
    response = reviewer_client.post(url, {"version": current.version}, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 302
    (line,) = lines("record.reverted")
    assert_well_formed(line, user="rahat_reviewer", response=response)
    assert line["to_history_id"] == first.history_id


def test_undoing_one_change_is_logged(reviewer_client, lines):
    incident = IncidentFactory(title="Right title")
    incident.title = "Wrong title"
    incident.save()
    change = incident.history.order_by("-history_id").first()
    incident.refresh_from_db()
    url = reverse(
        "staff:history_undo_field",
        kwargs={
            "app_label": "incidents",
            "model_name": "incident",
            "pk": incident.pk,
            "history_id": change.history_id,
            "field_name": "title",
        },
    )
    response = reviewer_client.post(url, {"version": incident.version}, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 302
    (line,) = lines("field.undone")
    assert_well_formed(line, user="rahat_reviewer", response=response)
    assert line["field"] == ["title"]


def test_publishing_a_proposed_change_is_logged(editor, reviewer, reviewer_client, lines):
    incident = IncidentFactory(title="Before")
    incident.title = "After"
    proposal = revisions.propose(incident, user=editor)
    response = reviewer_client.post(
        reverse("staff:proposal_publish", args=[proposal.pk]), REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 302
    (line,) = lines("proposal.published")
    assert_well_formed(line, user="rahat_reviewer", response=response)
    assert line["proposal"] == proposal.pk
    assert line["proposed_by"] == editor.pk


def test_withholding_and_showing_an_identity_are_logged_whatever_the_door(reviewer, lines):
    person = PersonFactory(name="Baialy Torogeldiev")

    def withhold():
        person.identity_withheld = True
        person._history_user = reviewer
        person.save()

    _result, response = in_request(withhold, user=reviewer)
    (line,) = lines("identity.withheld")
    assert_well_formed(line, user="rahat_reviewer", response=response)
    assert line["target"] == {"model": "people.person", "id": person.pk}

    # Saving again without a change logs nothing more.
    person.save()
    assert len(lines("identity.withheld")) == 1

    def show():
        person.identity_withheld = False
        person.save()

    in_request(show, user=reviewer)
    (line,) = lines("identity.shown")
    assert line["user"] == "rahat_reviewer"


def test_a_merge_is_logged(reviewer, lines):
    keep = PersonFactory(name="Vikram Ruzakhunov")
    merge = PersonFactory(name="Vikram Ruzahunov")
    _kept, response = in_request(
        lambda: merge_persons(keep=keep, merge=merge, user=reviewer), user=reviewer
    )
    (line,) = lines("person.merged")
    assert_well_formed(line, user="rahat_reviewer", response=response)
    assert line["target"] == {"model": "people.person", "id": keep.pk}
    assert line["merged"] == {"model": "people.person", "id": merge.pk}


def test_a_command_logs_without_address_or_request(reviewer, lines):
    from incidents import workflow

    incident = IncidentFactory(publication_state="in_review")
    incident.sources.add(SourceFactory())
    workflow.publish(record=incident, user=reviewer)
    (line,) = lines("record.published")
    assert line["user"] == "rahat_reviewer"
    assert line["address"] is None and line["request_id"] is None
    assert line["via"] == "command"


# --- the log itself --------------------------------------------------------------------------


def test_every_kind_of_event_has_a_test_above():
    """Here, or beside it (the second factor's and the roles' events are in their tests)."""
    source = "".join(path.read_text() for path in Path(__file__).parent.glob("test_*.py"))
    untested = [event for event in security_log.EVENTS if f'"{event}"' not in source]
    assert untested == []


def test_it_refuses_secret_details_and_unknown_events():
    with pytest.raises(ValueError, match="never records"):
        security_log.record("token.created", password="x")
    with pytest.raises(ValueError, match="never records"):
        security_log.record("token.created", target={"key": "x"})
    with pytest.raises(ValueError, match="Unknown security event"):
        security_log.record("mfa.no-such-event")


def test_a_token_made_by_a_command_is_logged(staff_user, lines):
    create_token(user=staff_user, name="cron")
    (line,) = lines("token.created")
    assert line["via"] == "command" and line["user"] == "editor"


def test_attaching_publishing_and_removing_a_file_are_logged(lines, reviewer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from evidence import attachments

    attachment = attachments.attach_file(
        record=SourceFactory(), upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 x"), user=reviewer
    )
    attachments.set_public(attachment=attachment, public=True, user=reviewer)
    attachments.remove(attachment=attachment, user=reviewer)

    (uploaded,) = lines("attachment.uploaded")
    (shown,) = lines("attachment.visibility_changed")
    (removed,) = lines("attachment.archived")
    for line in (uploaded, shown, removed):
        assert line["user"] == "rahat_reviewer"
        assert line["target"] == {"model": "evidence.attachment", "id": attachment.pk}
    assert uploaded["public"] is False and shown["public"] is True
    # The file's name (which may name a withheld person) is never logged.
    assert "a.pdf" not in json.dumps([uploaded, shown, removed])
