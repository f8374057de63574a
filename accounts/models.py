"""API tokens kept only as hashes, and the security log's table.

**Tokens.** A key is 256 random bits, shown once when it is made; the database keeps its
SHA-256 digest and a short prefix to tell keys apart on the token page. A plain (unsalted,
fast) hash is enough here, unlike for passwords: nobody can guess a 256-bit random key, so
there is nothing to slow down, and the digest can be looked up by an index. Whoever reads the
table (a backup, a leaked dump) gets no working key. Revoking keeps the row (revoked_at) so
the log's references to it stay readable.

**Security events.** One row per event (`accounts.security_log.record`), searchable on the
admin's page. Nothing secret is stored: no password, key, session key or request body; an
unknown username typed at the login form is kept as a fingerprint (it may be a password typed
in the wrong box).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiTokenQuerySet(models.QuerySet):
    def active(self, now=None) -> ApiTokenQuerySet:
        """Tokens that authenticate: not revoked, not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What the token is for, e.g. the script using it.")
    )
    prefix = models.CharField(_("prefix"), max_length=16)
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The token page: a user's tokens, newest first.
            models.Index(fields=["user", "-created_at"], name="apitoken_user_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="apitoken_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class SecurityEvent(models.Model):
    """One line of the security log. `event` is a dotted name (`login.failed`,
    `token.created`, later `mfa.enrolled`): a plain column, so a new kind needs no
    migration (`accounts.security_log.EVENTS` names each for the page)."""

    created_at = models.DateTimeField(_("time"), default=timezone.now)
    event = models.CharField(_("event"), max_length=50)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # The name as it was then (kept if the account is renamed), or the username tried at
    # the login form when it names an account; "" when nobody is known.
    username = models.CharField(_("username"), max_length=150, blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The log page unfiltered, and by date range: newest first.
            models.Index(fields=["-created_at"], name="securityevent_created"),
            # The log page by kind of event ("every lockout this week").
            models.Index(fields=["event", "-created_at"], name="securityevent_event"),
            # The log page by user ("what did this account do").
            models.Index(fields=["username", "-created_at"], name="securityevent_username"),
            # The log page by address ("what came from this address").
            models.Index(fields=["address", "-created_at"], name="securityevent_address"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.event} {self.username}"
