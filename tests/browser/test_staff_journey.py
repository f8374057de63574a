"""A new detention's path from a phone call to the public site, in a real browser: an editor
logs in, records a new incident with two people (the first typed in Cyrillic, recognised as a
person already recorded and linked instead of duplicated; the second new) and a source, and
submits the draft for review; the public cannot see it; a reviewer publishes it from the
review queue; the public now reads the case, both people and the source.

Every page must load without console errors, uncaught exceptions, Content Security Policy
violations or requests to other sites (conftest.py); each step is saved as a full-page
screenshot in test-artifacts/screenshots/ (names starting "staff-").

One test: each browser test empties the database afterwards, which costs seconds on
PostgreSQL, and the steps depend on each other anyway.
"""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db.models import Q
from playwright.sync_api import expect

from cabar_tracker.publishing import PublicationState
from cabar_tracker.roles import EDITOR, REVIEWER, ROLE_PERMISSIONS
from incidents.models import Incident, Location
from people.models import Person
from tests.browser.conftest import Visitor
from tests.otp import app_of, code_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long passphrase for the browser test"
EDITOR_NAME, REVIEWER_NAME = "erkin_editor", "rahat_reviewer"
User = get_user_model()

TITLE = "Detention of two migrant workers in Shymkent"
SUMMARY = "Two citizens of Kyrgyzstan were detained at a market in Shymkent."
NEW_PERSON = "Nurlan Asanbekov"
SOURCE_URL = "https://news.example.org/2024/03/shymkent-market"
SOURCE_TITLE = "Two Kyrgyz workers detained at Shymkent market"


def ensure_role_group(role: str) -> Group:
    """The role's group with its permissions. A migration creates the groups, but the
    browser tests before this one empty the database, migration data included; flushing
    recreates the permissions (post_migrate), not the groups."""
    group, _ = Group.objects.get_or_create(name=role)
    wanted = Q(pk__in=[])
    for dotted in ROLE_PERMISSIONS[role]:
        app_label, codename = dotted.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.filter(wanted))
    assert len(permissions) == len(ROLE_PERMISSIONS[role])
    group.permissions.set(permissions)
    return group


@pytest.fixture
def staff_and_demo(monkeypatch) -> None:
    # The live server sees only committed data: create it for real; the test then flushes it.
    call_command("load_demo", stdout=io.StringIO())
    monkeypatch.setenv("JOURNEY_PASSWORD", PASSWORD)
    for username, role in ((EDITOR_NAME, EDITOR), (REVIEWER_NAME, REVIEWER)):
        ensure_role_group(role)
        # The command staff accounts are made with (password checked by the validators).
        call_command(
            "create_staff_user",
            username,
            role=role,
            password_from_env="JOURNEY_PASSWORD",
            stdout=io.StringIO(),
        )


def log_in(visitor: Visitor, username: str) -> None:
    """Through the footer link, the login form (django-axes watches it) and the second step,
    as staff do."""
    page = visitor.page
    visitor.open("/")
    page.get_by_role("link", name="Staff login").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    # They enrolled an authenticator app earlier (tests/otp.py); the second step asks for
    # the code it shows.
    app = app_of(User.objects.get(username=username))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Second step")).to_be_visible()
    page.get_by_label("Code").fill(code_for(app))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("navigation", name="Staff")).to_contain_text(f"Logged in as {username}")


def log_out(visitor: Visitor) -> None:
    page = visitor.page
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Staff login")).to_be_visible()


def test_an_editor_records_a_detention_and_a_reviewer_publishes_it(visitor, staff_and_demo):
    page = visitor.page
    ruzakhunov = Person.objects.get(name="Vikram Ruzakhunov")
    shymkent = Location.objects.get(slug="shymkent")

    # --- the editor records the detention -------------------------------------------------
    log_in(visitor, EDITOR_NAME)
    expect(page.get_by_role("heading", level=1, name="Staff desk")).to_be_visible()
    visitor.screenshot("staff-01-editor-desk")

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="New detention").click()
    expect(page.get_by_role("heading", level=1, name="New detention")).to_be_visible()
    # entry.js shows only the part of the incident chosen: a new one by default.
    expect(page.get_by_label("Incident already recorded", exact=True)).to_be_hidden()
    visitor.screenshot("staff-02-new-detention-empty")

    incident = page.locator("#incident")
    incident.get_by_label("Title", exact=True).fill(TITLE)
    # (By its id: the new-place fieldset below has a "Kind" of its own.)
    incident.locator("#id_incident-kind").select_option(label="Detention")
    # The place from the tree: Shymkent is listed, indented, under Kazakhstan.
    place = incident.get_by_label("Place", exact=True)
    place_options = place.locator("option").all_inner_texts()
    assert place_options.index("\u00a0\u00a0\u00a0Shymkent") > place_options.index("Kazakhstan")
    place.select_option(value=str(shymkent.pk))
    incident.get_by_label("Date", exact=True).fill("2024-03-14")
    incident.get_by_label("Date precision", exact=True).select_option(label="Month")
    incident.get_by_label("Reported number detained", exact=True).fill("2")
    incident.get_by_label("Summary", exact=True).fill(SUMMARY)

    # Person 1, as a caller spelled him: the people already recorded show up as one types.
    first = page.locator("#people-0")
    first.get_by_label("Name (Latin script)", exact=True).fill("Викрам Рузахунов")
    found = first.locator(".entry-candidate", has_text="Vikram Ruzakhunov")
    expect(found).to_be_visible()
    expect(found).to_contain_text("Detention of Vikram Ruzakhunov in Almaty")
    visitor.screenshot("staff-03-duplicate-warning")
    found.get_by_role("button", name="Use this person").click()
    expect(first.get_by_text("Linked to the existing record of Vikram Ruzakhunov")).to_be_visible()
    expect(first.get_by_label("Person already recorded", exact=True)).to_have_value(ruzakhunov.slug)
    expect(first.get_by_label("Name (Latin script)", exact=True)).to_be_hidden()

    # Person 2, not recorded yet.
    second = page.locator("#people-1")
    second.get_by_label("Name (Latin script)", exact=True).fill(NEW_PERSON)
    second.get_by_label("Citizenship", exact=True).select_option(value="KG")

    source = page.locator("#sources-0")
    source.get_by_label("URL", exact=True).fill(SOURCE_URL)
    source.get_by_label("Title", exact=True).fill(SOURCE_TITLE)
    visitor.screenshot("staff-04-new-detention-filled")

    page.locator(".entry-actions").get_by_role("button", name="Save as draft").click()

    # The draft case page, for staff only, marked as a draft.
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator(".messages")).to_contain_text(f"Saved as a draft: {TITLE}")
    expect(page.locator(".record .badges .badge-draft")).to_have_text("Draft")
    people = page.locator("#people")
    expect(people.get_by_role("link", name="Vikram Ruzakhunov")).to_be_visible()
    expect(people).to_contain_text(NEW_PERSON)
    expect(page.locator("#sources")).to_contain_text(SOURCE_TITLE)
    case_path = page.url.removeprefix(visitor.base_url)
    assert re.fullmatch(r"/incidents/[\w-]+/", case_path), case_path
    visitor.screenshot("staff-05-draft-case")

    # Linked, not duplicated; the new person is recorded with the citizenship given.
    assert Person.objects.filter(name_key=ruzakhunov.name_key).count() == 1
    assert Person.objects.get(name=NEW_PERSON).citizenship.code == "KG"

    actions = page.get_by_role("region", name="Staff actions")
    actions.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messages")).to_contain_text(f"Submitted for review: {TITLE}")
    expect(actions.locator(".badge-state-in_review")).to_be_visible()
    # Publishing is a reviewer's decision: the editor gets no button for it.
    expect(actions.get_by_role("button", name="Publish")).to_have_count(0)
    visitor.screenshot("staff-06-submitted")
    log_out(visitor)

    # --- the public cannot see it yet -----------------------------------------------------
    visitor.open("/incidents/")
    expect(page.get_by_role("heading", level=1, name="Cases")).to_be_visible()
    # The demo's cases are listed, not the one in review.
    expect(page.locator(".list-results .case-title").first).to_be_visible()
    expect(page.get_by_text(TITLE)).to_have_count(0)
    # Chromium reports a page answered with 404 as a console error: expected here.
    with page.expect_console_message(lambda message: "404" in message.text):
        response = page.goto(visitor.base_url + case_path)
    assert response is not None and response.status == 404
    visitor.problems[:] = [
        problem
        for problem in visitor.problems
        if not (f"{case_path} " in problem and "status of 404 (Not Found)" in problem)
    ]
    expect(page.get_by_text(TITLE)).to_have_count(0)
    visitor.screenshot("staff-07-anonymous-404")

    # --- the reviewer publishes it from the review queue ----------------------------------
    log_in(visitor, REVIEWER_NAME)
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", level=1, name="Review queue")).to_be_visible()
    queued = page.locator(".review-queue tbody tr", has_text=TITLE)
    expect(queued).to_contain_text(EDITOR_NAME)
    visitor.screenshot("staff-08-review-queue")

    # The reviewer reads the case before publishing it.
    queued.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    actions.get_by_role("button", name="Publish").click()
    messages = page.locator(".messages")
    expect(messages).to_contain_text(f"Published: {TITLE}")
    # With it: the new person, two detentions and the source; Ruzakhunov was published already.
    expect(messages).to_contain_text("Published with it: 4 more records.")
    expect(actions.locator(".badge-state-published")).to_be_visible()
    expect(page.locator(".record .badges .badge-draft")).to_have_count(0)
    visitor.screenshot("staff-09-published")
    log_out(visitor)

    # --- the public reads the case --------------------------------------------------------
    visitor.open("/incidents/")
    page.locator(".list-results .case-title").get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("region", name="Staff actions")).to_have_count(0)
    facts = page.locator(".record .facts").first
    expect(facts).to_contain_text("March 2024")
    expect(facts).to_contain_text("Shymkent")
    people = page.locator("#people")
    expect(people.get_by_role("link", name="Vikram Ruzakhunov")).to_have_attribute(
        "href", ruzakhunov.get_absolute_url()
    )
    expect(people.get_by_role("link", name=NEW_PERSON)).to_be_visible()
    sources = page.locator("#sources")
    expect(sources).to_contain_text(SOURCE_TITLE)
    expect(sources.locator(f'a[href="{SOURCE_URL}"]')).to_have_count(1)
    visitor.screenshot("staff-10-public-case")

    published = Incident.objects.get(title=TITLE)
    assert published.publication_state == PublicationState.PUBLISHED
    assert published.detentions.count() == 2
    visitor.assert_clean()
