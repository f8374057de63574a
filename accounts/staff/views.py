"""The security log page, /staff/security-log/: the admin role's search of security events.

Editors and reviewers get 403 (the log names colleagues, addresses and what was refused);
so does every other user. Filters: user (exact username), kind of event, address, and a
range of days (UTC). Fifty events a page, newest first.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import mfa
from accounts.models import SecurityEvent
from accounts.reauth import reauthentication_required
from accounts.security_log import EVENTS
from cabar_tracker.admin_site import may_use_admin
from cabar_tracker.staff.access import staff_required

PAGE_SIZE = 50


class SecurityLogFilter(forms.Form):
    user = forms.CharField(label=gettext_lazy("User"), max_length=150, required=False)
    event = forms.ChoiceField(label=gettext_lazy("Event"), required=False)
    address = forms.GenericIPAddressField(label=gettext_lazy("Address"), required=False)
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = [("", gettext_lazy("any")), *EVENTS.items()]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(gettext_lazy("The first day comes after the last."))
        return cleaned

    def filter(self, events):
        data = self.cleaned_data
        if data["user"]:
            events = events.filter(username=data["user"].strip())
        if data["event"]:
            events = events.filter(event=data["event"])
        if data["address"]:
            events = events.filter(address=data["address"])
        if data["date_from"]:
            events = events.filter(
                created_at__gte=datetime.combine(data["date_from"], time.min, tzinfo=UTC)
            )
        if data["date_to"]:
            end = datetime.combine(data["date_to"] + timedelta(days=1), time.min, tzinfo=UTC)
            events = events.filter(created_at__lt=end)
        return events


@staff_required
def security_log(request: HttpRequest) -> HttpResponse:
    if not may_use_admin(request.user):
        raise PermissionDenied
    form = SecurityLogFilter(request.GET or None)
    events = SecurityEvent.objects.order_by("-created_at", "-pk")
    status = 200
    if form.is_bound:
        if form.is_valid():
            events = form.filter(events)
        else:
            events = events.none()
            status = 400
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for event in page.object_list:
        event.label = EVENTS.get(event.event, event.event)
        details = dict(event.details)
        event.asked = " ".join(
            str(details.pop(name)) for name in ("method", "path") if name in details
        )
        event.other_details = details
    return render(request, "staff/security_log.html", {"form": form, "page": page}, status=status)


# --- staff accounts and their second factors (the admin role) ------------------------------


@staff_required
def staff_accounts(request: HttpRequest) -> HttpResponse:
    """/staff/accounts/: every account with its roles, whether it has a second factor, and
    when it last logged in; the admin role resets a colleague's second factors here when
    they lost them all (they enrol again at their next login)."""
    if not may_use_admin(request.user):
        raise PermissionDenied
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Exists, OuterRef
    from django_otp.plugins.otp_totp.models import TOTPDevice

    users = (
        get_user_model()
        .objects.order_by("username")
        .annotate(
            has_app=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            passkeys=Count("webauthncredential", distinct=True),
        )
        .prefetch_related("groups")
    )
    return render(request, "staff/accounts.html", {"users": users})


@staff_required
@require_POST
@reauthentication_required
def reset_second_factor(request: HttpRequest, pk: int) -> HttpResponse:
    if not may_use_admin(request.user):
        raise PermissionDenied
    from django.contrib.auth import get_user_model

    if pk > 2**31:
        raise Http404
    account = get_object_or_404(get_user_model(), pk=pk)
    if account.is_superuser and not request.user.is_superuser:
        raise PermissionDenied
    mfa.reset(account, by=request.user, request=request)
    messages.success(
        request,
        _("The second factors of %(username)s were removed; they enrol again at their next login.")
        % {"username": account.get_username()},
    )
    return redirect("staff:accounts")
