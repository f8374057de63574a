"""API tokens: create (the key shown once), authenticate, revoke.

Why our own and not django-rest-knox: knox hashes its tokens and expires them, but its
`AuthToken` has no name and no last-used time, which the token page needs so a member of
staff can tell which script holds which token and whether it still runs; knox's own
authentication class also reads only `Token <key>`, where scripts here may send `Bearer`. A
swappable token model and a rewritten authentication class would leave knox contributing a
hash function and a loop. What is here is short: 256-bit random keys, SHA-256 digests looked
up by a unique index, an expiry on every token, a last-used time, revocation that keeps the
row.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import reauth, security_log
from accounts.models import ApiToken

# Keys start with this, so a key pasted in the wrong place (a chat, a repository) is
# recognisable, and a secret scanner can be taught the pattern.
KEY_PREFIX = "ct_"
# How many characters of a key the token page and the log show to tell keys apart.
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 8


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def lifetimes() -> list[int]:
    """The lifetimes (in days) a new token may be given, up to API_TOKEN_MAX_DAYS."""
    longest = settings.API_TOKEN_MAX_DAYS
    return sorted({days for days in (7, 30, 90, 180, 365) if days <= longest} | {longest})


@transaction.atomic
def create_token(*, user, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Make a token for `user`; returns it and its key, which is never available again."""
    if not user.is_active or not user.is_staff:
        # Tokens are for staff scripts; a reader needs none to read the public API.
        raise PermissionDenied
    # A token is a standing key to non-public data: a stolen open session must not make one.
    reauth.require_recent(_("create an API token"))
    days = days or settings.API_TOKEN_DEFAULT_DAYS
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValueError(f"A token lives 1 to {settings.API_TOKEN_MAX_DAYS} days.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=key[:SHOWN_PREFIX_LENGTH],
        digest=digest_of(key),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    security_log.record(
        "token.created", user=user, token_id=token.pk, prefix=token.prefix, days=days
    )
    return token, key


class TokenRefused(Exception):
    """The key authenticates nobody; the message says why, without saying more than the
    holder of the key may know."""


def authenticate_key(key: str) -> tuple[object, ApiToken]:
    """The user and token a key belongs to, or TokenRefused. Notes the time of use (at most
    once a minute per token, so a busy script does not write on every request) and logs it
    then."""
    token = ApiToken.objects.select_related("user").filter(digest=digest_of(key)).first()
    now = timezone.now()
    reason = None
    if token is None or token.revoked_at is not None:
        reason = "unknown or revoked"
    elif token.expires_at <= now:
        reason = "expired"
    elif not token.user.is_active:
        reason = "inactive user"
    if reason is not None:
        shown = key[:SHOWN_PREFIX_LENGTH] if key.startswith(KEY_PREFIX) else ""
        security_log.record(
            "token.rejected",
            user=token.user if token is not None else None,
            prefix=shown,
            reason=reason,
        )
        raise TokenRefused("Token expired." if reason == "expired" else "Invalid token.")
    interval = timedelta(seconds=settings.API_TOKEN_LAST_USED_INTERVAL)
    if token.last_used_at is None or now - token.last_used_at >= interval:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        security_log.record("token.used", user=token.user, token_id=token.pk, prefix=token.prefix)
    return token.user, token


@transaction.atomic
def revoke_token(*, token: ApiToken, user) -> ApiToken:
    """Stop a token from working. Its owner revokes it; so does an admin (any token)."""
    if token.user_id != user.pk and not user.is_superuser:
        raise PermissionDenied
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        security_log.record(
            "token.revoked", user=user, token_id=token.pk, prefix=token.prefix, owner=token.user_id
        )
    return token
