"""Keyset ("cursor") paging that stays stable while rows are added.

DRF's CursorPagination keeps the position of only the first ordering field and counts an
offset among equal values, so a row inserted among equal dates (many incidents are "January
2022") shifts the offset and a page repeats or skips a row; it also breaks on NULLs. Here the
cursor holds the values of *every* ordering key of the last row shown, the ordering always
ends with the primary key (so it is a total order), NULLs sort last in both directions, and
the next page is "rows after that key tuple" (`cabar_tracker.keyset`, which the streamed
CSV exports read too). A row inserted anywhere never moves the boundary, so paging through the
original rows neither repeats nor skips one.

`?ordering=` (the FilterSets' OrderingFilter) works with it: the keys are read from the
filtered queryset's ORDER BY, and a cursor made under another ordering is refused (400).

Page size: 50 by default, `?page_size=` up to 200. `?count=true` adds the total, which
costs a COUNT query, so it is opt-in.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from cabar_tracker.keyset import Key, fetch, ordering_keys, seek

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _encode_value(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def truthy(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in {"true", "1"}:
        return True
    if value in {"false", "0", ""}:
        return False
    raise ValidationError({name: ["Use true or false."]})


class KeysetPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    count_query_param = "count"
    default_page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.default_page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Give a whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return size

    def decode_cursor(self, request, keys: list[Key]) -> tuple[list, bool] | None:
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        invalid = ValidationError({self.cursor_query_param: ["Invalid cursor."]})
        try:
            padded = raw + "=" * (-len(raw) % 4)
            payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            ordering, values, backwards = payload["o"], payload["v"], payload["b"]
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
            raise invalid from None
        if ordering != [key.signature() for key in keys] or not isinstance(values, list):
            # Made under another ?ordering=: its position means nothing in this one.
            raise invalid
        if len(values) != len(keys) or not isinstance(backwards, bool):
            raise invalid
        try:
            parsed = [
                None if value is None else key.field.to_python(value)
                for key, value in zip(keys, values, strict=True)
            ]
            # An offset PostgreSQL cannot take (beyond ±15:59) must not reach it.
            parsed = [
                v.astimezone(datetime.UTC) if isinstance(v, datetime.datetime) and v.tzinfo else v
                for v in parsed
            ]
        except (DjangoValidationError, TypeError, OverflowError):
            raise invalid from None
        return parsed, backwards

    def encode_cursor(self, row: models.Model, *, backwards: bool) -> str:
        payload = {
            "o": [key.signature() for key in self.keys],
            "v": [_encode_value(getattr(row, key.name)) for key in self.keys],
            "b": backwards,
        }
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        want_count = truthy(request.query_params.get(self.count_query_param, ""), "count")
        try:
            self.keys = ordering_keys(queryset)
        except FieldDoesNotExist as error:  # a view declared a bad ordering: a bug, not input
            raise TypeError(str(error)) from error
        cursor = self.decode_cursor(request, self.keys)
        self.count = queryset.count() if want_count else None

        backwards = bool(cursor and cursor[1])
        values = cursor[0] if cursor else None
        heads = seek(queryset, self.keys, values, self.page_size + 1, backwards=backwards)
        rows = fetch(queryset, heads)
        more = len(heads) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()

        self.next_cursor = self.previous_cursor = None
        if rows:
            # Forward: a next page if more rows came; a previous one if we started mid-list.
            # Backward: the mirror image.
            has_next = more if not backwards else True
            has_previous = (cursor is not None) if not backwards else more
            if has_next:
                self.next_cursor = self.encode_cursor(rows[-1], backwards=False)
            if has_previous:
                self.previous_cursor = self.encode_cursor(rows[0], backwards=True)
        return rows

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_next_link(self) -> str | None:
        return self._link(self.next_cursor)

    def get_previous_link(self) -> str | None:
        return self._link(self.previous_cursor)

    def first_page_link(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)

    def get_paginated_response(self, data) -> Response:
        body = {"next": self.get_next_link(), "previous": self.get_previous_link()}
        if self.count is not None:
            body["count"] = self.count
        body["results"] = data
        response = Response(body)
        links = [
            f'<{url}>; rel="{rel}"'
            for rel, url in (("next", body["next"]), ("prev", body["previous"]))
            if url
        ]
        if links:
            # Also for CSV and GeoJSON clients, which have no "next" key to read.
            response["Link"] = ", ".join(links)
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The next page, or null on the last page."},
                "previous": {**link, "description": "The previous page, or null."},
                "count": {
                    "type": "integer",
                    "description": "Number of matching records; only with ?count=true.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": (
                    "Opaque position from a previous page's next/previous link. Pages stay "
                    "stable while records are added: a cursor marks the last row shown by "
                    "all its ordering keys, not by an offset."
                ),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Records per page, 1 to {self.max_page_size} "
                f"(default {self.default_page_size}).",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.default_page_size,
                },
            },
            {
                "name": self.count_query_param,
                "in": "query",
                "required": False,
                "description": "true adds the number of matching records (one more query).",
                "schema": {"type": "boolean", "default": False},
            },
        ]
