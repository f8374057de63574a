"""Staff pages of the incidents app: edit pages (with the timeline events of an incident and
the allegations of a detention), archive and restore, the review queue and the state changes
of the review workflow.

Every edit page goes through `cabar_tracker.staff.editing.edit_record()`, which refuses a save
made from an old version and shows the conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from cabar_tracker.parameters import id_parameters
from cabar_tracker.publishing import PublishableModel, may_publish
from cabar_tracker.staff.access import staff_required
from cabar_tracker.staff.editing import edit_record
from cabar_tracker.staff.history_views import edit_url, history_url
from cabar_tracker.staff.proposals import tell_why_not_published, waiting_proposals
from evidence.staff.views import evidence_context
from incidents import revisions
from incidents.cases import case_of, key_of, publish_case, revision_key
from incidents.models import (
    Allegation,
    Detention,
    Incident,
    IncidentEvent,
    Location,
    ReportedGroup,
    Source,
    Statement,
)
from incidents.staff.account_views import account_list
from incidents.staff.forms import (
    AllegationForm,
    DetentionForm,
    IncidentEventForm,
    IncidentForm,
    LocationForm,
    ReportedGroupForm,
    SourceForm,
    StatementForm,
)
from incidents.workflow import (
    PUBLISHABLE_MODELS,
    PublicationBlocked,
    WorkflowError,
    archive,
    can_archive,
    publish,
    restore,
    return_to_draft,
    review_queue,
    submit_for_review,
    unpublish,
)

ARCHIVED_PER_KIND = 100


@dataclass(frozen=True)
class ChildRow:
    text: str
    detail: str
    edit_url: str


@dataclass(frozen=True)
class ChildRecords:
    """The rows of a record shown under its edit form (an incident's timeline events, a
    detention's allegations), each with its edit page, and the page to add one."""

    heading: str
    rows: list[ChildRow]
    add_url: str | None  # None when the user's role may not add one
    add_label: str
    empty: str
    anchor: str  # the section's id on the page


def _event_rows(incident: Incident, user) -> ChildRecords:
    # One query: the events with their places.
    events = incident.events.select_related("location").order_by("occurred_on", "pk")
    rows = [
        ChildRow(
            text=event.title,
            detail=", ".join(
                str(part)
                for part in (event.occurred, event.get_kind_display(), event.location)
                if part
            ),
            edit_url=reverse("staff:incidentevent_edit", kwargs={"pk": event.pk}),
        )
        for event in events
    ]
    return ChildRecords(
        heading=gettext("Timeline events"),
        rows=rows,
        add_url=(
            reverse("staff:incidentevent_add", kwargs={"incident_pk": incident.pk})
            if user.has_perm("incidents.add_incidentevent")
            else None
        ),
        add_label=gettext("Add timeline event"),
        empty=gettext("No timeline events besides detentions, releases and statements."),
        anchor="timeline-events",
    )


def _reported_group_rows(incident: Incident, user) -> ChildRecords:
    # One query.
    rows = [
        ChildRow(
            text=str(group.citizenship.name or group.citizenship.code),
            detail=_group_numbers(group),
            edit_url=reverse("staff:reportedgroup_edit", kwargs={"pk": group.pk}),
        )
        for group in incident.reported_groups.order_by("pk")
    ]
    return ChildRecords(
        heading=gettext("Reported numbers by citizenship"),
        rows=rows,
        add_url=(
            reverse("staff:reportedgroup_add", kwargs={"incident_pk": incident.pk})
            if user.has_perm("incidents.add_reportedgroup")
            else None
        ),
        add_label=gettext("Add a reported number by citizenship"),
        empty=gettext(
            "No numbers by citizenship: add one when a source counts people of one "
            "citizenship without naming them (38 of Kyrgyzstan)."
        ),
        anchor="reported-groups",
    )


def _group_numbers(group: ReportedGroup) -> str:
    parts = []
    if group.detained_count is not None:
        parts.append(gettext("%(count)s detained") % {"count": group.detained_count})
    if group.released_count is not None:
        parts.append(gettext("%(count)s released") % {"count": group.released_count})
    if group.note:
        parts.append(group.note)
    return ", ".join(parts)


def _allegation_rows(detention: Detention, user) -> ChildRecords:
    # One query: the allegations with who made them.
    allegations = detention.allegations.select_related(
        "alleged_by_person", "alleged_by_organization"
    ).order_by("kind", "pk")
    rows = []
    for allegation in allegations:
        by = [allegation.alleged_by_organization, allegation.alleged_by_person]
        by_text = ", ".join(str(who) for who in by if who)
        rows.append(
            ChildRow(
                text=allegation.get_kind_display(),
                detail=gettext("alleged by %(who)s") % {"who": by_text} if by_text else "",
                edit_url=reverse("staff:allegation_edit", kwargs={"pk": allegation.pk}),
            )
        )
    return ChildRecords(
        heading=gettext("Allegations"),
        rows=rows,
        add_url=(
            reverse("staff:allegation_add", kwargs={"detention_pk": detention.pk})
            if user.has_perm("incidents.add_allegation")
            else None
        ),
        add_label=gettext("Add allegation"),
        empty=gettext("No allegations recorded."),
        anchor="allegations",
    )


@staff_required
def incident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident._base_manager, pk=pk)
    return edit_record(
        request,
        form_class=IncidentForm,
        instance=incident,
        heading=gettext("Edit incident"),
        extra_context={
            "child_lists": [
                _reported_group_rows(incident, request.user),
                _event_rows(incident, request.user),
            ],
            "accounts": account_list(incident, request.user),
            **evidence_context(request, incident),
        },
    )


@staff_required
def detention_edit(request: HttpRequest, pk: int) -> HttpResponse:
    detention = get_object_or_404(Detention._base_manager, pk=pk)
    return edit_record(
        request,
        form_class=DetentionForm,
        instance=detention,
        heading=gettext("Edit detention"),
        extra_context={
            "child_lists": [_allegation_rows(detention, request.user)],
            "accounts": account_list(detention, request.user),
            **evidence_context(request, detention),
        },
    )


# --- the rows of a case: timeline events, reported groups and allegations ---------------------
#
# These are rows of a public record: on a published case, an editor's addition, change or
# removal is a proposal for a reviewer (VersionedModelForm.save_checked and
# `child_remove` call incidents.revisions), and the case page shows it only once published.


def _child_context(parent: models.Model, label: str, record: models.Model | None) -> dict:
    context = {"parent_url": edit_url(parent), "parent_label": label}
    if record is not None:
        context["delete_url"] = reverse(
            f"staff:{record._meta.model_name}_delete", kwargs={"pk": record.pk}
        )
        context["delete_label"] = gettext("Remove this %(kind)s") % {
            "kind": record._meta.verbose_name
        }
    return context


@staff_required
@permission_required("incidents.add_incidentevent", raise_exception=True)
def incidentevent_add(request: HttpRequest, incident_pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident.objects.not_archived(), pk=incident_pk)
    return edit_record(
        request,
        form_class=IncidentEventForm,
        instance=IncidentEvent(incident=incident),
        heading=gettext("New timeline event of %(incident)s") % {"incident": incident},
        done_url=edit_url(incident),
        extra_context=_child_context(incident, gettext("Back to the incident"), None),
    )


@staff_required
def incidentevent_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(IncidentEvent._base_manager.select_related("incident"), pk=pk)
    return edit_record(
        request,
        form_class=IncidentEventForm,
        instance=event,
        heading=gettext("Edit timeline event"),
        done_url=edit_url(event.incident),
        extra_context=_child_context(
            event.incident,
            gettext("Incident: %(incident)s") % {"incident": event.incident},
            event,
        ),
    )


@staff_required
@permission_required("incidents.add_reportedgroup", raise_exception=True)
def reportedgroup_add(request: HttpRequest, incident_pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident.objects.not_archived(), pk=incident_pk)
    return edit_record(
        request,
        form_class=ReportedGroupForm,
        instance=ReportedGroup(incident=incident),
        heading=gettext("New reported number by citizenship: %(incident)s")
        % {"incident": incident},
        done_url=edit_url(incident),
        extra_context=_child_context(incident, gettext("Back to the incident"), None),
    )


@staff_required
def reportedgroup_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(ReportedGroup._base_manager.select_related("incident"), pk=pk)
    return edit_record(
        request,
        form_class=ReportedGroupForm,
        instance=group,
        heading=gettext("Edit reported number by citizenship"),
        done_url=edit_url(group.incident),
        extra_context=_child_context(
            group.incident,
            gettext("Incident: %(incident)s") % {"incident": group.incident},
            group,
        ),
    )


@staff_required
@permission_required("incidents.add_allegation", raise_exception=True)
def allegation_add(request: HttpRequest, detention_pk: int) -> HttpResponse:
    detention = get_object_or_404(
        Detention.objects.not_archived().select_related("person", "incident"), pk=detention_pk
    )
    return edit_record(
        request,
        form_class=AllegationForm,
        instance=Allegation(detention=detention),
        heading=gettext("New allegation: %(detention)s") % {"detention": detention},
        done_url=edit_url(detention),
        extra_context=_child_context(detention, gettext("Back to the detention"), None),
    )


@staff_required
def allegation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    allegation = get_object_or_404(
        Allegation._base_manager.select_related("detention__person", "detention__incident"),
        pk=pk,
    )
    return edit_record(
        request,
        form_class=AllegationForm,
        instance=allegation,
        heading=gettext("Edit allegation"),
        done_url=edit_url(allegation.detention),
        extra_context={
            **_child_context(
                allegation.detention,
                gettext("Detention: %(detention)s") % {"detention": allegation.detention},
                allegation,
            ),
            "accounts": account_list(allegation, request.user),
        },
    )


@staff_required
@require_POST
def child_remove(
    request: HttpRequest, pk: int, *, model: type[models.Model], parent_field: str
) -> HttpResponse:
    """Remove a timeline event, a reported group or an allegation (staff:<model>_delete).
    On a published case an editor's removal is proposed for review; otherwise the row is
    deleted, the history keeping what it said."""
    record = get_object_or_404(model._base_manager.select_related(parent_field), pk=pk)
    parent = getattr(record, parent_field)
    if revisions.needs_review(record, request.user):
        revisions.propose(record, user=request.user, delete=True)
        messages.success(
            request,
            gettext(
                "The removal waits for a reviewer; until it is published, the public "
                "still sees %(record)s."
            )
            % {"record": record},
        )
    else:
        record._history_user = request.user
        record.delete()
        messages.success(request, gettext("Removed: %(record)s.") % {"record": record})
    return redirect(edit_url(parent) or history_url(parent))


def _ids(request: HttpRequest, name: str) -> list[int]:
    return id_parameters(request.GET, name)


@staff_required
@permission_required("incidents.add_statement", raise_exception=True)
def statement_add(request: HttpRequest) -> HttpResponse:
    # Started from a case or a person page: the statement is about them.
    initial = {"incidents": _ids(request, "incident"), "people": _ids(request, "person")}
    return edit_record(
        request,
        form_class=StatementForm,
        heading=gettext("New statement"),
        initial=initial,
    )


@staff_required
def statement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(Statement._base_manager, pk=pk)
    return edit_record(
        request,
        form_class=StatementForm,
        instance=statement,
        heading=gettext("Edit statement"),
    )


@staff_required
@permission_required("incidents.add_source", raise_exception=True)
def source_add(request: HttpRequest) -> HttpResponse:
    return edit_record(request, form_class=SourceForm, heading=gettext("New source"))


@staff_required
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source._base_manager, pk=pk)
    return edit_record(
        request,
        form_class=SourceForm,
        instance=source,
        heading=gettext("Edit source"),
        extra_context=evidence_context(request, source),
    )


@staff_required
@permission_required("incidents.add_location", raise_exception=True)
def location_add(request: HttpRequest) -> HttpResponse:
    return edit_record(request, form_class=LocationForm, heading=gettext("New place"))


@staff_required
def location_edit(request: HttpRequest, pk: int) -> HttpResponse:
    location = get_object_or_404(Location._base_manager, pk=pk)
    return edit_record(
        request, form_class=LocationForm, instance=location, heading=gettext("Edit place")
    )


# --- state changes --------------------------------------------------------------------------


def _next_url(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _publishable(model_name: str, pk: int) -> PublishableModel:
    model = PUBLISHABLE_MODELS.get(model_name)
    if model is None:
        raise Http404
    return get_object_or_404(model._base_manager, pk=pk)


@staff_required
@require_POST
def set_archived(
    request: HttpRequest, pk: int, *, model: type[PublishableModel], archived: bool
) -> HttpResponse:
    """Archive ("delete") or restore a record. Reached through staff:<model>_archive and
    staff:<model>_restore."""
    record = get_object_or_404(model._base_manager, pk=pk)
    if not can_archive(request.user, record):
        raise PermissionDenied
    try:
        if archived:
            archive(record=record, user=request.user)
        else:
            restore(record=record, user=request.user)
    except WorkflowError as error:
        messages.error(request, str(error))
        return redirect(_next_url(request, reverse("staff:archived")))
    if archived:
        messages.success(
            request,
            gettext("Archived: %(record)s. It is no longer shown on the site; restore it here.")
            % {"record": record},
        )
        return redirect(reverse("staff:archived"))
    messages.success(request, gettext("Restored: %(record)s.") % {"record": record})
    return redirect(_next_url(request, edit_url(record) or history_url(record)))


@staff_required
@require_POST
def change_state(request: HttpRequest, model_name: str, pk: int, action: str) -> HttpResponse:
    """Submit for review, publish, unpublish, or return to draft (with a note)."""
    record = _publishable(model_name, pk)
    note = request.POST.get("note", "")
    fallback = edit_url(record) or history_url(record)
    try:
        if action == "submit":
            submit_for_review(record=record, user=request.user)
            done = gettext("Submitted for review: %(record)s.") % {"record": record}
        elif action == "publish":
            published = publish(record=record, user=request.user)
            done = gettext("Published: %(record)s.") % {"record": record}
            if len(published) > 1:
                done += " " + gettext("Published with it: %(count)s more records.") % {
                    "count": len(published) - 1
                }
        elif action == "unpublish":
            unpublish(record=record, user=request.user, note=note)
            done = gettext("Unpublished: %(record)s. It is a draft again.") % {"record": record}
        elif action == "return":
            return_to_draft(record=record, user=request.user, note=note)
            done = gettext("Returned to draft: %(record)s.") % {"record": record}
        else:
            raise Http404
    except PublicationBlocked as blocked:
        problems = [
            {
                "record": item,
                "kind": capfirst(str(item._meta.verbose_name)),
                "missing": missing,
                "edit_url": edit_url(item),
            }
            for item, missing in blocked.problems
        ]
        context = {"record": record, "problems": problems, "back_url": fallback}
        return render(request, "staff/publish_blocked.html", context, status=409)
    except WorkflowError as error:
        messages.error(request, str(error))
        return redirect(_next_url(request, fallback))
    messages.success(request, done)
    return redirect(_next_url(request, fallback))


# --- lists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedRecord:
    kind: str
    record: models.Model
    when: object
    who: str | None
    edit_url: str | None
    history_url: str
    public_url: str | None
    model_name: str


def _links(model_name: str, record: models.Model, *, public: bool) -> dict:
    return {
        "edit_url": edit_url(record),
        "history_url": history_url(record),
        "public_url": record.get_absolute_url() if public else None,
        "model_name": model_name,
        "kind": capfirst(str(record._meta.verbose_name)),
    }


@dataclass
class CaseInQueue:
    """What waits for review of one case (or, with no incident, of no case)."""

    incident: Incident | None
    entries: list[ListedRecord] = field(default_factory=list)
    proposals: list = field(default_factory=list)

    @property
    def edit_url(self) -> str | None:
        return edit_url(self.incident) if self.incident is not None else None


@staff_required
def review_queue_page(request: HttpRequest) -> HttpResponse:
    """What waits for a reviewer, grouped by case, the case waiting longest first: records
    in review and changes proposed to published ones, each with its diff and note."""
    entries = [
        ListedRecord(
            record=entry.record,
            when=entry.submitted_at,
            who=entry.submitted_by,
            **_links(entry.model_name, entry.record, public=True),
        )
        for entry in review_queue()
    ]
    proposals = waiting_proposals()
    cases = case_of(
        {key_of(entry.record) for entry in entries}
        | {revision_key(item.revision) for item in proposals}
    )
    incidents = Incident._base_manager.select_related("location").in_bulk(
        {pk for pk in cases.values() if pk is not None}
    )
    groups: dict[int | None, CaseInQueue] = {}

    def group(key) -> CaseInQueue:
        pk = cases[key]
        if pk not in groups:
            groups[pk] = CaseInQueue(incident=incidents.get(pk))
        return groups[pk]

    # Both lists come longest-waiting first, so the groups do too.
    for entry in entries:
        group(key_of(entry.record)).entries.append(entry)
    for item in proposals:
        group(revision_key(item.revision)).proposals.append(item)
    # Records of no case (places, organizations, situations) come last.
    ordered = [g for pk, g in groups.items() if pk is not None]
    ordered += [g for pk, g in groups.items() if pk is None]
    return render(
        request,
        "staff/review_queue.html",
        {"cases": ordered, "waiting": bool(entries), "proposed": bool(proposals)},
    )


@staff_required
@require_POST
def publish_whole_case(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish everything of one case that waits for review, in one step."""
    if not may_publish(request.user):
        raise PermissionDenied
    incident = get_object_or_404(Incident._base_manager, pk=pk)
    back = reverse("staff:review_queue")
    try:
        records, proposals = publish_case(incident=incident, user=request.user)
    except (PublicationBlocked, ValidationError, WorkflowError) as refusal:
        tell_why_not_published(
            request,
            refusal,
            lacks=gettext("Nothing of the case was published: %(record)s lacks %(missing)s."),
            invalid=gettext("Nothing of the case was published: %(errors)s"),
            refused=gettext("Nothing of the case was published: %(reason)s"),
        )
    else:
        messages.success(
            request,
            gettext(
                "Published the case %(case)s: %(records)d records and %(changes)d proposed changes."
            )
            % {"case": incident, "records": len(records), "changes": len(proposals)},
        )
    return redirect(back)


# What each kind needs loaded to be named in a list without a query per row.
_LIST_RELATED = {
    "incident": ("location",),
    "detention": ("incident", "person"),
    "statement": ("speaker_person", "speaker_organization"),
}


@staff_required
def archived_list(request: HttpRequest) -> HttpResponse:
    """Archived records of every kind, most recently archived first, with a restore button.
    One query per kind of record, at most ARCHIVED_PER_KIND rows each."""
    sections = []
    for model_name, model in PUBLISHABLE_MODELS.items():
        rows = (
            model._base_manager.filter(archived_at__isnull=False)
            .select_related(*_LIST_RELATED.get(model_name, ()))
            .order_by("-archived_at", "-pk")[:ARCHIVED_PER_KIND]
        )
        records = [
            ListedRecord(
                record=record,
                when=record.archived_at,
                who=None,
                **_links(model_name, record, public=False),
            )
            for record in rows
        ]
        sections.append((capfirst(str(model._meta.verbose_name_plural)), model_name, records))
    return render(request, "staff/archived.html", {"sections": sections})
