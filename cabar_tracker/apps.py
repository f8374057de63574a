"""The admin's app config: the project's admin site (cabar_tracker/admin_site.py)."""

from django.contrib.admin.apps import AdminConfig


class TrackerAdminConfig(AdminConfig):
    default_site = "cabar_tracker.admin_site.TrackerAdminSite"

    def ready(self):
        super().ready()  # autodiscovers every app's admin.py, django.contrib.auth's included
        from django.contrib import admin

        from cabar_tracker.accounts_admin import register_accounts

        register_accounts(admin.site)
