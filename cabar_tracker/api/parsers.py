"""Request body parsers of the API.

Python's JSON decoder recurses once per level of nesting: a body of a thousand `[` (a few
kilobytes) raises RecursionError, which would be a 500. No record of this API nests more
than a few levels, so anything deeper than `MAX_JSON_DEPTH` is refused as a 400 before it
is decoded.
"""

from __future__ import annotations

import codecs
import io

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings are
    not counted)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if json_depth(text) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            return super().parse(
                io.BytesIO(text.encode("utf-8")),
                media_type,
                {**parser_context, "encoding": "utf-8"},
            )
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
