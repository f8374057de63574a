"""Conditional requests: ETag / Last-Modified on details, 304 and 412.

`record_etag` is THE version rule of a record: its identity, its `updated_at` and `version`
(or, for the few models without a timestamp, the values of its fields) and the audience,
because staff and the public get different representations of the same row. Conflict
detection anywhere (the staff editing pages included) should use this one helper, so
"someone else saved this record since you opened it" means the same thing in a form and in
the API's `If-Match`; `version` is the counter `cabar_tracker.history.save_if_current`
compares, so the two checks agree.

A detail representation embeds related records (an incident's detentions, place, sources);
their versions are folded into the ETag too, so a changed detention changes its incident's
ETag and a cached copy is not served as fresh.

That is staff's ETag. The public's is `content_etag`, a hash of the representation itself:
a hash of versions and field values would fold in what the public does not receive (hidden
name variants, posts of a withheld person), and a guessed hidden value could be confirmed
offline against it. Two records that differ only in hidden fields have the same public ETag.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable

from django.db import models
from django.utils.http import http_date, parse_etags, quote_etag


def _version_key(record: models.Model) -> str:
    updated_at = getattr(record, "updated_at", None)
    if isinstance(updated_at, datetime.datetime):
        # `version` (cabar_tracker.history.VersionedModel) goes up on every save, so two
        # saves within the clock's resolution still differ.
        version = f"{updated_at.isoformat()}:{getattr(record, 'version', '')}"
    else:
        # No timestamp on this model (places, posts): its field values are its version.
        version = repr([field.value_from_object(record) for field in record._meta.concrete_fields])
    return f"{record._meta.label_lower}:{record.pk}:{version}"


def record_etag(
    record: models.Model, *, for_staff: bool, embedded: Iterable[models.Model] = ()
) -> str:
    """The quoted ETag of `record` as staff or the public see it (with what it embeds)."""
    parts = [_version_key(record), "staff" if for_staff else "public"]
    parts.extend(sorted({_version_key(other) for other in embedded if other is not None}))
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
    return quote_etag(digest)


def content_etag(data, *, variant: str = "") -> str:
    """The quoted ETag of a representation: a hash of exactly what the caller receives
    (`data`, as the serializer made it), plus the `variant` (the format) it is rendered in."""
    body = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    digest = hashlib.sha256(f"{variant}\n{body}".encode()).hexdigest()[:32]
    return quote_etag(digest)


def last_modified(record: models.Model, embedded: Iterable[models.Model] = ()) -> str | None:
    """HTTP date of the newest `updated_at` among the record and what it embeds, if any."""
    stamps = [
        stamp
        for other in (record, *embedded)
        if isinstance(stamp := getattr(other, "updated_at", None), datetime.datetime)
    ]
    return http_date(max(stamps).timestamp()) if stamps else None


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an If-Match / If-None-Match header names this ETag (or is "*").

    Weak and strong forms compare equal here: ours are always strong, and a proxy that
    weakened one (W/"…") still means the same representation.
    """
    if not header:
        return False
    tags = parse_etags(header)
    if tags == ["*"]:
        return True
    bare = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == bare for tag in tags)
