"""The new-place form suggests the slug as the name is typed (static/js/staff_forms.js),
until the slug is changed by hand; the page raises no CSP violation (the script is a file)."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from cabar_tracker.roles import EDITOR
from incidents.models import Location
from tests.browser.conftest import Visitor
from tests.browser.test_staff_journey import EDITOR_NAME, PASSWORD, ensure_role_group, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def editor_account(monkeypatch) -> None:
    monkeypatch.setenv("JOURNEY_PASSWORD", PASSWORD)
    ensure_role_group(EDITOR)
    call_command(
        "create_staff_user",
        EDITOR_NAME,
        role=EDITOR,
        password_from_env="JOURNEY_PASSWORD",
        stdout=io.StringIO(),
    )


def test_the_slug_follows_the_name_until_edited_by_hand(visitor: Visitor, editor_account):
    page = visitor.page
    log_in(visitor, EDITOR_NAME)
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="New place").click()
    expect(page.get_by_role("heading", level=1, name="New place")).to_be_visible()
    page.wait_for_load_state("load")  # the deferred script is listening
    name, slug = page.locator("#id_name"), page.locator("#id_slug")

    name.fill("Ak Zhol checkpoint")
    expect(slug).to_have_value("ak-zhol-checkpoint")
    name.fill("Ak-Zhol Öskemen")
    expect(slug).to_have_value("ak-zhol-oskemen")

    slug.fill("akzhol")
    name.fill("Ak Zhol border post")
    expect(slug).to_have_value("akzhol")

    page.locator("#id_kind").select_option(value="border_crossing")
    page.locator("#id_country").select_option(value="KZ")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: Ak Zhol border post")).to_be_visible()
    assert Location.objects.get(name="Ak Zhol border post").slug == "akzhol"
    visitor.assert_clean()
