"""Attributed accounts of a record's facts (issue 13, item 3): several accounts of one fact,
each with its sources and who asserts it, one preferred; the record's columns hold the
preferred value whichever door changes either (incidents/accounts.py)."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from cabar_tracker.publishing import ChangeNeedsReview, PublicationState
from incidents import revisions
from incidents.accounts import AccountRefused, make_preferred
from incidents.models import (
    Account,
    AccountRank,
    Allegation,
    AllegationStatus,
    Detention,
    Fact,
    Incident,
    Outcome,
)
from tests.factories import (
    AccountFactory,
    AllegationFactory,
    DetentionFactory,
    IncidentFactory,
    LocationFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

JAN_7 = datetime.date(2022, 1, 7)
JAN_1 = datetime.date(2022, 1, 1)


def accounts_of(record, fact) -> list[Account]:
    return list(Account.objects.of(record).filter(fact=fact).order_by("pk"))


def source_ids(account: Account) -> set[int]:
    return set(account.sources.values_list("pk", flat=True))


@pytest.fixture
def cabar():
    return SourceFactory(title="CABAR article", url="https://cabar.example/article")


@pytest.fixture
def viory():
    return SourceFactory(title="Viory video", url="https://viory.example/video")


@pytest.fixture
def detention(cabar):
    """Detained in January 2022 (the month only), as the record's source says."""
    detention = DetentionFactory(detained_on=JAN_1, detained_on_precision="month")
    detention.sources.set([cabar])
    return detention


def test_a_record_fact_is_its_own_preferred_account_citing_the_record_sources(detention, cabar):
    [account] = accounts_of(detention, Fact.DETENTION_DATE)
    assert account.rank == AccountRank.PREFERRED
    assert (account.value_date, account.value_date_precision) == (JAN_1, "month")
    assert source_ids(account) == {cabar.pk}
    # No account for what the record does not tell: an unknown outcome, no place of arrest.
    assert not accounts_of(detention, Fact.OUTCOME)
    assert not accounts_of(detention, Fact.ARREST_PLACE)


def test_two_accounts_of_one_detention_fact_keep_their_own_sources(detention, cabar, viory):
    other = Account(
        detention=detention,
        fact=Fact.DETENTION_DATE,
        value_date=JAN_7,
        value_date_precision="day",
        asserted_by_text="speaking to Viory",
    )
    other.full_clean()
    other.save()
    other.sources.set([viory])

    first, second = accounts_of(detention, Fact.DETENTION_DATE)
    assert (first.rank, source_ids(first)) == (AccountRank.PREFERRED, {cabar.pk})
    assert (second.rank, source_ids(second)) == (AccountRank.NORMAL, {viory.pk})
    detention.refresh_from_db()
    # Another account is told beside the record's value: it does not overwrite it.
    assert str(detention.detained) == "January 2022"


def test_making_an_account_preferred_writes_it_to_the_record(detention, reviewer, viory):
    other = AccountFactory(
        detention=detention,
        fact=Fact.DETENTION_DATE,
        value_location=None,
        value_date=JAN_7,
        value_date_precision="day",
        sources=[viory],
    )

    make_preferred(account=other, user=reviewer)

    detention.refresh_from_db()
    assert str(detention.detained) == "7 January 2022"
    # The columns every filter reads follow: the date is now certain to the day.
    first, second = accounts_of(detention, Fact.DETENTION_DATE)
    assert (first.rank, second.rank) == (AccountRank.NORMAL, AccountRank.PREFERRED)
    assert detention.history.latest().history_user == reviewer


def test_making_an_incident_place_account_preferred_moves_the_incident(reviewer):
    incident = IncidentFactory()
    village = LocationFactory(name="Samsy")
    other = AccountFactory(
        detention=None, incident=incident, fact=Fact.INCIDENT_PLACE, value_location=village
    )

    make_preferred(account=other, user=reviewer)

    incident.refresh_from_db()
    assert incident.location == village
    assert Incident.objects.in_location(village).get() == incident


def test_a_record_edit_corrects_its_own_unattributed_account(detention, cabar):
    detention.detained_on, detention.detained_on_precision = JAN_7, "day"
    detention.save()

    [account] = accounts_of(detention, Fact.DETENTION_DATE)
    assert (account.rank, account.value_date, account.value_date_precision) == (
        AccountRank.PREFERRED,
        JAN_7,
        "day",
    )
    assert source_ids(account) == {cabar.pk}


def test_a_record_edit_never_makes_an_asserted_account_say_something_else(detention, cabar):
    [told] = accounts_of(detention, Fact.DETENTION_DATE)
    told.asserted_by_text = "CABAR"
    told.save()

    detention.detained_on, detention.detained_on_precision = JAN_7, "day"
    detention.save()

    old, new = accounts_of(detention, Fact.DETENTION_DATE)
    assert (old.rank, str(old.date)) == (AccountRank.NORMAL, "January 2022")
    assert (new.rank, str(new.date)) == (AccountRank.PREFERRED, "7 January 2022")
    assert source_ids(new) == {cabar.pk}


def test_a_record_edit_to_another_accounts_value_prefers_that_account(detention, viory):
    other = AccountFactory(
        detention=detention,
        fact=Fact.DETENTION_DATE,
        value_location=None,
        value_date=JAN_7,
        value_date_precision="day",
        sources=[viory],
    )
    detention.detained_on, detention.detained_on_precision = JAN_7, "day"
    detention.save()

    other.refresh_from_db()
    assert other.rank == AccountRank.PREFERRED
    assert len(accounts_of(detention, Fact.DETENTION_DATE)) == 2


def test_clearing_a_record_fact_keeps_its_account_as_another_account(detention):
    place = LocationFactory()
    detention.custody_location = place
    detention.save()
    detention.custody_location = None
    detention.save()

    [account] = accounts_of(detention, Fact.CUSTODY_PLACE)
    assert (account.rank, account.value_location) == (AccountRank.NORMAL, place)


def test_removing_the_preferred_account_empties_the_fact(detention, reviewer):
    [account] = accounts_of(detention, Fact.DETENTION_DATE)
    account._history_user = reviewer
    account.delete()

    detention.refresh_from_db()
    assert detention.detained is None


def test_an_incident_keeps_a_place_whatever_is_removed(reviewer):
    incident = IncidentFactory()
    [account] = accounts_of(incident, Fact.INCIDENT_PLACE)
    with pytest.raises(AccountRefused):
        account.delete()
    account.rank = AccountRank.NORMAL
    with pytest.raises(AccountRefused):
        account.save()
    incident.refresh_from_db()
    assert incident.location_id == account.value_location_id
    assert Account.objects.get(pk=account.pk).rank == AccountRank.PREFERRED


def test_an_allegation_denied_later_is_an_account_beside_the_allegation(viory, reviewer):
    allegation = AllegationFactory()
    [alleged] = accounts_of(allegation, Fact.ALLEGATION_STATUS)
    assert (alleged.value_choice, alleged.rank) == (AllegationStatus.ALLEGED, "preferred")
    denied = AccountFactory(
        detention=None,
        allegation=allegation,
        fact=Fact.ALLEGATION_STATUS,
        value_location=None,
        value_choice=AllegationStatus.DENIED,
        asserted_by_text="the detainee himself, speaking to Viory",
        sources=[viory],
    )
    allegation.refresh_from_db()
    assert allegation.status == AllegationStatus.ALLEGED

    make_preferred(account=denied, user=reviewer)

    allegation.refresh_from_db()
    assert allegation.status == AllegationStatus.DENIED


def test_accounts_made_before_the_records_links_cite_its_sources(cabar):
    """A form saves the record, then its links: the record's accounts get its sources."""
    detention = DetentionFactory(outcome=Outcome.RELEASED)
    assert all(not source_ids(a) for a in Account.objects.of(detention))

    detention.sources.add(cabar)

    accounts = list(Account.objects.of(detention))
    assert {a.fact for a in accounts} == {Fact.DETENTION_DATE, Fact.OUTCOME}
    assert all(source_ids(a) == {cabar.pk} for a in accounts)


def test_saving_a_record_in_step_writes_nothing_more(detention):
    accounts = {a.pk: a.version for a in Account.objects.of(detention)}
    history = Account.history.count()
    detention.details = "Another detail"
    detention.save()
    Detention.objects.get(pk=detention.pk).save()

    assert {a.pk: a.version for a in Account.objects.of(detention)} == accounts
    assert Account.history.count() == history


def test_the_database_keeps_one_preferred_account_per_fact(detention):
    [account] = accounts_of(detention, Fact.DETENTION_DATE)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.bulk_create(
            [
                Account(
                    detention=detention,
                    fact=Fact.DETENTION_DATE,
                    value_date=JAN_7,
                    value_date_precision="day",
                    rank=AccountRank.PREFERRED,
                )
            ],
            record_history=False,
        )


def test_the_database_keeps_an_account_to_exactly_one_record(detention):
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.bulk_create(
            [
                Account(
                    detention=detention,
                    incident=detention.incident,
                    fact=Fact.DETENTION_DATE,
                    value_date=JAN_7,
                    value_date_precision="day",
                )
            ],
            record_history=False,
        )


def test_an_account_names_the_value_its_fact_takes(detention):
    account = Account(detention=detention, fact=Fact.ARREST_PLACE, value_text="Samsy")
    with pytest.raises(Exception) as refused:
        account.full_clean()
    errors = refused.value.message_dict
    assert "value_location" in errors and "value_text" in errors


# --- the review rule on this path ----------------------------------------------------------


def test_an_editor_cannot_prefer_an_account_of_a_public_record(detention, editor, viory):
    other = AccountFactory(
        detention=detention,
        fact=Fact.DETENTION_DATE,
        value_location=None,
        value_date=JAN_7,
        value_date_precision="day",
        sources=[viory],
    )
    with pytest.raises(ChangeNeedsReview):
        make_preferred(account=other, user=editor)
    detention.refresh_from_db()
    assert str(detention.detained) == "January 2022"
    other.refresh_from_db()
    assert other.rank == AccountRank.NORMAL


def test_an_editors_proposal_reaches_the_record_when_a_reviewer_publishes_it(
    detention, editor, reviewer, viory
):
    other = AccountFactory(
        detention=detention,
        fact=Fact.DETENTION_DATE,
        value_location=None,
        value_date=JAN_7,
        value_date_precision="day",
        sources=[viory],
    )
    assert revisions.needs_review(other, editor)
    other.rank = AccountRank.PREFERRED
    proposal = revisions.propose(other, user=editor)
    detention.refresh_from_db()
    assert str(detention.detained) == "January 2022"
    assert proposal.parent == detention  # shown with the detention, in its case

    revisions.publish_revision(revision=proposal, user=reviewer)

    detention.refresh_from_db()
    assert str(detention.detained) == "7 January 2022"


def test_an_editor_changes_the_accounts_of_a_draft_directly(editor, viory):
    detention = DetentionFactory(publication_state=PublicationState.DRAFT)
    other = AccountFactory(
        detention=detention,
        fact=Fact.DETENTION_DATE,
        value_location=None,
        value_date=datetime.date(2022, 1, 8),
        value_date_precision="day",
        sources=[viory],
    )
    assert not revisions.needs_review(other, editor)
    make_preferred(account=other, user=editor)
    detention.refresh_from_db()
    assert detention.detained_on == datetime.date(2022, 1, 8)


def test_publishing_a_detention_asks_for_a_source_for_each_account():
    from incidents.workflow import missing_for_publication

    detention = DetentionFactory(publication_state=PublicationState.DRAFT)
    detention.sources.add(SourceFactory())
    AccountFactory(detention=detention, sources=[])

    missing = missing_for_publication(detention)

    assert any("Place of arrest" in item for item in missing), missing


# --- the data migration --------------------------------------------------------------------


def test_the_migration_gives_each_told_fact_one_preferred_account(cabar):
    migration = importlib.import_module("incidents.migrations.0017_accounts_from_records")
    place = LocationFactory()
    detention = DetentionFactory(
        arrest_location=place, detaining_authority_text="the military", reported_age=34
    )
    detention.sources.set([cabar])
    allegation = AllegationFactory(detention=detention, status=AllegationStatus.DENIED)
    Account.objects.all().delete()  # as before the migration

    migration.accounts_from_records(apps, None)

    told = {
        (a.fact, a.rank): a
        for a in Account.objects.filter(detention=detention)
        | Account.objects.filter(allegation=allegation)
    }
    assert set(told) == {
        (Fact.DETENTION_DATE, "preferred"),
        (Fact.ARREST_PLACE, "preferred"),
        (Fact.DETAINING_AUTHORITY, "preferred"),
        (Fact.REPORTED_AGE, "preferred"),
        (Fact.ALLEGATION_STATUS, "preferred"),
    }  # no outcome: "unknown" tells nothing
    assert told[Fact.ARREST_PLACE, "preferred"].value_location == place
    assert told[Fact.DETAINING_AUTHORITY, "preferred"].value_text == "the military"
    assert told[Fact.REPORTED_AGE, "preferred"].value_number == 34
    assert told[Fact.ALLEGATION_STATUS, "preferred"].value_choice == "denied"
    assert source_ids(told[Fact.ARREST_PLACE, "preferred"]) == {cabar.pk}
    incident_facts = set(
        Account.objects.filter(incident=detention.incident).values_list("fact", flat=True)
    )
    assert incident_facts == {Fact.INCIDENT_DATE, Fact.INCIDENT_PLACE}

    count = Account.objects.count()
    migration.accounts_from_records(apps, None)
    assert Account.objects.count() == count


def test_the_migration_stores_a_month_as_the_month(cabar):
    """A release "January 2022" after a detention on 7 January is stored on 7 January; its
    account is the month, as shown."""
    migration = importlib.import_module("incidents.migrations.0017_accounts_from_records")
    detention = DetentionFactory(released_on=JAN_1, released_on_precision="month")
    assert Detention.objects.get(pk=detention.pk).released_on == JAN_7
    Account.objects.all().delete()

    migration.accounts_from_records(apps, None)

    [release] = accounts_of(detention, Fact.RELEASE_DATE)
    assert (release.value_date, release.value_date_precision) == (JAN_1, "month")
    assert str(release.date) == "January 2022"


def test_an_allegation_removed_takes_its_accounts_with_it(reviewer):
    allegation = AllegationFactory()
    allegation._history_user = reviewer
    pk = allegation.pk
    allegation.delete()
    assert not Account.objects.filter(allegation_id=pk).exists()
    assert not Allegation.objects.filter(pk=pk).exists()
