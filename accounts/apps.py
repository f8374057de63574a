from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Staff accounts' security: API tokens, the login guard, session limits, the security
    log, the second factor (django-otp), re-authentication and role changes."""

    name = "accounts"
    verbose_name = _("Accounts and security")

    def ready(self):
        # Connect the receivers: logins, failures and lockouts to the security log, and the
        # start of a session's clock at login.
        from accounts import login_guard, middleware, role_changes  # noqa: F401
