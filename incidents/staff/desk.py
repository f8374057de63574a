"""The staff dashboard: what waits for this user, and where to go next."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from cabar_tracker.staff.access import staff_required
from incidents.models import Detention, FollowUpAction, Incident, Statement
from people.models import Person


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    waiting = PublicationState.IN_REVIEW
    counts = {
        "incidents_in_review": Incident.objects.not_archived()
        .filter(publication_state=waiting)
        .count(),
        "detentions_in_review": Detention.objects.not_archived()
        .filter(publication_state=waiting)
        .count(),
        "persons_in_review": Person.objects.not_archived()
        .filter(publication_state=waiting)
        .count(),
        "statements_in_review": Statement.objects.not_archived()
        .filter(publication_state=waiting)
        .count(),
        "drafts": Incident.objects.not_archived()
        .filter(publication_state=PublicationState.DRAFT)
        .count(),
    }
    counts["next_steps_due"] = FollowUpAction.objects.next_steps_due(timezone.localdate()).count()
    return render(request, "staff/dashboard.html", {"counts": counts})
