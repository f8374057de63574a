"""Permanent links: old addresses keep answering, and a case's "last updated" moves with
any part of it (issue 13, item 4).

Old slugs. The about page calls a record's address a permanent identifier, but a slug is
made from a title or a name and staff correct those. Whenever the slug of an incident,
situation, place, person or organization changes, whatever the door (staff page, API,
admin, a published revision, the importer, a bulk `update()`), the old one is kept as a
`SlugRedirect` from here: a `pre_save`/`post_save` pair for `save()`, and a bulk-write
watcher (cabar_tracker.history) for `QuerySet.update()` and `bulk_update()`. A person
merged into another leaves its slugs to the kept person (`record_merge`).

A page whose slug finds no current record asks `moved_to()`, only then (the common, found
path costs nothing more): the record that had the slug, if the reader may see it now, and
never, for the public, a withheld identity or a slug it had while withheld or just before
(the name-derived one). A slug given up by one record and taken by another belongs to the
live record: the old one is found only when the live record is not.

"Last updated". A case page shows its detentions (and their allegations), timeline events,
the statements about it and the sources all of these cite; a change to any of them is a
change to the case, which citations quote, the API's `updated_since` and the feed follow.
`touch_incidents()` moves the incidents' `updated_at` with one UPDATE, which neither
bumps their version nor records history (the child's own history records the change). A
save that changes nothing is skipped before any signal (VersionedModel.save), so it
touches nothing.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.http import Http404, HttpRequest, HttpResponsePermanentRedirect
from django.utils import timezone

from cabar_tracker.history import watch_bulk_writes
from cabar_tracker.publishing import can_see_unpublished
from incidents.models import (
    Account,
    Allegation,
    Detention,
    Incident,
    IncidentEvent,
    Location,
    ReportedGroup,
    Situation,
    SlugRedirect,
    Source,
    Statement,
)
from people.models import Organization, Person, is_withheld_slug

# The records whose public address is made of their slug.
SLUGGED = (Incident, Situation, Location, Person, Organization)


# --- old slugs ----------------------------------------------------------------------------


def _stored_slugs(model, pks) -> dict[int, tuple[str, bool]]:
    """{pk: (slug, withheld)} as stored now."""
    if model is Person:
        rows = Person._base_manager.filter(pk__in=pks).values_list(
            "pk", "slug", "identity_withheld"
        )
        return {pk: (slug, withheld) for pk, slug, withheld in rows}
    rows = model._base_manager.filter(pk__in=pks).values_list("pk", "slug")
    return {pk: (slug, False) for pk, slug in rows}


def remember_old_slug(
    model, pk: int, old_slug: str, *, new_slug: str, withheld_before: bool, withheld_now: bool
) -> None:
    """Keep `old_slug` as an old address of record `pk` (of `model`), now at `new_slug`."""
    if not old_slug or old_slug == new_slug:
        return
    content_type = ContentType.objects.get_for_model(model)
    if withheld_now and not withheld_before:
        # Withheld from now on: none of the slugs it had may lead the public to it, even
        # should it be shown again one day (the migration applies the same rule).
        SlugRedirect.objects.filter(content_type=content_type, object_id=pk).update(public=False)
    public = not (withheld_before or withheld_now or is_withheld_slug(old_slug))
    # The slug may have been given up before by another record: it now leads here.
    SlugRedirect.objects.update_or_create(
        content_type=content_type,
        old_slug=old_slug,
        defaults={"object_id": pk, "public": public, "created_at": timezone.now()},
    )


def _stored_row(sender, instance):
    """The row as stored before this save: the one VersionedModel.save read already, else
    read now."""
    stored = getattr(instance, "_stored_before_save", None)
    if stored is None:
        stored = sender._base_manager.filter(pk=instance.pk).first()
    return stored


def _before_save(sender, instance, **kwargs) -> None:
    instance._slug_before = None
    if instance._state.adding or instance.pk is None:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "slug" not in set(update_fields):
        return
    stored = _stored_row(sender, instance)
    if stored is not None and stored.slug != instance.slug:
        instance._slug_before = (stored.slug, bool(getattr(stored, "identity_withheld", False)))


def _after_save(sender, instance, created, **kwargs) -> None:
    before = getattr(instance, "_slug_before", None)
    instance._slug_before = None
    if before is None:
        return
    remember_old_slug(
        sender,
        instance.pk,
        before[0],
        new_slug=instance.slug,
        withheld_before=before[1],
        withheld_now=bool(getattr(instance, "identity_withheld", False)),
    )


def _slugs_bulk_write(model, pks):
    """`watch_bulk_writes` callback: the slugs before, compared after the write."""
    if model not in SLUGGED:
        return None
    before = _stored_slugs(model, pks)

    def after() -> None:
        for pk, (slug, withheld) in _stored_slugs(model, pks).items():
            old_slug, withheld_before = before.get(pk, (slug, withheld))
            remember_old_slug(
                model,
                pk,
                old_slug,
                new_slug=slug,
                withheld_before=withheld_before,
                withheld_now=withheld,
            )

    return after


def record_merge(*, keep: Person, merge: Person, was_public: bool) -> None:
    """`merge` was merged into `keep`: its slug and old slugs lead to `keep` now. The public
    follows them only if `merge` was public under its own name (`was_public`)."""
    person_type = ContentType.objects.get_for_model(Person)
    SlugRedirect.objects.filter(content_type=person_type, object_id=merge.pk).update(
        object_id=keep.pk
    )
    SlugRedirect.objects.update_or_create(
        content_type=person_type,
        old_slug=merge.slug,
        defaults={
            "object_id": keep.pk,
            "public": was_public and not merge.identity_withheld,
            "created_at": timezone.now(),
        },
    )


def moved_to(user, model, slug: str):
    """The record (of `model`) that had `slug` and that `user` may see now, or None.

    The public is never led by a slug marked not public, nor to a withheld identity."""
    row = (
        SlugRedirect.objects.filter(
            content_type=ContentType.objects.get_for_model(model), old_slug=slug
        )
        .values_list("object_id", "public")
        .first()
    )
    if row is None:
        return None
    object_id, public = row
    for_staff = can_see_unpublished(user)
    if not (public or for_staff):
        return None
    record = model.objects.visible_to(user).filter(pk=object_id).first()
    if record is None or record.slug == slug:
        return None
    if not for_staff and getattr(record, "identity_withheld", False):
        return None
    return record


def redirect_or_404(request: HttpRequest, model, slug: str) -> HttpResponsePermanentRedirect:
    """For a page whose slug found nothing: 301 to the record's current address, keeping
    the query string, or 404 as before."""
    record = moved_to(request.user, model, slug)
    if record is None:
        raise Http404(f"No {model._meta.model_name} matches the given query.")
    url = record.get_absolute_url()
    if request.META.get("QUERY_STRING"):
        url = f"{url}?{request.META['QUERY_STRING']}"
    return HttpResponsePermanentRedirect(url)


# --- "last updated" of a case -------------------------------------------------------------


def touch_incidents(condition: Q) -> None:
    """Move the `updated_at` of the incidents matching `condition` to now: one UPDATE, no
    version, no history (the base manager's plain update, not the recording queryset)."""
    Incident._base_manager.filter(condition).update(updated_at=timezone.now())


def _ids(rows, column: str) -> Q:
    return Q(pk__in=rows.values(column))


def _incidents_of(model, pks) -> Q:
    """Which incidents a change of these rows of `model` is a change to (as stored now),
    as subqueries: one UPDATE, however many ways a case reaches the row."""
    pks = list(pks)
    if model is Detention:
        return _ids(Detention._base_manager.filter(pk__in=pks), "incident_id")
    if model is Allegation:
        return _ids(Allegation._base_manager.filter(pk__in=pks), "detention__incident_id")
    if model is IncidentEvent:
        return _ids(IncidentEvent._base_manager.filter(pk__in=pks), "incident_id")
    if model is ReportedGroup:
        return _ids(ReportedGroup._base_manager.filter(pk__in=pks), "incident_id")
    if model is Account:
        accounts = Account._base_manager.filter(pk__in=pks)
        return (
            _ids(accounts, "incident_id")
            | _ids(accounts, "detention__incident_id")
            | _ids(accounts, "allegation__detention__incident_id")
        )
    if model is Statement:
        links = Statement.incidents.through.objects.filter(statement_id__in=pks)
        return _ids(links, "incident_id")
    if model is Source:
        # Cited by the case itself, or by a part of it its page shows.
        return (
            _ids(Incident.sources.through.objects.filter(source_id__in=pks), "incident_id")
            | _ids(
                Detention.sources.through.objects.filter(source_id__in=pks),
                "detention__incident_id",
            )
            | _ids(
                Allegation.sources.through.objects.filter(source_id__in=pks),
                "allegation__detention__incident_id",
            )
            | _ids(
                IncidentEvent.sources.through.objects.filter(source_id__in=pks),
                "incidentevent__incident_id",
            )
            | _incidents_of(
                Account,
                Account.sources.through.objects.filter(source_id__in=pks).values_list(
                    "account_id", flat=True
                ),
            )
            | _ids(
                ReportedGroup.sources.through.objects.filter(source_id__in=pks),
                "reportedgroup__incident_id",
            )
            | _ids(
                Statement.incidents.through.objects.filter(statement__sources__in=pks),
                "incident_id",
            )
        )
    raise ValueError(model)


PARTS = (Detention, Allegation, Account, IncidentEvent, ReportedGroup, Statement, Source)


def _public_part(record) -> bool:
    """Whether the public sees this part of a case: a change to a draft part (a detention
    not yet published, an allegation on one) must not move the public case's "last
    updated", which would tell a reader that something is being prepared."""
    return bool(record is not None and record.is_public_record())


def _part_before_save(sender, instance, **kwargs) -> None:
    # Whether the part was public before this save: publishing or unpublishing it is a
    # change to the case too.
    instance._was_public = False
    if not instance._state.adding and instance.pk:
        stored = _stored_row(sender, instance)
        instance._was_public = _public_part(stored)
    # A detention or an event moved to another case changes the one it left too.
    instance._incident_before = None
    if sender not in (Detention, IncidentEvent) or instance._state.adding or not instance.pk:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not {"incident", "incident_id"} & set(update_fields):
        return
    stored = _stored_row(sender, instance)
    if stored is not None:
        instance._incident_before = stored.incident_id


def _part_saved(sender, instance, **kwargs) -> None:
    if getattr(instance, "_syncing_accounts", False):
        # An account kept in step with its record's save (incidents.accounts): that save
        # is the change, and moves the case itself.
        return
    if not (getattr(instance, "_was_public", False) or _public_part(instance)):
        return
    condition = _incidents_of(sender, [instance.pk])
    before = getattr(instance, "_incident_before", None)
    if before is not None and before != instance.incident_id:
        condition |= Q(pk=before)
    touch_incidents(condition)


def _part_deleted(sender, instance, **kwargs) -> None:
    # The row is gone: its case is known from the instance.
    if not _public_part(instance):
        return
    if sender in (Detention, IncidentEvent, ReportedGroup):
        touch_incidents(Q(pk=instance.incident_id))
    elif sender is Account:
        touch_incidents(
            Q(pk=instance.incident_id)
            | _ids(Detention._base_manager.filter(pk=instance.detention_id), "incident_id")
            | _ids(
                Allegation._base_manager.filter(pk=instance.allegation_id),
                "detention__incident_id",
            )
        )
    elif sender is Allegation:
        touch_incidents(
            _ids(Detention._base_manager.filter(pk=instance.detention_id), "incident_id")
        )


def _statement_links_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """A statement linked to or unlinked from a case changes the case's page."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse and not instance.is_published:
        return  # a draft statement's links are not on the case's page
    if reverse:  # instance is the incident
        touch_incidents(Q(pk=instance.pk))
    elif action == "pre_clear":
        touch_incidents(_incidents_of(Statement, [instance.pk]))
    elif pk_set:
        touch_incidents(Q(pk__in=pk_set))


def _parts_bulk_write(model, pks):
    """`watch_bulk_writes` callback: the cases of the rows before and after the write."""
    if model not in PARTS:
        return None
    before = set(
        Incident._base_manager.filter(_incidents_of(model, pks)).values_list("pk", flat=True)
    )

    def after() -> None:
        touch_incidents(Q(pk__in=before) | _incidents_of(model, pks))

    return after


def connect() -> None:
    """Called once, from the incidents app's ready()."""
    for model in SLUGGED:
        uid = f"permalinks_slug_{model._meta.label_lower}"
        pre_save.connect(_before_save, sender=model, dispatch_uid=uid)
        post_save.connect(_after_save, sender=model, dispatch_uid=uid)
    for model in PARTS:
        uid = f"permalinks_touch_{model._meta.label_lower}"
        pre_save.connect(_part_before_save, sender=model, dispatch_uid=uid)
        post_save.connect(_part_saved, sender=model, dispatch_uid=uid)
        post_delete.connect(_part_deleted, sender=model, dispatch_uid=uid)
    m2m_changed.connect(
        _statement_links_changed,
        sender=Statement.incidents.through,
        dispatch_uid="permalinks_statement_incidents",
    )
    watch_bulk_writes(_slugs_bulk_write)
    watch_bulk_writes(_parts_bulk_write)
