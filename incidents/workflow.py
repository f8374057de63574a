"""The review workflow: draft → in review → published, and archiving.

    draft ──submit_for_review──▶ in review ──publish──▶ published
      ▲                             │                      │
      └──────return_to_draft────────┘                      │
      └──────────────────────unpublish─────────────────────┘

Editors submit; reviewers (permission `incidents.publish_record`) publish, unpublish and
return a record to its author with a note. Publishing checks that the record is complete
enough to be shown (`missing_for_publication`): every record cites a source, an incident has
a place and a date, and so on. Publishing an incident also publishes what its page needs to
show it (its detentions, the persons they concern, the sources they and its reported groups
cite), each checked,
all in one transaction: either everything is published or nothing is, and the refusal lists
every missing item of every record.

Archiving is how records are deleted: `archived_at` is set, the record leaves the public
site and the API, and `restore` brings it back. Every change here goes through `save()`, so
the history records who did it and when, with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from accounts import security_log
from cabar_tracker.publishing import PUBLISH_PERMISSION, PublicationState, PublishableModel
from incidents.models import (
    Account,
    AccountRank,
    Detention,
    Fact,
    Incident,
    ReportedGroup,
    Situation,
    Source,
    Statement,
)
from people.models import Person

# The records that go through review, by the name used in URLs and templates.
PUBLISHABLE_MODELS: dict[str, type[PublishableModel]] = {
    "incident": Incident,
    "detention": Detention,
    "person": Person,
    "statement": Statement,
    "source": Source,
    "situation": Situation,
}

# A record may say on purpose that a fact is unknown: a line in its staff notes beginning
# with one of these (in English or in the interface language) satisfies the check that
# would otherwise ask for the fact. The note stays on the record, so publishing again later
# does not ask again.
DATE_UNKNOWN_NOTE = "Date unknown:"
CITIZENSHIP_UNKNOWN_NOTE = "Citizenship unknown:"

# history_change_reason is a 100-character column.
REASON_MAX_LENGTH = 100


class WorkflowError(Exception):
    """The change is not possible from the record's current state."""


class PublicationBlocked(WorkflowError):
    """Publishing would show incomplete records; `problems` lists, per record, what is
    missing. Nothing was published."""

    def __init__(self, problems: list[tuple[models.Model, list[str]]]):
        super().__init__("; ".join(f"{record}: {', '.join(items)}" for record, items in problems))
        self.problems = problems


# --- completeness ---------------------------------------------------------------------------


def _has_note(record: models.Model, prefix: str) -> bool:
    notes = getattr(record, "staff_notes", "") or ""
    prefixes = {prefix.lower(), gettext(prefix).lower()}
    return any(line.strip().lower().startswith(tuple(prefixes)) for line in notes.splitlines())


def _cites_a_source(record: models.Model) -> bool:
    return record.sources.filter(archived_at__isnull=True).exists()


def _accounts_shown_with(record: models.Model, related: Iterable = ()) -> models.QuerySet:
    """The accounts the record's page shows with it: an incident's and its detentions' (and
    their allegations'), a detention's and its allegations'."""
    detention_ids = [item.pk for item in [record, *related] if isinstance(item, Detention)]
    condition = Q(detention__in=detention_ids) | Q(allegation__detention__in=detention_ids)
    if isinstance(record, Incident):
        condition |= (
            Q(incident=record)
            | Q(detention__incident=record)
            | Q(allegation__detention__incident=record)
        )
    return Account._base_manager.filter(condition)


def _accounts_without_sources(record: models.Model) -> list[str]:
    """The facts of the record (and its parts) told by an account that cites no source.
    The record's own account of a fact (preferred, asserted by nobody) is left to the
    record's rule: it cites what the record cites."""
    own = Q(
        rank=AccountRank.PREFERRED,
        asserted_by_person__isnull=True,
        asserted_by_organization__isnull=True,
        asserted_by_text="",
    )
    bare = (
        _accounts_shown_with(record)
        .exclude(own)
        .exclude(
            Exists(
                Account.sources.through.objects.filter(
                    account=OuterRef("pk"), source__archived_at__isnull=True
                )
            )
        )
        .order_by("fact")
        .values_list("fact", flat=True)
        .distinct()
    )
    labels = dict(Fact.choices)
    return [str(labels[fact]) for fact in bare]


def missing_for_publication(record: models.Model, *, validate: bool = True) -> list[str]:
    """What the record lacks before it may be published, as sentences for the page; empty
    when it is complete. With `validate`, also anything `full_clean()` refuses (which the
    edit page leaves out: its form validates the record when it is saved)."""
    missing: list[str] = []
    needs_source = True
    if isinstance(record, Incident):
        if not record.title.strip():
            missing.append(gettext("a title"))
        if not record.kind:
            missing.append(gettext("a kind"))
        if not record.location_id:
            missing.append(gettext("a place"))
        if record.start_date is None and not _has_note(record, DATE_UNKNOWN_NOTE):
            missing.append(
                gettext(
                    "a date, or a line in the staff notes beginning “%(prefix)s” saying why "
                    "it is not known"
                )
                % {"prefix": DATE_UNKNOWN_NOTE}
            )
        if not record.summary.strip():
            missing.append(gettext("a summary"))
    elif isinstance(record, Detention):
        if not record.person_id:
            missing.append(gettext("a person"))
    elif isinstance(record, Person):
        if not record.citizenship and not _has_note(record, CITIZENSHIP_UNKNOWN_NOTE):
            missing.append(
                gettext(
                    "a citizenship, or a line in the staff notes beginning “%(prefix)s” "
                    "saying why it is not known"
                )
                % {"prefix": CITIZENSHIP_UNKNOWN_NOTE}
            )
    elif isinstance(record, Statement):
        if not record.speaker_person_id and not record.speaker_organization_id:
            missing.append(gettext("a speaker (a person or an organization)"))
        if not record.text.strip():
            missing.append(gettext("the text of the statement"))
    elif isinstance(record, Source):
        needs_source = False
        if not record.title.strip():
            missing.append(gettext("a title"))
        if not record.url and not record.publisher:
            missing.append(gettext("a URL or a publisher, so readers can find it"))
    elif isinstance(record, Situation):
        needs_source = False
        if not record.title.strip():
            missing.append(gettext("a title"))
    if needs_source and not _cites_a_source(record):
        missing.append(gettext("at least one source"))
    if isinstance(record, Incident | Detention):
        facts = _accounts_without_sources(record)
        if facts:
            missing.append(
                gettext("a source for every account of a fact (%(facts)s)")
                % {"facts": ", ".join(facts)}
            )
    if not validate:
        return missing
    try:
        record.full_clean()
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            label = (
                str(record._meta.get_field(field).verbose_name)
                if field != "__all__"
                else gettext("record")
            )
            missing.extend(f"{label}: {message}" for message in messages)
    return missing


def records_published_with(record: PublishableModel) -> list[PublishableModel]:
    """The record and the unpublished records its page needs, in the order they are listed:
    an incident brings its detentions, their persons and every source cited by any of them
    or by its reported groups;
    a detention its person and sources; anything else its sources.

    Locks the rows it returns: call it inside the publishing transaction.
    """
    waiting = [PublicationState.DRAFT, PublicationState.IN_REVIEW]
    related: list[PublishableModel] = []
    person_ids: set[int] = set()
    if isinstance(record, Incident):
        detentions = list(record.detentions.not_archived().select_for_update().order_by("pk"))
        related.extend(d for d in detentions if d.publication_state in waiting)
        person_ids = {d.person_id for d in detentions}
    elif isinstance(record, Detention):
        person_ids = {record.person_id}
    persons = list(
        Person.objects.not_archived()
        .filter(pk__in=person_ids)
        .select_for_update()
        .order_by("name", "pk")
    )
    related.extend(p for p in persons if p.publication_state in waiting)
    if not isinstance(record, Source | Situation):
        source_ids: set[int] = set()
        for item in [record, *related, *persons]:
            source_ids.update(item.sources.values_list("pk", flat=True))
        if isinstance(record, Incident):
            # The sources of its reported numbers, which its page cites beside them.
            source_ids.update(
                ReportedGroup.sources.through.objects.filter(
                    reportedgroup__incident=record
                ).values_list("source_id", flat=True)
            )
        # The sources of the accounts its page shows (the record's, its detentions').
        source_ids.update(
            Account.sources.through.objects.filter(
                account__in=_accounts_shown_with(record, related)
            ).values_list("source_id", flat=True)
        )
        related.extend(
            Source.objects.not_archived()
            .filter(pk__in=source_ids, publication_state__in=waiting)
            .select_for_update()
            .order_by("title", "pk")
        )
    return [record, *related]


# --- state changes --------------------------------------------------------------------------


def _locked(record: PublishableModel) -> PublishableModel:
    """The record as stored, locked until the transaction ends, so two reviewers acting at
    once act one after the other on what is really stored."""
    return type(record)._base_manager.select_for_update().get(pk=record.pk)


def change_reason(text: str) -> str:
    """`text` as the history's reason column holds it: one line, cut to fit."""
    text = " ".join(str(text).split())
    if len(text) > REASON_MAX_LENGTH:
        text = text[: REASON_MAX_LENGTH - 1] + "…"
    return text


def _save_state(record: PublishableModel, *, user, reason: str, fields: Iterable[str]) -> None:
    record._history_user = user
    record._change_reason = change_reason(reason)
    record.save(update_fields=[*fields, "updated_at"])


def require_permission(user, permission: str) -> None:
    """Raise PermissionDenied unless `user` has `permission`: the services' own check, so a
    door that forgets it cannot skip it."""
    if not user.has_perm(permission):
        raise PermissionDenied


def _change_permission(record: models.Model) -> str:
    return f"{record._meta.app_label}.change_{record._meta.model_name}"


def _require_state(record: PublishableModel, *states: str) -> None:
    if record.archived_at is not None:
        raise WorkflowError(gettext("An archived record must be restored first."))
    if record.publication_state not in states:
        raise WorkflowError(
            gettext("This is not possible for a record that is “%(state)s”.")
            % {"state": record.get_publication_state_display()}
        )


@transaction.atomic
def submit_for_review(*, record: PublishableModel, user) -> PublishableModel:
    """Draft → in review: the author asks a reviewer to publish it."""
    require_permission(user, _change_permission(record))
    record = _locked(record)
    _require_state(record, PublicationState.DRAFT)
    record.publication_state = PublicationState.IN_REVIEW
    _save_state(
        record, user=user, reason=gettext("Submitted for review"), fields=["publication_state"]
    )
    return record


@transaction.atomic
def publish(*, record: PublishableModel, user) -> list[PublishableModel]:
    """In review → published, with what the record's page needs (`records_published_with`).

    Raises `PublicationBlocked` listing every missing item of every record; then nothing is
    published. Returns the records published.
    """
    require_permission(user, PUBLISH_PERMISSION)
    record = _locked(record)
    _require_state(record, PublicationState.IN_REVIEW)
    records = records_published_with(record)
    problems = [(item, missing) for item in records if (missing := missing_for_publication(item))]
    if problems:
        raise PublicationBlocked(problems)
    for item in records:
        item.publication_state = PublicationState.PUBLISHED
        reason = (
            gettext("Published")
            if item is record
            else gettext("Published with %(record)s") % {"record": record}
        )
        _save_state(item, user=user, reason=reason, fields=["publication_state"])
    security_log.record(
        "record.published",
        user=user,
        target=security_log.target(record),
        with_records=[security_log.target(item) for item in records[1:]],
    )
    return records


@transaction.atomic
def unpublish(*, record: PublishableModel, user, note: str = "") -> PublishableModel:
    """Published → draft: the record leaves the public site until it is published again.

    What was published with it stays published (a person may appear in other incidents);
    an unpublished incident's detentions are hidden with it by `DetentionQuerySet`.
    """
    require_permission(user, PUBLISH_PERMISSION)
    record = _locked(record)
    _require_state(record, PublicationState.PUBLISHED)
    record.publication_state = PublicationState.DRAFT
    reason = gettext("Unpublished")
    if note.strip():
        reason = f"{reason}: {note.strip()}"
    _save_state(record, user=user, reason=reason, fields=["publication_state"])
    security_log.record("record.unpublished", user=user, target=security_log.target(record))
    return record


@transaction.atomic
def return_to_draft(*, record: PublishableModel, user, note: str) -> PublishableModel:
    """In review → draft, with the reviewer's note saying what to fix (kept in the history)."""
    require_permission(user, PUBLISH_PERMISSION)
    if not note.strip():
        raise WorkflowError(gettext("Say what needs to change before it can be published."))
    record = _locked(record)
    _require_state(record, PublicationState.IN_REVIEW)
    record.publication_state = PublicationState.DRAFT
    reason = gettext("Returned to draft: %(note)s") % {"note": note.strip()}
    _save_state(record, user=user, reason=reason, fields=["publication_state"])
    return record


def can_archive(user, record: PublishableModel) -> bool:
    """Editors archive and restore drafts; taking a published record off the site (or putting
    it back) is a reviewer's decision, like unpublishing."""
    if not user.has_perm(_change_permission(record)):
        return False
    return record.publication_state != PublicationState.PUBLISHED or user.has_perm(
        PUBLISH_PERMISSION
    )


@transaction.atomic
def archive(*, record: PublishableModel, user) -> PublishableModel:
    """'Delete' a record: it leaves the public site and the API, and can be restored."""
    record = _locked(record)
    if not can_archive(user, record):
        raise PermissionDenied
    if record.archived_at is not None:
        raise WorkflowError(gettext("This record is already archived."))
    record.archived_at = timezone.now()
    _save_state(record, user=user, reason=gettext("Archived"), fields=["archived_at"])
    security_log.record("record.archived", user=user, target=security_log.target(record))
    return record


@transaction.atomic
def restore(*, record: PublishableModel, user) -> PublishableModel:
    """Bring an archived record back, in the publication state it had."""
    record = _locked(record)
    if not can_archive(user, record):
        raise PermissionDenied
    if record.archived_at is None:
        raise WorkflowError(gettext("This record is not archived."))
    record.archived_at = None
    _save_state(
        record, user=user, reason=gettext("Restored from the archive"), fields=["archived_at"]
    )
    security_log.record("record.restored", user=user, target=security_log.target(record))
    return record


# --- the review queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    model_name: str
    record: PublishableModel
    submitted_at: datetime
    submitted_by: str | None


# What each kind of record needs loaded to be named in the queue without further queries.
_QUEUE_RELATED = {
    "incident": ("location",),
    "detention": ("incident", "person"),
    "statement": ("speaker_person", "speaker_organization"),
}


def with_submission(queryset: models.QuerySet) -> models.QuerySet:
    """Annotate `submitted_at` and `submitted_by`: when the record last went into review and
    who sent it, read from its history (the first in-review history row after the last row
    in another state); `updated_at` when the history does not say."""
    history = queryset.model.history.model
    left_review_later = history.objects.filter(
        id=OuterRef("id"), history_id__gt=OuterRef("history_id")
    ).exclude(publication_state=PublicationState.IN_REVIEW)
    entered_review = (
        history.objects.filter(id=OuterRef("pk"), publication_state=PublicationState.IN_REVIEW)
        .exclude(Exists(left_review_later))
        .order_by("history_id")
    )
    return queryset.annotate(
        submitted_at=Coalesce(Subquery(entered_review.values("history_date")[:1]), F("updated_at")),
        submitted_by=Subquery(entered_review.values("history_user__username")[:1]),
    )


def review_queue() -> list[QueueEntry]:
    """Everything waiting for review, of every kind, the longest-waiting first. One query
    per kind of record."""
    entries: list[QueueEntry] = []
    for model_name, model in PUBLISHABLE_MODELS.items():
        waiting = (
            model.objects.not_archived()
            .filter(publication_state=PublicationState.IN_REVIEW)
            .select_related(*_QUEUE_RELATED.get(model_name, ()))
        )
        for record in with_submission(waiting):
            entries.append(QueueEntry(model_name, record, record.submitted_at, record.submitted_by))
    entries.sort(key=lambda entry: (entry.submitted_at, entry.model_name, entry.record.pk))
    return entries
