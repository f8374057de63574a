"""Follow-up actions on detentions, the "next steps due" page and the "still held" page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from incidents.models import FollowUpAction, Outcome
from tests.factories import (
    DetentionFactory,
    FollowUpActionFactory,
    IncidentFactory,
    PersonFactory,
    UserFactory,
)

# Dates are relative to the real today: the pages compare with it.
TODAY = timezone.localdate()


def days_ago(days: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days)


def text(response) -> str:
    return response.content.decode()


# --- logging a follow-up ------------------------------------------------------------------


def test_it_records_a_follow_up_with_its_author(editor, editor_client):
    detention = DetentionFactory()
    url = reverse("staff:followup_add", args=[detention.pk])
    response = editor_client.post(
        url,
        {
            "taken_on": "2022-02-20",
            "kind": "letter",
            "addressee": "Prosecutor of Almaty",
            "outcome": "No answer yet.",
            "next_step": "Call the prosecutor's office",
            "next_step_due": "2022-02-27",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == detention.get_absolute_url()
    action = FollowUpAction.objects.get()
    assert (action.detention, action.created_by, action.kind) == (detention, editor, "letter")
    assert action.history.get().history_user == editor


def test_it_refuses_a_due_date_without_a_next_step(editor_client):
    detention = DetentionFactory()
    response = editor_client.post(
        reverse("staff:followup_add", args=[detention.pk]),
        {"taken_on": "2022-02-20", "kind": "call", "next_step_due": "2022-02-27"},
    )
    assert response.status_code == 400
    assert "A due date needs a next step." in text(response)
    assert not FollowUpAction.objects.exists()


def test_it_offers_the_form_with_today_as_the_date(editor_client):
    detention = DetentionFactory()
    response = editor_client.get(reverse("staff:followup_add", args=[detention.pk]))
    assert response.status_code == 200
    assert f'value="{TODAY.isoformat()}"' in text(response)


def test_it_404s_for_a_follow_up_on_an_archived_detention(editor_client):
    detention = DetentionFactory(archived_at=datetime.datetime(2022, 2, 1, tzinfo=datetime.UTC))
    response = editor_client.get(reverse("staff:followup_add", args=[detention.pk]))
    assert response.status_code == 404


def test_it_refuses_staff_without_the_editor_role(staff_client):
    detention = DetentionFactory()
    response = staff_client.get(reverse("staff:followup_add", args=[detention.pk]))
    assert response.status_code == 403


def test_it_marks_a_next_step_done_and_returns_to_the_page(editor_client):
    action = FollowUpActionFactory()
    due_url = reverse("staff:followups_due")
    response = editor_client.post(
        reverse("staff:followup_done", args=[action.pk]), {"next": due_url}
    )
    assert response.status_code == 302 and response["Location"] == due_url
    action.refresh_from_db()
    assert action.next_step_done_at is not None
    assert action.version == 2


def test_it_does_not_redirect_to_another_site_after_marking_done(editor_client):
    action = FollowUpActionFactory()
    response = editor_client.post(
        reverse("staff:followup_done", args=[action.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == action.detention.get_absolute_url()


def test_it_marks_done_only_by_post(editor_client):
    action = FollowUpActionFactory()
    response = editor_client.get(reverse("staff:followup_done", args=[action.pk]))
    assert response.status_code == 405


# --- the case page ------------------------------------------------------------------------


def test_it_shows_follow_ups_on_the_case_page_to_staff_only(client, editor_client):
    action = FollowUpActionFactory(
        addressee="Consul-general in Almaty", next_step="Ask for a prison visit"
    )
    url = action.detention.incident.get_absolute_url()
    staff_page = text(editor_client.get(url))
    assert "Consul-general in Almaty" in staff_page
    assert "Ask for a prison visit" in staff_page
    assert reverse("staff:followup_add", args=[action.detention.pk]) in staff_page
    public_page = text(client.get(url))
    assert client.get(url).status_code == 200
    for secret in ("Consul-general in Almaty", "Ask for a prison visit", "Follow-up", "/staff/"):
        assert secret not in public_page


def test_the_staff_case_page_reads_all_follow_ups_in_one_query(editor_client):
    """The count is the same for 1 and 6 people: follow-ups are prefetched with the
    detentions, not read person by person."""

    def queries_for(people: int) -> int:
        incident = IncidentFactory()
        for _ in range(people):
            FollowUpActionFactory.create_batch(2, detention=DetentionFactory(incident=incident))
        with CaptureQueriesContext(connection) as captured:
            response = editor_client.get(incident.get_absolute_url())
        assert response.status_code == 200
        return len(captured)

    assert queries_for(1) == queries_for(6)


def test_it_hides_follow_ups_from_logged_in_readers_who_are_not_staff(client, db):
    action = FollowUpActionFactory(addressee="Consul-general in Almaty")
    client.force_login(UserFactory(username="reader"))
    page = text(client.get(action.detention.incident.get_absolute_url()))
    assert "Consul-general in Almaty" not in page


# --- next steps due -----------------------------------------------------------------------


def test_it_lists_open_next_steps_due_oldest_first(editor_client):
    person = PersonFactory(name="Aibek Saparov")
    detention = DetentionFactory(person=person)
    late = FollowUpActionFactory(
        detention=detention, next_step="Write again", next_step_due=days_ago(28)
    )
    today = FollowUpActionFactory(detention=detention, next_step="Call today", next_step_due=TODAY)
    FollowUpActionFactory(next_step="Not yet", next_step_due=days_ago(-1))
    FollowUpActionFactory(
        next_step="Already done",
        next_step_due=datetime.date(2022, 2, 1),
        next_step_done_at=datetime.datetime(2022, 2, 2, tzinfo=datetime.UTC),
    )
    page = text(editor_client.get(reverse("staff:followups_due")))
    assert page.index(late.next_step) < page.index(today.next_step)
    assert "28 days overdue" in page
    assert "due today" in page
    assert "Aibek Saparov" in page
    assert "Not yet" not in page and "Already done" not in page


def test_it_shows_a_withheld_name_to_staff_marked_as_withheld(editor_client):
    person = PersonFactory(name="Secret Name", identity_withheld=True)
    FollowUpActionFactory(detention=DetentionFactory(person=person))
    page = text(editor_client.get(reverse("staff:followups_due")))
    assert "Secret Name" in page
    assert "identity withheld" in page


def test_it_leaves_out_steps_on_archived_incidents(editor_client):
    incident = IncidentFactory(archived_at=datetime.datetime(2022, 2, 1, tzinfo=datetime.UTC))
    FollowUpActionFactory(detention=DetentionFactory(incident=incident), next_step="Gone")
    assert "Gone" not in text(editor_client.get(reverse("staff:followups_due")))


@pytest.mark.parametrize("rows", [1, 12])
def test_next_steps_due_query_count_does_not_grow_with_rows(
    editor_client, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        FollowUpActionFactory(created_by=UserFactory())
    # session, user, the user's groups and permissions (2) (staff menu), count, the page of
    # steps with their detention, incident, person and author
    with django_assert_max_num_queries(8):
        response = editor_client.get(reverse("staff:followups_due"))
    assert response.status_code == 200


# --- still held ---------------------------------------------------------------------------


def test_it_lists_people_still_held_longest_first_with_honest_durations(editor_client):
    # A month-precision date counts from the month's last day: a lower bound, "at least".
    last_month = TODAY.replace(day=1) - datetime.timedelta(days=1)
    DetentionFactory(
        person=PersonFactory(name="Month Only"),
        detained_on=last_month.replace(day=1),
        detained_on_precision="month",
        outcome=Outcome.CHARGED,
    )
    DetentionFactory(
        person=PersonFactory(name="Exact Day"),
        detained_on=days_ago(400),
        detained_on_precision="day",
        outcome=Outcome.STILL_HELD,
    )
    DetentionFactory(
        person=PersonFactory(name="Around A Day"),
        detained_on=days_ago(100),
        detained_on_precision="approximate",
        outcome=Outcome.STILL_HELD,
    )
    DetentionFactory(
        person=PersonFactory(name="No Date"), detained_on=None, outcome=Outcome.UNKNOWN
    )
    page = text(editor_client.get(reverse("staff:still_held")))
    assert "400 days" in page
    assert "about 100 days" in page
    at_least = (TODAY - last_month).days
    assert f"at least {at_least} day" in page
    order = ["Exact Day", "Around A Day", "Month Only", "No Date"]
    assert sorted(order, key=page.index) == order


def test_it_leaves_out_people_released_or_with_a_release_date(editor_client):
    DetentionFactory(person=PersonFactory(name="Was Released"), outcome=Outcome.RELEASED)
    DetentionFactory(
        person=PersonFactory(name="Has Release Date"),
        outcome=Outcome.UNKNOWN,
        released_on=datetime.date(2022, 1, 10),  # after the factory's 7 January detention
        released_on_precision="day",
    )
    DetentionFactory(person=PersonFactory(name="Handed Over"), outcome=Outcome.HANDED_OVER)
    DetentionFactory(person=PersonFactory(name="Convicted Man"), outcome=Outcome.CONVICTED)
    page = text(editor_client.get(reverse("staff:still_held")))
    assert "Convicted Man" in page
    for name in ("Was Released", "Has Release Date", "Handed Over"):
        assert name not in page


def test_it_lists_drafts_as_still_held_too_with_a_marker(editor_client):
    DetentionFactory(
        person=PersonFactory(name="Draft Person"),
        outcome=Outcome.STILL_HELD,
        publication_state=PublicationState.DRAFT,
    )
    page = text(editor_client.get(reverse("staff:still_held")))
    assert "Draft Person" in page and "badge-draft" in page


@pytest.mark.parametrize("rows", [1, 12])
def test_still_held_query_count_does_not_grow_with_rows(
    editor_client, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        DetentionFactory(outcome=Outcome.STILL_HELD)
    # session, user, the user's groups and permissions (2) (staff menu), the detentions with
    # their incident, person and place of custody
    with django_assert_max_num_queries(7):
        response = editor_client.get(reverse("staff:still_held"))
    assert response.status_code == 200
