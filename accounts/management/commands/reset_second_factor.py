"""Remove every second factor of a staff account, for the operator (the admin role does it
on /staff/accounts/). For when the only admin has lost their phone, key and recovery codes."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import mfa


class Command(BaseCommand):
    help = (
        "Remove every second factor (authenticator apps, passkeys, recovery codes) of a staff "
        "account. They enrol again at their next login, after their password. Logged in the "
        "security log."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        removed = mfa.reset(user)
        self.stdout.write(
            f"Removed {removed} second factor(s) and recovery code sets of {username}; "
            "they enrol again at their next login."
        )
