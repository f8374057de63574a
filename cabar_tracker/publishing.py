"""The visibility rule shared by every record the public may see.

It lives in the project package because both apps (people and incidents) hold publishable
records and the rule must be one rule: pages, the API and exports all call `published()` or
`visible_to(user)` and never filter on the state themselves.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cabar_tracker.history import HistoryRecordingQuerySet, VersionedModel


class PublicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")


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


class PublishableModel(VersionedModel):
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

    class Meta(VersionedModel.Meta):
        abstract = True

    def save(self, *args, **kwargs):
        if self.publication_state == PublicationState.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "published_at"}
        super().save(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.publication_state == PublicationState.PUBLISHED and self.archived_at is None
