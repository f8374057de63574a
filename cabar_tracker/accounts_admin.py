"""Staff accounts in the admin (see cabar_tracker/admin_site.py). A module of its own:
django.contrib.auth.admin registers its models when imported, which needs the admin site
defined first."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest


class StaffAccountAdmin(UserAdmin):
    """Accounts: roles are groups (`cabar_tracker.roles`). Superuser status and single
    permissions are read-only here (`manage.py createsuperuser` makes a superuser), a
    superuser's account is changed only by a superuser, and no account is deleted (a leaver
    is made inactive, so the history keeps naming who did what)."""

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return (*super().get_readonly_fields(request, obj), "is_superuser", "user_permissions")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ApiTokenAdmin(admin.ModelAdmin):
    """Every API token, read-only: made and revoked on the token page (the key exists only
    in the answer that made it). Superusers see it."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at")
    list_filter = ("revoked_at",)
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    exclude = ("digest",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def register_accounts(site: admin.AdminSite) -> None:
    """Replace django.contrib.auth's account admin with `StaffAccountAdmin`, and DRF's
    clear-text tokens (no longer used) with the hashed ones."""
    from rest_framework.authtoken.models import TokenProxy

    from accounts.models import ApiToken

    site.unregister(get_user_model())
    site.register(get_user_model(), StaffAccountAdmin)
    if site.is_registered(TokenProxy):
        site.unregister(TokenProxy)
    site.register(ApiToken, ApiTokenAdmin)
