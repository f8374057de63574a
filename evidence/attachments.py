"""Files staff attach to a record (a source, an incident, a detention): the one door for
adding, publishing and removing them, whichever page or command asks.

The type is detected from the content (`filetype`, which reads the file's magic numbers),
never from the name or the type the browser claims; what it does not recognise (HTML, SVG,
plain text…) is stored as application/octet-stream. Files are always served as downloads
(evidence/public/views.py), so even a recognised type never runs in the site's pages.

An attachment is public only when a reviewer marks it so and its record is published
(`Attachment.objects.public()`); an editor's upload starts staff-only.
"""

from __future__ import annotations

import hashlib

import filetype
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import security_log
from cabar_tracker.publishing import may_publish
from evidence.models import Attachment
from incidents.models import Detention, Incident, Source

# The records files may be attached to, by the name of Attachment's field.
ATTACHABLE = {"source": Source, "incident": Incident, "detention": Detention}
# How much of the start of a file the type is read from (filetype needs 261 bytes).
SNIFF_BYTES = 8192
FALLBACK_TYPE = "application/octet-stream"


def detected_type(head: bytes) -> str:
    kind = filetype.guess(head)
    return kind.mime if kind is not None else FALLBACK_TYPE


def attach_file(*, record, upload, user, description: str = "", is_public: bool = False):
    """Store `upload` (a Django File) as an attachment of `record`. Only a reviewer may make
    it public at once. Raises ValidationError (too large, empty) or PermissionDenied."""
    field = next((name for name, model in ATTACHABLE.items() if isinstance(record, model)), None)
    if field is None:
        raise ValueError(f"Files cannot be attached to {record!r}.")
    if is_public and not may_publish(user):
        raise PermissionDenied(_("Only a reviewer may make an attachment public."))
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(size)s MB (ATTACHMENT_MAX_BYTES).")
            % {"size": round(settings.ATTACHMENT_MAX_BYTES / (1024 * 1024), 1)}
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        **{field: record},
        original_name=(upload.name or "file").rsplit("/", 1)[-1][:255],
        description=description[:400],
        content_type=detected_type(head),
        size=upload.size,
        sha256=digest.hexdigest(),
        is_public=is_public,
        uploaded_by=user,
    )
    attachment._history_user = user
    with transaction.atomic():
        attachment.file.save(attachment.original_name, upload, save=False)
        attachment.full_clean()
        attachment.save()
    security_log.record(
        "attachment.uploaded",
        user=user,
        target=security_log.target(attachment),
        record=security_log.target(record),
        public=is_public,
    )
    return attachment


def set_public(*, attachment: Attachment, public: bool, user) -> Attachment:
    """Show an attachment to the public with its record, or stop showing it: a reviewer's."""
    if not may_publish(user):
        raise PermissionDenied(_("Only a reviewer may decide whether an attachment is public."))
    if attachment.is_public != public:
        attachment.is_public = public
        attachment._history_user = user
        attachment.save(update_fields=["is_public"])
        security_log.record(
            "attachment.visibility_changed",
            user=user,
            target=security_log.target(attachment),
            public=public,
        )
    return attachment


def remove(*, attachment: Attachment, user) -> Attachment:
    """Remove an attachment from its record: archived (the file and its history stay). A
    public one takes something off the public site, which only a reviewer may do."""
    if attachment.is_public and not may_publish(user):
        raise PermissionDenied(_("Only a reviewer may remove a public attachment."))
    if attachment.archived_at is None:
        attachment.archived_at = timezone.now()
        attachment._history_user = user
        attachment.save(update_fields=["archived_at"])
        security_log.record(
            "attachment.archived", user=user, target=security_log.target(attachment)
        )
    return attachment
