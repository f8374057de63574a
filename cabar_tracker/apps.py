"""The admin's app config: the project's admin site (cabar_tracker/admin_site.py)."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class TrackerAdminConfig(AdminConfig):
    default_site = "cabar_tracker.admin_site.TrackerAdminSite"

    def ready(self):
        super().ready()  # autodiscovers every app's admin.py, django.contrib.auth's included
        from django.contrib import admin

        from cabar_tracker.accounts_admin import register_accounts

        register_accounts(admin.site)


class TrackerConfig(AppConfig):
    """What every app shares and that needs its own table: the idempotency keys of writes
    (cabar_tracker/models.py)."""

    name = "cabar_tracker"
    label = "cabar_tracker"
    verbose_name = "Case tracker"
    default_auto_field = "django.db.models.BigAutoField"
