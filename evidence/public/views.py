"""Downloads of evidence: the files of captures and attachments.

Every file is sent as a download from its own path, never shown inline: Content-Disposition
attachment, X-Content-Type-Options nosniff and a Content-Security-Policy that sandboxes
whatever a browser might still make of it, so an uploaded HTML or SVG file can never run
script in the site's origin. Who may download is the querysets' rule (evidence.models): the
public gets the files of captures of published sources and of public attachments of
published records; staff everything not archived; anyone else a 404.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from cabar_tracker.parameters import refuse_unknown_parameters
from evidence.models import Attachment, Capture

# The capture's files: field, download name, type.
CAPTURE_FILES = {
    "warc": ("capture-{pk}.warc.gz", "application/warc"),
    "screenshot": ("capture-{pk}.png", "image/png"),
    "pdf": ("capture-{pk}.pdf", "application/pdf"),
}
SANDBOX_POLICY = "sandbox; default-src 'none'"


def download(name: str, *, filename: str, content_type: str) -> FileResponse:
    try:
        stored = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        stored, as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_POLICY
    return response


def capture_file(request: HttpRequest, pk: int, part: str) -> HttpResponse:
    if refused := refuse_unknown_parameters(request, ()):
        return refused
    capture = get_object_or_404(Capture.objects.visible_to(request.user), pk=pk)
    stored = getattr(capture, part)
    if not stored:
        raise Http404
    filename, content_type = CAPTURE_FILES[part]
    return download(stored.name, filename=filename.format(pk=pk), content_type=content_type)


def attachment_file(request: HttpRequest, pk: int) -> HttpResponse:
    if refused := refuse_unknown_parameters(request, ()):
        return refused
    attachment = get_object_or_404(Attachment.objects.visible_to(request.user), pk=pk)
    return download(
        attachment.file.name,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
