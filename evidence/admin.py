"""Admin for evidence: read-only. Captures are made by their job, attachments through the
staff pages (evidence.attachments, which checks the size, detects the type and logs), and
fixity checks by `verify_evidence`: the admin only shows them, with each attachment's
history."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from evidence.models import Attachment, Capture, FixityCheck


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Capture)
class CaptureAdmin(ReadOnlyAdmin):
    list_display = ["url", "source", "status", "http_status", "size", "created_at"]
    list_filter = ["status"]
    list_select_related = ["source"]
    search_fields = ["url", "final_url", "sha256"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["original_name", "content_type", "size", "is_public", "uploaded_at"]
    list_filter = ["is_public", "content_type"]
    search_fields = ["original_name", "sha256"]


@admin.register(FixityCheck)
class FixityCheckAdmin(ReadOnlyAdmin):
    list_display = ["finished_at", "files_checked", "ok"]
