"""Merging two records of one person (a duplicate entered under another spelling).

`merge_persons(keep=…, merge=…, user=…)` moves everything that points at `merge` to `keep`
in one transaction and archives `merge` (never deletes it), so the history of both records
says what happened and the merge can be followed, and undone by hand, from there. Every row
is changed through `save()`, which records who changed it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext

from accounts import reauth, security_log
from cabar_tracker.history import StaleVersionError
from incidents.models import Allegation, Detention, Incident, Statement
from incidents.permalinks import record_merge
from people.models import NameKind, Person, PersonName, Position

MERGE_PERMISSION = "people.merge_person"

# Facts of `merge` copied to `keep` where `keep` has none.
FILLED_IF_EMPTY = ("name_native", "sex", "birth_year", "citizenship", "occupation")


class MergeRefused(Exception):
    """The two records cannot be merged as they are; the message says why and what to do."""


def _note(user, text: str) -> str:
    when = formats.date_format(timezone.localtime(), "j E Y H:i")
    return f"[{when}, {user.get_username()}] {text}"


def _append(existing: str, addition: str) -> str:
    return f"{existing.rstrip()}\n\n{addition}" if existing.strip() else addition


def _save(record, *, user, reason: str, **save_kwargs) -> None:
    record._history_user = user
    record._change_reason = reason[:100]
    record.save(**save_kwargs)


def _locked(person: Person) -> Person:
    return Person._base_manager.select_for_update().get(pk=person.pk)


@transaction.atomic
def merge_persons(
    *,
    keep: Person,
    merge: Person,
    user,
    keep_version: int | None = None,
    merge_version: int | None = None,
) -> Person:
    """Merge `merge` into `keep` and archive `merge`.

    Moves detentions, name variants (and adds `merge`'s names as variants of `keep`),
    statements made and statements about, allegations made, posts and sources; fills
    `keep`'s empty facts from `merge`; a withheld identity stays withheld. Refuses
    (MergeRefused) when both are recorded in the same incident, since one person cannot be
    detained twice in one incident: the duplicate detention must be dealt with first.
    With `keep_version` / `merge_version`, refuses (StaleVersionError) if either record
    changed since the page showed it.
    """
    if not user.has_perm(MERGE_PERMISSION):
        raise PermissionDenied
    # Merging moves a person's records and may show or hide an identity: confirm first.
    reauth.require_recent(gettext("merge persons"))
    if keep.pk == merge.pk:
        raise MergeRefused(gettext("A person cannot be merged with themselves."))
    # Lock in a fixed order, so two merges of the same pair cannot deadlock.
    first, second = sorted([keep, merge], key=lambda person: person.pk)
    locked = {person.pk: _locked(person) for person in (first, second)}
    keep, merge = locked[keep.pk], locked[merge.pk]
    for person, expected in ((keep, keep_version), (merge, merge_version)):
        if expected is not None and person.version != expected:
            raise StaleVersionError(person)
    if keep.archived_at is not None or merge.archived_at is not None:
        raise MergeRefused(gettext("Restore the archived record before merging."))

    shared = list(
        Incident._base_manager.filter(detentions__person=keep)
        .filter(detentions__person=merge)
        .distinct()
        .order_by("pk")
    )
    if shared:
        raise MergeRefused(
            gettext(
                "Both records are detained in the same incident (%(incidents)s). A person is "
                "recorded once per incident: merge or archive one of the two detentions "
                "first, then merge the persons."
            )
            % {"incidents": "; ".join(str(incident) for incident in shared)}
        )

    reason = gettext("Merged %(merged)s (#%(pk)s) into %(kept)s") % {
        "merged": merge.name,
        "pk": merge.pk,
        "kept": keep.name,
    }

    for detention in Detention._base_manager.filter(person=merge):
        detention.person = keep
        _save(detention, user=user, reason=reason, update_fields=["person", "updated_at"])

    for allegation in Allegation._base_manager.filter(alleged_by_person=merge):
        allegation.alleged_by_person = keep
        _save(allegation, user=user, reason=reason, update_fields=["alleged_by_person"])

    _move_positions(keep=keep, merge=merge, user=user, reason=reason)

    for statement in Statement._base_manager.filter(speaker_person=merge):
        statement.speaker_person = keep
        _save(statement, user=user, reason=reason, update_fields=["speaker_person", "updated_at"])
    for statement in Statement._base_manager.filter(people=merge):
        # The links change with history off, then one save records them with the statement.
        statement.skip_history_when_saving = True
        try:
            statement.people.remove(merge)
            statement.people.add(keep)
        finally:
            del statement.skip_history_when_saving
        _save(statement, user=user, reason=reason, update_fields=["updated_at"])

    _move_names(keep=keep, merge=merge, user=user, reason=reason)

    for name in FILLED_IF_EMPTY:
        if not getattr(keep, name) and getattr(merge, name):
            setattr(keep, name, getattr(merge, name))
    # Safety first: if either record withholds the identity, the merged one does.
    keep.identity_withheld = keep.identity_withheld or merge.identity_withheld
    if merge.public_notes.strip() and merge.public_notes.strip() not in keep.public_notes:
        keep.public_notes = _append(keep.public_notes, merge.public_notes.strip())
    merged_note = _note(
        user,
        gettext("Merged with %(name)s (#%(pk)s), who was the same person.")
        % {"name": merge.name, "pk": merge.pk},
    )
    if merge.staff_notes.strip():
        merged_note = f"{merged_note}\n{merge.staff_notes.strip()}"
    keep.staff_notes = _append(keep.staff_notes, merged_note)
    keep.skip_history_when_saving = True
    try:
        keep.sources.add(*merge.sources.all())
    finally:
        del keep.skip_history_when_saving
    _add_name_variants(keep=keep, merge=merge, user=user, reason=reason)
    keep.full_clean()
    _save(keep, user=user, reason=reason)

    # The merged-away record's address leads to the kept one; the public follows it only
    # if that record was public under its own name (incidents.permalinks).
    merge_was_public = merge.is_published and not merge.identity_withheld
    merge.archived_at = timezone.now()
    merge.staff_notes = _append(
        merge.staff_notes,
        _note(
            user,
            gettext("Merged into %(name)s (#%(pk)s); this record is kept only for its history.")
            % {"name": keep.name, "pk": keep.pk},
        ),
    )
    _save(
        merge, user=user, reason=reason, update_fields=["archived_at", "staff_notes", "updated_at"]
    )
    record_merge(keep=keep, merge=merge, was_public=merge_was_public)
    security_log.record(
        "person.merged",
        user=user,
        target=security_log.target(keep),
        merged=security_log.target(merge),
    )
    return keep


def _move_positions(*, keep: Person, merge: Person, user, reason: str) -> None:
    """Posts move to `keep`; a post `keep` already holds (same organization, title and
    start) is the same post: its statements and sources go to `keep`'s, and the copy goes."""
    held = {
        (p.organization_id, p.title, p.start_date): p
        for p in Position._base_manager.filter(person=keep)
    }
    for position in Position._base_manager.filter(person=merge):
        twin = held.get((position.organization_id, position.title, position.start_date))
        if twin is None:
            position.person = keep
            _save(position, user=user, reason=reason, update_fields=["person"])
            continue
        for statement in Statement._base_manager.filter(position=position):
            statement.position = twin
            _save(statement, user=user, reason=reason, update_fields=["position", "updated_at"])
        twin.skip_history_when_saving = True
        try:
            twin.sources.add(*position.sources.all())
        finally:
            del twin.skip_history_when_saving
        if twin.end_date is None and position.end_date is not None:
            twin.end_date = position.end_date
        _save(twin, user=user, reason=reason)
        position._history_user = user
        position.delete()


def _move_names(*, keep: Person, merge: Person, user, reason: str) -> None:
    """Name variants move to `keep`, and names others were mistaken for that belonged to
    `merge` now belong to `keep`. A variant `keep` already has, or one that would now say
    "misidentified as himself", is dropped (its sources go to the variant kept)."""
    existing = {(v.name, v.kind): v for v in PersonName._base_manager.filter(person=keep)}
    for variant in PersonName._base_manager.filter(person=merge):
        twin = existing.get((variant.name, variant.kind))
        if variant.other_person_id == keep.pk or twin is not None:
            if twin is not None:
                twin.sources.add(*variant.sources.all())
            variant._history_user = user
            variant.delete()
            continue
        variant.person = keep
        _save(variant, user=user, reason=reason)
        existing[(variant.name, variant.kind)] = variant
    for variant in PersonName._base_manager.filter(other_person=merge):
        if variant.person_id == keep.pk:
            variant._history_user = user
            variant.delete()
            continue
        variant.other_person = keep
        _save(variant, user=user, reason=reason, update_fields=["other_person"])


def _add_name_variants(*, keep: Person, merge: Person, user, reason: str) -> None:
    """`merge`'s own names become variants of `keep`, so searching them still finds him."""
    wanted = [(merge.name, NameKind.SPELLING)]
    if merge.name_native:
        wanted.append((merge.name_native, NameKind.NATIVE_SCRIPT))
    for name, kind in wanted:
        if name in (keep.name, keep.name_native):
            continue
        if PersonName._base_manager.filter(person=keep, name=name, kind=kind).exists():
            continue
        variant = PersonName(
            person=keep,
            name=name,
            kind=kind,
            note=gettext("Name of the merged record #%(pk)s.") % {"pk": merge.pk},
        )
        variant.full_clean()
        _save(variant, user=user, reason=reason)
