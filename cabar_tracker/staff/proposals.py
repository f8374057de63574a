"""Staff pages for proposed changes to public records (incidents.revisions): the diff
against what is public, on the edit page and in the review queue, and the reviewer's
publish and return buttons."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from cabar_tracker.publishing import PUBLISH_PERMISSION, loaded_value
from cabar_tracker.staff.access import staff_required
from cabar_tracker.staff.history_views import ValueText, edit_url
from incidents import revisions
from incidents.models import Revision, RevisionAction, RevisionStatus
from incidents.workflow import PublicationBlocked, WorkflowError

# Texts at least this long are compared word by word.
LONG_TEXT = 60


@dataclass
class ProposedChange:
    label: str
    public: str
    proposed: str
    # For long texts: the proposed text with removed and inserted words marked.
    words: SafeString | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class ProposalView:
    revision: Revision
    subject: str
    changes: list[ProposedChange]
    edit_url: str | None


def word_diff(old: str, new: str) -> SafeString:
    """`new` with the words removed from `old` in <del> and those inserted in <ins>."""
    old_words, new_words = old.split(), new.split()
    parts = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape(" ".join(new_words[b1:b2])))
            continue
        if a2 > a1:
            parts.append(f"<del>{escape(' '.join(old_words[a1:a2]))}</del>")
        if b2 > b1:
            parts.append(f"<ins>{escape(' '.join(new_words[b1:b2]))}</ins>")
    return mark_safe(" ".join(parts))  # noqa: S308 - every word above is escaped


def _model_field(model, name: str) -> models.Field | None:
    for candidate in model._meta.get_fields():
        if getattr(candidate, "attname", None) == name or candidate.name == name:
            return candidate
    return None


def _load_subjects(proposals: list[Revision]) -> None:
    """Load every proposal's record and parent, one query per kind of record, with what
    their names need (a detention is named by its person and incident)."""
    wanted: dict[type[models.Model], set[int]] = {}
    for revision in proposals:
        if revision.object_id:
            wanted.setdefault(revision.model, set()).add(revision.object_id)
        if revision.parent_id:
            wanted.setdefault(revision.parent_content_type.model_class(), set()).add(
                revision.parent_id
            )
    loaded = {}
    for model, pks in wanted.items():
        related = [f.name for f in model._meta.concrete_fields if f.many_to_one]
        for row in model._base_manager.filter(pk__in=pks).select_related(*related):
            loaded[(model, row.pk)] = row
    for revision in proposals:
        revision.loaded_record = loaded.get((revision.model, revision.object_id))
        revision.loaded_parent = (
            loaded.get((revision.parent_content_type.model_class(), revision.parent_id))
            if revision.parent_id
            else None
        )


def describe(proposals: list[Revision]) -> list[ProposalView]:
    """The proposals with their changes as readable rows; related records are named in
    one query per kind of record for all of them together."""
    _load_subjects(proposals)
    text = ValueText()
    wanted: list[tuple[Revision, list[tuple[models.Field, object, object, str | None]]]] = []
    for revision in proposals:
        model = revision.model
        rows = []
        names = (
            revision.changed_fields()
            if revision.action != RevisionAction.DELETE
            else list(revision.base.get("fields", {}))
        )
        for name in names:
            model_field = _model_field(model, name)
            if model_field is None:
                continue
            kind = "links" if model_field.many_to_many else "fields"
            old = revision.base.get(kind, {}).get(name)
            new = revision.proposed.get(kind, {}).get(name)
            if not model_field.many_to_many:
                try:
                    old = loaded_value(model_field, old)
                    new = loaded_value(model_field, new)
                except ValidationError:
                    pass
            precision = f"{name}_precision"
            rows.append((model_field, old, new, precision))
            text.want(model_field, old)
            text.want(model_field, new)
        wanted.append((revision, rows))
    text.resolve()
    views = []
    for revision, rows in wanted:
        changes = []
        for model_field, old, new, precision in rows:
            old_precision = revision.base.get("fields", {}).get(precision)
            new_precision = revision.proposed.get("fields", {}).get(precision)
            change = ProposedChange(
                label=capfirst(str(model_field.verbose_name)),
                public=text.text(model_field, old, old_precision),
                proposed=text.text(model_field, new, new_precision),
            )
            if model_field.many_to_many:
                change.added = text.names(model_field, set(new or ()) - set(old or ()))
                change.removed = text.names(model_field, set(old or ()) - set(new or ()))
            elif (
                isinstance(new, str)
                and isinstance(old, str)
                and max(len(old), len(new)) >= LONG_TEXT
            ):
                change.words = word_diff(old, new)
            changes.append(change)
        views.append(
            ProposalView(
                revision=revision,
                subject=_subject(revision),
                changes=changes,
                edit_url=edit_url(revision.loaded_record) if revision.loaded_record else None,
            )
        )
    return views


def _subject(revision: Revision) -> str:
    kind = capfirst(str(revision.model._meta.verbose_name))
    record = getattr(revision, "loaded_record", None)
    if revision.action == RevisionAction.CREATE:
        parent = getattr(revision, "loaded_parent", None)
        return gettext("New %(kind)s of %(parent)s") % {"kind": kind.lower(), "parent": parent}
    return f"{kind}: {record}" if record is not None else kind


def proposals_for(record: models.Model) -> dict:
    """What the edit page shows of proposals, in one query: the one waiting for this record
    (`pending`, which the form opens with) and those for its rows (name variants…), and the
    latest one returned with the reviewer's note."""
    if record is None or record.pk is None:
        return {}
    rows = list(
        Revision.objects.about(record)
        .filter(
            Q(status=RevisionStatus.PENDING)
            | Q(
                status=RevisionStatus.RETURNED,
                **Revision.objects.keys(record, "content_type", "object_id"),
            )
        )
        .select_related("created_by", "reviewed_by", "content_type", "parent_content_type")
        .order_by("-pk")
    )
    own = [row for row in rows if row.object_id == record.pk and row.model is type(record)]
    pending = next((row for row in own if row.status == RevisionStatus.PENDING), None)
    returned = next((row for row in own if row.status == RevisionStatus.RETURNED), None)
    waiting = [row for row in reversed(rows) if row.status == RevisionStatus.PENDING]
    return {
        "pending": pending,
        "proposals": describe(waiting),
        "returned_proposal": returned if pending is None else None,
    }


def _back(request: HttpRequest, revision: Revision) -> HttpResponse:
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "staff:review_queue"
    return redirect(target)


def tell_why_not_published(
    request: HttpRequest, refusal: Exception, *, lacks: str, invalid: str, refused: str = ""
) -> None:
    """Put on the page why publishing was refused, one message per record that lacks
    something; `lacks`, `invalid` and `refused` are the caller's wording (with
    %(record)s and %(missing)s, %(errors)s, %(reason)s), so the page says what was kept."""
    if isinstance(refusal, PublicationBlocked):
        for record, missing in refusal.problems:
            messages.error(request, lacks % {"record": record, "missing": ", ".join(missing)})
    elif isinstance(refusal, ValidationError):
        messages.error(request, invalid % {"errors": " ".join(refusal.messages)})
    else:
        messages.error(request, refused % {"reason": refusal} if refused else str(refusal))


@staff_required
@require_POST
@permission_required(PUBLISH_PERMISSION, raise_exception=True)
def publish_proposal(request: HttpRequest, pk: int) -> HttpResponse:
    revision = get_object_or_404(Revision, pk=pk)
    _load_subjects([revision])
    try:
        revisions.publish_revision(revision=revision, user=request.user)
    except (PublicationBlocked, ValidationError, WorkflowError) as refusal:
        tell_why_not_published(
            request,
            refusal,
            lacks=gettext("Not published: %(record)s lacks %(missing)s."),
            invalid=gettext("Not published: %(errors)s"),
        )
    else:
        messages.success(
            request, gettext("Published: %(subject)s.") % {"subject": _subject(revision)}
        )
    return _back(request, revision)


@staff_required
@require_POST
@permission_required(PUBLISH_PERMISSION, raise_exception=True)
def return_proposal(request: HttpRequest, pk: int) -> HttpResponse:
    revision = get_object_or_404(Revision, pk=pk)
    _load_subjects([revision])
    try:
        revisions.return_revision(
            revision=revision, user=request.user, note=request.POST.get("note", "")
        )
    except WorkflowError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            gettext("Returned to its author: %(subject)s.") % {"subject": _subject(revision)},
        )
    return _back(request, revision)


def waiting_proposals() -> list[ProposalView]:
    """Every proposal waiting for a reviewer, grouped by the record whose page shows it,
    the longest-waiting group first."""
    waiting = list(
        Revision.objects.pending()
        .select_related("created_by", "content_type", "parent_content_type")
        .order_by("created_at", "pk")
    )
    groups: dict[tuple, list[Revision]] = {}
    for revision in waiting:
        if revision.parent_id is not None:
            key = (revision.parent_content_type_id, revision.parent_id)
        else:
            key = (revision.content_type_id, revision.object_id)
        groups.setdefault(key, []).append(revision)
    ordered = [revision for group in groups.values() for revision in group]
    return describe(ordered)
