"""The Django admin: the admin role's back office, and nobody else's.

Editors and reviewers have `is_staff` (it lets them see drafts, `publishing.can_see_unpublished`)
but not the admin: there the completeness checks and the review step of the staff pages
would not run. Inside the admin the workflow's fields are read-only (a record is published,
unpublished, archived and restored only through `incidents.workflow`), nothing is deleted
(archiving is how records go), a past version is not restored from the admin's history
(`SIMPLE_HISTORY_REVERT_DISABLED`; the staff history pages revert, by reviewers), and no
account is made or unmade superuser here, nor a superuser's account changed by anyone else.
"""

from __future__ import annotations

from functools import update_wrapper

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from cabar_tracker.roles import ADMIN

# The "Publication" fieldset of every publishable record: all of it read-only. The state and
# archiving change through the workflow, the rest is set by save() and by Django.
PUBLICATION_FIELDS = (
    "publication_state",
    "published_at",
    "archived_at",
    "created_at",
    "updated_at",
)
PUBLICATION_READONLY = PUBLICATION_FIELDS


def may_use_admin(user) -> bool:
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or user.groups.filter(name=ADMIN).exists())
    )


class TrackerAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_admin(request.user)

    def admin_view(self, view, cacheable=False):
        """A signed-in member of staff without the admin role gets 403 rather than the
        admin's login form, which would invite them to sign in as someone else."""
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)


class RecordAdmin(SimpleHistoryAdmin):
    """The admin of a domain record: never deleted (archived through the workflow)."""

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def history_form_view(self, request: HttpRequest, object_id, version_id, extra_context=None):
        # SIMPLE_HISTORY_REVERT_DISABLED only hides the button; the form still saves a POST,
        # which would restore an old version past the review step.
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class RecordInline:
    """A mixin for the inlines of domain records: no "delete" checkbox, and no publication
    state to set from a parent's form."""

    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        fields = self.fields or ()
        return readonly + tuple(name for name in ("publication_state",) if name in fields)
