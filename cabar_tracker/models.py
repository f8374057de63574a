"""Tables of what every app shares: the idempotency keys of writes (idempotency.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """One write sent with an idempotency key, and the answer it got. The same key from the
    same user within the expiry answers with that answer again instead of writing twice: a
    double click on a form's button, a script retrying after a lost connection.

    The row is inserted in the transaction of the write itself, so a second request with
    the key waits on the unique constraint until the first commits (PostgreSQL; SQLite runs
    one write at a time) and then finds the answer. A request that failed stores nothing.
    The stored body is what that user was shown, and is replayed to that user only; rows
    past `expires_at` are removed (IDEMPOTENCY_KEY_HOURS)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body, so a key reused for another request is refused.
    request_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    # The answer: 0 while the request runs (seen only inside its own transaction).
    status_code = models.PositiveSmallIntegerField(default=0)
    location = models.TextField(blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    etag = models.CharField(max_length=200, blank=True)
    # None when the answer was too large to keep (the replay then says so).
    body = models.BinaryField(null=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            # The rule itself: a user's key is used once. A second insert waits for the
            # first transaction and fails, never a check-then-insert race.
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user"),
        ]
        indexes = [
            # Serves the purge of expired keys (expires_at < now).
            models.Index(fields=["expires_at"], name="idempotency_key_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
