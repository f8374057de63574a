"""Create an API token for a staff user and print its key (once; only its digest is kept)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from accounts.tokens import create_token


class Command(BaseCommand):
    help = (
        "Create a named API token for a staff user and print its key on the last line. The "
        "key is shown only now: the database keeps its digest. Revoke tokens on "
        "/account/api-token/."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument("--days", type=int, help="Lifetime (default API_TOKEN_DEFAULT_DAYS).")

    def handle(self, *args, username, name, days, **options):
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not name.strip():
            raise CommandError("Give the token a name (--name).")
        try:
            token, key = create_token(user=user, name=name, days=days)
        except PermissionDenied:
            raise CommandError(f"{username} is not an active staff user.") from None
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(
            f"Token {token.name!r} for {username}, expires {token.expires_at:%Y-%m-%d %H:%M} "
            "UTC. Copy the key now: it is not shown again."
        )
        self.stdout.write(key)
