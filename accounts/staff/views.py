"""The security log page, /staff/security-log/: the admin role's search of security events.

Editors and reviewers get 403 (the log names colleagues, addresses and what was refused);
so does every other user. Filters: user (exact username), kind of event, address, and a
range of days (UTC). Fifty events a page, newest first.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.models import SecurityEvent
from accounts.security_log import EVENTS
from cabar_tracker.admin_site import may_use_admin
from cabar_tracker.staff.access import staff_required

PAGE_SIZE = 50


class SecurityLogFilter(forms.Form):
    user = forms.CharField(label=_("User"), max_length=150, required=False)
    event = forms.ChoiceField(label=_("Event"), required=False)
    address = forms.GenericIPAddressField(label=_("Address"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = [("", _("any")), *EVENTS.items()]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The first day comes after the last."))
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
