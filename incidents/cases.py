"""Cases: an incident with everything its page shows, as a reviewer sees it in the queue.

The review queue groups what waits for review by case (`case_of`) so a reviewer reads a case
as one story (the incident, its detentions, the statements about it, the changes proposed
to any of them) and can publish it in one step (`publish_case`): every record of the case
waiting in review and every proposed change to it, all or nothing.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import models, transaction

from cabar_tracker.publishing import PUBLISH_PERMISSION, PublicationState
from incidents.models import (
    Account,
    Allegation,
    Detention,
    Incident,
    IncidentEvent,
    ReportedGroup,
    Revision,
    Statement,
)
from incidents.revisions import publish_revision
from incidents.workflow import PUBLISHABLE_MODELS, publish, require_permission

# A record is named by its model's label and key: ("incidents.detention", 12).
RecordKey = tuple[str, int]


def _first_per(pairs) -> dict[int, int]:
    """{record key: the lowest incident key} from (record key, incident key) rows."""
    first: dict[int, int] = {}
    for pk, incident_id in pairs:
        if incident_id is not None and (pk not in first or incident_id < first[pk]):
            first[pk] = incident_id
    return first


def case_of(keys: set[RecordKey]) -> dict[RecordKey, int | None]:
    """The incident each record belongs to, or None for records of no case (a place, an
    organization, a situation). One query per kind of record, however many records.

    A statement, a source or a person can belong to several cases: it is shown with the
    earliest-entered one (the lowest key), so it appears once in the queue."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for label, pk in keys:
        if pk is not None:
            wanted[label].add(pk)
    found: dict[str, dict[int, int]] = {}
    if pks := wanted.get("incidents.incident"):
        found["incidents.incident"] = {pk: pk for pk in pks}
    if pks := wanted.get("incidents.detention"):
        rows = Detention._base_manager.filter(pk__in=pks).values_list("pk", "incident_id")
        found["incidents.detention"] = dict(rows)
    if pks := wanted.get("incidents.incidentevent"):
        rows = IncidentEvent._base_manager.filter(pk__in=pks).values_list("pk", "incident_id")
        found["incidents.incidentevent"] = dict(rows)
    if pks := wanted.get("incidents.reportedgroup"):
        rows = ReportedGroup._base_manager.filter(pk__in=pks).values_list("pk", "incident_id")
        found["incidents.reportedgroup"] = dict(rows)
    if pks := wanted.get("incidents.allegation"):
        rows = Allegation._base_manager.filter(pk__in=pks).values_list(
            "pk", "detention__incident_id"
        )
        found["incidents.allegation"] = dict(rows)
    if pks := wanted.get("incidents.account"):
        rows = Account._base_manager.filter(pk__in=pks).values_list(
            "pk", "incident_id", "detention__incident_id", "allegation__detention__incident_id"
        )
        found["incidents.account"] = {pk: next((i for i in ids if i), None) for pk, *ids in rows}
    if pks := wanted.get("incidents.statement"):
        rows = Statement.incidents.through.objects.filter(statement_id__in=pks).values_list(
            "statement_id", "incident_id"
        )
        found["incidents.statement"] = _first_per(rows)
    if pks := wanted.get("incidents.source"):
        rows = Incident.sources.through.objects.filter(source_id__in=pks).values_list(
            "source_id", "incident_id"
        )
        found["incidents.source"] = _first_per(rows)
    if pks := wanted.get("people.person"):
        rows = Detention._base_manager.filter(person_id__in=pks).values_list(
            "person_id", "incident_id"
        )
        found["people.person"] = _first_per(rows)
    return {(label, pk): found.get(label, {}).get(pk) for label, pk in keys}


def key_of(record: models.Model) -> RecordKey:
    return (record._meta.label_lower, record.pk)


def revision_key(revision: Revision) -> RecordKey:
    """The record whose page shows a proposal: its parent for a name variant, a timeline
    event or an allegation (a new one has no key of its own yet), else its record."""
    if revision.parent_id is not None:
        content_type = revision.parent_content_type
        return (f"{content_type.app_label}.{content_type.model}", revision.parent_id)
    content_type = revision.content_type
    return (f"{content_type.app_label}.{content_type.model}", revision.object_id)


def waiting_in_case(incident: Incident) -> tuple[list, list[Revision]]:
    """What of this case waits for a reviewer: the records in review and the proposals."""
    in_review = []
    for model in PUBLISHABLE_MODELS.values():
        in_review += list(
            model.objects.not_archived().filter(publication_state=PublicationState.IN_REVIEW)
        )
    proposals = list(
        Revision.objects.pending()
        .select_related("content_type", "parent_content_type")
        .order_by("created_at", "pk")
    )
    cases = case_of(
        {key_of(record) for record in in_review}
        | {revision_key(revision) for revision in proposals}
    )
    records = [record for record in in_review if cases[key_of(record)] == incident.pk]
    # The incident first: publishing it brings its detentions and their persons with it.
    records.sort(key=lambda record: not isinstance(record, Incident))
    return records, [
        revision for revision in proposals if cases[revision_key(revision)] == incident.pk
    ]


@transaction.atomic
def publish_case(*, incident: Incident, user) -> tuple[list, list[Revision]]:
    """Publish every record of the case waiting in review and every change proposed to it,
    in one transaction: if any of them cannot be published (incomplete, a conflict with a
    colleague's change), nothing is, and the error says which. Returns what was published.
    """
    require_permission(user, PUBLISH_PERMISSION)
    records, proposals = waiting_in_case(incident)
    published = []
    for record in records:
        fresh = type(record)._base_manager.get(pk=record.pk)
        if fresh.publication_state == PublicationState.IN_REVIEW:  # not published with another
            published += publish(record=fresh, user=user)
    for revision in proposals:
        publish_revision(revision=revision, user=user)
    return published, proposals
