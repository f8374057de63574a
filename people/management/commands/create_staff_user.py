"""Create a staff account with one role (editor, reviewer or admin)."""

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cabar_tracker.roles import ROLES


class Command(BaseCommand):
    help = (
        "Create a staff user with a role: editor (enters and edits drafts), reviewer "
        "(also publishes, reverts, merges persons) or admin (also manages staff accounts). "
        "The password is asked for unless --password-from-env names a variable holding it."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-from-env",
            metavar="VARIABLE",
            help="Read the password from this environment variable (for scripts).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check, change nothing.")

    def handle(self, *args, username, role, email, password_from_env, dry_run, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        if password_from_env:
            password = os.environ.get(password_from_env)
            if not password:
                raise CommandError(f"The variable {password_from_env} is empty or not set.")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        user = User(username=username, email=email, is_staff=True)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        with transaction.atomic():
            user.set_password(password)
            user.is_superuser = False
            user.save()
            user.groups.add(Group.objects.get(name=role))
            if dry_run:
                transaction.set_rollback(True)
        if dry_run:
            self.stdout.write(self.style.WARNING(f"Dry run: {username} ({role}) not created."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Created staff user {username} ({role})."))
