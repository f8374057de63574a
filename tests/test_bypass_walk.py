"""The bypass walk: no write path lets an editor change what the public sees.

The walk enumerates the staff URL patterns that name a record and the API routes that
write, so a path added later is either covered here or fails `test_every_path_is_walked`.
For each, an editor changes a published record (a real edit on edit pages and in the API;
the request the path takes, with a note, on the others); the anonymous views of the record
(its page, the API detail, the list, the CSV and the feed) must be byte-identical before
and after. Then a reviewer publishes what was proposed and the change is visible.

The rows of a case (timeline events, reported groups, allegations) are shown on their case's
page: their views are the case's. Paths that add a row to a record (`<parent>_pk` in the URL)
are walked the same way: the editor's addition to a published case waits for a reviewer. Every admin
change and delete form refuses an editor, and the CSV import (page and command) proposes.
"""

from __future__ import annotations

import io
import re

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from cabar_tracker.api.urls import router
from incidents import revisions
from incidents.models import Revision, RevisionAction
from tests.api_personas import API, token_client
from tests.cabar_tracker.staff.test_access import STAFF_URLS
from tests.factories import (
    AccountFactory,
    AllegationFactory,
    DetentionFactory,
    IncidentEventFactory,
    IncidentFactory,
    PersonFactory,
    PositionFactory,
    PublicOrganizationFactory,
    PublicPlaceFactory,
    ReportedGroupFactory,
    SituationFactory,
    SourceFactory,
    StatementFactory,
)

CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')

# The public record each kind of path acts on, and a text field an edit can change.
RECORDS = {
    "incident": (IncidentFactory, "title"),
    "detention": (DetentionFactory, "details"),
    "person": (PersonFactory, "occupation"),
    "statement": (StatementFactory, "text"),
    "source": (SourceFactory, "title"),
    "situation": (SituationFactory, "title"),
    # A place and an organization are public once something published uses them.
    "location": (PublicPlaceFactory, "name"),
    "organization": (PublicOrganizationFactory, "name"),
    "position": (PositionFactory, "title"),
    "incidentevent": (IncidentEventFactory, "title"),
    "allegation": (AllegationFactory, "description"),
    "reportedgroup": (ReportedGroupFactory, "note"),
    # Another account of a published detention's fact (the place of arrest).
    "account": (AccountFactory, "note"),
}
APP_LABELS = {"person": "people", "organization": "people", "position": "people"}

# The rows of a case, by the record whose page shows them.
PARENTS = {
    "incidentevent": "incident",
    "allegation": "detention",
    "account": "detention",
    "reportedgroup": "incident",
}
# The paths that add a row to a record: (kind of row, the record it is added to, what a new
# row needs besides its text field, the published record to add it to).
ADD_ROWS = {
    "incidentevent_add": ("incidentevent", "incident", {"kind": "media_report"}, IncidentFactory),
    "allegation_add": ("allegation", "detention", {"kind": "torture"}, DetentionFactory),
    "reportedgroup_add": (
        "reportedgroup",
        "incident",
        {"citizenship": "UZ", "detained_count": "3"},
        IncidentFactory,
    ),
    # Another account of a fact of a published incident, detention or allegation.
    "incident_account_add": (
        "account",
        "incident",
        {"fact": "incident_date", "value_date": "2022-01-08", "value_date_precision": "day"},
        IncidentFactory,
    ),
    "detention_account_add": (
        "account",
        "detention",
        {"fact": "reported_age", "value_number": "34"},
        DetentionFactory,
    ),
    "allegation_account_add": (
        "account",
        "allegation",
        {"fact": "allegation_status", "value_choice": "denied"},
        AllegationFactory,
    ),
}

# Staff paths that name no public record: follow-ups are staff-only; proposals are the
# review itself (reviewer only, tested in tests/incidents/test_revisions.py); an import
# job's page only shows a job (the import it runs is walked below, page and command); a
# staff account's second-factor reset is the admin role's, and names an account
# (tests/accounts/test_second_factor.py).
NOT_RECORD_PATHS = {
    "reset_second_factor",
    "followup_add",
    "followup_done",
    "proposal_publish",
    "proposal_return",
    "import_job",
    # Evidence (evidence/): a capture records what a source's address served at a time; it
    # is not an edit of the source, and every staff member may take one at once (pages are
    # deleted within a day). An attachment is staff-only until a reviewer makes it public
    # (tests/evidence/test_attachments.py: an editor is refused making one public or
    # removing a public one). Attaching a file to a record is walked below as an action on
    # that record.
    "source_capture",
    "capture_retry",
    "attachment_public",
    "attachment_remove",
}


def _record_paths() -> list[tuple[str, str]]:
    """(staff URL name, kind of record) for every staff URL that takes a record's pk."""
    paths = []
    for name, kwargs in STAFF_URLS:
        short = name.split(":", 1)[1]
        if "pk" not in kwargs or short in NOT_RECORD_PATHS:
            continue
        if "model_name" in kwargs:
            paths += [(short, kind) for kind in RECORDS]
        else:
            kind = short.split("_", 1)[0]
            paths.append((short, kind))
    return paths


def _add_paths() -> list[tuple[str, str]]:
    """(staff URL name, the record it adds to) for every staff URL that adds a row to a
    record named by `<parent>_pk`."""
    paths = []
    for name, kwargs in STAFF_URLS:
        short = name.split(":", 1)[1]
        if short in NOT_RECORD_PATHS or not any(key.endswith("_pk") for key in kwargs):
            continue
        parent = next(key for key in kwargs if key.endswith("_pk")).removesuffix("_pk")
        paths.append((short, parent))
    return paths


STAFF_PATHS = _record_paths()
ADD_PATHS = _add_paths()
API_PATHS = [basename for _prefix, _viewset, basename in router.registry]


def test_every_path_is_walked():
    for short, kind in STAFF_PATHS:
        assert kind in RECORDS, f"staff:{short} acts on '{kind}': add it to the walk"
    for short, parent in ADD_PATHS:
        assert short in ADD_ROWS, f"staff:{short} adds to a '{parent}': add it to the walk"
        assert ADD_ROWS[short][1] == parent, short
    for basename in API_PATHS:
        assert basename in RECORDS, f"API resource '{basename}': add it to the walk"
    assert len(STAFF_PATHS) >= 20 and len(API_PATHS) == 9
    assert {short for short, _kind in ADD_PATHS} == set(ADD_ROWS)


def shown_on(record):
    """The record whose public page and API detail show `record`: itself, or for a row of
    a case (a timeline event, an allegation) the record it belongs to."""
    while record._meta.model_name in PARENTS:
        record = getattr(record, PARENTS[record._meta.model_name])
    return record


def public_views(record) -> dict[str, bytes]:
    client, api = Client(), APIClient()
    urls = {
        "list": reverse("incidents:incident_list"),
        "csv": reverse("incidents:incidents_csv"),
        "feed": reverse("incidents:incident_feed"),
    }
    record = shown_on(record)
    if hasattr(record, "get_absolute_url"):
        urls["page"] = record.get_absolute_url()
    basename = record._meta.model_name
    prefix = next((p for p, _v, b in router.registry if b == basename), None)
    views = {}
    for name, url in urls.items():
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        views[name] = (response.status_code, CSRF_TOKEN.sub(b"csrf", body))
    if prefix is not None:
        response = api.get(f"{API}/{prefix}/{record.pk}/")
        views["api detail"] = (response.status_code, response.content)
        response = api.get(f"{API}/{prefix}/")
        views["api list"] = (response.status_code, response.content)
    return views


def _form_data(page) -> dict:
    """The edit form as a browser would send it back, unchanged."""
    form = page.context["form"]
    data = {}
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        if value is True:
            value = "on"
        data[bound.html_name] = [str(v) for v in value] if isinstance(value, list) else value
    formset = page.context.get("formset")
    if formset is not None:
        for bound in formset.management_form:
            data[bound.html_name] = bound.value()
        for row in formset.forms:
            for bound in row:
                value = bound.value()
                if value not in (None, False):
                    data[bound.html_name] = "on" if value is True else value
    return data


@pytest.mark.parametrize(("short", "kind"), STAFF_PATHS, ids=[f"{s}-{k}" for s, k in STAFF_PATHS])
def test_no_staff_path_lets_an_editor_change_the_public_record(
    editor_client, reviewer, short, kind
):
    factory, text_field = RECORDS[kind]
    IncidentFactory()  # a feed with an entry: an empty feed's <updated> is the clock's
    record = factory()
    kwargs = {"pk": record.pk}
    pattern = dict(STAFF_URLS)[f"staff:{short}"]
    if "model_name" in pattern:
        kwargs["model_name"] = kind
    if "app_label" in pattern:
        kwargs["app_label"] = APP_LABELS.get(kind, "incidents")
    if "history_id" in pattern:
        kwargs["history_id"] = record.history.earliest("history_id").history_id
    if "field_name" in pattern:
        kwargs["field_name"] = text_field
    try:
        url = reverse(f"staff:{short}", kwargs=kwargs)
    except Exception:  # noqa: BLE001 - this path does not take this kind of record
        pytest.skip(f"staff:{short} does not act on {kind}")
    before = public_views(record)

    if short.endswith("_edit"):
        page = editor_client.get(url)
        assert page.status_code == 200
        data = _form_data(page)
        data[text_field] = "Marker changed by an editor"
        response = editor_client.post(url, data)
    else:
        response = editor_client.post(url, {"note": "Marker note", "next": "/staff/"})

    # (200: a page that takes no POST, such as the history, shows itself again.)
    assert response.status_code in {200, 302, 400, 403, 404, 405, 409}, response.status_code
    assert public_views(record) == before, f"staff:{short} changed the public {kind}"

    # What was proposed reaches the public once a reviewer publishes it.
    for proposal in Revision.objects.of(record).pending():
        revisions.publish_revision(revision=proposal, user=reviewer)
        if proposal.action == RevisionAction.DELETE:
            assert not type(record)._base_manager.filter(pk=record.pk).exists()
            assert public_views(record) != before
            continue
        record.refresh_from_db()
        if short == "account_prefer":
            # Making an account preferred makes its value the record's.
            assert record.rank == "preferred"
            assert public_views(record) != before
            continue
        assert getattr(record, text_field) == "Marker changed by an editor"


@pytest.mark.parametrize(("short", "parent"), ADD_PATHS, ids=[s for s, _p in ADD_PATHS])
def test_no_staff_path_lets_an_editor_add_to_the_public_record(
    editor_client, reviewer, short, parent
):
    kind, parent_field, new_row, parent_factory = ADD_ROWS[short]
    factory, text_field = RECORDS[kind]
    IncidentFactory()  # a feed with an entry: an empty feed's <updated> is the clock's
    record = parent_factory()  # the published record the new row is added to
    url = reverse(f"staff:{short}", kwargs={f"{parent_field}_pk": record.pk})
    before = public_views(record)

    page = editor_client.get(url)
    assert page.status_code == 200
    data = {**_form_data(page), **new_row, text_field: "Marker added by an editor"}
    response = editor_client.post(url, data)

    assert response.status_code == 302, response.content.decode()
    assert public_views(record) == before, f"staff:{short} changed the public {parent_field}"
    model = factory._meta.model
    added = {parent_field: record, text_field: "Marker added by an editor"}
    assert not model._base_manager.filter(**added).exists()

    proposal = Revision.objects.about(record).pending().get()
    assert proposal.action == RevisionAction.CREATE
    revisions.publish_revision(revision=proposal, user=reviewer)
    assert model._base_manager.filter(**added).exists()
    assert public_views(record) != before


@pytest.mark.parametrize("basename", API_PATHS)
@pytest.mark.parametrize("method", ["patch", "delete"])  # PUT takes PATCH's path
def test_no_api_write_lets_an_editor_change_the_public_record(editor, reviewer, basename, method):
    factory, text_field = RECORDS[basename]
    IncidentFactory()  # a feed with an entry: an empty feed's <updated> is the clock's
    record = factory()
    prefix = next(p for p, _v, b in router.registry if b == basename)
    api = token_client(editor)
    url = f"{API}/{prefix}/{record.pk}/"
    before = public_views(record)
    data = api.get(url).json()
    data[text_field] = "Marker changed by an editor"

    response = getattr(api, method)(url, data, format="json")

    assert response.status_code in {202, 400, 403, 405}, (response.status_code, response.content)
    assert public_views(record) == before, f"{method.upper()} {prefix} changed the public record"
    if response.status_code == 202:
        proposal = Revision.objects.of(record).pending().get()
        revisions.publish_revision(revision=proposal, user=reviewer)
        record.refresh_from_db()
        assert getattr(record, text_field) == "Marker changed by an editor"


# --- the admin and the importer ---------------------------------------------------------------

ADMIN_MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in {"incidents", "people"}
)


@pytest.mark.parametrize(("app_label", "model_name"), ADMIN_MODELS)
def test_no_admin_change_form_lets_an_editor_change_the_public_record(
    editor_client, app_label, model_name
):
    """The admin is the admin role's: an editor gets 403 on every change and delete form,
    whatever they send, and the public sees the same before and after."""
    kind = model_name if model_name in RECORDS else "incident"
    IncidentFactory()  # a feed with an entry: an empty feed's <updated> is the clock's
    record = RECORDS[kind][0]()
    pk = record.pk if model_name in RECORDS else 1
    before = public_views(record)
    for action in ("change", "delete"):
        url = reverse(f"admin:{app_label}_{model_name}_{action}", args=[pk])
        assert editor_client.get(url).status_code == 403, url
        response = editor_client.post(url, {"post": "yes", RECORDS[kind][1]: "Marker"})
        assert response.status_code == 403, url
    assert public_views(record) == before


def test_the_importer_lets_no_editor_change_the_public_record(editor_client, reviewer):
    """A CSV row that changes a published detention, through the staff import page, is
    proposed: the public sees nothing until a reviewer publishes it."""
    from incidents.models import Outcome

    detention = DetentionFactory(
        incident=IncidentFactory(slug="known-case"),
        person=PersonFactory(slug="known-person", name="Known Person"),
        outcome=Outcome.CHARGED,
    )
    IncidentFactory()  # a feed with an entry
    before = {"detention": public_views(detention), "incident": public_views(detention.incident)}
    header = "incident_slug,person_slug,person_name,outcome\n"
    upload = SimpleUploadedFile(
        "rows.csv", (header + "known-case,known-person,,convicted\n").encode(), "text/csv"
    )

    response = editor_client.post(reverse("staff:import"), {"file": upload}, follow=True)

    assert response.status_code == 200
    assert "1 change to a published record waits for a reviewer" in response.content.decode()
    after = {"detention": public_views(detention), "incident": public_views(detention.incident)}
    assert after == before, "the import changed the public record"
    proposal = Revision.objects.of(detention).pending().get()
    revisions.publish_revision(revision=proposal, user=reviewer)
    detention.refresh_from_db()
    assert detention.outcome == Outcome.CONVICTED


def test_the_import_command_run_for_an_editor_changes_no_public_record(editor, tmp_path):
    """`manage.py import_detentions --user <editor>` is the importer with an editor's
    rights: a change to a published record waits for a reviewer. (The other commands that
    write, load_demo and generate_synthetic, are the operator's, who may publish.)"""
    from django.core.management import call_command

    from incidents.models import Outcome

    detention = DetentionFactory(
        incident=IncidentFactory(slug="known-case"),
        person=PersonFactory(slug="known-person", name="Known Person"),
        outcome=Outcome.CHARGED,
    )
    IncidentFactory()  # a feed with an entry
    before = public_views(detention)
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "incident_slug,person_slug,person_name,outcome\nknown-case,known-person,,convicted\n"
    )

    call_command("import_detentions", str(rows), "--user", editor.username, stdout=io.StringIO())

    assert public_views(detention) == before
    assert Revision.objects.of(detention).pending().get().proposed["fields"]["outcome"] == (
        "convicted"
    )
