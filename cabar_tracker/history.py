"""Change history and versions of editable records.

History: django-simple-history (declared on each model as `TrackedHistory`) keeps a typed
shadow table per model (`HistoricalIncident`…) with one row per create, change and delete,
and who made it (HistoryRequestMiddleware). It
records through model signals, so every `save()` path is covered; the paths that skip
signals (`QuerySet.update()`, `bulk_update()`, `bulk_create()`) are covered here by
`HistoryRecordingQuerySet`, which every history-tracked model's manager uses.

Versions: each editable record carries `version`, incremented on every save and update.
A form or an API write says which version it started from; `save_if_current()` refuses the
write when the record has moved on since (the API answers 412, the pages show a conflict),
so nobody overwrites a colleague's change silently.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.db.models.signals import m2m_changed
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# Callbacks told of every bulk write (see `watch_bulk_writes`).
_bulk_write_watchers: list = []


def watch_bulk_writes(callback) -> None:
    """Be told of the rows the bulk paths below write, which send no model signals.

    `callback(model, pks)` is called before the write (after it, for `bulk_create`, whose
    rows have no key before) and may return a function, which is called once the rows are
    written, inside the same transaction. `incidents/public_counts.py` keeps its counts
    this way."""
    if callback not in _bulk_write_watchers:
        _bulk_write_watchers.append(callback)


def _bulk_writing(model, pks) -> list:
    pks = list(pks)
    if not pks:
        return []
    return [after for watch in _bulk_write_watchers if (after := watch(model, pks))]


def _history_manager(model):
    return getattr(model, "history", None)


class TrackedHistory(HistoricalRecords):
    """`HistoricalRecords` that remembers itself on the model it tracks, so the bulk write
    paths below can record entries the way `save()` does (with the m2m links)."""

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        if sender is self.cls:
            sender._tracked_history = self


def _tracked_history(model) -> TrackedHistory | None:
    return getattr(model, "_tracked_history", None)


class HistoryRecordingQuerySet(models.QuerySet):
    """A QuerySet whose bulk writes bump versions and record history like `save()` does."""

    def update(self, **kwargs):
        tracked = _tracked_history(self.model)
        if _has_version(self.model) and "version" not in kwargs:
            kwargs["version"] = F("version") + 1
        if tracked is None:
            return super().update(**kwargs)
        with transaction.atomic(using=self.db):
            pks = list(self.values_list("pk", flat=True))
            afterwards = _bulk_writing(self.model, pks)
            rows = super().update(**kwargs)
            # One full history entry per changed row, links (sources…) included, exactly as
            # save() would record it.
            for obj in self.model._base_manager.using(self.db).filter(pk__in=pks):
                tracked.create_historical_record(obj, "~", using=self.db)
            for after in afterwards:
                after()
        return rows

    update.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None):
        tracked = _tracked_history(self.model)
        objs = list(objs)
        if _has_version(self.model):
            for obj in objs:
                obj.version = (obj.version or 0) + 1
            fields = [*fields, "version"] if "version" not in fields else fields
        with transaction.atomic(using=self.db):
            afterwards = _bulk_writing(self.model, [obj.pk for obj in objs])
            rows = super().bulk_update(objs, fields, batch_size=batch_size)
            if tracked is not None:
                for obj in objs:
                    tracked.create_historical_record(obj, "~", using=self.db)
            for after in afterwards:
                after()
        return rows

    bulk_update.alters_data = True

    def bulk_create(self, objs, *args, record_history: bool = True, **kwargs):
        """`record_history=False` is for generated data only (`generate_synthetic`): rows
        that were never edited by anyone have no history to keep, and writing it would
        double the cost of loading a million rows. Nor are bulk-write watchers told: such a
        load rebuilds what they keep once, at its end."""
        history = _history_manager(self.model) if record_history else None
        objs = list(objs)
        for obj in objs:
            # What save() derives from the dates (representative days, the latest date).
            if hasattr(obj, "normalize_dates"):
                obj.normalize_dates()
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            if history is not None and created and all(obj.pk for obj in created):
                history.bulk_history_create(created)
            if record_history:
                for after in _bulk_writing(self.model, [obj.pk for obj in created if obj.pk]):
                    after()
        return created

    bulk_create.alters_data = True


def _has_version(model) -> bool:
    return any(field.name == "version" for field in model._meta.concrete_fields)


def _has_updated_at(model) -> bool:
    """Whether the model keeps an `updated_at` that every save moves (`auto_now`)."""
    return any(
        field.name == "updated_at" and getattr(field, "auto_now", False)
        for field in model._meta.concrete_fields
    )


class VersionedModel(models.Model):
    version = models.PositiveIntegerField(
        _("version"),
        default=1,
        editable=False,
        help_text=_("Goes up by one on every change; a write based on an older one is refused."),
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # The stored row `_changes_nothing` reads, kept for this save's signal receivers
        # (incidents.permalinks compares the slug and the case with it): no second query.
        self._stored_before_save = None
        if (
            not self._state.adding
            and not getattr(self, "_links_changed", False)
            and self._changes_nothing(kwargs.get("update_fields"))
        ):
            # Saving the values already stored writes nothing: no new version, no history
            # entry, no "last updated" moved (load_demo run twice, a form saved unchanged).
            # Links changed just before (with history off, to be recorded by this save)
            # are a change: `_note_link_change` marks them.
            return
        if not self._state.adding:
            self.version = (self.version or 0) + 1
            if kwargs.get("update_fields") is not None:
                # A save of some fields moves `updated_at` too, as a full save does: the
                # API's `updated_since` (and a case's "last updated") must see every change.
                extra = {"version", "updated_at"} if _has_updated_at(type(self)) else {"version"}
                kwargs["update_fields"] = {*kwargs["update_fields"], *extra}
        super().save(*args, **kwargs)
        self._links_changed = False

    def _changes_nothing(self, update_fields) -> bool:
        """Whether every field this save would write holds the stored value already.

        Bookkeeping (the version, auto-set times) does not count; a save that names only
        bookkeeping fields is a deliberate touch (a link change recorded with its record)
        and is never skipped. One query, on the row's key."""
        fields = [
            field
            for field in self._meta.concrete_fields
            if not field.primary_key
            and field.name != "version"
            and not getattr(field, "auto_now", False)
            and not getattr(field, "auto_now_add", False)
            and (update_fields is None or field.name in update_fields)
        ]
        if self.pk is None or not fields:
            return False
        stored = type(self)._base_manager.filter(pk=self.pk).first()
        self._stored_before_save = stored
        if stored is None:
            return False
        return all(
            _comparable(field, getattr(self, field.attname))
            == _comparable(field, getattr(stored, field.attname))
            for field in fields
        )


def _note_link_change(sender, instance, action, reverse, pk_set, **kwargs):
    """Mark a record whose many-to-many links (its sources…) just changed, so its next
    save records them even if no field of its own changed."""
    if reverse or not isinstance(instance, VersionedModel):
        return
    if action == "post_clear" or (action in ("post_add", "post_remove") and pk_set):
        instance._links_changed = True


m2m_changed.connect(_note_link_change, dispatch_uid="versioned-model-link-change")


def _comparable(field: models.Field, value):
    """A field's value in a form that compares equal to the stored one when it means the
    same: a country by its code, "42.8765" and Decimal("42.876500") as one number."""
    if hasattr(value, "code"):  # a django-countries Country
        return value.code or ""
    try:
        return field.to_python(value)
    except (ValidationError, TypeError, ValueError):  # unreadable: simply "different"
        return value


class StaleVersionError(Exception):
    """The record changed since the writer read it; `current` is the record as it is now."""

    def __init__(self, current: models.Model):
        super().__init__(
            f"{current._meta.verbose_name} {current.pk} is at version {current.version}"
        )
        self.current = current


def save_if_current(instance: VersionedModel, *, expected_version: int, **save_kwargs) -> None:
    """Save `instance` only if the stored record is still at `expected_version`.

    The row is locked while comparing (SELECT … FOR UPDATE on PostgreSQL; SQLite's
    IMMEDIATE transactions serialize writers), so two concurrent saves from the same version
    cannot both pass.
    """
    model = type(instance)
    with transaction.atomic():
        current = model._base_manager.select_for_update().get(pk=instance.pk)
        if current.version != expected_version:
            raise StaleVersionError(current)
        instance.version = current.version
        instance.save(**save_kwargs)
