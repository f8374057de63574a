"""The staff menu (templates/staff/base.html) offers every "new …" page, to those whose role
may add such a record; the pages refuse the others."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.cabar_tracker.staff.test_access import STAFF_URLS
from tests.factories import DetentionFactory, IncidentFactory

pytestmark = pytest.mark.django_db

# Every page that adds a record and needs nothing from the address: found in the URL
# patterns, so a new one is in this test (and must be in the menu) without listing it.
NEW_PAGES = [
    name
    for name, kwargs in STAFF_URLS
    if not kwargs and (name.endswith("_add") or name.startswith("staff:new_"))
]


def staff_nav(body: str) -> str:
    start = body.index('class="staff-nav"')
    return body[start : body.index("</nav>", start)]


def test_it_finds_the_new_pages():
    assert {
        "staff:new_detention",
        "staff:statement_add",
        "staff:source_add",
        "staff:location_add",
        "staff:person_add",
    } <= set(NEW_PAGES)


@pytest.mark.parametrize("role_client", ["editor_client", "reviewer_client"])
def test_the_menu_links_every_new_page(request, role_client):
    client = request.getfixturevalue(role_client)
    body = client.get(reverse("staff:dashboard")).text
    nav = staff_nav(body)
    for name in NEW_PAGES:
        assert f'href="{reverse(name)}"' in nav, name
    for label in ("New detention", "New statement", "New source", "New place", "New person"):
        assert label in nav


def test_a_staff_member_without_a_role_is_offered_no_new_page_and_refused_them(staff_client):
    body = staff_client.get(reverse("staff:dashboard")).text
    nav = staff_nav(body)
    for name in NEW_PAGES:
        assert f'href="{reverse(name)}"' not in nav, name
        assert staff_client.get(reverse(name)).status_code == 403, name
    detention = DetentionFactory(incident=IncidentFactory())
    for url in (
        reverse("staff:incidentevent_add", kwargs={"incident_pk": detention.incident_id}),
        reverse("staff:allegation_add", kwargs={"detention_pk": detention.pk}),
    ):
        assert staff_client.get(url).status_code == 403, url
    # Nor do the edit pages of the case offer to add rows.
    page = staff_client.get(reverse("staff:incident_edit", kwargs={"pk": detention.incident_id}))
    assert "Add timeline event" not in page.text
