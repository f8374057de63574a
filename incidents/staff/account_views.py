"""Staff pages for the accounts of a record's facts: the list on the record's edit page, add,
edit, remove, and "make preferred".

An account is a row of its record, like an allegation: on a published record an editor's
addition, change, removal or choice of the preferred account is a proposal a reviewer
publishes (`incidents.revisions`); a reviewer's takes effect at once, and the record takes the
preferred value (`incidents.accounts`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from cabar_tracker.staff.access import staff_required
from cabar_tracker.staff.editing import edit_record
from cabar_tracker.staff.history_views import edit_url, history_url
from incidents import revisions
from incidents.accounts import AccountRefused, make_preferred
from incidents.models import (
    Account,
    AccountRank,
    Allegation,
    Detention,
    Fact,
    Incident,
    facts_of,
)
from incidents.staff.forms import AccountForm


@dataclass(frozen=True)
class AccountRow:
    account: Account
    asserted_by: str
    sources: str
    edit_url: str
    prefer_url: str | None  # None for the preferred one


@dataclass(frozen=True)
class FactAccounts:
    label: str
    rows: list[AccountRow]


@dataclass(frozen=True)
class AccountList:
    """The accounts of a record, by fact, shown under its edit form."""

    facts: list[FactAccounts]
    add_url: str | None


def account_list(record: models.Model, user) -> AccountList:
    """The record's accounts by fact, preferred first (two queries: the accounts with their
    places and who asserts them; their sources)."""
    subject = record._meta.model_name
    accounts = (
        Account.objects.of(record)
        .select_related(
            "value_location", "value_organization", "asserted_by_person", "asserted_by_organization"
        )
        .prefetch_related("sources")
        .in_page_order()
    )
    by_fact: dict[str, list[AccountRow]] = {}
    for account in accounts:
        by_fact.setdefault(account.fact, []).append(
            AccountRow(
                account=account,
                asserted_by=asserted_by_label(account),
                sources="; ".join(str(source) for source in account.sources.all()),
                edit_url=reverse("staff:account_edit", kwargs={"pk": account.pk}),
                prefer_url=(
                    None
                    if account.is_preferred
                    else reverse("staff:account_prefer", kwargs={"pk": account.pk})
                ),
            )
        )
    labels = dict(Fact.choices)
    facts = [
        FactAccounts(str(labels[fact]), by_fact[fact])
        for fact in facts_of(subject)
        if fact in by_fact
    ]
    add_url = None
    if user.has_perm("incidents.add_account"):
        add_url = reverse(f"staff:{subject}_account_add", kwargs={f"{subject}_pk": record.pk})
    return AccountList(facts=facts, add_url=add_url)


def asserted_by_label(account: Account) -> str:
    """Who asserts it, for staff (who see every name)."""
    who = (account.asserted_by_person, account.asserted_by_organization)
    parts = [str(one) for one in who if one is not None]
    if account.asserted_by_text:
        parts.append(account.asserted_by_text)
    return ", ".join(parts)


def _back(record: models.Model) -> str:
    return edit_url(record) or history_url(record)


def _account_add(request: HttpRequest, record: models.Model, subject: str) -> HttpResponse:
    return edit_record(
        request,
        form_class=AccountForm,
        instance=Account(**{subject: record}),
        heading=gettext("New account: %(record)s") % {"record": record},
        done_url=_back(record),
        extra_context={
            "parent_url": _back(record),
            "parent_label": gettext("Back to %(record)s") % {"record": record},
        },
    )


@staff_required
@permission_required("incidents.add_account", raise_exception=True)
def incident_account_add(request: HttpRequest, incident_pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident.objects.not_archived(), pk=incident_pk)
    return _account_add(request, incident, "incident")


@staff_required
@permission_required("incidents.add_account", raise_exception=True)
def detention_account_add(request: HttpRequest, detention_pk: int) -> HttpResponse:
    detention = get_object_or_404(
        Detention.objects.not_archived().select_related("person", "incident"), pk=detention_pk
    )
    return _account_add(request, detention, "detention")


@staff_required
@permission_required("incidents.add_account", raise_exception=True)
def allegation_account_add(request: HttpRequest, allegation_pk: int) -> HttpResponse:
    allegation = get_object_or_404(
        Allegation._base_manager.select_related("detention__person"), pk=allegation_pk
    )
    return _account_add(request, allegation, "allegation")


def _get_account(pk: int) -> Account:
    return get_object_or_404(
        Account._base_manager.select_related(
            "incident", "detention__person", "detention__incident", "allegation__detention__person"
        ),
        pk=pk,
    )


@staff_required
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = _get_account(pk)
    record = account.subject
    return edit_record(
        request,
        form_class=AccountForm,
        instance=account,
        heading=gettext("Edit account"),
        done_url=_back(record),
        extra_context={
            "parent_url": _back(record),
            "parent_label": gettext("Back to %(record)s") % {"record": record},
            "delete_url": reverse("staff:account_delete", kwargs={"pk": account.pk}),
            "delete_label": gettext("Remove this account"),
        },
    )


@staff_required
@require_POST
def account_prefer(request: HttpRequest, pk: int) -> HttpResponse:
    """Make an account the preferred one of its fact: the record takes its value. On a
    published record an editor's choice waits for a reviewer."""
    account = _get_account(pk)
    record = account.subject
    if account.rank == AccountRank.PREFERRED:
        messages.info(request, gettext("This account is already the preferred one."))
    elif revisions.needs_review(account, request.user):
        account.rank = AccountRank.PREFERRED
        revisions.propose(account, user=request.user, note=request.POST.get("note", ""))
        messages.success(
            request,
            gettext(
                "Making it preferred waits for a reviewer; until it is published, the public "
                "sees the record as it was."
            ),
        )
    else:
        try:
            make_preferred(account=account, user=request.user)
        except AccountRefused as refusal:
            messages.error(request, " ".join(refusal.messages))
        else:
            messages.success(
                request, gettext("Preferred: %(account)s.") % {"account": account.value_label()}
            )
    return redirect(_back(record))


@staff_required
@require_POST
def account_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove an account. The preferred one's removal leaves the fact empty on the record
    (an incident's place cannot be: prefer another account first)."""
    account = _get_account(pk)
    record = account.subject
    if revisions.needs_review(account, request.user):
        revisions.propose(account, user=request.user, delete=True)
        messages.success(
            request,
            gettext(
                "The removal waits for a reviewer; until it is published, the public "
                "still sees %(record)s."
            )
            % {"record": account},
        )
        return redirect(_back(record))
    account._history_user = request.user
    try:
        account.delete()
    except AccountRefused as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(request, gettext("Removed: %(record)s.") % {"record": account})
    return redirect(_back(record))
