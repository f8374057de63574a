"""Attributed accounts of a record's facts, kept in step with the record's own columns.

A fact that sources tell differently (where and when a person was detained, by whom, whether
an allegation still stands) is recorded as accounts (`incidents.models.Account`): each says
who asserts it and cites its sources, and one is preferred. The record's own columns hold the
preferred value, so every filter, count, export and the uncertain-date columns go on reading
the record alone. This module keeps the two in step, in both directions, for every door:

- an account saved as preferred writes its value to the record (and the account that was
  preferred before becomes another account); the preferred account demoted or removed
  leaves the fact empty on the record (an incident's place cannot be: prefer another);
- a record saved with a value its preferred account does not tell (staff form, API, admin,
  importer, a reviewer publishing a proposal, a revert) updates the account it came from:
  the record's own unattributed account is corrected in place; an account someone asserts
  is never made to say what it did not, so it stays as another account beside a new
  preferred one (or beside the account that already tells the new value, now preferred);
  a value with no account gets one, citing the record's sources;
- sources added to a record are cited by its unattributed preferred accounts that cite
  nothing yet (a record is created before its links are saved).

Every write goes through `save()`/`delete()` of the records and accounts, so the review rule
holds on this path too: an editor's change to an account of a public record is refused by
`ReviewedModel.save()` (the doors propose it instead, `incidents.revisions`), and the record
write it leads to is made as the same user, whom `PublishableModel.save()` would refuse as
well. The writes are idempotent (a value already in step writes nothing: `VersionedModel`
skips a save that changes nothing) and do not loop: a write made here is marked
(`_syncing_accounts`) and not answered.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_save
from django.utils.translation import gettext

from cabar_tracker.history import watch_bulk_writes
from cabar_tracker.publishing import acting_user
from incidents.models import (
    FACTS,
    SUBJECTS,
    Account,
    AccountRank,
    Allegation,
    Detention,
    Fact,
    FactSpec,
    Incident,
    ValueKind,
    facts_of,
    visible_sources,
)
from incidents.partial_dates import PartialDate

SUBJECT_MODELS: dict[str, type[models.Model]] = {
    "incident": Incident,
    "detention": Detention,
    "allegation": Allegation,
}

# The record fields each subject's facts are read from: a save naming none of them (a
# publication, a touch of "last updated") cannot change an account.
FACT_FIELDS: dict[str, set[str]] = {}
for _fact, _spec in FACTS.items():
    _names = {_spec.field, _spec.field.removesuffix("_id")}
    if _spec.kind == ValueKind.DATE:
        _names.add(f"{_spec.field}_precision")
    if _spec.kind == ValueKind.AUTHORITY:
        _names.add("detaining_authority_text")
    FACT_FIELDS.setdefault(_spec.subject, set()).update(_names)


class AccountRefused(ValidationError):
    """A change to accounts that would leave the record without a value it must have."""


# --- values ---------------------------------------------------------------------------------

Value = tuple  # a fact's value as comparable fields, or None when nothing is known


def record_value(record: models.Model, spec: FactSpec) -> Value | None:
    """What the record says of a fact, comparable with `account_value`."""
    if spec.kind == ValueKind.DATE:
        date = PartialDate.of(
            getattr(record, spec.field), getattr(record, f"{spec.field}_precision")
        )
        return (date.value, date.precision) if date else None
    if spec.kind == ValueKind.AUTHORITY:
        organization_id = getattr(record, spec.field)
        text = record.detaining_authority_text.strip()
        return (organization_id, text) if organization_id or text else None
    value = getattr(record, spec.field)
    if value is None or value == "" or value == spec.empty:
        return None
    return (value,)


def account_value(account: Account) -> Value | None:
    """What the account says, in the form of `record_value`."""
    spec = account.spec
    if spec.kind == ValueKind.DATE:
        date = account.date
        return (date.value, date.precision) if date else None
    if spec.kind == ValueKind.PLACE:
        return (account.value_location_id,) if account.value_location_id else None
    if spec.kind == ValueKind.AUTHORITY:
        text = account.value_text.strip()
        organization_id = account.value_organization_id
        return (organization_id, text) if organization_id or text else None
    if spec.kind == ValueKind.NUMBER:
        return (account.value_number,) if account.value_number is not None else None
    return (account.value_choice,) if account.value_choice else None


def _set_account_value(account: Account, spec: FactSpec, value: Value) -> None:
    if spec.kind == ValueKind.DATE:
        account.value_date, account.value_date_precision = value
    elif spec.kind == ValueKind.PLACE:
        account.value_location_id = value[0]
    elif spec.kind == ValueKind.AUTHORITY:
        account.value_organization_id, account.value_text = value
    elif spec.kind == ValueKind.NUMBER:
        account.value_number = value[0]
    else:
        account.value_choice = value[0]


def _set_record_value(record: models.Model, spec: FactSpec, value: Value | None) -> None:
    """Write a value (None: nothing known) into the record's columns, unsaved."""
    if spec.kind == ValueKind.DATE:
        date, precision = value or (None, "")
        setattr(record, spec.field, date)
        setattr(record, f"{spec.field}_precision", precision)
    elif spec.kind == ValueKind.AUTHORITY:
        organization_id, text = value or (None, "")
        setattr(record, spec.field, organization_id)
        record.detaining_authority_text = text
    elif value is None:
        empty = spec.empty
        if empty is None and spec.kind == ValueKind.CHOICE:
            empty = record._meta.get_field(spec.field).default
        setattr(record, spec.field, empty)
    else:
        setattr(record, spec.field, value[0])


def subject_name(record: models.Model) -> str:
    return record._meta.model_name


# --- from the accounts to the record ---------------------------------------------------------


def before_account_save(account: Account) -> None:
    """Called by `Account.save()` before the row is written: refuse what the review rule
    refuses, refuse leaving an incident without a place, and make room for a new preferred
    account (the one preferred before becomes another account)."""
    user = acting_user(account)
    account.check_public_change(user)
    account._was_preferred = False
    if not account._state.adding and account.pk:
        stored = Account._base_manager.filter(pk=account.pk).values("rank").first()
        account._was_preferred = bool(stored and stored["rank"] == AccountRank.PREFERRED)
    if getattr(account, "_syncing_accounts", False):
        return
    if account._was_preferred and not account.is_preferred:
        _refuse_leaving_empty(account)
    if account.is_preferred and account.spec is not None:
        subject = account.spec.subject
        others = (
            Account._base_manager.filter(
                **{f"{subject}_id": getattr(account, f"{subject}_id")}, fact=account.fact
            )
            .filter(rank=AccountRank.PREFERRED)
            .exclude(pk=account.pk)
        )
        for other in others:
            other.rank = AccountRank.NORMAL
            _save_quietly(other, user)


def after_account_save(account: Account) -> None:
    """Called by `Account.save()` once the row is written: the record takes the preferred
    value, or loses the value of an account no longer preferred."""
    if getattr(account, "_syncing_accounts", False) or account.spec is None:
        return
    if account.is_preferred:
        _write_record(account, account_value(account))
    elif getattr(account, "_was_preferred", False):
        _write_record(account, None)


def before_account_delete(account: Account) -> None:
    if account.is_preferred and not getattr(account, "_syncing_accounts", False):
        _refuse_leaving_empty(account)


def after_account_delete(account: Account) -> None:
    """The preferred account removed: the record no longer tells the fact."""
    if account.is_preferred and not getattr(account, "_syncing_accounts", False):
        _write_record(account, None)


def _refuse_leaving_empty(account: Account) -> None:
    if account.fact == Fact.INCIDENT_PLACE:
        raise AccountRefused(
            {
                "rank": gettext(
                    "An incident always has a place: make another account of its place "
                    "preferred instead."
                )
            }
        )


def _write_record(account: Account, value: Value | None) -> None:
    spec = account.spec
    model = SUBJECT_MODELS[spec.subject]
    record = model._base_manager.get(pk=getattr(account, f"{spec.subject}_id"))
    if record_value(record, spec) == value:
        return
    _set_record_value(record, spec, value)
    user = acting_user(account)
    if user is not None:
        record._history_user = user
    record._change_reason = gettext("Preferred account: %(fact)s") % {
        "fact": account.get_fact_display()
    }
    record._syncing_accounts = True
    record.full_clean()
    record.save()


def _save_quietly(account: Account, user) -> None:
    """Save an account changed here, without answering the save (no loop)."""
    account._syncing_accounts = True
    if user is not None:
        account._history_user = user
    try:
        account.save()
    finally:
        account._syncing_accounts = False


# --- from the record to the accounts ---------------------------------------------------------


def sync_from_record(record: models.Model, user=None) -> None:
    """Bring the preferred accounts of `record` in step with its columns (see the module's
    docstring). Idempotent: a record in step writes nothing."""
    subject = subject_name(record)
    if subject not in SUBJECT_MODELS or record.pk is None:
        return
    user = user if user is not None else acting_user(record)
    accounts = list(Account._base_manager.filter(**{subject: record.pk}).order_by("pk"))
    for fact in facts_of(subject):
        spec = FACTS[fact]
        value = record_value(record, spec)
        of_fact = [account for account in accounts if account.fact == fact]
        preferred = next((a for a in of_fact if a.is_preferred), None)
        if preferred is not None and account_value(preferred) == value:
            continue
        if value is None:
            # The record no longer tells it: the account stays, as another account.
            if preferred is not None:
                preferred.rank = AccountRank.NORMAL
                _save_quietly(preferred, user)
            continue
        telling = next((a for a in of_fact if account_value(a) == value), None)
        if preferred is not None and telling is None and not _is_attributed(preferred):
            # The record's own account: corrected with it.
            _set_account_value(preferred, spec, value)
            _save_quietly(preferred, user)
            continue
        if preferred is not None:
            preferred.rank = AccountRank.NORMAL
            _save_quietly(preferred, user)
        if telling is not None:
            telling.rank = AccountRank.PREFERRED
            _save_quietly(telling, user)
            continue
        account = Account(**{subject: record}, fact=fact, rank=AccountRank.PREFERRED)
        _set_account_value(account, spec, value)
        _save_quietly(account, user)
        sources = list(record.sources.values_list("pk", flat=True))
        if sources:
            account.sources.add(*sources)


def _is_attributed(account: Account) -> bool:
    """Whether someone is named as asserting the account (then it is theirs, not the
    record's, and is never changed to tell another value)."""
    return bool(
        account.asserted_by_person_id
        or account.asserted_by_organization_id
        or account.asserted_by_text.strip()
    )


def _record_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if getattr(instance, "_syncing_accounts", False):
        instance._syncing_accounts = False
        return
    if update_fields is not None and not FACT_FIELDS[subject_name(instance)] & set(update_fields):
        return
    sync_from_record(instance)


def _record_sources_added(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """A record's new sources are cited by its unattributed preferred accounts that cite
    nothing yet: the accounts made from the record before its links were saved."""
    if action != "post_add" or reverse or not pk_set:
        return
    subject = subject_name(instance)
    bare = (
        Account._base_manager.filter(
            **{subject: instance.pk},
            rank=AccountRank.PREFERRED,
            asserted_by_person__isnull=True,
            asserted_by_organization__isnull=True,
            asserted_by_text="",
        )
        .exclude(sources__isnull=False)
        .order_by("pk")
    )
    user = acting_user(instance)
    for account in bare:
        if user is not None:
            account._history_user = user
        account.sources.add(*pk_set)


def _records_bulk_written(model, pks):
    """`watch_bulk_writes` callback: records written by a bulk update are synced after."""
    if model not in SUBJECT_MODELS.values():
        return None

    def after() -> None:
        for record in model._base_manager.filter(pk__in=pks):
            sync_from_record(record)

    return after


def connect() -> None:
    """Called once, from the incidents app's ready()."""
    for name, model in SUBJECT_MODELS.items():
        post_save.connect(_record_saved, sender=model, dispatch_uid=f"accounts_sync_{name}")
        m2m_changed.connect(
            _record_sources_added,
            sender=model.sources.through,
            dispatch_uid=f"accounts_sources_{name}",
        )
    watch_bulk_writes(_records_bulk_written)


# --- the doors' actions ------------------------------------------------------------------------


@transaction.atomic
def make_preferred(*, account: Account, user) -> Account:
    """Make `account` the preferred one of its fact (the record takes its value). Saved as
    `user`: an editor's change to a public record is refused here (doors propose it)."""
    account = Account._base_manager.select_for_update().get(pk=account.pk)
    account.rank = AccountRank.PREFERRED
    account._history_user = user
    account._change_reason = gettext("Made preferred")
    account.full_clean()
    account.save()
    return account


def accounts_by_fact(accounts) -> dict[str, list[Account]]:
    """{fact: [accounts, preferred first]} of prefetched accounts, for a page."""
    grouped: dict[str, list[Account]] = {}
    order = {rank: index for index, rank in enumerate(AccountRank)}
    for account in sorted(accounts, key=lambda a: (order.get(a.rank, 9), a.pk)):
        grouped.setdefault(account.fact, []).append(account)
    return grouped


__all__ = [
    "SUBJECTS",
    "AccountRefused",
    "account_value",
    "accounts_by_fact",
    "make_preferred",
    "record_value",
    "sync_from_record",
]


# --- reading accounts for pages, the API and exports ------------------------------------------


def attach_accounts(records, user, *, sources: bool = True) -> None:
    """Set `fact_accounts` ({fact: [accounts, preferred first]}) on each incident, detention
    and allegation in `records` (already limited to what `user` may see), with the sources
    `user` may see as `account.visible_sources`: two queries for all of them, none when
    there are no records."""
    records = [record for record in records if record is not None]
    for record in records:
        record.fact_accounts = {}
    by_subject: dict[str, dict[int, models.Model]] = {}
    for record in records:
        by_subject.setdefault(subject_name(record), {})[record.pk] = record
    condition = models.Q()
    for subject, found in by_subject.items():
        condition |= models.Q(**{f"{subject}__in": list(found)})
    if not by_subject:
        return
    queryset = Account.objects.filter(condition).select_related(
        "value_location", "value_organization", "asserted_by_person", "asserted_by_organization"
    )
    if sources:
        queryset = queryset.prefetch_related(visible_sources(user))
    order = {rank: index for index, rank in enumerate(AccountRank)}
    for account in sorted(queryset, key=lambda a: (order.get(a.rank, 9), a.pk)):
        subject = account.spec.subject
        record = by_subject.get(subject, {}).get(getattr(account, f"{subject}_id"))
        if record is not None:
            record.fact_accounts.setdefault(account.fact, []).append(account)


def value_code(account: Account) -> str:
    """The value in machine form, as the exports write the record's: a date at its
    precision (2022-01-07, 2022-01), a place's slug, an organization's slug or the words of
    the source, a number, a code."""
    spec = account.spec
    if spec.kind == ValueKind.DATE:
        return account.date.iso() if account.date else ""
    if spec.kind == ValueKind.PLACE:
        return account.value_location.slug if account.value_location_id else ""
    if spec.kind == ValueKind.AUTHORITY:
        if account.value_organization_id:
            return account.value_organization.slug
        return account.value_text
    if spec.kind == ValueKind.NUMBER:
        return "" if account.value_number is None else str(account.value_number)
    return account.value_choice


def asserted_by_for(account: Account, user) -> str:
    """Who asserts the account, as this reader may see it named: a withheld person is only
    their neutral label (`Person.name_for`)."""
    parts = []
    if account.asserted_by_person_id:
        parts.append(account.asserted_by_person.name_for(user))
    if account.asserted_by_organization_id:
        parts.append(str(account.asserted_by_organization))
    if account.asserted_by_text:
        parts.append(account.asserted_by_text)
    return ", ".join(parts)
