"""The staff dashboard: what waits for this user, and where to go next."""

from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from cabar_tracker.staff.access import staff_required
from cabar_tracker.staff.proposals import describe
from evidence.models import FixityCheck
from incidents.models import (
    Detention,
    FollowUpAction,
    Incident,
    Revision,
    RevisionStatus,
    Statement,
)
from people.models import Person

# How many of a user's returned proposals the desk lists.
RETURNED_SHOWN = 20


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
    counts["proposals_waiting"] = Revision.objects.pending().count()
    # This user's proposals that a reviewer sent back, newest first, with the note: what
    # they have to act on, until the record is proposed again.
    proposed_again = Revision.objects.filter(
        content_type=OuterRef("content_type"),
        object_id=OuterRef("object_id"),
        pk__gt=OuterRef("pk"),
    )
    returned = list(
        Revision.objects.filter(created_by=request.user, status=RevisionStatus.RETURNED)
        .exclude(Exists(proposed_again))
        .select_related("reviewed_by", "content_type", "parent_content_type")
        .order_by("-reviewed_at")[:RETURNED_SHOWN]
    )
    # The last fixity check of the stored evidence (evidence.fixity): one query.
    fixity_check = FixityCheck.objects.order_by("-finished_at", "-pk").first()
    return render(
        request,
        "staff/dashboard.html",
        {"counts": counts, "returned": describe(returned), "fixity_check": fixity_check},
    )
