"""The Russian interface: choosing the language, translated pages and dates, and the committed
catalogue (locale/ru/LC_MESSAGES/django.po and the django.mo compiled from it).

CI machines and newcomers have no GNU gettext, so the compiled .mo is committed; the catalogue
tests below catch a .mo that was not recompiled after the .po changed, and a .po with
untranslated or fuzzy entries."""

import ast
import datetime
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from incidents.partial_dates import PartialDate
from tests.factories import DetentionFactory, IncidentEventFactory, IncidentFactory

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES"
LANGUAGE_COOKIE = settings.LANGUAGE_COOKIE_NAME


def text(response) -> str:
    return response.content.decode()


# --- choosing the language ------------------------------------------------------------------


@pytest.mark.django_db
def test_it_serves_english_by_default(client):
    page = text(client.get(reverse("home")))

    assert '<html lang="en">' in page
    assert "Detention case tracker" in page


@pytest.mark.django_db
def test_it_serves_russian_to_a_browser_that_asks_for_it(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9,en;q=0.5")

    page = text(response)
    assert '<html lang="ru">' in page
    assert "Реестр случаев задержания" in page
    assert "Detention case tracker" not in page
    # Caches must keep the two languages apart.
    assert "Accept-Language" in response.headers["Vary"]


@pytest.mark.django_db
def test_it_shows_the_switcher_with_the_current_language_marked(client):
    page = text(client.get(reverse("home") + "?page=1", HTTP_ACCEPT_LANGUAGE="ru"))

    switcher = re.search(r'<form class="language-switcher".*?</form>', page, re.DOTALL).group(0)
    assert f'action="{reverse("set_language")}" method="post"' in switcher
    assert 'name="csrfmiddlewaretoken"' in switcher
    current = re.findall(r'<button[^>]*aria-current="true"[^>]*>([^<]*)</button>', switcher)
    assert current == ["Русский"]
    assert 'value="en" lang="en"' in switcher
    # The page never echoes its own address (a slug can spell a withheld name); the browser
    # sends it back as the Referer instead.
    assert "page=1" not in switcher


@pytest.mark.django_db
def test_it_switches_language_with_a_cookie_and_returns_to_the_same_page(client):
    page_url = "http://testserver/incidents/?kind=detention&place=kazakhstan"

    response = client.post(
        reverse("set_language"), {"language": "ru"}, HTTP_REFERER=page_url, HTTP_ACCEPT="text/html"
    )

    # The same URL serves both languages, so shared links keep working; the cookie decides.
    assert response.status_code == 302
    assert response.headers["Location"] == page_url
    assert response.cookies[LANGUAGE_COOKIE].value == "ru"
    assert '<html lang="ru">' in text(client.get(reverse("home")))

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert '<html lang="en">' in text(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ru"))


@pytest.mark.django_db
def test_it_never_redirects_to_another_site_after_switching(client):
    response = client.post(
        reverse("set_language"),
        {"language": "ru", "next": "https://evil.example/"},
        HTTP_REFERER="https://evil.example/",
        HTTP_ACCEPT="text/html",
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.django_db
def test_it_ignores_a_language_the_site_does_not_offer(client):
    client.post(reverse("set_language"), {"language": "de", "next": "/"})

    assert '<html lang="en">' in text(client.get(reverse("home")))


# --- translated pages -----------------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_the_home_page_in_russian(client):
    IncidentFactory(title="Case in Almaty", reported_detained_count=38)
    client.cookies[LANGUAGE_COOKIE] = "ru"

    page = text(client.get(reverse("home")))

    assert "Случаи" in page
    assert "1 задокументированный инцидент, сначала новые." in page
    assert "38 задержанных по сообщениям" in page
    assert "7 января 2022" in page
    # Case records are data and stay in the language they were entered in.
    assert "Case in Almaty" in page


@pytest.mark.django_db
def test_it_shows_a_case_page_in_russian_with_partial_dates(client):
    incident = IncidentFactory(start_date=datetime.date(2022, 1, 1), start_date_precision="month")
    DetentionFactory(incident=incident)
    IncidentEventFactory(
        incident=incident,
        occurred_on=datetime.date(2022, 1, 10),
        occurred_on_precision="approximate",
    )
    client.cookies[LANGUAGE_COOKIE] = "ru"

    page = text(client.get(incident.get_absolute_url()))

    for label in ("Хронология", "Затронутые люди", "Источники", "Задержание", "Есть сообщения"):
        assert label in page
    assert "Январь 2022" in page  # month precision: the month, never an invented day
    assert "7 января 2022" in page  # a day, with the month in the genitive
    assert "около 10 января 2022" in page
    assert "Exact day" not in page and "Timeline" not in page


def test_it_formats_partial_dates_in_the_active_language():
    with translation.override("ru"):
        assert str(PartialDate(datetime.date(2022, 1, 7), "day")) == "7 января 2022"
        assert str(PartialDate(datetime.date(2022, 1, 10), "approximate")) == (
            "около 10 января 2022"
        )
        assert str(PartialDate(datetime.date(2022, 1, 1), "month")).startswith("Январь 2022")
        assert str(PartialDate(datetime.date(2022, 1, 1), "year")) == "2022"
    with translation.override("en"):
        assert str(PartialDate(datetime.date(2022, 1, 10), "approximate")) == (
            "around 10 January 2022"
        )


# --- the committed catalogue ----------------------------------------------------------------


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file as written by GNU gettext (obsolete `#~` entries skipped)."""
    entries: list[dict] = []
    entry: dict = {}
    field = ""
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if "msgid" in entry:
                entries.append(entry)
            entry, field = {}, ""
        elif line.startswith("#,"):
            entry["fuzzy"] = "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[field] += ast.literal_eval(line)
        else:
            field, _, value = line.partition(" ")
            entry[field] = ast.literal_eval(value)
    return entries


def expected_catalog(entries: list[dict]) -> dict:
    """What msgfmt puts in the .mo, keyed as Python's gettext module reads it back."""
    catalog = {}
    for entry in entries:
        if entry.get("fuzzy") or not entry["msgid"]:
            continue
        msgid = entry["msgid"]
        if "msgctxt" in entry:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if "msgid_plural" in entry:
            forms = {k: v for k, v in entry.items() if k.startswith("msgstr[")}
            if all(forms.values()):
                for key, value in forms.items():
                    catalog[(msgid, int(key[7:-1]))] = value
        elif entry["msgstr"]:
            catalog[msgid] = entry["msgstr"]
    return catalog


def test_it_has_compiled_the_catalogue_from_the_current_po():
    entries = read_po(CATALOGUE / "django.po")
    with open(CATALOGUE / "django.mo", "rb") as compiled:
        catalog = dict(gettext.GNUTranslations(compiled)._catalog)
    catalog.pop("", None)  # the header

    expected = expected_catalog(entries)
    stale = sorted(str(k) for k in expected.keys() ^ catalog.keys())
    changed = sorted(str(k) for k in expected.keys() & catalog.keys() if expected[k] != catalog[k])
    hint = "run `DEBUG=1 .venv/bin/python manage.py compilemessages --ignore=.venv`"
    assert not stale, f"django.mo and django.po disagree on {stale[:5]}; {hint}"
    assert not changed, f"django.mo has old translations of {changed[:5]}; {hint}"


def test_it_translates_every_string_in_the_catalogue():
    untranslated = [
        entry["msgid"]
        for entry in read_po(CATALOGUE / "django.po")
        if entry["msgid"]
        and (
            entry.get("fuzzy")
            or not all(v for k, v in entry.items() if k == "msgstr" or k.startswith("msgstr["))
        )
    ]

    assert not untranslated, f"translate these in locale/ru/LC_MESSAGES/django.po: {untranslated}"


def test_it_uses_the_project_catalogue_when_russian_is_active():
    entries = [e for e in read_po(CATALOGUE / "django.po") if e["msgid"] and "msgstr" in e]
    with translation.override("ru"):
        for entry in entries:
            if entry.get("fuzzy") or not entry["msgstr"]:
                continue
            if "msgctxt" in entry:
                shown = translation.pgettext(entry["msgctxt"], entry["msgid"])
            else:
                shown = translation.gettext(entry["msgid"])
            assert shown == entry["msgstr"], entry["msgid"]
