"""The sources of a case as a picker, in a real browser (static/js/staff_picker.js): an editor
finds a third source by typing part of its title and adds it with a click; a click on a
chosen source's name removes nothing (on a plain <select multiple> it deselected every other
source); only its own remove button takes a source off; saving stores exactly what the
chips showed. Screenshots in test-artifacts/screenshots/ (names starting "picker-")."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from cabar_tracker.publishing import PublicationState
from cabar_tracker.roles import EDITOR
from tests.browser.test_staff_journey import EDITOR_NAME, PASSWORD, ensure_role_group, log_in
from tests.factories import IncidentFactory, SourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEPT = "Almaty court hears the pianist's appeal"
DROPPED = "Border guards detain two citizens at Ak Zhol"
ADDED = "Shymkent police release 38 citizens after checks"


@pytest.fixture
def editor_and_draft(monkeypatch):
    """An editor and a draft case citing two of many sources. (The live server sees only
    committed data: it is created for real; the test then flushes it.)"""
    monkeypatch.setenv("JOURNEY_PASSWORD", PASSWORD)
    ensure_role_group(EDITOR)
    call_command(
        "create_staff_user",
        EDITOR_NAME,
        role=EDITOR,
        password_from_env="JOURNEY_PASSWORD",
        stdout=io.StringIO(),
    )
    SourceFactory.create_batch(40)
    kept, dropped = SourceFactory(title=KEPT), SourceFactory(title=DROPPED)
    SourceFactory(title=ADDED)
    # A near miss: the second word typed rules it out.
    SourceFactory(title="Shymkent market traders interviewed")
    incident = IncidentFactory(
        title="Detentions in Shymkent", publication_state=PublicationState.DRAFT
    )
    incident.sources.add(kept, dropped)
    return incident


def test_an_editor_adds_and_removes_sources_without_losing_one(visitor, editor_and_draft):
    page = visitor.page
    incident = editor_and_draft
    log_in(visitor, EDITOR_NAME)
    visitor.open(f"/staff/incidents/{incident.pk}/edit/")

    field = page.locator(".edit-field", has=page.locator("select#id_sources"))
    # The select is still the form's input, hidden behind the picker.
    expect(field.locator("select#id_sources")).to_be_hidden()
    expect(field.locator(".helptext")).to_have_text(
        "Type to find one and click it to add it; remove one with its × button."
    )
    chips = field.get_by_role("list", name="Chosen: Sources")
    chip = chips.get_by_role("listitem")
    expect(chip).to_have_count(2)
    expect(chips).to_contain_text(KEPT)
    expect(chips).to_contain_text(DROPPED)

    # Typing part of the title (any case, two words) lists the third source only.
    search = field.get_by_role("combobox", name="Sources")
    search.press_sequentially("shymkent REL")
    results = field.get_by_role("listbox")
    expect(results.get_by_role("option")).to_have_count(1)
    visitor.screenshot("picker-01-search")
    results.get_by_role("option", name=ADDED, exact=False).click()
    expect(chip).to_have_count(3)
    expect(chips).to_contain_text(ADDED)
    expect(results).to_be_hidden()

    # A plain click on a chosen source's name removes nothing.
    chip.filter(has_text=KEPT).locator(".picker-chip-label").click()
    expect(chip).to_have_count(3)
    assert page.eval_on_selector("#id_sources", "select => select.selectedOptions.length") == 3

    # Its own button does, and says which source it removes.
    chips.get_by_role("button", name=f"Remove Example News: {DROPPED}").click()
    expect(chip).to_have_count(2)
    expect(chips).not_to_contain_text(DROPPED)
    visitor.screenshot("picker-02-chosen")

    page.locator("form.edit-form").get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_be_visible()
    incident.refresh_from_db()
    assert sorted(incident.sources.values_list("title", flat=True)) == sorted([KEPT, ADDED])
    visitor.assert_clean()
