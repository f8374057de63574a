"""Follow-up actions on detentions, and the staff lists that keep cases from being forgotten.

Staff log what they did about a detention (a letter, a call, a consular request…) and the next
step with its due date. The "next steps due" page lists open steps whose day has come; the
"still held" page lists the people not known to be free, longest held first. All of it is
staff-only: follow-ups never appear on a public page, in an export or in the API.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from cabar_tracker.staff.access import staff_required
from incidents.models import Detention, FollowUpAction, Outcome
from incidents.partial_dates import DatePrecision

ROWS_PER_PAGE = 100

# Outcomes under which a person without a release date is counted as still held: charged or
# convicted people are usually in custody, and "unknown" must not let anyone drop off the list.
STILL_HELD_WITHOUT_RELEASE = (Outcome.UNKNOWN, Outcome.CHARGED, Outcome.CONVICTED)


class FollowUpForm(forms.ModelForm):
    class Meta:
        model = FollowUpAction
        fields = ["taken_on", "kind", "addressee", "outcome", "next_step", "next_step_due"]
        widgets = {
            "taken_on": forms.DateInput(attrs={"type": "date"}),
            "next_step_due": forms.DateInput(attrs={"type": "date"}),
            "outcome": forms.Textarea(attrs={"rows": 3}),
            "next_step": forms.Textarea(attrs={"rows": 2}),
        }


# --- queries --------------------------------------------------------------------------------


def get_detention_for_staff(user, pk: int) -> Detention:
    """A detention staff may work on (not archived, nor its incident), or 404."""
    detentions = Detention.objects.visible_to(user).select_related("incident", "person")
    return get_object_or_404(detentions, pk=pk)


def next_steps_due(day: datetime.date) -> QuerySet[FollowUpAction]:
    """Open next steps due on or before `day`, oldest due first, on detentions not archived,
    with what the list shows."""
    return (
        FollowUpAction.objects.next_steps_due(day)
        .filter(detention__archived_at__isnull=True, detention__incident__archived_at__isnull=True)
        .select_related("detention__incident", "detention__person", "created_by")
    )


def still_held_detentions(user) -> QuerySet[Detention]:
    """Detentions of people not known to be free: outcome "still held", or no release date
    and an outcome of unknown, charged or convicted."""
    return (
        Detention.objects.visible_to(user)
        .filter(
            Q(outcome=Outcome.STILL_HELD)
            | Q(released_on__isnull=True, outcome__in=STILL_HELD_WITHOUT_RELEASE)
        )
        .select_related("incident", "person", "custody_location")
    )


@dataclass(frozen=True)
class HeldFor:
    """How long someone has been held, as honestly as the detention date allows."""

    days: int | None  # None: the detention date is not recorded
    at_least: bool  # only a lower bound: the date is known to the month or the year
    approximate: bool  # the date is "around" a day

    @classmethod
    def of(cls, detention: Detention, today: datetime.date) -> HeldFor:
        detained = detention.detained
        if detained is None:
            return cls(None, False, False)
        # The last day the detention can have been on gives the shortest possible time held.
        days = max((today - detained.latest).days, 0)
        return cls(
            days,
            at_least=detained.precision in (DatePrecision.MONTH, DatePrecision.YEAR),
            approximate=detained.precision == DatePrecision.APPROXIMATE,
        )


def longest_held_first(detentions: QuerySet[Detention], today: datetime.date) -> list[Detention]:
    """The detentions with `held_for` set, longest (lower bound) first, undated last.

    Sorted in Python because the lower bound depends on the precision (the last day of the
    month for "January 2022"); the list is of people held, which stays short enough.
    """
    rows = list(detentions.order_by(F("detained_on").asc(nulls_last=True), "pk"))
    for detention in rows:
        detention.held_for = HeldFor.of(detention, today)
    return sorted(rows, key=lambda d: (d.held_for.days is None, -(d.held_for.days or 0), d.pk))


# --- views ----------------------------------------------------------------------------------


@staff_required
@permission_required("incidents.add_followupaction", raise_exception=True)
def followup_add(request: HttpRequest, detention_pk: int) -> HttpResponse:
    detention = get_detention_for_staff(request.user, detention_pk)
    action = FollowUpAction(detention=detention, created_by=request.user)
    if request.method == "POST":
        form = FollowUpForm(request.POST, instance=action)
        if form.is_valid():
            form.save()
            # Back to the case page, which lists the new action under the person (public
            # pages show no messages, so none is queued: it would pop up on a later page).
            return redirect(detention.get_absolute_url())
    else:
        form = FollowUpForm(instance=action, initial={"taken_on": timezone.localdate()})
    earlier = detention.follow_up_actions.select_related("created_by")
    context = {"detention": detention, "form": form, "earlier_actions": earlier}
    # A refused form is a 400, as on every other staff form.
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/followup_form.html", context, status=status)


@staff_required
@require_POST
@permission_required("incidents.change_followupaction", raise_exception=True)
def followup_done(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_or_404(
        FollowUpAction.objects.filter(detention__in=Detention.objects.visible_to(request.user)),
        pk=pk,
    )
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = action.detention.get_absolute_url()
    if action.next_step_done_at is None:
        action.next_step_done_at = timezone.now()
        action.save(update_fields=["next_step_done_at", "updated_at"])
        # Only staff pages show messages; the case page shows the step as done instead.
        if next_url.startswith(reverse("staff:dashboard")):
            messages.success(request, _("Marked done: %(step)s") % {"step": action.next_step[:80]})
    return redirect(next_url)


@staff_required
def followups_due(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    page = Paginator(next_steps_due(today), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    for action in page.object_list:
        action.days_overdue = (today - action.next_step_due).days
    return render(request, "staff/followups_due.html", {"page": page, "today": today})


@staff_required
def still_held(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = longest_held_first(still_held_detentions(request.user), today)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "staff/still_held.html", {"page": page, "today": today})
