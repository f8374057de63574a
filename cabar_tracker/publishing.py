"""The visibility rule shared by every record the public may see.

It lives in the project package because both apps (people and incidents) hold publishable
records and the rule must be one rule: pages, the API and exports all call `published()` or
`visible_to(user)` and never filter on the state themselves.
"""

from __future__ import annotations

import datetime
import decimal

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models.signals import m2m_changed
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cabar_tracker.history import HistoryRecordingQuerySet, VersionedModel

# The reviewer's permission: publish, unpublish, restore, and the other changes that decide
# what the public sees (`PublishableModel.reviewer_only_changes`).
PUBLISH_PERMISSION = "incidents.publish_record"


class PublicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")


def acting_user(record: models.Model):
    """Who is saving `record`: the user a service named (`record._history_user`, as the
    history does), else the user of the request being served (simple_history's middleware
    keeps it, API token users included, as DRF sets them on the request), else None: no
    request and nobody named is the operator's own shell, a migration or a command."""
    user = getattr(record, "_history_user", None)
    if user is None:
        request = getattr(HistoricalRecords.context, "request", None)
        user = getattr(request, "user", None)
    return user


def may_publish(user) -> bool:
    return bool(user is not None and user.is_active and user.has_perm(PUBLISH_PERMISSION))


class ReviewerOnlyChange(PermissionDenied):
    """A save would change what the public sees in a way only a reviewer may decide."""

    def __init__(self, changes: list[str]):
        self.changes = changes
        super().__init__(
            gettext("Only a reviewer may do this: %(changes)s.") % {"changes": "; ".join(changes)}
        )


def can_see_unpublished(user) -> bool:
    """Staff (editors, reviewers, admins) see drafts and staff-only fields; nobody else."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def shown_to(record, user) -> bool:
    """Whether a publishable record reached through a relation may be shown to this user.

    The same rule as `visible_to(user)`, applied to a row already loaded: staff see anything
    not archived, everyone else only published records. Records that are not publishable
    (places, organizations) are always shown.
    """
    if record is None:
        return False
    if not hasattr(record, "publication_state"):
        return True
    if can_see_unpublished(user):
        return record.archived_at is None
    return record.is_published


def name_shown_to(person, user) -> bool:
    """Whether this person's real name (and so any name variant of theirs) may be shown."""
    if can_see_unpublished(user):
        return True
    return shown_to(person, user) and not person.identity_withheld


# --- public records change only through review ----------------------------------------------

# What a revision never carries: bookkeeping the save sets, and the publication state and
# archiving, which change only through the workflow (incidents.workflow).
NOT_CONTENT = frozenset(
    {"version", "created_at", "updated_at", "published_at", "publication_state", "archived_at"}
)


def content_fields(model) -> list[models.Field]:
    """The fields an edit can change: concrete, editable, not the key, not bookkeeping."""
    return [
        field
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in NOT_CONTENT
    ]


def link_fields(model) -> list[models.ManyToManyField]:
    return list(model._meta.many_to_many)


def _json_value(field: models.Field, record: models.Model):
    """A field's value as JSON stores it (and `loaded_value` reads it back)."""
    value = getattr(record, field.attname)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | float):
        return str(value)
    if hasattr(value, "code"):  # a django-countries Country
        return value.code or ""
    return str(value)


def loaded_value(field: models.Field, value):
    """The stored-JSON value of a field as the model holds it."""
    if value is None:
        return None
    return field.to_python(value)


def content_of(record: models.Model, *, links: dict | None = None) -> dict:
    """What a record says, as JSON: `{"fields": {attname: value}, "links": {name: [ids]}}`.

    `links` gives the many-to-many links (an unsaved record has none stored); without it
    they are read from the database, one query per link field."""
    fields = {field.attname: _json_value(field, record) for field in content_fields(record)}
    if links is None:
        links = {}
        if record.pk is not None:
            for field in link_fields(type(record)):
                links[field.name] = getattr(record, field.name).values_list("pk", flat=True)
    return {
        "fields": fields,
        "links": {name: sorted(int(pk) for pk in ids) for name, ids in links.items()},
    }


class ChangeNeedsReview(PermissionDenied):
    """A user who may not publish tried to change a public record directly. Their change is
    proposed for review instead (incidents.revisions); a path that writes the live row
    without going through it is refused here rather than reaching the public."""

    def __init__(self, record: models.Model):
        self.record = record
        super().__init__(
            gettext(
                "%(record)s is public: a change to it waits for a reviewer and cannot be "
                "saved directly."
            )
            % {"record": record._meta.verbose_name}
        )


class ReviewedModel(VersionedModel):
    """A record the public may see, whose changes by an editor wait for a reviewer.

    `is_public_record()` says whether the stored row is public now (a published record; a
    name variant of a published person; a place, which is always public). While it is,
    `save()`, `delete()` and the many-to-many links refuse a change by a user who may not
    publish: the doors propose such a change as a revision (incidents.revisions), and one
    that does not is stopped here instead of changing what the public sees. The operator's
    shell and commands run as nobody and are not stopped (`acting_user`)."""

    class Meta(VersionedModel.Meta):
        abstract = True

    # Whether adding one is a change to a public record: a name variant of a published
    # person is (it shows on the person's page at once); a new place or a new incident is
    # not (a new incident starts as a draft; places are left to their own rule).
    review_creation = False

    def is_public_record(self) -> bool:
        return True

    def stored_public_record(self):
        """The stored row, if the public can see it now; else None."""
        if self.pk is None or self._state.adding:
            return None
        stored = type(self)._base_manager.filter(pk=self.pk).first()
        if stored is None or not stored.is_public_record():
            return None
        return stored

    def check_public_change(self, user) -> None:
        if user is None or may_publish(user):
            return
        if self._state.adding:
            if self.review_creation and self.is_public_record():
                raise ChangeNeedsReview(self)
            return
        stored = self.stored_public_record()
        if stored is not None and content_of(self, links={}) != content_of(stored, links={}):
            raise ChangeNeedsReview(self)

    def save(self, *args, **kwargs):
        self.check_public_change(acting_user(self))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        user = acting_user(self)
        if user is not None and not may_publish(user) and self.stored_public_record():
            raise ChangeNeedsReview(self)
        return super().delete(*args, **kwargs)


def _refuse_public_link_change(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Links (sources, the people a statement is about) of a public record change only
    through review, from either side of the link."""
    if action not in {"pre_add", "pre_remove", "pre_clear"}:
        return
    user = acting_user(instance)
    if user is None or may_publish(user):
        return
    if not reverse:
        records = [instance] if isinstance(instance, ReviewedModel) else []
    elif issubclass(model, ReviewedModel):
        if pk_set is None:  # a reverse clear: every record linked now
            field = next(f for f in model._meta.many_to_many if f.remote_field.through is sender)
            pk_set = set(
                model._base_manager.filter(**{field.name: instance}).values_list("pk", flat=True)
            )
        records = list(model._base_manager.filter(pk__in=pk_set or ()))
    else:
        records = []
    for record in records:
        if record.stored_public_record() is not None:
            raise ChangeNeedsReview(record)


def guard_public_links(model) -> None:
    """Connect the link guard to every many-to-many table of `model` (apps' ready())."""
    for field in model._meta.many_to_many:
        m2m_changed.connect(
            _refuse_public_link_change,
            sender=field.remote_field.through,
            dispatch_uid=f"public-links-{field.remote_field.through._meta.label}",
        )


class PublishableQuerySet(HistoryRecordingQuerySet):
    def not_archived(self):
        return self.filter(archived_at__isnull=True)

    def published(self):
        """What an anonymous reader may see: published and not archived."""
        return self.filter(publication_state=PublicationState.PUBLISHED, archived_at__isnull=True)

    def visible_to(self, user):
        if can_see_unpublished(user):
            return self.not_archived()
        return self.published()


class PublishableModel(ReviewedModel):
    """Publication state, archiving (records are never deleted), version and timestamps."""

    publication_state = models.CharField(
        _("publication state"),
        max_length=16,
        choices=PublicationState.choices,
        default=PublicationState.DRAFT,
        db_index=True,
    )
    published_at = models.DateTimeField(_("first published at"), null=True, blank=True)
    archived_at = models.DateTimeField(
        _("archived at"),
        null=True,
        blank=True,
        help_text=_("Archived records leave the public site and the API but can be restored."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = PublishableQuerySet.as_manager()

    class Meta(ReviewedModel.Meta):
        abstract = True

    def is_public_record(self) -> bool:
        return self.is_published

    # Fields besides the publication state and archiving whose change only a reviewer may
    # make (see `reviewer_only_changes`); each subclass adds its own.
    reviewer_guarded_fields: tuple[str, ...] = ()

    def reviewer_only_changes(self, stored: dict | None) -> list[str]:
        """What this save would change that only a reviewer may (empty if nothing), given
        the stored row's guarded fields (None for a new record). Publishing, unpublishing,
        and archiving or restoring a published record decide what the public sees."""
        changes = []
        published = self.publication_state == PublicationState.PUBLISHED
        was_published = (
            stored is not None and stored["publication_state"] == PublicationState.PUBLISHED
        )
        if published and not was_published:
            changes.append(gettext("publish a record"))
        if was_published and not published:
            changes.append(gettext("unpublish a record"))
        # Archiving takes a published record off the site, restoring puts it back; for a
        # draft both are the editor's own housekeeping (incidents.workflow.can_archive).
        if stored is not None and published and was_published:
            if stored["archived_at"] is not None and self.archived_at is None:
                changes.append(gettext("restore a published record from the archive"))
            if stored["archived_at"] is None and self.archived_at is not None:
                changes.append(gettext("archive a published record"))
        return changes

    def check_reviewer_only_changes(self, user) -> None:
        """Raise `ReviewerOnlyChange` if `user` may not make this save's changes. Every path
        that saves a record passes here (`save()` calls it), so no door skips it: staff
        pages, the admin, the API, the importer; forms and serializers call it first only to
        put the refusal on the page."""
        if user is None or may_publish(user):
            return
        stored = None
        if self.pk is not None and not self._state.adding:
            stored = (
                type(self)
                ._base_manager.filter(pk=self.pk)
                .values("publication_state", "archived_at", *self.reviewer_guarded_fields)
                .first()
            )
        changes = self.reviewer_only_changes(stored)
        if changes:
            raise ReviewerOnlyChange(changes)

    def save(self, *args, **kwargs):
        self.check_reviewer_only_changes(acting_user(self))
        if self.publication_state == PublicationState.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "published_at"}
        super().save(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.publication_state == PublicationState.PUBLISHED and self.archived_at is None
