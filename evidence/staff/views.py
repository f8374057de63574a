"""The staff side of evidence: capture a source now or again, attach files to a record,
make an attachment public or remove it, and run the fixity check. Every action is a POST
from the record's edit page (templates/evidence/_staff_evidence.html) and goes back there;
the services (evidence.capture, evidence.attachments, evidence.fixity) do the work."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cabar_tracker.publishing import may_publish
from cabar_tracker.staff.access import staff_required
from evidence import attachments, capture, fixity
from evidence.models import Attachment, Capture, CaptureStatus
from incidents.models import Detention, Incident, Source

# How many captures a source's edit page lists (the newest).
CAPTURES_SHOWN = 20


class AttachmentForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
    description = forms.CharField(label=gettext_lazy("Description"), max_length=400, required=False)
    is_public = forms.BooleanField(
        label=gettext_lazy("Public when the record is published"), required=False
    )


def evidence_context(request: HttpRequest, record) -> dict:
    """What a record's edit page shows of its evidence: captures (of a source) and
    attachments, with the forms. Two queries."""
    context = {
        "evidence_record": record,
        "evidence_kind": record._meta.model_name,
        "attachments": list(
            Attachment.objects.not_archived()
            .filter(**{record._meta.model_name: record})
            .select_related("uploaded_by")
        ),
        "attachment_form": AttachmentForm(),
        "attachment_max_mb": round(settings.ATTACHMENT_MAX_BYTES / (1024 * 1024), 1),
        "may_publish_attachments": may_publish(request.user),
    }
    if isinstance(record, Source):
        context["captures"] = list(
            Capture.objects.filter(source=record).select_related("requested_by")[:CAPTURES_SHOWN]
        )
    return context


def _back(record) -> HttpResponse:
    return redirect(
        reverse(f"staff:{record._meta.model_name}_edit", args=[record.pk]) + "#evidence"
    )


@staff_required
@require_POST
def capture_source(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source.objects.not_archived(), pk=pk)
    if not source.url:
        messages.error(request, _("This source has no address to capture."))
        return _back(source)
    done = capture.request_capture(source=source, user=request.user)
    _say(request, done)
    return _back(source)


@staff_required
@require_POST
def capture_retry(request: HttpRequest, pk: int) -> HttpResponse:
    failed = get_object_or_404(
        Capture.objects.visible_to(request.user).select_related("source"),
        pk=pk,
        status=CaptureStatus.FAILED,
    )
    done = capture.request_capture(source=failed.source, user=request.user)
    _say(request, done)
    return _back(failed.source)


def _say(request: HttpRequest, done: Capture) -> None:
    if done.status == CaptureStatus.DONE:
        messages.success(request, _("Captured: %(url)s") % {"url": done.url})
    elif done.status == CaptureStatus.FAILED:
        messages.error(request, _("The capture failed: %(reason)s") % {"reason": done.reason})
    else:
        messages.info(request, _("The capture waits for the worker; it is listed below."))


def _attachment_add(request: HttpRequest, record) -> HttpResponse:
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(record)
    try:
        attachment = attachments.attach_file(
            record=record,
            upload=form.cleaned_data["file"],
            user=request.user,
            description=form.cleaned_data["description"],
            is_public=form.cleaned_data["is_public"],
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Attached: %(name)s") % {"name": attachment.original_name})
    return _back(record)


@staff_required
@require_POST
def source_attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _attachment_add(request, get_object_or_404(Source.objects.not_archived(), pk=pk))


@staff_required
@require_POST
def incident_attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _attachment_add(request, get_object_or_404(Incident.objects.not_archived(), pk=pk))


@staff_required
@require_POST
def detention_attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _attachment_add(request, get_object_or_404(Detention.objects.not_archived(), pk=pk))


def _attachment(request: HttpRequest, pk: int) -> Attachment:
    return get_object_or_404(
        Attachment.objects.visible_to(request.user).select_related(
            "source", "incident", "detention"
        ),
        pk=pk,
    )


@staff_required
@require_POST
def attachment_public(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = _attachment(request, pk)
    if not may_publish(request.user):
        raise PermissionDenied
    attachments.set_public(
        attachment=attachment, public=request.POST.get("public") == "1", user=request.user
    )
    return _back(attachment.record)


@staff_required
@require_POST
def attachment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = _attachment(request, pk)
    attachments.remove(attachment=attachment, user=request.user)
    messages.success(request, _("Removed: %(name)s") % {"name": attachment.original_name})
    return _back(attachment.record)


@staff_required
@require_POST
def fixity_run(request: HttpRequest) -> HttpResponse:
    fixity.start_fixity_check()
    messages.info(
        request, _("The evidence check is queued; its result shows here when it is done.")
    )
    return redirect("staff:dashboard")
