"""Idempotency keys: a write sent twice with the same key is done once, and the second answer
is the first one's.

Staff forms carry a fresh key in a hidden field (`{% form_tokens %}` renders it beside the
CSRF token); API clients send an `Idempotency-Key` header with any write. Keys are per user
and expire after settings.IDEMPOTENCY_KEY_HOURS. `IdempotencyMiddleware` (after the CSRF
check and authentication) runs each keyed write in one transaction that starts by inserting
the key (`IdempotencyKey`, unique per user):

- a new key: the view runs; a success (2xx, 3xx) stores its answer with the key; a refusal
  (4xx) removes the key, so the corrected form can be sent again; a server error rolls back
  everything the request wrote;
- a key already stored, for the same request: its answer again (a form's redirect, with a
  note that it was sent twice; the API's status, body, Location and ETag, marked
  `Idempotent-Replayed: true`), and nothing is written;
- a key already stored for another request (another path or body): 422, nothing written.

Two requests with one key at the same moment: the second insert waits on the unique
constraint until the first commits, then finds its answer (PostgreSQL); SQLite runs one
write transaction at a time.
"""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cabar_tracker.models import IdempotencyKey

FORM_FIELD = "idempotency_key"
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY_LENGTH = 255
# Answers larger than this are not kept (an import report of thousands of rows): the
# replay then says the request was done, with no copy of the answer.
MAX_STORED_BODY = 512 * 1024
# The form fields that differ between two sendings of the same form, or carry the key.
NOT_HASHED_FIELDS = {FORM_FIELD, "csrfmiddlewaretoken"}
API_PREFIX = "/api/"


class KeyRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def key_of(request: HttpRequest) -> str | None:
    """The key a write carries: the header, or (on the pages) the form's hidden field.
    None when there is none. An unusable key raises `KeyRefused`."""
    if request.method not in WRITE_METHODS:
        return None
    key = request.headers.get(HEADER)
    if key is None and not is_api(request) and request.content_type in FORM_TYPES:
        key = request.POST.get(FORM_FIELD)
    if key is None or key == "":
        return None
    if len(key) > MAX_KEY_LENGTH or not all("!" <= char <= "~" for char in key):
        raise KeyRefused(
            400,
            _("An idempotency key is 1 to %(length)d printable ASCII characters, no spaces.")
            % {"length": MAX_KEY_LENGTH},
        )
    return key


FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def request_hash(request: HttpRequest) -> str:
    """What makes two requests the same: method, path, and the body (for a form, its fields
    but the key and the CSRF token, and its files' contents)."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    if request.content_type in FORM_TYPES:
        for name in sorted(request.POST):
            if name not in NOT_HASHED_FIELDS:
                for value in request.POST.getlist(name):
                    digest.update(f"{name}={value}\n".encode("utf-8", "surrogatepass"))
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"{name}:{upload.name}:{upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def expiry() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


def purge_expired() -> int:
    """Remove the keys past their expiry (run before a keyed write, outside its
    transaction, so no request holds the rows it removes)."""
    deleted, _by_model = IdempotencyKey.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


def claim(*, user, key: str, request: HttpRequest, fingerprint: str) -> IdempotencyKey:
    """Insert the key for this request, or raise `AlreadyDone` with the stored answer.
    Runs inside the request's transaction: the row is visible to others, with its answer,
    only when the request commits."""
    now = timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():  # a savepoint: the failed insert leaves the rest usable
                return IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    request_hash=fingerprint,
                    method=request.method,
                    path=request.path[:2000],
                    created_at=now,
                    expires_at=now + expiry(),
                )
        except IntegrityError:
            stored = IdempotencyKey.objects.filter(user=user, key=key).first()
            if stored is None:
                continue  # removed meanwhile (expired): insert again
            if stored.expires_at <= now:
                stored.delete()  # expired, not yet purged: the key is free again
                continue
            if stored.request_hash != fingerprint:
                raise KeyRefused(
                    422,
                    _(
                        "This idempotency key was already used for another request. A form "
                        "that was sent once cannot be sent with other values: open it again."
                    ),
                ) from None
            raise AlreadyDone(stored) from None
    raise KeyRefused(409, _("This idempotency key is in use; send the request again."))


class AlreadyDone(Exception):
    def __init__(self, stored: IdempotencyKey):
        super().__init__(stored.key)
        self.stored = stored


def store(claimed: IdempotencyKey, response: HttpResponse) -> None:
    """Keep the answer of a write that succeeded with its key."""
    claimed.status_code = response.status_code
    claimed.location = response.get("Location", "")
    claimed.content_type = response.get("Content-Type", "")[:200]
    claimed.etag = response.get("ETag", "")[:200]
    body = None
    if not response.streaming and len(response.content) <= MAX_STORED_BODY:
        body = response.content
    claimed.body = body
    claimed.save(
        update_fields=["status_code", "location", "content_type", "etag", "body"],
    )


def replay(request: HttpRequest, stored: IdempotencyKey) -> HttpResponse:
    """The answer the first request with this key got."""
    if is_api(request):
        if stored.body is None:
            response = JsonResponse(
                {"detail": _("This request was already done; its answer was too large to keep.")},
                status=stored.status_code,
            )
        else:
            response = HttpResponse(
                bytes(stored.body), status=stored.status_code, content_type=stored.content_type
            )
        for header, value in (("Location", stored.location), ("ETag", stored.etag)):
            if value:
                response[header] = value
        response[REPLAYED_HEADER] = "true"
        return response
    note = _("This form was sent more than once; only the first sending was acted on.")
    if stored.location and 300 <= stored.status_code < 400:
        messages.info(request, note)
        return HttpResponseRedirect(stored.location)
    if stored.body is not None:
        response = HttpResponse(
            bytes(stored.body), status=stored.status_code, content_type=stored.content_type
        )
    else:
        response = render(
            request,
            "idempotency_replayed.html",
            {"message": note, "sent_at": stored.created_at},
            status=409,
        )
    response[REPLAYED_HEADER] = "true"
    return response


def refusal(request: HttpRequest, refused: KeyRefused) -> HttpResponse:
    if is_api(request):
        return JsonResponse({HEADER: [refused.message]}, status=refused.status)
    context = {"parameter": FORM_FIELD, "message": refused.message}
    return render(request, "400.html", context, status=refused.status)
