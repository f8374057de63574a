"""Evidence that survives deletion: captures of a source's address, files attached to records,
and the checks that the stored files are still the ones recorded.

A `Capture` is one fetch of a source's address by a background job (evidence.capture): a
WARC file with the request and response, for HTML a full-page screenshot and a PDF, and the
SHA-256 of the payload and of every stored file. An `Attachment` is a file staff attached to
a source, an incident or a detention (evidence.attachments). A `FixityCheck` is one run of
`manage.py verify_evidence` (evidence.fixity), which recomputes every stored hash.

Who sees what is decided here, in the querysets, for every page and download alike: a
capture is public once its source is published; an attachment once its record is published
and it is marked public, never one of a detention of a withheld person.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cabar_tracker.history import HistoryRecordingQuerySet, TrackedHistory
from cabar_tracker.publishing import can_see_unpublished
from incidents.models import Detention, Incident, Source


class CaptureStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    RUNNING = "running", _("Running")
    DONE = "done", _("Captured")
    FAILED = "failed", _("Failed")


class CaptureQuerySet(models.QuerySet):
    def public(self):
        """What an anonymous reader sees: successful captures of published sources."""
        return self.filter(status=CaptureStatus.DONE, source__in=Source.objects.published())

    def visible_to(self, user):
        """Staff see every capture (failed ones too, with their reason) of a source that is
        not archived; everyone else `public()`."""
        if can_see_unpublished(user):
            return self.filter(source__archived_at__isnull=True)
        return self.public()


def capture_path(capture: Capture, name: str) -> str:
    return f"evidence/captures/{capture.source_id}/{capture.pk}/{name}"


class Capture(models.Model):
    """One fetch of a source's address, as a background job ran it."""

    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="captures", verbose_name=_("source")
    )
    # The address as it was when the capture was asked for (the source's may change).
    url = models.URLField(_("address"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=16, choices=CaptureStatus.choices, default=CaptureStatus.QUEUED
    )
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why the capture failed."))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
        help_text=_("Empty when the capture was queued by the source's creation or a command."),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    final_url = models.CharField(_("final address"), max_length=2000, blank=True)
    content_type = models.CharField(_("content type"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    # SHA-256 (hex) of the payload: the body of the final response, as received.
    sha256 = models.CharField(_("SHA-256 of the payload"), max_length=64, blank=True)
    warc = models.FileField(_("WARC file"), max_length=255, blank=True)
    warc_sha256 = models.CharField(max_length=64, blank=True)
    screenshot = models.FileField(_("screenshot"), max_length=255, blank=True)
    screenshot_sha256 = models.CharField(max_length=64, blank=True)
    pdf = models.FileField(_("PDF"), max_length=255, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    # Why there is no screenshot or PDF of an HTML page (Chromium missing, timed out…).
    render_note = models.TextField(_("rendering note"), blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    objects = CaptureQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("capture")
        verbose_name_plural = _("captures")
        indexes = [
            # The captures of one source, newest first (the source pages' list).
            models.Index(fields=["source", "-created_at"], name="capture_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=CaptureStatus.DONE) | (~Q(sha256="") & ~Q(warc="")),
                name="capture_done_has_warc_and_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.url} ({self.get_status_display()}, {self.created_at:%Y-%m-%d %H:%M})"

    @property
    def finished(self) -> bool:
        return self.status in (CaptureStatus.DONE, CaptureStatus.FAILED)

    def stored_files(self) -> list[tuple[str, models.fields.files.FieldFile, str]]:
        """(field name, file, recorded SHA-256) of each file this capture stored."""
        return [
            (name, getattr(self, name), getattr(self, f"{name}_sha256"))
            for name in ("warc", "screenshot", "pdf")
            if getattr(self, name)
        ]


# --- attachments ---------------------------------------------------------------------------


class AttachmentQuerySet(HistoryRecordingQuerySet):
    def not_archived(self):
        return self.filter(archived_at__isnull=True)

    def public(self):
        """What an anonymous reader sees: attachments marked public whose record is
        published; never one of a detention of a person whose identity is withheld (the
        file could show who they are)."""
        published_detentions = Detention.objects.published().filter(person__identity_withheld=False)
        return self.not_archived().filter(
            Q(source__in=Source.objects.published())
            | Q(incident__in=Incident.objects.published())
            | Q(detention__in=published_detentions),
            is_public=True,
        )

    def visible_to(self, user):
        if can_see_unpublished(user):
            return self.not_archived()
        return self.public()


def attachment_path(attachment: Attachment, filename: str) -> str:
    # The name given is never used as the stored name (it may hold anything): the path is
    # made of the hash, and the name is kept in `original_name` for the download.
    return f"evidence/attachments/{attachment.sha256[:2]}/{attachment.sha256}"


class Attachment(models.Model):
    """A file staff attached to one record: a source, an incident or a detention."""

    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    detention = models.ForeignKey(
        Detention, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    description = models.CharField(_("description"), max_length=400, blank=True)
    # Detected from the content (evidence.attachments.detected_type), never from the name.
    content_type = models.CharField(_("detected type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Shown to the public when its record is published (a reviewer decides)."),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # Removing an attachment archives it: the file and its history stay.
    archived_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    objects = AttachmentQuerySet.as_manager()
    history = TrackedHistory()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(source__isnull=False, incident__isnull=True, detention__isnull=True)
                    | Q(source__isnull=True, incident__isnull=False, detention__isnull=True)
                    | Q(source__isnull=True, incident__isnull=True, detention__isnull=False)
                ),
                name="attachment_belongs_to_one_record",
            ),
        ]
        # Each foreign key's own index serves "the attachments of this record".

    def __str__(self) -> str:
        return self.original_name

    @property
    def record(self) -> models.Model:
        return self.source or self.incident or self.detention


# --- fixity --------------------------------------------------------------------------------


class FixityCheck(models.Model):
    """One run of the fixity check (`manage.py verify_evidence` or its job): how many stored
    files were read and which were missing or changed."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    files_checked = models.PositiveIntegerField(_("files checked"))
    # [{"record": "capture 3", "field": "warc", "path": "...", "problem": "missing"|"changed"}]
    problems = models.JSONField(_("problems"), default=list)

    class Meta:
        ordering = ["-finished_at", "-pk"]
        get_latest_by = "finished_at"
        verbose_name = _("fixity check")
        verbose_name_plural = _("fixity checks")

    def __str__(self) -> str:
        when = f"{self.finished_at:%Y-%m-%d %H:%M}"
        return f"{when}: {self.files_checked} files, {len(self.problems)} problems"

    @property
    def ok(self) -> bool:
        return not self.problems
