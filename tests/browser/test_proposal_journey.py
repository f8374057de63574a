"""An editor's change to a published case waits for a reviewer, in a real browser: the
editor corrects the summary of a published demo case; the public page is unchanged; the
reviewer sees the change as a diff in the review queue and publishes it; the public page
shows it. Screenshots in test-artifacts/screenshots/ (names starting "proposal-")."""

import pytest
from playwright.sync_api import expect

from incidents.models import Incident
from tests.browser.test_staff_journey import (
    EDITOR_NAME,
    REVIEWER_NAME,
    log_in,
    log_out,
    staff_and_demo,  # noqa: F401 - a fixture
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A marker the demo data does not hold (Samsy is now in it, as an attributed account).
ADDED = "A staff correction names the Kordai checkpoint."


def test_an_editor_s_change_to_a_published_case_waits_for_the_reviewer(visitor, staff_and_demo):  # noqa: F811
    page = visitor.page
    case = Incident.objects.published().order_by("pk").first()
    public_path = case.get_absolute_url()

    # --- the editor corrects the published case ---------------------------------------------
    log_in(visitor, EDITOR_NAME)
    visitor.open(f"/staff/incidents/{case.pk}/edit/")
    summary = page.locator("#id_summary")
    summary.fill(f"{case.summary} {ADDED}")
    page.locator("form.edit-form").get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Your change waits for a reviewer")
    banner = page.get_by_role("region", name="A change waits for review")
    expect(banner).to_contain_text("Kordai")
    visitor.screenshot("proposal-01-editor-banner")
    log_out(visitor)

    # --- the public still reads the published version ---------------------------------------
    visitor.open(public_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(case.title)
    expect(page.get_by_text("Kordai")).to_have_count(0)
    visitor.screenshot("proposal-02-public-unchanged")

    # --- the reviewer reads the diff and publishes --------------------------------------------
    log_in(visitor, REVIEWER_NAME)
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Review queue").click()
    proposal = page.locator("article.proposal", has_text=case.title)
    expect(proposal.locator(".word-diff ins")).to_contain_text("Kordai")
    expect(proposal).to_contain_text(EDITOR_NAME)
    visitor.screenshot("proposal-03-review-queue-diff")
    proposal.get_by_role("button", name="Publish this change").click()
    expect(page.locator(".messages")).to_contain_text("Published")
    log_out(visitor)

    # --- the public now reads the change -----------------------------------------------------
    visitor.open(public_path)
    expect(page.get_by_text(ADDED)).to_be_visible()
    visitor.screenshot("proposal-04-public-changed")
    visitor.assert_clean()
