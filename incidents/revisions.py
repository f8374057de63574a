"""Proposed changes to public records: an editor proposes, a reviewer publishes or returns.

A record the public can see (`ReviewedModel.is_public_record`) is changed directly only by
someone who may publish. Everyone else's change is stored as a `Revision` holding what they
propose and what was public when they proposed it; the live row, and so every page, the
API, exports, feeds, search, counts and the map, stays as it was until a reviewer publishes
the revision. Publishing applies only the fields the proposal changed (a colleague's change
to other fields meanwhile is kept; a change to the same field is a conflict the reviewer is
told of), checks the result as any save would, and publishes any draft source it now cites.

Every door calls `needs_review()` and then `propose()` instead of saving: the staff edit
pages (`cabar_tracker.staff.forms.VersionedModelForm.save_checked`) and the API
(`cabar_tracker.api.viewsets.RecordViewSet.update`). A path that writes the live row anyway
is refused by `ReviewedModel.save()` and the link guard (`ChangeNeedsReview`).
"""

from __future__ import annotations

import copy

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import security_log
from cabar_tracker.publishing import (
    PUBLISH_PERMISSION,
    PublicationState,
    PublishableModel,
    ReviewedModel,
    content_fields,
    content_of,
    loaded_value,
    may_publish,
)
from incidents.models import Revision, RevisionAction, RevisionStatus
from incidents.workflow import (
    PublicationBlocked,
    WorkflowError,
    change_reason,
    missing_for_publication,
    require_permission,
)


class RevisionConflict(WorkflowError):
    """The public record changed since the proposal, in the fields the proposal changes."""

    def __init__(self, revision: Revision, fields: list[str]):
        self.revision = revision
        self.fields = fields
        super().__init__(
            gettext(
                "Since this change was proposed, the public record changed in the same "
                "fields (%(fields)s). Return it so it can be made again on the current "
                "version."
            )
            % {"fields": ", ".join(fields)}
        )


def needs_review(record: models.Model, user) -> bool:
    """Whether `user`'s change to `record` (stored, or a new one) must wait for a reviewer."""
    if not isinstance(record, ReviewedModel) or user is None or may_publish(user):
        return False
    if record.pk is None or record._state.adding:
        return record.review_creation and record.is_public_record()
    return record.stored_public_record() is not None


def pending_revision(record: models.Model) -> Revision | None:
    if record is None or record.pk is None:
        return None
    return Revision.objects.of(record).pending().select_related("created_by").first()


def _parent(record: models.Model) -> models.Model | None:
    """The record on whose page `record` is shown, for a child record (a name variant's
    person, an allegation's detention, a timeline event's incident, a post's holder)."""
    if isinstance(record, PublishableModel):
        return None
    if hasattr(record, "subject"):  # an account: its incident, detention or allegation
        return record.subject
    name = next(
        (n for n in ("person", "detention", "incident") if hasattr(record, f"{n}_id")), None
    )
    return getattr(record, name) if name else None


def _normalized(record: models.Model) -> models.Model:
    # What save() would store: a month-precise date as the month's first day, and so on.
    if hasattr(record, "normalize_dates"):
        record.normalize_dates()
    return record


@transaction.atomic
def propose(
    record: models.Model,
    *,
    user,
    links: dict[str, list[int]] | None = None,
    note: str = "",
    delete: bool = False,
) -> Revision | None:
    """Store `record`'s unsaved values (and `links`, by link name; links not named keep
    their public value) as a proposal by `user`, replacing their or a colleague's earlier
    proposal for the same record (kept, as superseded). Returns None when the proposal is
    the public content itself: nothing waits then. `delete` proposes removing the record."""
    model = type(record)
    parent = _parent(record)
    fields = {
        "content_type": ContentType.objects.get_for_model(model),
        "created_by": user,
        "note": note.strip(),
        "parent_content_type": (
            ContentType.objects.get_for_model(type(parent)) if parent is not None else None
        ),
        "parent_id": parent.pk if parent is not None else None,
    }
    if record.pk is None or record._state.adding:
        proposed = content_of(_normalized(record), links=links or {})
        return Revision.objects.create(action=RevisionAction.CREATE, proposed=proposed, **fields)
    live = model._base_manager.select_for_update().get(pk=record.pk)
    base = content_of(live)
    if delete:
        proposed, action = {}, RevisionAction.DELETE
    else:
        proposed = content_of(_normalized(record), links={**base["links"], **(links or {})})
        action = RevisionAction.CHANGE
    earlier = Revision.objects.of(live).pending().select_for_update()
    earlier.update(status=RevisionStatus.SUPERSEDED)
    if action == RevisionAction.CHANGE and proposed == base:
        return None
    return Revision.objects.create(
        object_id=live.pk,
        action=action,
        base_version=live.version,
        base=base,
        proposed=proposed,
        **fields,
    )


def propose_links_added(record: models.Model, *, user, name: str, ids: list[int]):
    """Propose linking `ids` (sources, say) to a public record, on top of the change that
    already waits for it, if any, so that proposal is carried on rather than replaced."""
    live = type(record)._base_manager.get(pk=record.pk)
    pending = pending_revision(live)
    if pending is not None and pending.action == RevisionAction.CHANGE:
        basis = proposed_record(pending, copy.copy(live))
        links = dict(pending.proposed.get("links", {}))
    else:
        basis = live
        links = {}
    current = links.get(name)
    if current is None:
        current = list(getattr(live, name).values_list("pk", flat=True))
    links[name] = sorted({*current, *ids})
    return propose(basis, user=user, links=links)


def proposed_record(revision: Revision, record: models.Model | None = None) -> models.Model:
    """The record as the proposal would make it (unsaved): the live one (or `record`)
    with the proposal's changed fields. Links are in `revision.proposed["links"]`."""
    model = revision.model
    if record is None:
        record = revision.record if revision.object_id else model()
    by_attname = {field.attname: field for field in content_fields(model)}
    for attname in revision.changed_fields():
        field = by_attname.get(attname)
        if field is not None:
            setattr(record, attname, loaded_value(field, revision.proposed["fields"][attname]))
    return record


def _lock(revision: Revision) -> Revision:
    revision = Revision.objects.select_for_update().get(pk=revision.pk)
    if revision.status != RevisionStatus.PENDING:
        raise WorkflowError(
            gettext("This proposed change is no longer waiting: %(status)s.")
            % {"status": revision.get_status_display()}
        )
    return revision


def _conflicts(revision: Revision, live: models.Model) -> list[str]:
    current = content_of(live)
    conflicts = []
    for name in revision.changed_fields():
        kind = "fields" if name in revision.proposed["fields"] else "links"
        now = current[kind].get(name)
        if now != revision.base[kind].get(name) and now != revision.proposed[kind].get(name):
            conflicts.append(name)
    return conflicts


def _newly_cited_drafts(live: models.Model, revision: Revision) -> list[PublishableModel]:
    """Draft sources the proposal cites that the public record did not: they must be
    published with it, each checked, or the public page would cite a draft."""
    proposed = set(revision.proposed.get("links", {}).get("sources", []))
    before = set(revision.base.get("links", {}).get("sources", []))
    new_ids = proposed - before
    if not new_ids:
        return []
    source_model = live._meta.get_field("sources").related_model
    return list(
        source_model._base_manager.filter(pk__in=new_ids, archived_at__isnull=True)
        .exclude(publication_state=PublicationState.PUBLISHED)
        .select_for_update()
        .order_by("pk")
    )


@transaction.atomic
def publish_revision(*, revision: Revision, user) -> models.Model | None:
    """Apply a proposal to the public record, as `user` (a reviewer). Raises
    `RevisionConflict`, `PublicationBlocked` (a draft source it cites is incomplete) or
    `ValidationError` (the result is invalid); then nothing changes."""
    require_permission(user, PUBLISH_PERMISSION)
    revision = _lock(revision)
    model = revision.model
    reason = change_reason(
        gettext("Published a change proposed by %(user)s") % {"user": revision.created_by}
    )
    if revision.action == RevisionAction.DELETE:
        live = model._base_manager.select_for_update().get(pk=revision.object_id)
        live._history_user = user
        live._change_reason = reason
        live.delete()
        record = None
    else:
        if revision.action == RevisionAction.CREATE:
            live = model()
            conflicts = []
        else:
            live = model._base_manager.select_for_update().get(pk=revision.object_id)
            conflicts = _conflicts(revision, live)
        if conflicts:
            raise RevisionConflict(revision, conflicts)
        proposed_record(revision, live)
        cites = any(field.name == "sources" for field in model._meta.many_to_many)
        drafts = _newly_cited_drafts(live, revision) if cites else []
        problems = [
            (item, missing) for item in drafts if (missing := missing_for_publication(item))
        ]
        if problems:
            raise PublicationBlocked(problems)
        live.full_clean()
        live._history_user = user
        live._change_reason = reason
        links = revision.proposed.get("links", {})
        if revision.action == RevisionAction.CREATE:
            live.save()
            for name, ids in links.items():
                getattr(live, name).set(ids)
        else:
            changed = set(revision.changed_fields())
            live.skip_history_when_saving = True
            try:
                for name, ids in links.items():
                    if name in changed:
                        getattr(live, name).set(ids)
            finally:
                del live.skip_history_when_saving
            live.save()
        for draft in drafts:
            draft.publication_state = PublicationState.PUBLISHED
            draft._history_user = user
            draft._change_reason = change_reason(
                gettext("Published with %(record)s") % {"record": live}
            )
            draft.save(update_fields=["publication_state", "updated_at"])
        record = live
    revision.status = RevisionStatus.PUBLISHED
    revision.object_id = revision.object_id or (record.pk if record is not None else None)
    revision.reviewed_by = user
    revision.reviewed_at = timezone.now()
    revision.save()
    security_log.record(
        "proposal.published",
        user=user,
        target={"model": model._meta.label_lower, "id": revision.object_id},
        proposal=revision.pk,
        action=revision.action,
        proposed_by=revision.created_by_id,
    )
    return record


@transaction.atomic
def return_revision(*, revision: Revision, user, note: str) -> Revision:
    """Send a proposal back to its author with what to change; the public record stays."""
    require_permission(user, PUBLISH_PERMISSION)
    if not note.strip():
        raise WorkflowError(gettext("Say what needs to change before it can be published."))
    # PostgreSQL refuses a NUL byte in text; no note needs control characters.
    if any(ord(char) < 32 and char not in "\n\r\t" for char in note):
        raise WorkflowError(gettext("The note contains control characters; remove them."))
    revision = _lock(revision)
    revision.status = RevisionStatus.RETURNED
    revision.review_note = note.strip()
    revision.reviewed_by = user
    revision.reviewed_at = timezone.now()
    revision.save()
    return revision


def returned_revision(record: models.Model) -> Revision | None:
    """The record's latest proposal, if it was returned and nothing newer waits."""
    if record is None or record.pk is None:
        return None
    latest = Revision.objects.of(record).select_related("reviewed_by").order_by("-pk").first()
    if latest is not None and latest.status == RevisionStatus.RETURNED:
        return latest
    return None
