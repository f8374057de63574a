"""The security log: one JSON line per event, and the same event as a row.

`record("login.failed", user=…, username=…, **details)` writes a line such as

    {"time": "2026-01-07T10:15:02.331Z", "event": "login.failed", "user": "aigul",
     "user_id": 3, "address": "203.0.113.7", "request_id": "5f0c…", "method": "POST",
     "path": "/accounts/login/"}

to the `security` logger (settings.LOGGING: always at INFO, whatever LOG_LEVEL says), and a
`SecurityEvent` row that the admin's page searches. The address and the request id come from
the request being answered (`cabar_tracker.request_context`), so a service function called
from a page, the API or a command logs the same way; in a command they are null and `via`
says "command".

Never passed here: passwords, API keys, session keys, request bodies. Details are short
scalars (ids, model names, a token's prefix, a reason) and are checked for it.

A new kind of event (the second factor's `mfa.enrolled`, `mfa.failed`, …) is a new entry in
`EVENTS` and a call to `record`: the table takes any name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cabar_tracker.request_context import client_address, current_request, request_id

logger = logging.getLogger("security")

# Every kind of event, with what the log page calls it. Grouped by what they are about.
EVENTS: dict[str, str] = {
    "login.succeeded": _("Logged in"),
    "login.failed": _("Login failed"),
    "login.locked_out": _("Login locked (username and address)"),
    "login.throttled": _("Logins paused for an address"),
    "logout": _("Logged out"),
    "session.expired": _("Session expired"),
    "mfa.enrolled": _("Second factor added"),
    "mfa.verified": _("Second factor passed"),
    "mfa.failed": _("Second factor failed"),
    "mfa.recovery_code_used": _("Recovery code used"),
    "mfa.recovery_codes_created": _("New recovery codes"),
    "mfa.device_removed": _("Second factor removed"),
    "mfa.reset": _("Second factors reset"),
    "reauth.succeeded": _("Identity confirmed again"),
    "reauth.failed": _("Identity confirmation failed"),
    "role.changed": _("Roles changed"),
    "permission.denied": _("Permission denied"),
    "token.created": _("API token created"),
    "token.used": _("API token used"),
    "token.rejected": _("API token refused"),
    "token.revoked": _("API token revoked"),
    "record.published": _("Published"),
    "record.unpublished": _("Unpublished"),
    "record.archived": _("Archived"),
    "record.restored": _("Restored from the archive"),
    "proposal.published": _("Proposed change published"),
    "identity.withheld": _("Identity withheld"),
    "identity.shown": _("Identity no longer withheld"),
    "person.merged": _("Persons merged"),
    "record.reverted": _("Reverted to an earlier version"),
    "field.undone": _("One change undone"),
    "attachment.uploaded": _("File attached"),
    "attachment.visibility_changed": _("Attachment made public or staff-only"),
    "attachment.archived": _("Attachment removed"),
}

# Keys a detail may never have, whatever a caller passes: the log must hold no secret.
FORBIDDEN_DETAILS = {"password", "key", "token", "session_key", "sessionid", "secret"}


def target(record: models.Model) -> dict:
    """How a record is named in the log: its model and id (never its text, which may be a
    withheld name)."""
    return {"model": record._meta.label_lower, "id": record.pk}


def username_fingerprint(username: str) -> str:
    """A short keyed hash of a username that names no account: repeated tries of the same
    string can be told apart and counted, but the string (maybe a password typed in the
    wrong box) is not kept."""
    digest = hmac.new(settings.SECRET_KEY.encode(), username.encode(), hashlib.sha256)
    return digest.hexdigest()[:12]


def _check_details(details: dict) -> None:
    for name, value in details.items():
        if name.lower() in FORBIDDEN_DETAILS:
            raise ValueError(f"The security log never records {name!r}.")
        if isinstance(value, dict):
            _check_details(value)


def record(event: str, *, user=None, username: str | None = None, request=None, **details):
    """Write one security event as a JSON line and as a row. `user` defaults to the
    request's authenticated user; `request` to the request being answered."""
    from accounts.models import SecurityEvent

    if event not in EVENTS:
        raise ValueError(f"Unknown security event {event!r}: add it to EVENTS.")
    _check_details(details)
    request = request if request is not None else current_request()
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        if candidate is not None and candidate.is_authenticated:
            user = candidate
    if user is not None and not user.is_authenticated:
        user = None
    name = user.get_username() if user is not None else (username or "")
    now = timezone.now()
    address = client_address(request) if request is not None else None
    line = {
        "time": now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "event": event,
        "user": name or None,
        "user_id": user.pk if user is not None else None,
        "address": address,
        "request_id": request_id(request),
    }
    if request is not None:
        line["method"] = request.method
        line["path"] = request.path
    else:
        line["via"] = "command"
    line.update(details)
    logger.info(json.dumps(line, ensure_ascii=False, default=str, sort_keys=False))
    stored = {k: v for k, v in line.items() if k not in _COLUMNS}
    SecurityEvent.objects.create(
        created_at=now,
        event=event,
        user=user,
        username=name[:150],
        address=address,
        request_id=line["request_id"] or "",
        details=json.loads(json.dumps(stored, default=str)),
    )


# What the row keeps in columns rather than in `details`.
_COLUMNS = {"time", "event", "user", "user_id", "address", "request_id"}
