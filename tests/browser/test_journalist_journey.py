"""A journalist's path through the site in a real browser: narrow the case list with two
filters, read a case and its timeline, find a person by a Cyrillic spelling from the header
search; then the same site in Russian, on a desktop and on a phone.

Every page must load without console errors, uncaught exceptions, Content Security Policy
violations or requests to other sites (conftest.py). Each page is saved as a full-page
screenshot in test-artifacts/screenshots/ for a person to look at.

Two tests rather than one per page: each test empties the database afterwards, which costs
seconds on PostgreSQL.
"""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Locator, expect

from tests.browser.conftest import Visitor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RUZAKHUNOV_CASE = "Detention of Vikram Ruzakhunov in Almaty"

# The Russian pages checked at a phone's width (390 px, an iPhone 12-15).
PHONE_PAGES = {
    "case-list": "/incidents/",
    "case": "/incidents/vikram-ruzakhunov-almaty/",
    "person": "/people/vikram-ruzakhunov/",
    "statements": "/statements/",
    "search": "/search/?q=Ruzakhunov",
    "about": "/about/",
}


@pytest.fixture
def demo() -> None:
    # The live server sees only committed data: load it for real; the test then flushes it.
    call_command("load_demo", stdout=io.StringIO())


def case_titles(visitor: Visitor) -> list[str]:
    return visitor.page.locator(".list-results .case-title a").all_inner_texts()


def facet_link(visitor: Visitor, facet: str, value: str) -> Locator:
    heading = visitor.page.get_by_role("heading", name=facet, exact=True)
    section = visitor.page.locator("section.facet", has=heading)
    return section.locator("a.facet-link", has_text=value).first


def test_a_journalist_filters_the_cases_reads_one_and_finds_the_person(visitor, demo):
    page = visitor.page
    visitor.open("/incidents/")
    expect(page.get_by_role("heading", level=1, name="Cases")).to_be_visible()
    assert len(case_titles(visitor)) == 5
    visitor.screenshot("01-case-list")

    facet_link(visitor, "Place", "Kazakhstan").click()
    expect(page).to_have_url(re.compile(r"[?&]place=kazakhstan"))
    facet_link(visitor, "Kind", "Detention").click()
    expect(page).to_have_url(re.compile(r"[?&]kind=detention"))
    expect(page).to_have_url(re.compile(r"[?&]place=kazakhstan"))
    titles = case_titles(visitor)
    assert len(titles) == 3
    assert RUZAKHUNOV_CASE in titles
    assert "Detention of 38 citizens of Kyrgyzstan in Shymkent" not in titles  # a mass detention
    assert not any(title.startswith("Beating") for title in titles)  # ill-treatment
    visitor.screenshot("02-case-list-filtered")

    page.get_by_role("link", name=RUZAKHUNOV_CASE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(RUZAKHUNOV_CASE)
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("10 January 2022")
    expect(timeline).to_contain_text("Released: Vikram Ruzakhunov")
    visitor.screenshot("03-case")

    # The header search, with the Russian spelling a journalist reads in local news.
    search = page.get_by_role("search").get_by_role("searchbox").first
    search.fill("Рузахунов")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q="))
    people = page.locator("#people")
    expect(people).to_contain_text("Vikram Ruzakhunov")
    visitor.screenshot("04-search")

    people.get_by_role("link", name="Vikram Ruzakhunov").first.click()
    expect(page).to_have_url(re.compile(r"/people/vikram-ruzakhunov/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Vikram Ruzakhunov")
    visitor.screenshot("05-person")
    visitor.assert_clean()


def test_a_reader_switches_to_russian_on_any_page_and_device(visitor, demo):
    page = visitor.page
    visitor.open("/incidents/?kind=detention")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="Русский").click()

    # Same address, same filters, now in Russian.
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page).to_have_url(re.compile(r"/incidents/\?kind=detention$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Случаи")
    expect(page.get_by_role("button", name="Русский")).to_have_attribute("aria-current", "true")
    assert len(case_titles(visitor)) == 3
    visitor.screenshot("06-case-list-ru")

    page.get_by_role("link", name=RUZAKHUNOV_CASE).click()
    expect(page.get_by_role("heading", name="Хронология")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("10 января 2022")
    visitor.screenshot("07-case-ru")

    # The choice is a cookie: every page stays Russian until the reader switches back.
    visitor.open("/people/vikram-ruzakhunov/")
    expect(page.get_by_role("heading", name="Задержания")).to_be_visible()
    visitor.screenshot("08-person-ru")

    # Russian labels run longer than English ones: nothing may push a phone page sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    too_wide = {}
    for name, path in PHONE_PAGES.items():
        visitor.open(path)
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        visitor.screenshot(f"09-phone-ru-{name}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            too_wide[path] = overflow
    assert not too_wide, f"pixels wider than a 390 px phone screen: {too_wide}"

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/about/$"))
    visitor.assert_clean()
